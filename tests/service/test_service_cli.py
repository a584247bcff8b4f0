"""``headcast serve`` / ``headcast worker`` parse into ServiceSettings-ready values."""

from pathlib import Path

import pytest

from headcast.cli.main import _service_settings, build_parser


def test_serve_arguments():
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "3", "--data", "d"])
    assert (args.host, args.port, args.workers, args.data) == ("0.0.0.0", 9000, 3, Path("d"))
    assert args.handler.__name__ == "_cmd_serve"
    settings = _service_settings(args, args.workers)
    assert (settings.workers, settings.broker, settings.queue, settings.data_dir) == (3, None, "ict", Path("d"))


def test_worker_arguments():
    args = build_parser().parse_args(["worker", "--data", "d"])
    assert args.data == Path("d") and args.handler.__name__ == "_cmd_worker" and args.broker is None


def test_broker_and_queue():
    for command in (["serve", "--workers", "0"], ["worker"]):
        args = build_parser().parse_args([*command, "--broker", "redis://10.0.0.5:6379/2", "--queue", "flame"])
        settings = _service_settings(args, 0)
        assert settings.broker == "redis://10.0.0.5:6379/2" and settings.queue == "flame"


def test_bad_broker_url_is_refused():
    from pydantic import ValidationError

    args = build_parser().parse_args(["worker", "--broker", "amqp://rabbit"])
    with pytest.raises(ValidationError):
        _service_settings(args, 0)
