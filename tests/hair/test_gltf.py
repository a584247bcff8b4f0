"""Hair in glTF: LINES primitive with ``_`` attributes in the head GLB, ribbon GLB; Khronos validator at 0 errors."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygltflib
import pytest

from headcast.hair.generator import GrowSettings, make_strands
from headcast.hair.gltf import strand_geometry
from headcast.hair.head import HairHead
from headcast.hair.types import HairParams, Strands

VALIDATOR = Path(__file__).resolve().parents[2] / "tools" / "node" / "validate.mjs"


@pytest.fixture(scope="module")
def strands(hair_head: HairHead) -> Strands:
    grow = GrowSettings(render_strands=1000, render_points=8)
    return make_strands(HairParams(), hair_head.scalp, hair_head.sdf, grow)


def _validate(path: Path) -> dict:
    if shutil.which("node") is None or not (VALIDATOR.parent / "node_modules" / "gltf-validator").is_dir():
        pytest.skip("node / gltf-validator not installed")
    proc = subprocess.run(["node", str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=300,
                          check=False)
    return json.loads(proc.stdout)


def test_line_geometry_layout(strands: Strands) -> None:
    g = strand_geometry(strands, "lines")
    n, p = strands.points.shape[:2]
    assert g.mode == 1 and g.positions.shape == (n * p, 3)
    assert len(g.indices) == 2 * n * (p - 1)
    assert set(g.custom) == {"_STRAND_ID", "_STRAND_T"}
    assert g.custom["_STRAND_T"][:p].tolist() == pytest.approx(np.linspace(0, 1, p).tolist())
    r = strand_geometry(strands, "ribbons", max_strands=100)
    assert r.mode == 4 and r.normals is not None and len(r.indices) == 100 * (p - 1) * 6


def test_head_glb_with_hair_and_ribbon_glb_validate(tmp_path: Path, strands: Strands, ict_model, mean_params) -> None:
    from headcast.export.glb import build_gltf
    from headcast.texture.types import UVTexture

    tex = UVTexture(np.full((4, 4, 3), 200, np.uint8), np.full((len(ict_model.uv), 2), 0.5, np.float32),
                    np.zeros((4, 4), np.float32))
    doc = build_gltf(ict_model, mean_params.identity, mean_params.expression, tex,
                     strands=strand_geometry(strands, "lines"))
    path = tmp_path / "avatar.glb"
    doc.save_binary(str(path))
    back = pygltflib.GLTF2().load(str(path))
    hair = back.meshes[1].primitives[0]
    assert back.nodes[1].name == "hair" and hair.mode == 1
    assert hair.attributes._STRAND_ID is not None
    report = _validate(path)
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:5]
    doc = build_gltf(ict_model, mean_params.identity, mean_params.expression, tex,
                     strands=strand_geometry(strands, "ribbons", max_strands=500))
    ribbons = tmp_path / "ribbons.glb"
    doc.save_binary(str(ribbons))
    assert pygltflib.GLTF2().load(str(ribbons)).meshes[1].primitives[0].mode == 4
    report = _validate(ribbons)
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:5]
