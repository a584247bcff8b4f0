"""This process's warm compressor (``node compress.mjs --serve``, headcast.export.compress.WarmCompressor).

It must give the same file as a one-off ``node`` run, stay up between files (that is its point), report a bad file
without dying, and be replaced when it has died.
"""

import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from exporthelp import REQUIRE_VALIDATOR, make_avatar, random_texture

from headcast.errors import OptionalComponentError
from headcast.export import compress
from headcast.export.glb import write_glb
from headcast.export.settings import ExportSettings
from headcast.headmodel.base import LinearHeadModel

WEB = ExportSettings(quality="web")


@pytest.fixture(scope="module")
def node_script() -> tuple[str, Path]:
    """node and the built compressor; skips (or fails, in CI) without them."""
    try:
        return compress.web_compressor()
    except OptionalComponentError as err:
        if REQUIRE_VALIDATOR:
            pytest.fail(f"HEADCAST_REQUIRE_GLTF_VALIDATOR=1 but {err}")
        pytest.skip(str(err))


@pytest.fixture
def raw_glb(tmp_path: Path, tiny: LinearHeadModel) -> Path:
    """An uncompressed (``full``) GLB: what ``write_glb`` hands the compressor."""
    avatar = make_avatar(tiny, np.array([0.5, -1.0]), np.array([0.7, 0.4, 0.25]), random_texture(len(tiny.uv)))
    return write_glb(tmp_path / "raw.glb", avatar)


def test_warm_compressor_stays_up_and_matches_a_one_off_run(
    tmp_path: Path, raw_glb: Path, node_script: tuple[str, Path]
) -> None:
    node, script = node_script
    first = compress.compress_glb(raw_glb, tmp_path / "a.glb", WEB)
    pid = compress._WARM.pid
    assert pid is not None and first.bytes_out == (tmp_path / "a.glb").stat().st_size > 0
    compress.compress_glb(raw_glb, tmp_path / "b.glb", WEB)
    assert compress._WARM.pid == pid  # the same node process did both
    options = json.dumps({"positionBits": WEB.web_position_bits, "normalBits": WEB.web_normal_bits})
    subprocess.run([node, str(script), str(raw_glb), str(tmp_path / "once.glb"), options], check=True,
                   capture_output=True, timeout=120)
    once = (tmp_path / "once.glb").read_bytes()
    assert (tmp_path / "a.glb").read_bytes() == once and (tmp_path / "b.glb").read_bytes() == once


def test_bad_file_is_reported_and_the_compressor_survives(
    tmp_path: Path, raw_glb: Path, node_script: tuple[str, Path]
) -> None:
    compress.compress_glb(raw_glb, tmp_path / "warm.glb", WEB)
    pid = compress._WARM.pid
    (tmp_path / "bad.glb").write_bytes(b"not a GLB at all")
    with pytest.raises(RuntimeError, match="GLB compression failed"):
        compress.compress_glb(tmp_path / "bad.glb", tmp_path / "out.glb", WEB)
    report = compress.compress_glb(raw_glb, tmp_path / "again.glb", WEB)
    assert compress._WARM.pid == pid and report.bytes_out > 0


def test_dead_compressor_is_replaced(tmp_path: Path, raw_glb: Path, node_script: tuple[str, Path]) -> None:
    compress.compress_glb(raw_glb, tmp_path / "first.glb", WEB)
    pid = compress._WARM.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    report = compress.compress_glb(raw_glb, tmp_path / "second.glb", WEB)
    assert report.bytes_out > 0 and (tmp_path / "second.glb").read_bytes() == (tmp_path / "first.glb").read_bytes()
    assert compress._WARM.pid not in (None, pid)
