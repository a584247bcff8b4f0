"""Live webcam puppeteering in the real page: headless Chromium with a fake camera (a clip this test builds from
fixture frames: one person neutral → smiling → neutral, looped by Chromium), "Drive with my camera", and the
avatar's ``mouthSmileLeft`` weight (the morph weight the viewer applies) following the clip; the tracking frame rate
and screenshots (neutral, smiling) under ``HEADCAST_BROWSER_SHOTS``.

MediaPipe Face Landmarker runs in the page from the gateway's own files (wasm from ``/static/mediapipe/``, the model
from ``/api/tracking/face_landmarker.task``); a request to any other host fails the test. Skipped like the other
browser tests (``HEADCAST_REQUIRE_BROWSER=1`` fails instead).
"""

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from test_browser import (
    AVATAR_TIMEOUT_MS,
    CHROMIUM_FLAGS,
    DESKTOP,
    _missing,
    chromium_path,
    free_port,
    new_page,
    start_server,
    stop_server,
    wait_for_frame,
)

pytestmark = pytest.mark.slow

CLIP_FPS = 15
SEGMENT_S = 2.0  # neutral, smiling, neutral: 6 s a loop
PERSON = "london_004"  # MediaPipe's mouthSmileLeft on the photos: 0.00 neutral, 0.90 smiling


def y4m_clip(frames: list[np.ndarray], fps: int) -> bytes:
    """A YUV4MPEG2 file (4:2:0, full-range JPEG YCbCr, what Chromium's fake camera reads) of RGB frames."""
    h, w = frames[0].shape[:2]
    out = [f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode()]
    for rgb in frames:
        ycc = np.asarray(Image.fromarray(rgb).convert("YCbCr"))
        chroma = [np.asarray(Image.fromarray(ycc[..., c]).resize((w // 2, h // 2), Image.Resampling.BOX))
                  for c in (1, 2)]
        out += [b"FRAME\n", ycc[..., 0].tobytes(), chroma[0].tobytes(), chroma[1].tobytes()]
    return b"".join(out)


def _camera_frame(path: Path, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """The photo as a webcam would see it: the face in the middle of a 4:3 frame."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    crop_h = min(h, round(w * size[1] / size[0]))
    crop_w = round(crop_h * size[0] / size[1])
    left, top = (w - crop_w) // 2, (h - crop_h) // 2
    return np.asarray(img.crop((left, top, left + crop_w, top + crop_h)).resize(size, Image.Resampling.LANCZOS))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    folder = shared_dir / "fixtures" / "expressions"
    neutral = _camera_frame(folder / f"{PERSON}_neutral.jpg")
    smiling = _camera_frame(folder / f"{PERSON}_smiling.jpg")
    n = round(SEGMENT_S * CLIP_FPS)
    path = tmp_path_factory.mktemp("camera") / "neutral_smile_neutral.y4m"
    path.write_bytes(y4m_clip([neutral] * n + [smiling] * n + [neutral] * n, CLIP_FPS))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, asset_settings: Any) -> Iterator[str]:
    static = Path(__file__).resolve().parents[2] / "src" / "headcast" / "service" / "static"
    if not (static / "puppet.js").is_file() or not (static / "mediapipe" / "vision_wasm_internal.wasm").is_file():
        _missing("the page's puppet bundle is not built (cd web && npm ci && npm run build)")
    data = tmp_path_factory.mktemp("serve-puppet")
    port = free_port()
    proc = start_server(data / "data", port, data / "serve.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


def _make_avatar(base_url: str, photo: Path) -> str:
    """POST the photo (no hair: the camera drives the face) and wait until it is done; returns the share fragment."""
    boundary = uuid.uuid4().hex
    body = b"".join([
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"hair\"\r\n\r\nnone\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{photo.name}\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n".encode(), photo.read_bytes(), b"\r\n", f"--{boundary}--\r\n".encode(),
    ])
    request = urllib.request.Request(f"{base_url}/api/avatars", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as res:
        job = json.loads(res.read())
    deadline = time.monotonic() + AVATAR_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        status = urllib.request.Request(f"{base_url}/api/avatars/{job['id']}",
                                        headers={"Authorization": f"Bearer {job['token']}"})
        with urllib.request.urlopen(status, timeout=30) as res:
            state = json.loads(res.read())
        if state["status"] == "done":
            return f"#id={job['id']}&token={job['token']}"
        assert state["status"] != "failed", state
        time.sleep(1.0)
    raise AssertionError("the avatar was not made in time")


@pytest.fixture(scope="module")
def camera_browser(clip: Path) -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        _missing("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install playwright)")
    flags = [*CHROMIUM_FLAGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
             f"--use-file-for-fake-video-capture={clip}"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=flags, headless=True)
        try:
            yield b
        finally:
            b.close()


def _runs(values: np.ndarray) -> list[int]:
    """Lengths of the runs of equal booleans."""
    edges = np.flatnonzero(np.diff(values.astype(int))) + 1
    bounds = np.concatenate([[0], edges, [len(values)]])
    return np.diff(bounds).tolist()


def test_drive_with_my_camera(camera_browser: Any, server: str, shared_dir: Path, tmp_path: Path) -> None:
    link = _make_avatar(server, shared_dir / "fixtures" / "expressions" / f"{PERSON}_neutral.jpg")
    messages: list[str] = []
    page = new_page(camera_browser, DESKTOP, messages)
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((server, "blob:", "data:")) else None)
    page.goto(f"{server}/{link}")
    page.wait_for_function("() => document.body.dataset.viewer === 'ready'", timeout=120_000)
    wait_for_frame(page)
    page.click("#camera-drive")
    page.wait_for_function("() => window.headcast.viewerState().camera?.frames > 10", timeout=180_000)
    smile_index = page.evaluate("() => window.headcast.viewerState().targetNames.indexOf('mouthSmileLeft')")
    samples: list[tuple[float, float, float]] = []
    shots = {}
    deadline = time.monotonic() + 3 * 3 * SEGMENT_S + 5  # about three loops of the clip
    while time.monotonic() < deadline:  # the timeline, sampled at ~10 Hz (no pictures: they slow SwiftShader)
        state = page.evaluate("() => window.headcast.viewerState()")
        samples.append((time.monotonic(), state["influences"][smile_index], state["camera"]["fps"]))
        time.sleep(0.1)
    smile_now = f"() => window.headcast.viewerState().influences[{smile_index}]"
    deadline = time.monotonic() + 60
    while len(shots) < 2 and time.monotonic() < deadline:  # a picture of each, the pose held while it is taken
        page.evaluate("() => { window.headcast.state.puppet.hold = true; }")
        page.evaluate("() => window.headcast.viewer.whenSettled().then(() => null)")
        held = page.evaluate(smile_now)
        want = "smiling" if held > 0.5 else "neutral" if held < 0.1 else None
        if want and want not in shots:
            shots[want] = page.locator("#viewer").screenshot()
        page.evaluate("() => { window.headcast.state.puppet.hold = false; }")
        time.sleep(0.5)
    time.sleep(3.0)  # no pictures: the tracking rate of the last ~2 s is the puppet's own
    state = page.evaluate("() => window.headcast.viewerState()")
    page.click("#camera-drive")  # off again: the sliders' face comes back
    page.wait_for_function("() => !window.headcast.viewerState().camera?.active")
    back = page.evaluate("() => window.headcast.viewerState()")
    page.context.close()

    folder = Path(__import__("os").environ.get("HEADCAST_BROWSER_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, png in shots.items():
        (folder / f"30_camera_{name}.png").write_bytes(png)
    smile = np.array([s[1] for s in samples])
    fps = float(state["camera"]["fps"])
    print(f"camera puppet: {len(samples)} samples, mouthSmileLeft {smile.min():.2f}..{smile.max():.2f}, "
          f"tracking {fps:.1f} frames/s, detection {state['camera']['detectMs']:.0f} ms")
    assert not [m for m in messages if "pageerror" in m], messages
    assert not foreign, f"requests left the gateway: {foreign[:5]}"
    assert smile.max() > 0.5 and smile.min() < 0.15, "the smile weight does not follow the clip"
    high = smile > 0.35
    # the smiling third of each loop shows as runs of high samples about as long as the smile (10 samples a second)
    high_runs = [n for n, v in zip(_runs(high), _run_values(high), strict=True) if v]
    assert len(high_runs) >= 2, f"the smile did not come and go with the clip: {smile.round(2).tolist()}"
    assert 0.15 < high.mean() < 0.6, f"{high.mean():.2f} of the samples smile (the clip: 1/3)"
    assert {"smiling", "neutral"} <= set(shots)
    assert fps > 2.0, f"tracking at {fps:.1f} frames/s"
    assert not back["camera"]["active"] and back["influences"] == pytest.approx(back["baseWeights"], abs=1e-6)


def _run_values(values: np.ndarray) -> list[bool]:
    """The value of each run of :func:`_runs`."""
    edges = np.flatnonzero(np.diff(values.astype(int))) + 1
    return [bool(values[i]) for i in np.concatenate([[0], edges])]
