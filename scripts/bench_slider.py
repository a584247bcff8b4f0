"""Emotion-slider benchmark in headless Chromium (WebGL on SwiftShader, a CPU rasteriser).

Starts ``headcast serve`` on a free port with a temporary data folder (or uses ``--link``, a share link of an
avatar already made), makes an avatar from a fixture photo through the page, then moves the page's emotion
sliders ``--events`` times and reports, from the viewer's own clocks (``performance.now()``, ms):

* **slider work**: the input handler's work (MLP forward + morph weights + head matrix + blending the morph targets
  into the vertex buffers on the CPU), target ≤ 5 ms median; the rig alone (no blending) is timed separately;
* **draw**: ``renderer.render`` plus a 1-pixel ``readPixels`` that waits for SwiftShader to finish the frame;
* **slider → frame**: input event time stamp → that frame drawn and finished (includes waiting for the next
  animation frame, ≤ 16.7 ms at 60 Hz).

Each case (hair shown / hidden; frames as drawn during a drag, or every frame at full detail) is measured at the
page's desktop size and at phone width (375 px).

    python scripts/bench_slider.py [--events 60] [--photo PATH] [--link URL] [--json docs/results/web/slider.json]
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-unsafe-swiftshader",
]
ROOT = Path(__file__).resolve().parents[1]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
RENDERER = """() => {
  const gl = window.headcast.viewer.renderer.getContext();
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
}"""

# Moves every slider in turn through a ramp; each step is one input event on a real <input type=range>, then waits
# for the frame it caused. Returns the viewer's stats for these events only.
DRIVE = """
async ({ events, sync, settleMs }) => {
  const viewer = window.headcast.viewer;
  viewer.syncFrames = sync;
  await viewer.whenSettled();
  viewer.settleMs = settleMs;
  viewer.stats = { work: [], render: [], frame: [] };
  const sliders = [...document.querySelectorAll('#sliders input[type=range]')];
  for (let i = 0; i < events; i++) {
    const slider = sliders[i % sliders.length];
    slider.value = String(((i * 37) % 101) / 100);
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    await viewer.nextFrame();
  }
  const stats = viewer.stats;
  viewer.settleMs = 180;
  await viewer.whenSettled();
  viewer.syncFrames = false;
  return stats;
}
"""


# The rig alone (MLP forward + weights in target order + head matrix), no vertex blending: 20 batches of 200 calls
# (one call is below the resolution of performance.now()); ms per call.
RIG_ONLY = """
() => {
  const rig = window.headcast.viewer.rig;
  const per = [];
  for (let b = 0; b < 20; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) rig.update([0, 1, 2, 3, 4, 5, 6].map((k) => ((i * 37 + k * 11 + b) % 101) / 100));
    per.push((performance.now() - t0) / 200);
  }
  return per;
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    code = "import sys; from headcast.cli.main import main; sys.exit(main())"
    log = (data / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port), "--workers", "1", "--data", str(data / "data")],
        stdout=log, stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"headcast serve exited: {(data / 'serve.log').read_text()[-2000:]}") from None
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("headcast serve did not start")


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 3),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "mean": round(statistics.fmean(ordered), 3),
        "n": len(ordered),
    }


def measure(page: Any, events: int, hair: bool, detail: str) -> dict[str, Any]:
    """Figures of one case.

    ``detail``: "drag" = frames as drawn while dragging (light hair, normals not updated); "full" = every frame at
    full detail (the viewer settles at once).
    """
    settle = 180 if detail == "drag" else 0
    page.evaluate("(on) => window.headcast.viewer.setHairVisible(on)", hair)
    page.evaluate(DRIVE, {"events": 10, "sync": True, "settleMs": settle})  # warm-up: JIT, shader variants
    stats = page.evaluate(DRIVE, {"events": events, "sync": True, "settleMs": settle})
    size = page.evaluate("() => { const c = document.getElementById('viewer'); return [c.width, c.height]; }")
    return {
        "hair": hair,
        "detail": detail,
        "canvas_px": size,
        "slider_work_ms": summary(stats["work"]),
        "draw_ms": summary(stats["render"]),
        "slider_to_frame_ms": summary(stats["frame"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=60, help="slider events per case")
    parser.add_argument("--photo", type=Path, default=None, help="portrait (default: the london_003 fixture)")
    parser.add_argument("--link", default=None, help="share link of an existing avatar (no server is started)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("HEADCAST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    photo = args.photo or next(
        p / "shared" / "fixtures" / "portraits" / "london_003_neutral.jpg"
        for p in (ROOT, *ROOT.parents) if (p / "shared" / "fixtures").is_dir()
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-slider-"))
    proc = None
    link = args.link
    if link is None:
        port = free_port()
        proc = start_server(tmp, port)
        link = f"http://127.0.0.1:{port}/"
    results: dict[str, Any] = {"chromium": None, "renderer": None, "cases": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
            results["chromium"] = browser.version
            for name, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport)
                page.set_default_timeout(600_000)
                page.goto(link)
                if "#id=" not in link:
                    t0 = time.perf_counter()
                    page.set_input_files("#photo", str(photo))
                    page.wait_for_selector("#make:not([disabled])")
                    page.click("#make")
                    page.wait_for_function("() => document.body.dataset.viewer === 'ready'")
                    print(f"avatar made through the page in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
                    link = page.input_value("#share-link")
                page.wait_for_function("() => document.body.dataset.viewer === 'ready'")
                results["renderer"] = page.evaluate(RENDERER)
                results.setdefault("rig_only_ms", summary(page.evaluate(RIG_ONLY)))
                for hair, detail in ((True, "drag"), (True, "full"), (False, "drag"), (False, "full")):
                    case = {"viewport": name, **measure(page, args.events, hair, detail)}
                    results["cases"].append(case)
                    print(case, file=sys.stderr)
                page.close()
            browser.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"Chromium {results['chromium']}, WebGL renderer: {results['renderer']}")
    print("| viewport | canvas | hair | frames | slider work (ms) median / p90 | draw (ms) median | "
          "slider → frame (ms) median / p90 |")
    print("|---|---|---|---|---|---|---|")
    for c in results["cases"]:
        w, f, d = c["slider_work_ms"], c["slider_to_frame_ms"], c["draw_ms"]
        print(f"| {c['viewport']} | {c['canvas_px'][0]}×{c['canvas_px'][1]} | {'on' if c['hair'] else 'off'} | "
              f"{c['detail']} | {w['median']:.2f} / {w['p90']:.2f} | {d['median']:.1f} | "
              f"{f['median']:.1f} / {f['p90']:.1f} |")
    rig = results["rig_only_ms"]
    print(f"rig alone (MLP + weights + head matrix): median {rig['median']:.3f} ms per slider event")
    worst = max(c["slider_work_ms"]["median"] for c in results["cases"])
    print(f"slider work median ≤ 5 ms: {'yes' if worst <= 5 else 'NO'} (worst case {worst:.2f} ms)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if worst <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
