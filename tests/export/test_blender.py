"""The ``full`` GLB in Blender: Debian's Blender 3.4 imports it with its stock glTF add-on (scripted,
``tools/blender/gltf_report.py``) into a head with 52 ARKit + 15 viseme shape keys, an armature of the head rig
(Neck, Head, LeftEye, RightEye) with the ``photo_pose`` action and alpha-blended lashes, and renders it with Cycles:
from the front, the side, and with the Head bone and the eyes turned.

Skipped when ``blender`` is not installed, unless ``HEADCAST_REQUIRE_BLENDER=1`` (CI), which fails instead.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from exporthelp import make_avatar
from PIL import Image

from headcast.export.glb import write_glb
from headcast.export.morphs import OCULUS_VISEMES
from headcast.headmodel.base import ARKIT_EXPRESSIONS, LinearHeadModel
from headcast.texture.types import UVTexture

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "blender" / "gltf_report.py"
VIEWS = ("front", "side", "turned")
SHOTS = os.environ.get("HEADCAST_BLENDER_SHOTS")
"""Folder for the render (default: the test's temp folder); docs/results/blender/ keeps one."""


@pytest.fixture(scope="module")
def blender() -> str:
    exe = shutil.which("blender")
    if exe is None:
        if os.environ.get("HEADCAST_REQUIRE_BLENDER") == "1":
            pytest.fail("HEADCAST_REQUIRE_BLENDER=1 but blender is not installed (apt-get install blender)")
        pytest.skip("blender is not installed (apt-get install blender python3-numpy)")
    return exe


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, ict_model: LinearHeadModel, blender: str
             ) -> tuple[dict, Path]:
    """Blender's report on the full ICT head (skin-coloured texture, neutral) and its render."""
    out = tmp_path_factory.mktemp("blender")
    uv = np.mod(ict_model.uv, 1.0).astype(np.float32)
    texture = UVTexture(np.full((256, 256, 3), (200, 160, 140), np.uint8), uv, np.ones((256, 256), np.float32))
    avatar = make_avatar(ict_model, np.zeros(ict_model.num_identity), np.zeros(ict_model.num_expressions), texture)
    glb = write_glb(out / "avatar.glb", avatar)
    picture = Path(SHOTS) / "blender_full.png" if SHOTS else out / "render.png"
    picture.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [blender, "-b", "--factory-startup", "--python", str(SCRIPT), "--", str(glb), str(picture), *VIEWS],
        capture_output=True, text=True, timeout=600, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("HEADCAST_REPORT ")]
    assert lines, f"Blender did not import the GLB:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(lines[0].split(" ", 1)[1]), picture


def test_blender_imports_the_arkit_and_viseme_shape_keys(imported: tuple[dict, Path]) -> None:
    report, _ = imported
    meshes = {o["name"]: o for o in report["objects"] if o["type"] == "MESH"}
    head = meshes["head"]
    assert head["shape_keys"][0] == "Basis"
    keys = head["shape_keys"][1:]
    assert keys[:52] == list(ARKIT_EXPRESSIONS)
    assert keys[52:67] == list(OCULUS_VISEMES)
    assert head["faces"] > 40_000 and set(head["materials"]) == {"head", "lashes"}


def test_blender_imports_the_head_rig(imported: tuple[dict, Path]) -> None:
    report, _ = imported
    (armature,) = [o for o in report["objects"] if o["type"] == "ARMATURE"]
    assert armature["bones"] == ["Neck", "Head", "LeftEye", "RightEye"]
    heads = {name: np.array(xyz) for name, xyz in armature["bone_heads"].items()}  # Blender: +z up, face to −y
    assert heads["Neck"][2] < heads["Head"][2] < heads["LeftEye"][2]
    assert heads["LeftEye"][0] > 0.02 and heads["RightEye"][0] < -0.02  # the head's left is +x
    assert any(a.startswith("photo_pose") for a in report["actions"])


def _view(picture: Path, view: str) -> np.ndarray:
    return np.asarray(Image.open(picture.with_name(f"{picture.stem}_{view}.png")).convert("RGB")).astype(int)


def test_turning_the_head_bone_turns_the_head_not_the_shoulders(imported: tuple[dict, Path]) -> None:
    _, picture = imported
    front, turned = _view(picture, "front"), _view(picture, "turned")
    h = front.shape[0]
    moved = np.abs(front - turned).sum(axis=-1) > 40
    assert moved[h // 4 : h // 2].mean() > 0.1  # the face moved
    assert moved[int(h * 0.85) :].mean() < 0.02  # the bottom of the neck (the root's) stayed


def test_blender_renders_the_head(imported: tuple[dict, Path]) -> None:
    _, picture = imported
    image = _view(picture, "front")
    background = image[2, 2]
    h, w = image.shape[:2]
    middle = image[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3]
    head = np.abs(middle - background).sum(axis=-1) > 30
    assert head.mean() > 0.8, f"the middle of Blender's render is mostly background ({head.mean():.2f})"
    r, g, b = middle[..., 0], middle[..., 1], middle[..., 2]
    assert np.mean((r > g) & (g > b)) > 0.5  # lit skin colour, not a grey or black placeholder
