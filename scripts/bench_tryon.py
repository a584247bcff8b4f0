"""Try-on benchmark: a click on a hairstyle in the real web page → the new hair drawn in its 3D viewer.

Starts ``headcast serve`` (embedded back-end, ``--workers`` worker processes, a temporary data folder), opens the page
in headless Chromium (Playwright; WebGL on SwiftShader, a CPU rasteriser), makes an avatar from a fixture photo
through the page, then clicks ``--styles`` library hairstyles one after another. For each it reports the seconds from
the click (the input event's time stamp) to the first frame the viewer drew with the new GLB (the viewer's
``data-glb-shown-at`` hook, read after a 1-pixel ``readPixels`` that waits for SwiftShader to finish the frame), and
splits them into the worker's job (from the service log), the viewer's load (parse, meshopt decode, rig, frame:
``HeadViewer.lastLoad``) and the rest (queue, status events, GLB download). Then, without the browser:

- API-only try-on: ``POST .../variants`` → ``done`` (polled every 50 ms) for ``--api-styles`` other styles;
- on request: the first download of a variant's zip (made then) until it answers 200.

Prints the medians and the load average (``os.getloadavg()``) before and after; writes JSON with ``--json``. No
timed assertions: these are measurements. Thumbnails are off (``--thumbnails`` turns them on; they are background
jobs that would share the worker with the try-ons).

    python scripts/bench_tryon.py [--styles short bob long_wavy afro ponytail] [--json docs/results/web/tryon.json]
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]
PAGE_STYLES = ["short", "bob", "long_wavy", "afro", "ponytail"]
API_STYLES = ["crew_cut", "long_bob", "shoulder_length", "big_waves", "bun"]
JOB_LINE = re.compile(r"job (\S+) \((\w+)\) took ([0-9.]+) s")

# Records the time stamp of the next click on a gallery tile (capture phase: before the page's own handler runs).
ARM_CLICK = """() => {
  window.__tryon = { clickAt: null };
  document.getElementById('gallery').addEventListener('click', (e) => {
    if (window.__tryon.clickAt === null) window.__tryon.clickAt = e.timeStamp;
  }, { capture: true, once: true });
  window.headcast.viewer.syncFrames = true;
  return Number(document.getElementById('viewer').dataset.glbLoads || 0);
}"""
SHOWN = """([before, hair]) => {
  const canvas = document.getElementById('viewer');
  return Number(canvas.dataset.glbLoads || 0) > before && window.headcast.state.variant?.hair === hair;
}"""
READ = """() => ({
  clickAt: window.__tryon.clickAt,
  shownAt: Number(document.getElementById('viewer').dataset.glbShownAt),
  loadMs: window.headcast.viewer.lastLoad.ms,
  parseMs: window.headcast.viewer.lastLoad.parseMs,
  prepareMs: window.headcast.viewer.lastLoad.prepareMs,
  frameMs: window.headcast.viewer.lastLoad.frameMs,
  variant: window.headcast.state.variant.id,
  hasHair: !!window.headcast.viewer.hair,
})"""
RENDERER = """() => {
  const gl = window.headcast.viewer.renderer.getContext();
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
}"""


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(folder: Path, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``headcast serve`` on 127.0.0.1:port; returns once every worker has loaded its pipeline and ``/`` answers."""
    code = "import sys; from headcast.cli.main import main; sys.exit(main())"
    log = folder / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--port", str(port), "--workers", str(workers), "--data",
             str(folder / "data")], stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"headcast serve exited: {log.read_text(errors='replace')[-3000:]}")
        if log.read_text(errors="replace").count(" ready (queue ") >= workers:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("headcast serve did not start within 300 s")


def job_seconds(log: Path) -> dict[str, float]:
    """Seconds each finished job took, by job id (the workers' ``job ... took`` lines)."""
    return {m[1]: float(m[3]) for m in JOB_LINE.finditer(log.read_text(errors="replace"))}


def try_on_in_page(page: Any, style: str, timeout_ms: int) -> dict[str, Any]:
    """Click one style's tile; the figures of that try-on (ms on the page's clock)."""
    before = page.evaluate(ARM_CLICK)
    page.click(f"#gallery button[data-hair='{style}']")
    page.wait_for_function(SHOWN, arg=[before, style], timeout=timeout_ms, polling=10)
    shown: dict[str, Any] = page.evaluate(READ)
    if not shown["hasHair"]:
        raise RuntimeError(f"the viewer shows no hair after trying '{style}'")
    shown["seconds"] = (shown["shownAt"] - shown["clickAt"]) / 1000.0
    return shown


def wait_done(client: httpx.Client, url: str, auth: dict[str, str], timeout: float = 300.0) -> dict[str, Any]:
    """Poll ``url`` every 50 ms until done or failed."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        status: dict[str, Any] = client.get(url, headers=auth).json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    raise TimeoutError(url)


def api_try_on(client: httpx.Client, avatar: str, auth: dict[str, str], style: str) -> tuple[float, str]:
    """``POST`` a variant as the page does (the photo's colour and expression) → done; seconds and variant id."""
    start = time.perf_counter()
    created = client.post(f"/api/avatars/{avatar}/variants", json={"hair": style, "hair_color": None,
                                                                   "emotion": None}, headers=auth).json()
    if created["cached"]:
        raise RuntimeError(f"variant '{style}' was made before: not a fresh try-on")
    status = wait_done(client, f"/api/avatars/{avatar}/variants/{created['variant']}", auth)
    if status["status"] != "done":
        raise RuntimeError(f"variant '{style}' failed: {status}")
    return time.perf_counter() - start, created["variant"]


def zip_on_request(client: httpx.Client, avatar: str, auth: dict[str, str], vid: str) -> float:
    """Seconds from the first download of a variant's zip to its 200 (asking again every 100 ms while 503)."""
    start = time.perf_counter()
    while (res := client.get(f"/api/avatars/{avatar}/variants/{vid}/avatar.zip", headers=auth)).status_code == 503:
        time.sleep(0.1)
    res.raise_for_status()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    """The median (0 for none)."""
    return statistics.median(values) if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", type=Path, default=None, help="portrait (default: the london_003 fixture)")
    parser.add_argument("--styles", nargs="+", default=PAGE_STYLES, help="library styles clicked in the page")
    parser.add_argument("--api-styles", nargs="+", default=API_STYLES, help="other styles asked through the API")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the service")
    parser.add_argument("--poll-seconds", type=float, default=None,
                        help="HEADCAST_SERVICE_POLL_SECONDS (default: the service's own, 0.2)")
    parser.add_argument("--thumbnails", action="store_true", help="let the workers draw the hairstyle thumbnails")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("HEADCAST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    photo = args.photo or next(p / "shared" / "fixtures" / "portraits" / "london_003_neutral.jpg"
                               for p in (ROOT, *ROOT.parents) if (p / "shared" / "fixtures").is_dir())
    env = {"HEADCAST_SERVICE_HAIRSTYLE_THUMBNAILS": "true" if args.thumbnails else "false"}
    if args.poll_seconds is not None:
        env["HEADCAST_SERVICE_POLL_SECONDS"] = str(args.poll_seconds)
    folder = Path(tempfile.mkdtemp(prefix="bench-tryon-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {"cores": os.cpu_count(), "photo": photo.name, "workers": args.workers,
                               "load_before": os.getloadavg()}
    proc = start_server(folder, port, args.workers, env)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
            results["chromium"] = browser.version
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(600_000)
            page.goto(url + "/")
            start = time.perf_counter()
            page.set_input_files("#photo", str(photo))
            page.wait_for_selector("#make:not([disabled])")
            page.click("#make")
            page.wait_for_function("() => document.body.dataset.viewer === 'ready'")
            results["avatar_s"] = time.perf_counter() - start
            page.wait_for_function("() => window.headcast.state.styles.length > 0")
            results["renderer"] = page.evaluate(RENDERER)
            job = page.evaluate("() => window.headcast.state.job")
            results["page"] = []
            for style in args.styles:
                shown = try_on_in_page(page, style, 300_000)
                shown["style"] = style
                shown["worker_s"] = job_seconds(folder / "serve.log").get(f"{job['id']}-{shown['variant']}")
                results["page"].append(shown)
                print(f"page try-on '{style}': {shown['seconds']:.2f} s (worker {shown['worker_s']} s, viewer load "
                      f"{shown['loadMs']:.0f} ms = parse {shown['parseMs']:.0f} + prepare {shown['prepareMs']:.0f} + "
                      f"frame {shown['frameMs']:.0f})", file=sys.stderr, flush=True)
            browser.close()
        auth = {"Authorization": f"Bearer {job['token']}"}
        with httpx.Client(base_url=url, timeout=60) as client:
            results["api"] = []
            for style in args.api_styles:
                seconds, vid = api_try_on(client, job["id"], auth, style)
                worker = job_seconds(folder / "serve.log").get(f"{job['id']}-{vid}")
                results["api"].append({"style": style, "seconds": seconds, "worker_s": worker})
                print(f"API try-on '{style}': {seconds:.2f} s (worker {worker} s)", file=sys.stderr, flush=True)
            results["zip_on_request_s"] = zip_on_request(client, job["id"], auth, vid)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)
    results["load_after"] = os.getloadavg()

    page_s = [r["seconds"] for r in results["page"]]
    api_s = [r["seconds"] for r in results["api"]]
    results["page_median_s"], results["api_median_s"] = median(page_s), median(api_s)
    load_before, load_after = results["load_before"], results["load_after"]
    print(f"`python scripts/bench_tryon.py {' '.join(sys.argv[1:])}` — {os.cpu_count()} CPU cores, {args.workers} "
          f"worker(s), photo {photo.name}; Chromium {results['chromium']}, WebGL renderer: {results['renderer']}")
    print(f"avatar through the page (upload → viewer ready): {results['avatar_s']:.1f} s\n")
    print("| style | click → new hair drawn (s) | worker job (s) | viewer load (s) | rest: queue, events, GLB "
          "download (s) |")
    print("|---|---|---|---|---|")
    for r in results["page"]:
        worker = r["worker_s"] or 0.0
        rest = r["seconds"] - worker - r["loadMs"] / 1000
        print(f"| {r['style']} | {r['seconds']:.2f} | {worker:.2f} | {r['loadMs'] / 1000:.2f} | {rest:.2f} |")
    print(f"\nclick → new hair visible, median over {len(page_s)} styles: {results['page_median_s']:.2f} s "
          f"(min {min(page_s):.2f}, max {max(page_s):.2f}); target ≤ 3 s on 2 cores: "
          f"{'met' if results['page_median_s'] <= 3.0 else 'NOT met'}")
    each = ", ".join("{} {:.2f}".format(r["style"], r["seconds"]) for r in results["api"])
    print(f"API-only variant POST → done, median over {len(api_s)} styles: {results['api_median_s']:.2f} s ({each})")
    print(f"a variant's zip on first download (made on request): {results['zip_on_request_s']:.2f} s")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
