"""The compressor's own quantisation of morph-target deltas equals glTF-Transform's meshopt() transform.

``web/tools/compress.mjs`` runs glTF-Transform's reorder and quantize itself and quantises the morph targets'
POSITION and NORMAL deltas on whole typed arrays (``quantizeTarget``: the bulk of the work for ICT's 71 targets);
``{"reference": true}`` runs meshopt() as published. Both files, with the meshopt layer undone (``--decode``), must
hold the same accessors with the same values for every primitive and target, the same nodes and skins: only the
order of the accessors in the file may differ.
"""

import json
import subprocess
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from exporthelp import REQUIRE_VALIDATOR, make_avatar, read_accessor

from headcast.errors import OptionalComponentError
from headcast.export import compress
from headcast.export.glb import write_glb
from headcast.headmodel.base import LinearHeadModel
from headcast.texture.types import UVTexture


@pytest.fixture(scope="module")
def node_compressor() -> Path:
    """The built compressor; skips (or fails, in CI) without node or the bundle."""
    try:
        return compress.web_compressor()[1]
    except OptionalComponentError as err:
        if REQUIRE_VALIDATOR:
            pytest.fail(f"HEADCAST_REQUIRE_GLTF_VALIDATOR=1 but {err}")
        pytest.skip(str(err))


def _compressed(compressor: Path, source: Path, out: Path, options: dict) -> pygltflib.GLTF2:
    """``source`` compressed with ``options``, then decoded (quantised, no meshopt layer), loaded."""
    for command in (["node", str(compressor), str(source), str(out), json.dumps(options)],
                    ["node", str(compressor), "--decode", str(out), str(out.with_suffix(".decoded.glb"))]):
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
        assert done.returncode == 0, done.stderr
    return pygltflib.GLTF2().load_binary(str(out.with_suffix(".decoded.glb")))


def _accessor(gltf: pygltflib.GLTF2, index: int) -> tuple[int, bool, str, np.ndarray]:
    acc = gltf.accessors[index]
    return acc.componentType, bool(acc.normalized), acc.type, read_accessor(gltf, index)


def _same_accessor(a: pygltflib.GLTF2, i: int, b: pygltflib.GLTF2, j: int, where: str) -> None:
    (ta, na, ka, va), (tb, nb, kb, vb) = _accessor(a, i), _accessor(b, j)
    assert (ta, na, ka) == (tb, nb, kb), where
    assert va.dtype == vb.dtype and np.array_equal(va, vb), where


def test_fast_target_quantisation_equals_meshopt(
    tmp_path: Path, ict_model: LinearHeadModel, node_compressor: Path
) -> None:
    rng = np.random.default_rng(3)
    uv = np.mod(ict_model.uv, 1.0).astype(np.float32)
    texture = UVTexture(rng.integers(60, 220, (64, 64, 3), dtype=np.uint8), uv, np.ones((64, 64), np.float32))
    expression = rng.uniform(0, 0.5, ict_model.num_expressions)
    avatar = make_avatar(ict_model, rng.normal(0, 1, ict_model.num_identity) * 0.5, expression, texture)
    source = write_glb(tmp_path / "full.glb", avatar)  # float attributes: what the compressor gets
    options = {"positionBits": 11, "normalBits": 8}
    ref = _compressed(node_compressor, source, tmp_path / "reference.glb", {**options, "reference": True})
    fast = _compressed(node_compressor, source, tmp_path / "fast.glb", options)

    assert ref.extensionsRequired == fast.extensionsRequired
    assert [n.to_dict() for n in ref.nodes] == [n.to_dict() for n in fast.nodes]  # names, TRS, skins, children
    assert len(ref.skins) == len(fast.skins)
    for k, (skin_a, skin_b) in enumerate(zip(ref.skins, fast.skins, strict=True)):
        assert skin_a.joints == skin_b.joints
        _same_accessor(ref, skin_a.inverseBindMatrices, fast, skin_b.inverseBindMatrices, f"skin {k} IBMs")
    targets = 0
    assert len(ref.meshes) == len(fast.meshes)
    for m, (mesh_a, mesh_b) in enumerate(zip(ref.meshes, fast.meshes, strict=True)):
        assert (mesh_a.name, mesh_a.weights, mesh_a.extras) == (mesh_b.name, mesh_b.weights, mesh_b.extras)
        for p, (prim_a, prim_b) in enumerate(zip(mesh_a.primitives, mesh_b.primitives, strict=True)):
            attrs_a = {k: v for k, v in prim_a.attributes.__dict__.items() if v is not None}
            attrs_b = {k: v for k, v in prim_b.attributes.__dict__.items() if v is not None}
            assert attrs_a.keys() == attrs_b.keys() and prim_a.material == prim_b.material
            for semantic in attrs_a:
                _same_accessor(ref, attrs_a[semantic], fast, attrs_b[semantic], f"mesh {m} prim {p} {semantic}")
            _same_accessor(ref, prim_a.indices, fast, prim_b.indices, f"mesh {m} prim {p} indices")
            assert len(prim_a.targets or []) == len(prim_b.targets or [])
            for t, (target_a, target_b) in enumerate(zip(prim_a.targets or [], prim_b.targets or [], strict=True)):
                assert target_a.keys() == target_b.keys()
                for semantic in target_a:
                    _same_accessor(ref, target_a[semantic], fast, target_b[semantic],
                                   f"mesh {m} prim {p} target {t} {semantic}")
                    targets += 1
    assert targets >= 2 * 57  # ICT's expression targets, POSITION and NORMAL each, were compared
    quantised = fast.accessors[fast.meshes[0].primitives[0].targets[0]["POSITION"]]
    assert quantised.componentType == pygltflib.SHORT and quantised.normalized  # 11 bits in int16
    sizes = [(tmp_path / name).stat().st_size for name in ("reference.glb", "fast.glb")]
    assert abs(sizes[0] - sizes[1]) < 0.001 * sizes[0]  # the same content, accessors in another order
