"""GLB writer: structure, morph targets, UV flip, texture, Khronos validator (tiny model, full ICT head).

pygltflib loads morph targets as plain dicts ``{"POSITION": accessor, ...}``.
"""

import io
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from exporthelp import make_avatar, random_texture, read_accessor, validate
from PIL import Image

from headcast.avatar import Avatar
from headcast.export.glb import write_glb
from headcast.export.mesh import material_mask, split_uv_seams
from headcast.export.settings import ExportSettings
from headcast.headmodel.base import ARKIT_EXPRESSIONS, LinearHeadModel, blend_vertices
from headcast.texture.types import UVTexture

# float32 storage of positions/deltas (≈1e-8 m at 10 cm) plus the dropped 0.1 µm delta of the tiny model.
POSITION_ATOL_M = 1e-6


def _load(path: Path) -> pygltflib.GLTF2:
    return pygltflib.GLTF2().load_binary(str(path))


def test_tiny_glb_structure_names_and_weights(tmp_path: Path, tiny_avatar: Avatar) -> None:
    path = write_glb(tmp_path / "a.glb", tiny_avatar)
    gltf = _load(path)
    (mesh,) = gltf.meshes
    assert mesh.extras["targetNames"] == ["jawOpen", "mouthSmile_L", "eyeBlink_R"]
    assert mesh.weights == pytest.approx([0.7, 0.4, 0.25])
    head, lashes = mesh.primitives
    # cube: 8 corners × 3 faces with their own UVs = 24 vertices; lash triangle: 3; overlay triangle: left out
    assert gltf.accessors[head.attributes.POSITION].count == 24
    assert gltf.accessors[lashes.attributes.POSITION].count == 3
    assert gltf.accessors[head.indices].count == 36
    assert [len(p.targets) for p in mesh.primitives] == [3, 3]
    assert [gltf.materials[p.material].doubleSided for p in mesh.primitives] == [False, True]
    assert all(t.get("NORMAL") is not None for t in head.targets)


def test_tiny_glb_morphs_rebuild_the_fitted_mesh(tmp_path: Path, tiny_avatar: Avatar) -> None:
    """base + Σ w_j·target_j (as a viewer computes it) equals blend_vertices(identity, expression)."""
    gltf = _load(write_glb(tmp_path / "a.glb", tiny_avatar))
    model, params = tiny_avatar.model, tiny_avatar.fit.params
    fitted = blend_vertices(model, params.identity, params.expression)
    neutral = blend_vertices(model, params.identity, np.zeros(3))
    keep = ~material_mask(model, ("overlay",))
    double = material_mask(model, ("lashes",))
    for prim, mask in zip(gltf.meshes[0].primitives, (keep & ~double, keep & double), strict=True):
        split = split_uv_seams(model.triangles[mask], model.triangle_uvs[mask])
        base = read_accessor(gltf, prim.attributes.POSITION)
        posed = base + sum(
            w * read_accessor(gltf, t["POSITION"])
            for w, t in zip(params.expression, prim.targets, strict=True)
        )
        np.testing.assert_allclose(base, neutral[split.vertex_ids], atol=POSITION_ATOL_M)
        np.testing.assert_allclose(posed, fitted[split.vertex_ids], atol=POSITION_ATOL_M)
        np.testing.assert_array_equal(read_accessor(gltf, prim.indices).reshape(-1, 3), split.triangles)


def test_tiny_glb_targets_are_sparse_and_drop_tiny_deltas(tmp_path: Path, tiny_avatar: Avatar) -> None:
    gltf = _load(write_glb(tmp_path / "a.glb", tiny_avatar, ExportSettings(normal_targets=False)))
    head, lashes = gltf.meshes[0].primitives
    smile = gltf.accessors[head.targets[1]["POSITION"]]
    assert smile.sparse is not None and smile.bufferView is None
    assert smile.sparse.count == 3  # corner 1's three split copies; corner 0's 0.1 µm move is dropped
    blink_on_head = gltf.accessors[head.targets[2]["POSITION"]]
    assert blink_on_head.sparse is None and blink_on_head.bufferView is None  # all zeros: no data at all
    assert np.all(read_accessor(gltf, lashes.targets[2]["POSITION"])[:, 2] == pytest.approx(0.004))
    assert "NORMAL" not in head.targets[0] or head.targets[0]["NORMAL"] is None


def test_tiny_glb_uv_flipped_and_texture_embedded(tmp_path: Path, tiny_avatar: Avatar) -> None:
    gltf = _load(write_glb(tmp_path / "a.glb", tiny_avatar))
    model, tex = tiny_avatar.model, tiny_avatar.texture
    head = gltf.meshes[0].primitives[0]
    mask = ~material_mask(model, ("overlay", "lashes"))
    split = split_uv_seams(model.triangles[mask], model.triangle_uvs[mask])
    uv = read_accessor(gltf, head.attributes.TEXCOORD_0)
    np.testing.assert_allclose(uv[:, 0], tex.uv[split.uv_ids, 0], atol=1e-7)
    np.testing.assert_allclose(uv[:, 1], 1.0 - tex.uv[split.uv_ids, 1], atol=1e-7)
    (image,) = gltf.images
    assert image.mimeType == "image/png"
    view = gltf.bufferViews[image.bufferView]
    png = gltf.binary_blob()[view.byteOffset : view.byteOffset + view.byteLength]
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), tex.image)


def test_tiny_glb_normals_are_unit_and_point_outwards(tmp_path: Path, tiny_avatar: Avatar) -> None:
    gltf = _load(write_glb(tmp_path / "a.glb", tiny_avatar))
    head = gltf.meshes[0].primitives[0]
    pos = read_accessor(gltf, head.attributes.POSITION)
    nrm = read_accessor(gltf, head.attributes.NORMAL)
    np.testing.assert_allclose(np.linalg.norm(nrm, axis=1), 1.0, atol=1e-6)
    assert np.all(np.sum(nrm * (pos - pos.mean(axis=0)), axis=1) > 0)  # a cube: normals away from the centre


def test_tiny_glb_passes_khronos_validator(tmp_path: Path, tiny_avatar: Avatar, gltf_validator: Path) -> None:
    report = validate(gltf_validator, write_glb(tmp_path / "a.glb", tiny_avatar))
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"]
    assert report["issues"]["numWarnings"] == 0, report["issues"]["messages"]
    assert report["info"]["hasMorphTargets"] and report["info"]["hasTextures"]


def test_build_rejects_wrong_expression_length(tmp_path: Path, tiny: LinearHeadModel) -> None:
    avatar = make_avatar(tiny, np.zeros(2), np.zeros(5), random_texture(len(tiny.uv)))
    with pytest.raises(ValueError, match="expression has shape"):
        write_glb(tmp_path / "a.glb", avatar)


@pytest.fixture(scope="module")
def ict_glb(tmp_path_factory: pytest.TempPathFactory, ict_model: LinearHeadModel) -> tuple[Path, Avatar]:
    """The full ICT FaceKit head, zero parameters, a flat skin-coloured texture."""
    uv = np.mod(ict_model.uv, 1.0).astype(np.float32)
    flat = UVTexture(np.full((256, 256, 3), (200, 160, 140), np.uint8), uv, np.ones((256, 256), np.float32))
    avatar = make_avatar(
        ict_model, np.zeros(ict_model.num_identity), np.zeros(ict_model.num_expressions), flat
    )
    return write_glb(tmp_path_factory.mktemp("ict") / "avatar.glb", avatar), avatar


def _corner_pairs(model: LinearHeadModel, mask: np.ndarray) -> int:
    """Distinct (vertex, uv) corners of the masked triangles: the vertex count glTF needs."""
    corners = zip(
        model.triangles[mask].ravel().tolist(), model.triangle_uvs[mask].ravel().tolist(), strict=True
    )
    return len(set(corners))


def test_ict_glb_is_complete_and_small(ict_glb: tuple[Path, Avatar]) -> None:
    path, avatar = ict_glb
    model = avatar.model
    gltf = _load(path)
    mesh = gltf.meshes[0]
    assert mesh.extras["targetNames"][:52] == list(ARKIT_EXPRESSIONS)  # the rest: tests/export/test_morphs.py
    assert mesh.weights == [0.0] * len(mesh.extras["targetNames"])
    keep = ~material_mask(model, ("overlay",))
    lashes = keep & material_mask(model, ("lashes",))
    counts = [gltf.accessors[p.attributes.POSITION].count for p in mesh.primitives]
    assert counts == [_corner_pairs(model, keep & ~lashes), _corner_pairs(model, lashes)]
    # exactly the vertices of the kept triangles are exported: no overlay-shell-only vertex
    exported = np.concatenate([read_accessor(gltf, p.attributes.POSITION) for p in mesh.primitives])
    used = model.template[np.unique(model.triangles[keep])]
    assert len(np.unique(exported, axis=0)) == len(np.unique(used, axis=0))
    assert np.isin(exported.view([("", exported.dtype)] * 3), used.view([("", used.dtype)] * 3)).all()
    # 71 targets with normals, 15 of them visemes (~5 MB); compression is the `web` preset's job (issue [9])
    assert path.stat().st_size < 16_000_000


def test_ict_glb_passes_khronos_validator(ict_glb: tuple[Path, Avatar], gltf_validator: Path) -> None:
    report = validate(gltf_validator, ict_glb[0])
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:10]
    assert report["info"]["totalVertexCount"] > 25_000


def test_tiny_glb_bakes_the_outline_warp_into_the_base(tmp_path: Path, tiny_avatar: Avatar) -> None:
    from dataclasses import replace

    from headcast.headmodel.base import rest_vertices
    from headcast.headmodel.warp import OutlineWarp

    warp = OutlineWarp(np.zeros(3), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]),
                       np.deg2rad(np.array([-60.0, 0.0, 60.0])), np.array([0.004, 0.01, 0.004]), 0.2, 0.0, 0.001)
    warped = replace(tiny_avatar, fit=replace(tiny_avatar.fit, params=replace(tiny_avatar.fit.params, warp=warp)))
    gltf = _load(write_glb(tmp_path / "w.glb", warped))
    model, params = warped.model, warped.fit.params
    neutral = rest_vertices(model, params.identity, np.zeros(3), warp)
    assert np.abs(neutral - rest_vertices(model, params.identity, np.zeros(3), None)).max() > 1e-3
    prim = gltf.meshes[0].primitives[0]
    keep = ~material_mask(model, ("overlay",)) & ~material_mask(model, ("lashes",))
    split = split_uv_seams(model.triangles[keep], model.triangle_uvs[keep])
    np.testing.assert_allclose(read_accessor(gltf, prim.attributes.POSITION), neutral[split.vertex_ids],
                               atol=POSITION_ATOL_M)
