"""The GLB's morph target set (headcast.export.morphs): exact ARKit-52 names, merged halves, visemes, tongueOut.

A tiny ARKit-named model (the export tests' cube with five shapes: jawOpen, a split browInnerUp, mouthSmileLeft and
one extra) checks the rules; the full ICT FaceKit head checks the names and that the GLB's weights show a fitted
expression exactly.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from exporthelp import make_avatar, random_texture, read_accessor

from headcast.export.glb import write_glb
from headcast.export.mesh import material_mask, split_uv_seams
from headcast.export.morphs import (
    OCULUS_VISEMES,
    VISEME_RECIPES,
    TongueSettings,
    morph_set,
    shown_weights,
    tongue_out_delta,
)
from headcast.headmodel.base import ARKIT_EXPRESSIONS, LinearHeadModel, blend_vertices
from headcast.texture.types import UVTexture

SHAPES = ("jawOpen", "browInnerUp_L", "browInnerUp_R", "mouthSmile_L", "cheekRaiser_L")
CANONICAL = ("jawOpen", "browInnerUpLeft", "browInnerUpRight", "mouthSmileLeft", "cheekRaiserLeft")


@pytest.fixture
def arkit_tiny(tiny: LinearHeadModel) -> LinearHeadModel:
    rng = np.random.default_rng(5)
    basis = (rng.normal(size=(len(SHAPES), tiny.num_vertices, 3)) * 0.003).astype(np.float32)
    return replace(tiny, expression_basis=basis, expression_names=SHAPES,
                   expression_arkit=dict(zip(SHAPES, CANONICAL, strict=True)))


def test_arkit_names_first_then_visemes_then_the_models_extras(arkit_tiny: LinearHeadModel) -> None:
    morphs = morph_set(arkit_tiny, 50)
    assert morphs.names[:52] == ARKIT_EXPRESSIONS
    assert morphs.names[52:67] == OCULUS_VISEMES
    assert morphs.names[67:] == ("cheekRaiserLeft",)
    m = dict(zip(morphs.names, morphs.mixing, strict=True))
    np.testing.assert_array_equal(m["browInnerUp"], [0, 1, 1, 0, 0])  # both halves
    np.testing.assert_array_equal(m["mouthSmileLeft"], [0, 0, 0, 1, 0])
    assert not m["mouthSmileRight"].any() and not m["eyeBlinkLeft"].any()  # the model has no such shape: zero
    assert not m["tongueOut"].any() and not morphs.extra  # no tongue or teeth parts: nothing made
    # a viseme is its recipe over the ARKit rows
    expected = sum(w * m[name] for name, w in VISEME_RECIPES["viseme_aa"].items())
    np.testing.assert_allclose(m["viseme_aa"], expected)
    assert not m["viseme_sil"].any()


def test_shown_weights_plus_baked_rest_is_the_fitted_expression(arkit_tiny: LinearHeadModel) -> None:
    morphs = morph_set(arkit_tiny, 50)
    w = np.array([0.3, 0.2, 0.6, 0.5, 0.1])
    u, rest = shown_weights(morphs, w)
    np.testing.assert_allclose(morphs.mixing.T @ u + rest, w)
    assert u[ARKIT_EXPRESSIONS.index("browInnerUp")] == pytest.approx(0.4)  # the halves' mean
    np.testing.assert_allclose(rest, [0, -0.2, 0.2, 0, 0], atol=1e-12)  # their difference stays in the positions
    assert not u[52:67].any()  # visemes start at rest


def test_tiny_arkit_glb_rebuilds_the_fitted_mesh(tmp_path: Path, arkit_tiny: LinearHeadModel) -> None:
    w = np.array([0.3, 0.2, 0.6, 0.5, 0.1])
    avatar = make_avatar(arkit_tiny, np.array([0.5, -1.0]), w, random_texture(len(arkit_tiny.uv)))
    gltf = pygltflib.GLTF2().load_binary(str(write_glb(tmp_path / "a.glb", avatar)))
    mesh = gltf.meshes[0]
    assert mesh.extras["targetNames"][:52] == list(ARKIT_EXPRESSIONS)
    assert mesh.extras["targetSources"]["browInnerUp"] == {"browInnerUp_L": 0.5, "browInnerUp_R": 0.5}
    fitted = blend_vertices(arkit_tiny, avatar.fit.params.identity, w)
    prim = mesh.primitives[0]
    keep = ~material_mask(arkit_tiny, ("overlay",)) & ~material_mask(arkit_tiny, ("lashes",))
    split = split_uv_seams(arkit_tiny.triangles[keep], arkit_tiny.triangle_uvs[keep])
    posed = read_accessor(gltf, prim.attributes.POSITION) + sum(
        u * read_accessor(gltf, t["POSITION"]) for u, t in zip(mesh.weights, prim.targets, strict=True) if u
    )
    np.testing.assert_allclose(posed, fitted[split.vertex_ids], atol=2e-6)


def test_ict_glb_has_exactly_arkit_52_then_visemes_and_shows_the_fit(
    tmp_path: Path, ict_model: LinearHeadModel
) -> None:
    rng = np.random.default_rng(1)
    w = rng.uniform(0.0, 0.6, ict_model.num_expressions)
    uv = np.mod(ict_model.uv, 1.0).astype(np.float32)
    flat = UVTexture(np.full((64, 64, 3), 180, np.uint8), uv, np.ones((64, 64), np.float32))
    avatar = make_avatar(ict_model, rng.normal(size=ict_model.num_identity), w, flat)
    gltf = pygltflib.GLTF2().load_binary(str(write_glb(tmp_path / "ict.glb", avatar)))
    mesh = gltf.meshes[0]
    names = mesh.extras["targetNames"]
    assert names[:52] == list(ARKIT_EXPRESSIONS)
    assert names[52:67] == list(OCULUS_VISEMES)
    assert sorted(names[67:]) == ["cheekRaiserLeft", "cheekRaiserRight", "pupilDilateLeft", "pupilDilateRight"]
    assert len(set(names)) == len(names)
    # every ARKit target moves something (tongueOut is made; browInnerUp and cheekPuff merge ICT's halves)
    prim = mesh.primitives[0]
    for t, name in enumerate(names[:67]):
        if name != "viseme_sil":
            assert np.abs(read_accessor(gltf, prim.targets[t]["POSITION"])).max() > 1e-4, name
    fitted = blend_vertices(ict_model, avatar.fit.params.identity, w)
    keep = ~material_mask(ict_model, ("overlay",)) & ~material_mask(ict_model, ("lashes",))
    split = split_uv_seams(ict_model.triangles[keep], ict_model.triangle_uvs[keep])
    posed = read_accessor(gltf, prim.attributes.POSITION) + sum(
        u * read_accessor(gltf, t["POSITION"]) for u, t in zip(mesh.weights, prim.targets, strict=True) if u
    )
    # float32 storage and the sparse cut-off (1e-5 m per target, ≤ Σ weights)
    assert np.abs(posed - fitted[split.vertex_ids]).max() < 2e-4


def test_tongue_out_moves_the_tongue_forward_and_leaves_the_gums(ict_model: LinearHeadModel) -> None:
    delta = tongue_out_delta(ict_model, TongueSettings())
    assert delta is not None
    moved = np.linalg.norm(delta, axis=1)
    assert set(np.flatnonzero(moved)) <= set(ict_model.parts["gums_tongue"])
    teeth = ict_model.template[ict_model.parts["teeth"]]
    tip = int(np.argmax(moved))
    assert moved[tip] > 0.015 and delta[tip, 2] > 0  # the tip: ~2 cm forward
    assert ict_model.template[tip, 2] + delta[tip, 2] > teeth[:, 2].max()  # past the front teeth
