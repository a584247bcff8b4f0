"""The viewer's whole-array attribute code (web/src/attributes.js) gives three.js's own results bit for bit.

``web/test/attributes_check.mjs`` runs under node on random data: dequantising plain and interleaved normalised
integer arrays (the ``web`` GLB's KHR_mesh_quantization attributes) and moving points, deltas and normals into the
scene's frame, each compared with three.js's per-vertex getters and Vector3 maths, which the viewer used before.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
pytestmark = pytest.mark.skipif(shutil.which("node") is None or not (WEB / "node_modules" / "three").is_dir(),
                                reason="node or web/node_modules (three.js) not installed")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whole_array_attributes_equal_three_js(seed: int):
    out = subprocess.run(["node", str(WEB / "test" / "attributes_check.mjs"), str(seed)], capture_output=True,
                         text=True, check=True, timeout=120, cwd=WEB)
    result = json.loads(out.stdout)
    assert result["checked"] >= 100 and result["mismatches"] == []
