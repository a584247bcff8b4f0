"""The ``web`` GLB quality: JPEG texture, quantised + meshopt-compressed buffers (headcast.export.compress).

The compressed file is checked by undoing the meshopt layer with the same bundle (``--decode``; the Khronos
validator cannot look inside EXT_meshopt_compression) and comparing the dequantised geometry with the ``full``
GLB of the same avatar: positions, morph-target deltas, names, extras and weights.
"""

import io
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from exporthelp import REQUIRE_VALIDATOR, make_avatar, node_world_matrices, read_accessor, validate
from PIL import Image

from headcast.avatar import Avatar
from headcast.errors import OptionalComponentError
from headcast.export import compress
from headcast.export.glb import write_glb
from headcast.export.images import jpeg_bytes
from headcast.export.settings import ExportSettings
from headcast.headmodel.base import LinearHeadModel
from headcast.texture.types import UVTexture

WEB = ExportSettings(quality="web")


@pytest.fixture(scope="module")
def compressor() -> Path:
    """The built compressor; skips (or fails, in CI) without node or the bundle."""
    try:
        return compress.web_compressor()[1]
    except OptionalComponentError as err:
        if REQUIRE_VALIDATOR:
            pytest.fail(f"HEADCAST_REQUIRE_GLTF_VALIDATOR=1 but {err}")
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def ict_pair(
    tmp_path_factory: pytest.TempPathFactory, ict_model: LinearHeadModel, compressor: Path
) -> tuple[Path, Path, Path]:
    """The ICT head with a smile and an open jaw: its ``full`` GLB, ``web`` GLB and the ``web`` GLB decoded."""
    out = tmp_path_factory.mktemp("web")
    uv = np.mod(ict_model.uv, 1.0).astype(np.float32)
    rng = np.random.default_rng(0)
    image = rng.integers(60, 220, (2048, 2048, 3), dtype=np.uint8)
    texture = UVTexture(image, uv, np.ones((2048, 2048), np.float32))
    expression = np.zeros(ict_model.num_expressions)
    expression[ict_model.expression_index("jawOpen")] = 0.4
    expression[ict_model.expression_index("mouthSmileLeft")] = 0.7
    avatar = make_avatar(ict_model, rng.normal(0, 1, ict_model.num_identity) * 0.5, expression, texture)
    full = write_glb(out / "full.glb", avatar)
    web = write_glb(out / "web.glb", avatar, WEB)
    decoded = out / "decoded.glb"
    done = subprocess.run(["node", str(compressor), "--decode", str(web), str(decoded)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    return full, web, decoded


def _load(path: Path) -> pygltflib.GLTF2:
    return pygltflib.GLTF2().load_binary(str(path))


def _dequantised(gltf: pygltflib.GLTF2, index: int) -> np.ndarray:
    """An accessor's values as floats: normalised integers divided out (glTF 2.0 §3.11, KHR_mesh_quantization)."""
    acc = gltf.accessors[index]
    raw = read_accessor(gltf, index).astype(np.float64)
    if not acc.normalized:
        return raw
    scale = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}[acc.componentType]
    return np.maximum(raw / scale, -1.0)


def test_web_glb_is_small_compressed_and_keeps_names(ict_pair: tuple[Path, Path, Path]) -> None:
    full_path, web_path, _ = ict_pair
    full, web = _load(full_path), _load(web_path)
    assert set(web.extensionsRequired) == {"EXT_meshopt_compression", "KHR_mesh_quantization"}
    assert web.meshes[0].extras == full.meshes[0].extras  # targetNames + targetSources
    assert web.meshes[0].weights == pytest.approx(full.meshes[0].weights)
    image, lashes = web.images
    assert image.mimeType == "image/jpeg" and lashes.mimeType == "image/png"  # the lashes keep their alpha
    data = web.binary_blob()[web.bufferViews[image.bufferView].byteOffset or 0:][
        : web.bufferViews[image.bufferView].byteLength
    ]
    assert Image.open(io.BytesIO(data)).size == (1024, 1024)
    # a 2048² noise texture as a 1024² JPEG is ~1 MB of the file; the geometry with 71 targets ~2 MB
    assert web_path.stat().st_size < full_path.stat().st_size / 4


def test_decoded_web_glb_passes_khronos_validator(ict_pair: tuple[Path, Path, Path], gltf_validator: Path) -> None:
    report = validate(gltf_validator, ict_pair[2])
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:10]
    assert report["info"]["extensionsRequired"] == ["KHR_mesh_quantization"]
    report = validate(gltf_validator, ict_pair[1])
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:10]


def _dequantisation(full: pygltflib.GLTF2, web: pygltflib.GLTF2, node: int) -> np.ndarray:
    """``(4, 4)`` map from the web GLB's quantised head positions to the full GLB's metres.

    An unskinned head: its node's world matrix. A skinned head (no node transform allowed): glTF-Transform moves the
    dequantisation into the inverse bind matrices, ``IBM_web = IBM_full · D``, so ``D = IBM_full⁻¹ · IBM_web``.
    """
    if web.nodes[node].skin is None:
        return node_world_matrices(web)[node]
    ibm = [np.swapaxes(read_accessor(g, g.skins[0].inverseBindMatrices).reshape(-1, 4, 4), 1, 2)
           for g in (full, web)]
    maps = np.linalg.inv(ibm[0]) @ ibm[1]
    assert np.allclose(maps, maps[0], atol=1e-6)  # the same for every joint
    return maps[0]


def test_web_geometry_matches_full_within_the_quantisation_step(ict_pair: tuple[Path, Path, Path]) -> None:
    full_path, _, decoded_path = ict_pair
    full, web = _load(full_path), _load(decoded_path)
    (node,) = [k for k, n in enumerate(web.nodes) if n.name == "head"]
    matrix = _dequantisation(full, web, node)
    scale = matrix[0, 0]
    assert np.allclose(matrix[:3, :3], np.eye(3) * scale)  # uniform: normals are not affected
    # 12 bits over the mesh's largest extent (2·scale: the normalised range is [-1, 1])
    step = 2 * scale / (2**WEB.web_position_bits - 1)
    for prim_full, prim_web in zip(full.meshes[0].primitives, web.meshes[0].primitives, strict=True):
        base_full = read_accessor(full, prim_full.attributes.POSITION)
        base_web = _dequantised(web, prim_web.attributes.POSITION) * scale + matrix[:3, 3]
        uv_full = read_accessor(full, prim_full.attributes.TEXCOORD_0)
        uv_web = _dequantised(web, prim_web.attributes.TEXCOORD_0)
        assert base_web.shape == base_full.shape
        deltas_full = np.stack([read_accessor(full, t["POSITION"]) for t in prim_full.targets])
        deltas_web = np.stack([_dequantised(web, t["POSITION"]) for t in prim_web.targets]) * scale
        # the compressor reorders vertices: pair them by position, texture coordinate and a random mix of their
        # deltas (ICT has vertices with the same position and UV that move apart, such as the eyelids' edges)
        mix = np.random.default_rng(1).uniform(0.5, 1.0, len(deltas_full))
        from scipy.spatial import cKDTree

        key_web = np.hstack([base_web, uv_web, np.tensordot(mix, deltas_web, 1)])
        key_full = np.hstack([base_full, uv_full, np.tensordot(mix, deltas_full, 1)])
        _, order = cKDTree(key_web).query(key_full)
        # one web vertex per full vertex, except where the full GLB itself repeats a vertex exactly
        assert len(np.unique(order)) == len(np.unique(key_full, axis=0))
        assert np.abs(base_web[order] - base_full).max() <= step
        assert np.abs(uv_web[order] - uv_full).max() <= 1.0 / 4095 + 1e-6  # 12 bits over [0, 1]
        assert np.abs(deltas_web[:, order] - deltas_full).max() <= step


def test_web_quality_names_what_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            tiny_avatar: Avatar) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(OptionalComponentError, match=r"Node\.js >= 18"):
        write_glb(tmp_path / "a.glb", tiny_avatar, WEB)
    assert not list(tmp_path.iterdir())  # nothing half-written is left behind
    monkeypatch.undo()
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    monkeypatch.setattr(compress, "COMPRESSOR", tmp_path / "missing" / "compress.mjs")
    with pytest.raises(OptionalComponentError, match="npm run --prefix web build"):
        write_glb(tmp_path / "a.glb", tiny_avatar, WEB)
    assert not list(tmp_path.iterdir())


def test_compressor_failure_is_reported(tmp_path: Path, compressor: Path) -> None:
    source = tmp_path / "broken.glb"
    source.write_bytes(b"glTF not really")
    with pytest.raises(RuntimeError, match="GLB compression failed"):
        compress.compress_glb(source, tmp_path / "out.glb", WEB)


def test_jpeg_bytes_resizes_and_checks() -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, 32:] = (200, 120, 90)
    decoded = np.asarray(Image.open(io.BytesIO(jpeg_bytes(image, 32, 90))))
    assert decoded.shape == (32, 32, 3)
    assert np.abs(decoded[:, 20:].astype(int) - (200, 120, 90)).max() < 12
    assert np.asarray(Image.open(io.BytesIO(jpeg_bytes(image)))).shape == (64, 64, 3)
    with pytest.raises(ValueError, match="uint8"):
        jpeg_bytes(image[..., 0])
    with pytest.raises(ValueError, match="quality"):
        jpeg_bytes(image, quality=100)


def test_tiny_web_glb_round_trips(tmp_path: Path, tiny: LinearHeadModel, compressor: Path) -> None:
    texture = UVTexture(np.full((16, 16, 3), 128, np.uint8), np.zeros((len(tiny.uv), 2), np.float32) + 0.5,
                        np.ones((16, 16), np.float32))
    avatar = make_avatar(tiny, np.array([0.5, -1.0]), np.array([0.7, 0.4, 0.25]), texture)
    path = write_glb(tmp_path / "tiny.glb", avatar, replace(WEB, web_texture_size=8))
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.glb"]  # the uncompressed file is gone
    gltf = _load(path)
    assert gltf.meshes[0].weights == pytest.approx([0.7, 0.4, 0.25])
