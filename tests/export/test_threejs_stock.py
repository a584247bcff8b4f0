"""The GLBs in a plain three.js app (``tools/threejs/render_stock.py``: stock GLTFLoader + MeshoptDecoder and the
loader's MeshStandardMaterials, none of headcast's viewer): both qualities load skinned with the head rig, the lashes
alpha-blended, the ``photo_pose`` clip present, and draw the same head from the front and the side.

Skipped without Chromium, Playwright, web/node_modules/three or the web compressor, unless
``HEADCAST_REQUIRE_BROWSER=1`` (CI), which fails instead. ``HEADCAST_BROWSER_SHOTS=DIR`` keeps the pictures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from exporthelp import make_avatar
from PIL import Image

from headcast.errors import OptionalComponentError
from headcast.export import compress
from headcast.export.glb import write_glb
from headcast.export.settings import ExportSettings
from headcast.headmodel.base import LinearHeadModel
from headcast.texture.types import UVTexture

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "threejs" / "render_stock.py"


def _missing(reason: str) -> None:
    if os.environ.get("HEADCAST_REQUIRE_BROWSER") == "1":
        pytest.fail(f"HEADCAST_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory, ict_model: LinearHeadModel) -> tuple[dict, Path]:
    if not (ROOT / "web" / "node_modules" / "three" / "build" / "three.module.js").is_file():
        _missing("three.js is not installed (cd web && npm ci)")
    if not Path("/usr/bin/chromium").is_file() and not os.environ.get("HEADCAST_CHROMIUM"):
        _missing("Chromium is not installed (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("Playwright is not installed")
    try:
        compress.web_compressor()
    except OptionalComponentError as err:
        _missing(str(err))
    out = tmp_path_factory.mktemp("stock")
    shots = Path(os.environ["HEADCAST_BROWSER_SHOTS"]) if os.environ.get("HEADCAST_BROWSER_SHOTS") else out
    uv = np.mod(ict_model.uv, 1.0).astype(np.float32)
    texture = UVTexture(np.full((512, 512, 3), (200, 160, 140), np.uint8), uv, np.ones((512, 512), np.float32))
    avatar = make_avatar(ict_model, np.zeros(ict_model.num_identity), np.zeros(ict_model.num_expressions), texture)
    full = write_glb(out / "stock_full.glb", avatar)
    web = write_glb(out / "stock_web.glb", avatar, ExportSettings(quality="web"))
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(shots), str(full), str(web)],
                          capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("HEADCAST_STOCK ")]
    assert done.returncode == 0 and lines, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(lines[0].split(" ", 1)[1]), shots


@pytest.mark.parametrize("name", ["stock_full.glb", "stock_web.glb"])
def test_stock_loader_sees_the_rig_lashes_and_clip(stock: tuple[dict, Path], name: str) -> None:
    info = stock[0][name]
    assert info["skinned"] and all(bones == ["Neck", "Head", "LeftEye", "RightEye"] for bones in info["skinned"])
    materials = {m[0]: m for m in info["materials"]}
    assert materials["head"][1:] == ["MeshStandardMaterial", False]
    assert materials["lashes"][1:] == ["MeshStandardMaterial", True]
    assert info["animations"] == ["photo_pose"]


def _picture(shots: Path, stem: str, yaw: int) -> np.ndarray:
    return np.asarray(Image.open(shots / f"{stem}_yaw{yaw}.png").convert("RGB")).astype(float)


@pytest.mark.parametrize("yaw", [0, 90])
def test_stock_render_shows_a_skin_coloured_head_the_same_in_both_qualities(stock: tuple[dict, Path], yaw: int
                                                                          ) -> None:
    shots = stock[1]
    full, web = _picture(shots, "stock_full", yaw), _picture(shots, "stock_web", yaw)
    h, w = full.shape[:2]
    middle = full[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3]
    r, g, b = middle[..., 0], middle[..., 1], middle[..., 2]
    assert np.mean((r > g) & (g > b) & (r > 90)) > 0.6  # lit skin fills the middle: the skinned head is in place
    psnr = 10 * np.log10(255.0**2 / max(np.mean((full - web) ** 2), 1e-9))
    assert psnr > 30, f"web and full differ in stock three.js: {psnr:.1f} dB"
