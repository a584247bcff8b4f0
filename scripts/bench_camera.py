"""Webcam-puppet benchmark in headless Chromium (WebGL on SwiftShader, MediaPipe's wasm on the CPU).

Starts ``headcast serve`` on a free port with a temporary data folder, makes an avatar (no hair) of a fixture
person through the API, opens its share link in Chromium whose fake camera plays a clip built from the same
person's photos (neutral → smiling → neutral, ``SEGMENT_S`` each, looped; as ``tests/service/test_browser_puppet.py``
builds it), switches "Drive with my camera" on and samples the viewer for ``--seconds``. Prints, with the load
average beside them:

* **tracking rate**: video frames tracked per second (the puppet's own count over its last ~2 s), median of the
  samples;
* **detection**: milliseconds of one ``FaceLandmarker.detectForVideo`` (median of the samples);
* **smile**: the avatar's ``mouthSmileLeft`` weight, min / max, and the share of samples above 0.35 (the clip
  smiles a third of the time).

    python scripts/bench_camera.py [--seconds 20] [--json docs/results/web/camera.json]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "service"))  # the browser tests' server, clip and avatar helpers

from test_browser import CHROMIUM_FLAGS, chromium_path, free_port, start_server, stop_server  # noqa: E402
from test_browser_puppet import CLIP_FPS, PERSON, SEGMENT_S, _camera_frame, _make_avatar, y4m_clip  # noqa: E402


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    expressions = ROOT.parent / "shared" / "fixtures" / "expressions"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        n = round(SEGMENT_S * CLIP_FPS)
        frames = [_camera_frame(expressions / f"{PERSON}_{kind}.jpg") for kind in ("neutral", "smiling")]
        clip = folder / "clip.y4m"
        clip.write_bytes(y4m_clip([frames[0]] * n + [frames[1]] * n + [frames[0]] * n, CLIP_FPS))
        port = free_port()
        server = start_server(folder / "data", port, folder / "serve.log")
        base = f"http://127.0.0.1:{port}"
        try:
            link = _make_avatar(base, expressions / f"{PERSON}_neutral.jpg")
            exe = chromium_path()
            if exe is None:
                raise SystemExit("Chromium is not installed (apt-get install chromium)")
            flags = [*CHROMIUM_FLAGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                     f"--use-file-for-fake-video-capture={clip}"]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=exe, args=flags, headless=True)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{base}/{link}")
                page.wait_for_function("() => document.body.dataset.viewer === 'ready'", timeout=120_000)
                page.click("#camera-drive")
                page.wait_for_function("() => window.headcast.viewerState().camera?.frames > 10", timeout=180_000)
                index = page.evaluate("() => window.headcast.viewerState().targetNames.indexOf('mouthSmileLeft')")
                samples = []
                end = time.monotonic() + args.seconds
                while time.monotonic() < end:
                    state = page.evaluate("() => window.headcast.viewerState()")
                    samples.append((state["influences"][index], state["camera"]["fps"], state["camera"]["detectMs"]))
                    time.sleep(0.25)
                browser.close()
        finally:
            stop_server(server)
    smile = [s[0] for s in samples]
    figures = {
        "tracking_fps_median": round(statistics.median(s[1] for s in samples), 1),
        "detect_ms_median": round(statistics.median(s[2] for s in samples), 1),
        "smile_min": round(min(smile), 3),
        "smile_max": round(max(smile), 3),
        "smiling_share": round(sum(x > 0.35 for x in smile) / len(smile), 2),
        "samples": len(samples),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
