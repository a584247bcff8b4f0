"""The bundle's strand files open in Blender as whole strands (scripted: ``tools/blender/strands_report.py``).

``hair_guides.obj`` goes through the stock OBJ importer (``wm.obj_import``) and *Convert ▸ Curve ▸ Curves*;
``hair.usdc`` through the USD importer, which makes a hair-curves object. The groom is the library style ``bob``
grown on the ICT mean head, written by the hair stage's own :func:`~headcast.hair.stage.hair_files`.

Blenders: Debian's ``blender`` on PATH (skipped when missing, unless ``HEADCAST_REQUIRE_BLENDER=1``), and, when
``HEADCAST_BPY_PYTHON`` names a Python with PyPI's ``bpy`` module (built with USD), that one too. Debian's 3.4 is
built without USD and Alembic: there the USD test is skipped with that reason. ``HEADCAST_BLENDER_SHOTS=DIR`` keeps
the renders.
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.spatial import cKDTree

from headcast.hair.formats import read_obj_polylines
from headcast.hair.generator import GrowSettings
from headcast.hair.stage import HAIR_USD_NAME, HairResult, HairSettings, hair_files, style_strands
from headcast.hair.types import Strands

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "blender" / "strands_report.py"
SHOTS = os.environ.get("HEADCAST_BLENDER_SHOTS")
TOL_M = 2e-6
"""Position tolerance, metres: the OBJ's 6 decimals (±5e-7 per axis) plus float32 rounding in Blender."""


@dataclass(frozen=True)
class Imported:
    """One Blender's report on the files and the strands they were written from."""

    report: dict
    strands: Strands
    folder: Path


def blender_world(points: np.ndarray) -> np.ndarray:
    """Model frame (+y up, +z forward) → Blender's world (+Z up, the face towards −Y), as both importers map it."""
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def _command(runner: str, args: list[str]) -> list[str]:
    if runner == "blender":
        exe = shutil.which("blender")
        if exe is None:
            if os.environ.get("HEADCAST_REQUIRE_BLENDER") == "1":
                pytest.fail("HEADCAST_REQUIRE_BLENDER=1 but blender is not installed (apt-get install blender)")
            pytest.skip("blender is not installed (apt-get install blender python3-numpy)")
        return [exe, "-b", "--factory-startup", "--python", str(SCRIPT), "--", *args]
    python = os.environ.get("HEADCAST_BPY_PYTHON")
    if not python:
        pytest.skip("HEADCAST_BPY_PYTHON (a Python with PyPI's bpy module) is not set")
    return [python, str(SCRIPT), *args]


@pytest.fixture(scope="module", params=["blender", "bpy"])
def imported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, hair_head) -> Imported:
    runner = request.param
    folder = tmp_path_factory.mktemp(f"strands_{runner}")
    strands = style_strands("bob", hair_head, GrowSettings(render_strands=400, render_points=16))
    assert strands is not None
    for name, data in hair_files(HairResult(strands, "bob"), HairSettings()).items():
        (folder / name).write_bytes(data)
    shots = Path(SHOTS) if SHOTS else folder
    shots.mkdir(parents=True, exist_ok=True)
    args = [str(folder / "report.json"), "--obj", str(folder / "hair_guides.obj"),
            "--render", str(shots / f"blender_strands_{runner}"), "--size", "160",
            "--color", ",".join(map(str, strands.root_color))]
    if (folder / HAIR_USD_NAME).is_file():
        args += ["--usd", str(folder / HAIR_USD_NAME)]
    done = subprocess.run(_command(runner, args), capture_output=True, text=True, timeout=600, check=False)
    assert (folder / "report.json").is_file(), f"no report:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return Imported(json.loads((folder / "report.json").read_text()), strands, folder)


def _assert_same_strands(curves: dict, expected: np.ndarray, ordered: bool) -> None:
    """Blender's curves are the expected ``(N, P, 3)`` strands (Blender's frame): count, points, roots and tips."""
    n, p = expected.shape[:2]
    assert curves["count"] == n, f"{curves['count']} curves, {n} strands written"
    assert curves["points"] == [p] * n, f"points per curve {sorted(set(curves['points']))}, not {p}: not whole"
    roots, tips = np.asarray(curves["roots"]), np.asarray(curves["tips"])
    if ordered:
        order = np.arange(n)
    else:  # Convert ▸ Curve walks the edge chains in its own order: match curves to strands by root and tip
        # (two guides of a groom may share a root)
        ends = np.concatenate([expected[:, 0], expected[:, -1]], axis=1)
        _, order = cKDTree(ends).query(np.concatenate([roots, tips], axis=1))
        assert np.sort(order).tolist() == list(range(n)), "two curves match one strand"
    np.testing.assert_allclose(roots, expected[order, 0], atol=TOL_M)  # root first, as written
    np.testing.assert_allclose(tips, expected[order, -1], atol=TOL_M)


def test_obj_guides_import_whole_and_become_hair_curves(imported: Imported) -> None:
    obj = imported.report["obj"]
    guides = blender_world(imported.strands.guide_polylines.astype(np.float64))
    g, p = guides.shape[:2]
    assert g > 100 and p == 100
    np.testing.assert_allclose(  # the file itself round-trips
        np.stack(read_obj_polylines(imported.folder / "hair_guides.obj")), imported.strands.guide_polylines,
        atol=1e-6)
    # every segment is an edge (a one-segment stub per strand would be g edges and 2g vertices)
    assert (obj["vertices"], obj["edges"], obj["faces"]) == (g * p, g * (p - 1), 0)
    assert obj["curve"]["types"] == ["POLY"]
    _assert_same_strands(obj["curve"], guides, ordered=False)
    _assert_same_strands(obj["curves"], guides, ordered=False)


def test_usd_render_strands_import_as_hair_curves(imported: Imported) -> None:
    if not (imported.folder / HAIR_USD_NAME).is_file():
        pytest.skip("usd-core (the usd extra) is not installed: the bundle has no hair.usdc")
    usd = imported.report["usd"]
    if not imported.report["usd_support"]:
        pytest.skip(f"Blender {imported.report['blender']}: {usd['error']}")
    assert usd["type"] == "CURVES", usd
    _assert_same_strands(usd["curves"], blender_world(imported.strands.points.astype(np.float64)), ordered=True)
    assert "displayColor" in usd["curves"]["attributes"]


def test_blender_renders_the_hair_curves(imported: Imported) -> None:
    shots = imported.report["renders"]
    assert [Path(s).name.rsplit("_", 1)[-1] for s in shots] == ["front.png", "side.png"]
    for shot in shots:
        image = np.asarray(Image.open(shot).convert("RGB")).astype(int)
        background = image[1, 1]
        hair = np.abs(image - background).sum(axis=-1) > 60
        assert 0.05 < hair.mean() < 0.9, f"{shot}: {hair.mean():.3f} of the picture is hair"
        assert image[hair].mean() < background.mean() - 30  # dark brown strands (part of a pixel each), not white
