"""The webcam puppet's maths (web/src/tracking.js) on known inputs, under node: One Euro smoothing, the head
quaternion from MediaPipe's column-major transformation matrix, gaze angles and their signs, the morph mapping."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def test_tracking_maths_checks_pass() -> None:
    out = subprocess.run(["node", str(WEB / "test" / "tracking_check.mjs")], capture_output=True, text=True,
                         check=True, timeout=60, cwd=WEB)
    result = json.loads(out.stdout)
    assert result["checks"] >= 13 and result["failures"] == []
