"""Benchmark the web service over loopback HTTP: latency of avatars and variants, throughput by worker count.

Throughput is measured with 1, 2 and 4 worker processes (embedded SQLite back-end and/or Redis + Dramatiq). Each
configuration starts ``headcast serve`` as a subprocess (plus a private ``redis-server`` for Redis), waits until
every worker has loaded its pipeline, then:

- latency: one job at a time, upload → ``done`` (polled every 50 ms), median over the photos;
- variants (first configuration only): on one finished avatar, the time from ``POST .../variants`` to ``done`` (the
  viewer's GLB and params.json published; the pictures and zip wait for a download) for an emotion change, a library
  hairstyle with a colour, and library hairstyles with the photo's hair colour (read from the face parsing the
  avatar's job stored); the same hairstyle as a fresh upload for comparison;
- throughput: ``jobs_per_worker × workers`` uploads at once; jobs per minute from the first upload to the last
  ``done``, and the CPU seconds the service's processes used meanwhile (per job, and per wall second = the cores the
  workers actually got: on a shared machine, jobs/min can only scale as far as that allows).

Prints a Markdown report (with the load average before and after each run; the machine may be shared) and writes
JSON with ``--json``. No timed assertions anywhere: these are measurements.

    python scripts/bench_service.py --backend both --workers 1 2 4 --json /tmp/bench_service.json
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "portraits"


@dataclass
class RunResult:
    """Figures of one configuration."""

    backend: str
    workers: int
    startup_s: float
    latency_s: list[float] = field(default_factory=list)
    throughput_jobs: int = 0
    throughput_s: float = 0.0
    failed: int = 0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    variants_s: dict[str, float] = field(default_factory=dict)
    throughput_cpu_s: float = 0.0

    @property
    def jobs_per_minute(self) -> float:
        """Throughput."""
        return 60.0 * self.throughput_jobs / self.throughput_s if self.throughput_s else 0.0

    @property
    def cores_used(self) -> float:
        """CPU seconds the service's processes got per wall second during the throughput run."""
        return self.throughput_cpu_s / self.throughput_s if self.throughput_s else 0.0

    @property
    def cpu_s_per_job(self) -> float:
        """CPU seconds per finished job (independent of how busy the machine is, unlike jobs/min)."""
        return self.throughput_cpu_s / self.throughput_jobs if self.throughput_jobs else 0.0


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process ``root`` and its living descendants (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``headcast serve`` (and a redis-server when asked) in subprocesses, stopped on exit."""

    def __init__(self, backend: str, workers: int, hair_parsing: bool) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bench-service-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log = self.folder / "serve.log"
        args = ["serve", "--port", str(self.port), "--workers", str(workers), "--data", str(self.folder / "data")]
        if backend == "redis":
            redis_port = free_port()
            self.procs.append(subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                 "no", "--dir", str(self.folder)], stdout=subprocess.DEVNULL))
            args += ["--broker", f"redis://127.0.0.1:{redis_port}/0"]
        env = {**os.environ, "HEADCAST_SERVICE_POLL_SECONDS": "0.05",
               "HEADCAST_SERVICE_PRELOAD_FACE_PARSER": "true" if hair_parsing else "false",
               "HEADCAST_SERVICE_HAIRSTYLE_THUMBNAILS": "false"}
        code = "import sys; from headcast.cli.main import main; sys.exit(main())"
        with self.log.open("wb") as out:
            self.procs.append(subprocess.Popen([sys.executable, "-c", code, *args], stdout=out,
                                               stderr=subprocess.STDOUT, env=env))
        self.workers = workers

    def wait_ready(self, timeout: float = 300.0) -> float:
        """Seconds until the gateway answers and every worker logged that its pipeline is loaded."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            text = self.log.read_text(errors="replace")
            if text.count(" ready (queue ") >= self.workers:
                try:
                    if httpx.get(f"{self.url}/openapi.json", timeout=2).status_code == 200:
                        return time.perf_counter() - start
                except httpx.HTTPError:
                    pass
            if self.procs[-1].poll() is not None:
                raise RuntimeError(f"headcast serve exited:\n{text[-3000:]}")
            time.sleep(0.2)
        raise TimeoutError("the service did not start")

    def stop(self) -> None:
        """SIGINT the server (workers finish), then the rest; remove the folder."""
        for proc in reversed(self.procs):
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def upload(client: httpx.Client, photo: Path, **fields: str) -> tuple[str, dict[str, str]]:
    """POST a photo; the job id and its auth header."""
    res = client.post("/api/avatars", files={"photo": (photo.name, photo.read_bytes())}, data=fields)
    res.raise_for_status()
    body = res.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}


def wait_done(client: httpx.Client, url: str, auth: dict[str, str], timeout: float = 600.0) -> dict[str, Any]:
    """Poll ``url`` every 50 ms until done or failed."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        status: dict[str, Any] = client.get(url, headers=auth).json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    raise TimeoutError(url)


def measure_variants(client: httpx.Client, photo: Path, hair: str) -> dict[str, float]:
    """Variant latencies on one avatar, and the same hairstyle as a fresh upload."""
    out: dict[str, float] = {}
    avatar, auth = upload(client, photo, hair=hair)
    if wait_done(client, f"/api/avatars/{avatar}", auth)["status"] != "done":
        return out
    cases = [
        ("emotion happiness=0.8, no hair", {"hair": "none", "emotion": "happiness=0.8"}),
        ("style 'short', colour given", {"hair": "short", "hair_color": "#8b5a2b"}),
        ("style 'bob', photo's colour (the avatar's stored face parsing)", {"hair": "bob"}),
        ("style 'long_wavy', photo's colour (stored face parsing)", {"hair": "long_wavy"}),
        ("style 'short', colour given, again (cached)", {"hair": "short", "hair_color": "#8b5a2b"}),
    ]
    for label, body in cases:
        start = time.perf_counter()
        created = client.post(f"/api/avatars/{avatar}/variants", json=body, headers=auth).json()
        status = wait_done(client, f"/api/avatars/{avatar}/variants/{created['variant']}", auth)
        if status["status"] == "done":
            out[label] = time.perf_counter() - start
    start = time.perf_counter()
    fresh, fresh_auth = upload(client, photo, hair="short", hair_color="#8b5a2b")
    if wait_done(client, f"/api/avatars/{fresh}", fresh_auth)["status"] == "done":
        out["fresh upload with style 'short', colour given"] = time.perf_counter() - start
    return out


def run(backend: str, workers: int, photos: list[Path], args: argparse.Namespace, variants: bool) -> RunResult:
    """Start one configuration, measure it, stop it."""
    server = Server(backend, workers, hair_parsing=variants)
    try:
        result = RunResult(backend, workers, startup_s=server.wait_ready())
        result.load_before = os.getloadavg()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            job, auth = upload(client, photos[0], hair=args.hair)  # warm-up (first-call imports)
            wait_done(client, f"/api/avatars/{job}", auth)
            if workers == 1:
                for photo in photos[: args.latency_photos]:
                    start = time.perf_counter()
                    job, auth = upload(client, photo, hair=args.hair)
                    if wait_done(client, f"/api/avatars/{job}", auth)["status"] == "done":
                        result.latency_s.append(time.perf_counter() - start)
                    else:
                        result.failed += 1
            if variants:
                result.variants_s = measure_variants(client, photos[0], args.hair)
            count = args.jobs_per_worker * workers
            cpu_before = sum(tree_cpu_seconds(p.pid) for p in server.procs)
            start = time.perf_counter()
            jobs = [upload(client, photos[i % len(photos)], hair=args.hair) for i in range(count)]
            finals = [wait_done(client, f"/api/avatars/{j}", a) for j, a in jobs]
            result.throughput_s = time.perf_counter() - start
            result.throughput_cpu_s = sum(tree_cpu_seconds(p.pid) for p in server.procs) - cpu_before
            result.throughput_jobs = sum(f["status"] == "done" for f in finals)
            result.failed += sum(f["status"] != "done" for f in finals)
        result.load_after = os.getloadavg()
        return result
    finally:
        server.stop()


def report(results: list[RunResult], args: argparse.Namespace) -> str:
    """Markdown tables of the results."""
    lines = [f"`python scripts/bench_service.py {' '.join(sys.argv[1:])}` — {os.cpu_count()} CPU cores, hair "
             f"'{args.hair}', {args.jobs_per_worker} jobs per worker for throughput", ""]
    for r in results:
        if r.latency_s:
            lines.append(f"Upload-to-avatar latency ({r.backend}, 1 worker, {len(r.latency_s)} photos one at a "
                         f"time): median {statistics.median(r.latency_s):.2f} s, min {min(r.latency_s):.2f} s, "
                         f"max {max(r.latency_s):.2f} s (load {r.load_before[0]:.2f} → {r.load_after[0]:.2f})")
    lines += ["", "| back-end | workers | jobs | seconds | jobs/min | × 1 worker | CPU s/job | cores used | start-up s "
              "| load 1-min before → after |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        base = next((b for b in results if b.backend == r.backend and b.workers == 1), None)
        ratio = r.jobs_per_minute / base.jobs_per_minute if base is not None and base.jobs_per_minute else 0.0
        lines.append(f"| {r.backend} | {r.workers} | {r.throughput_jobs} | {r.throughput_s:.1f} | "
                     f"{r.jobs_per_minute:.1f} | {ratio:.2f} | {r.cpu_s_per_job:.1f} | {r.cores_used:.2f} | "
                     f"{r.startup_s:.1f} | {r.load_before[0]:.2f} → "
                     f"{r.load_after[0]:.2f} |")
    for r in results:
        if r.variants_s:
            lines += ["", f"Variant latency ({r.backend}, {r.workers} worker(s)), POST to done:", "",
                      "| variant | seconds |", "|---|---|"]
            lines += [f"| {label} | {seconds:.2f} |" for label, seconds in r.variants_s.items()]
    if any(r.failed for r in results):
        lines.append(f"\nfailed jobs: {sum(r.failed for r in results)}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "redis", "both"), default="embedded")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--photos", type=Path, default=PHOTOS, help="folder of portrait photos")
    parser.add_argument("--latency-photos", type=int, default=6, help="photos timed one at a time (1 worker)")
    parser.add_argument("--jobs-per-worker", type=int, default=3, help="throughput batch = this × workers")
    parser.add_argument("--hair", default="none", help="hair option of the uploads (default none: the face only)")
    parser.add_argument("--no-variants", action="store_true", help="skip the variant latencies")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    photos = sorted(p for p in args.photos.glob("london_*_neutral.jpg"))
    if not photos:
        parser.error(f"no london_*_neutral.jpg photos in {args.photos}")
    backends = ["embedded", "redis"] if args.backend == "both" else [args.backend]
    if "redis" in backends and shutil.which("redis-server") is None:
        parser.error("redis-server is not installed (apt-get install redis-server)")
    results = []
    for backend in backends:
        for workers in args.workers:
            variants = not args.no_variants and workers == args.workers[0] and backend == backends[0]
            print(f"== {backend}, {workers} worker(s)", file=sys.stderr, flush=True)
            results.append(run(backend, workers, photos, args, variants))
            print(json.dumps(asdict(results[-1])), file=sys.stderr, flush=True)
    print(report(results, args))
    if args.json is not None:
        figures = [asdict(r) | {"jobs_per_minute": r.jobs_per_minute, "cores_used": r.cores_used,
                                "cpu_s_per_job": r.cpu_s_per_job} for r in results]
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
