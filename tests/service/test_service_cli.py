"""``headcast serve`` / ``headcast worker`` parse into ServiceSettings-ready values."""

from pathlib import Path

from headcast.cli.main import build_parser


def test_serve_arguments():
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "3", "--data", "d"])
    assert (args.host, args.port, args.workers, args.data) == ("0.0.0.0", 9000, 3, Path("d"))
    assert args.handler.__name__ == "_cmd_serve"


def test_worker_arguments():
    args = build_parser().parse_args(["worker", "--data", "d"])
    assert args.data == Path("d") and args.handler.__name__ == "_cmd_worker"
