"""De-lit albedo in the bake: a head lit from one side bakes to a symmetric face; the guard; off = as before."""

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

import headcast.texture.albedo as albedo_module
from headcast.avatar import Avatar
from headcast.export.params import load_params_document, params_document, write_params
from headcast.fitting.types import FitResult
from headcast.geometry.camera import HeadPose, camera_from_fov, transform_points
from headcast.geometry.rotation import axis_angle_to_matrix
from headcast.headmodel.base import HeadParams, head_vertices
from headcast.landmarks.types import Landmarks, Photo
from headcast.render.raster import RenderSettings, rasterize_uv, smooth_normals
from headcast.render.views import render_head
from headcast.texture.albedo import delight_face, lighting_guard
from headcast.texture.atlas import opaque_triangle_mask
from headcast.texture.bake import bake_texture
from headcast.texture.lighting import ShLighting, sh_basis, srgb_to_linear
from headcast.texture.maps import AtlasMaps, atlas_maps
from headcast.texture.project import FACE_OVAL, project_photo
from headcast.texture.settings import TextureSettings
from headcast.texture.types import UVTexture

SIZE = 1024  # atlas side (face cell 512²)
SKIN = (200, 150, 125)  # one uniform skin colour, 8-bit sRGB
KEY_LEFT = (-0.6, 0.3, 0.75)  # towards the light, camera frame: from the image's left, above, in front
LUMA = np.array([0.2126, 0.7152, 0.0722])


def _photo_and_fit(model, renderer, light_dir: tuple[float, float, float]) -> tuple[Photo, FitResult]:
    """The template head, one skin colour everywhere, rendered frontally under a lambert key light."""
    maps = atlas_maps(model, SIZE, renderer)
    image = np.empty((SIZE, SIZE, 3), np.uint8)
    image[:] = SKIN
    known = UVTexture(image, maps.uv, np.zeros((SIZE, SIZE), np.float32))
    params = HeadParams(np.zeros(0), np.zeros(model.num_expressions), HeadPose(np.zeros(3), np.array([0, 0, -0.6])))
    camera = camera_from_fov(640, 640, 30.0)
    settings = RenderSettings(shading="lambert", light_dir=light_dir, ambient=0.3)
    shot = render_head(model, params, known, camera, settings=settings, renderer=renderer)
    points = np.zeros((478, 2))  # a generous face outline: the trust mask does not limit this test
    angles = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    points[list(FACE_OVAL)] = np.c_[320 + 300 * np.sin(angles), 320 - 300 * np.cos(angles)]
    return Photo(np.ascontiguousarray(shot.color[..., :3])), FitResult(params, camera, points, np.zeros((68, 2)), 0.0)


def _asymmetry(texture: UVTexture, maps: AtlasMaps) -> tuple[float, float]:
    """Left/right luminance asymmetry of mirrored, well-seen skin texel pairs and the skin's luminance CV."""
    r0, r1, c0, c1 = maps.face_box
    face = texture.image[r0:r1, c0:c1].astype(np.float32) / 255.0
    weight = texture.coverage[r0:r1, c0:c1]
    lum = (srgb_to_linear(face) @ LUMA).astype(np.float32)
    mx, my = maps.mirror_xy[..., 0], maps.mirror_xy[..., 1]
    lum_m = cv2.remap(lum, mx, my, cv2.INTER_LINEAR)
    weight_m = cv2.remap(weight, mx, my, cv2.INTER_LINEAR)
    half = np.arange(weight.shape[1])[None, :] < weight.shape[1] // 2
    pair = (weight > 0.7) & (weight_m > 0.7) & maps.skin_sample & half
    assert pair.sum() > 2000
    a, b = float(lum[pair].mean()), float(lum_m[pair].mean())
    skin = (weight > 0.7) & maps.skin_sample
    return (a - b) / (0.5 * (a + b)), float(lum[skin].std() / lum[skin].mean())


@pytest.fixture(scope="module")
def side_lit(ict_model, renderer):
    photo, fit = _photo_and_fit(ict_model, renderer, KEY_LEFT)
    off = bake_texture(photo, fit, ict_model, TextureSettings(atlas_size=SIZE, delight=False), renderer=renderer)
    on = bake_texture(photo, fit, ict_model, TextureSettings(atlas_size=SIZE, delight=True), renderer=renderer)
    return photo, fit, off, on


def test_delight_removes_a_side_light(side_lit, ict_model, renderer) -> None:
    _, _, off, on = side_lit
    maps = atlas_maps(ict_model, SIZE, renderer)
    asym_off, cv_off = _asymmetry(off, maps)
    asym_on, cv_on = _asymmetry(on, maps)
    # the light from the image's left (the head's right, texel columns < F/2): measured +0.41 → +0.06 and a
    # luminance CV of 0.23 → 0.06 (lambert with a hard terminator is not exactly order-2 SH; the rest is that)
    assert asym_off > 0.3 and cv_off > 0.15
    assert abs(asym_on) < 0.3 * asym_off
    assert cv_on < 0.5 * cv_off
    assert off.lighting is None and off.delight_strength == 0.0
    light = on.lighting
    assert light is not None and on.delight_strength == pytest.approx(1.0)
    key = np.asarray(KEY_LEFT) / np.linalg.norm(KEY_LEFT)
    assert float(light.direction @ key) > 0.9  # measured (−0.69, 0.34, 0.63): 0.98
    assert light.explained > 0.9


def test_a_white_light_gets_no_channel_exponents_and_no_tint(side_lit, ict_model, renderer) -> None:
    _, _, _, on = side_lit
    maps = atlas_maps(ict_model, SIZE, renderer)
    # lambert shading is the same in every channel: the per-channel exponents must come out ≈ 1 (measured
    # 1.021, 0.996, 0.977: the 8-bit photo's rounding in the dark red-poor shadows) and invent no hue
    assert on.lighting is not None
    assert np.abs(on.lighting.channel_exponents - 1.0).max() < 0.05
    r0, r1, c0, c1 = maps.face_box
    seen = (on.coverage[r0:r1, c0:c1] > 0.9) & maps.skin_sample
    lin = srgb_to_linear(on.image[r0:r1, c0:c1][seen] / 255.0)
    chroma = lin / lin.sum(axis=-1, keepdims=True)
    truth = srgb_to_linear(np.asarray(SKIN) / 255.0)
    # measured: median within 0.002 of the skin's chromaticity, 95th percentile 0.005 (grain, 8-bit rounding)
    assert np.abs(np.median(chroma, axis=0) - truth / truth.sum()).max() < 0.005
    assert np.percentile(np.abs(chroma - truth / truth.sum()).max(axis=-1), 95) < 0.015


def _light_from(direction: np.ndarray, explained: float) -> ShLighting:
    """Ambient plus a point light towards ``direction`` (camera frame), with a given fit quality."""
    coeffs = sh_basis(np.asarray(direction, np.float64) / np.linalg.norm(direction))
    coeffs[0] += 0.5 * np.sqrt(4.0 * np.pi)
    return ShLighting(coeffs, shading_range=(0.5, 1.5), explained=explained)


def test_guard_ramps_on_explained_variance_and_light_direction() -> None:
    explained, facing = (0.3, 0.5), (-0.4, -0.1)
    front, side, behind = np.array([0.3, 0.4, 0.9]), np.array([-0.6, 0.8, 0.0]), np.array([0.1, 0.6, -0.8])
    assert lighting_guard(_light_from(front, 0.7), explained, facing) == 1.0
    assert lighting_guard(_light_from(side, 0.7), explained, facing) == 1.0  # a side light is a real light
    assert lighting_guard(_light_from(behind, 0.7), explained, facing) == 0.0
    assert lighting_guard(_light_from(front, 0.2), explained, facing) == 0.0
    assert 0.0 < lighting_guard(_light_from(front, 0.4), explained, facing) < 1.0
    assert lighting_guard(_light_from(front, float("nan")), explained, facing) == 0.0


@pytest.mark.parametrize(("direction", "expect_change"), [((0.1, 0.6, -0.8), False), ((0.3, 0.4, 0.9), True)])
def test_a_light_from_behind_switches_delight_off(
    side_lit, ict_model, renderer, monkeypatch, direction, expect_change
) -> None:
    photo, fit, off, _ = side_lit
    forced = _light_from(np.asarray(direction), explained=0.9)
    monkeypatch.setattr(albedo_module, "estimate_sh_lighting", lambda *args, **kwargs: forced)
    baked = bake_texture(photo, fit, ict_model, TextureSettings(atlas_size=SIZE, delight=True), renderer=renderer)
    assert baked.lighting is not None
    assert np.allclose(baked.lighting.coefficients, forced.coefficients)
    if expect_change:  # the same light from the front is divided out: the patched estimate is the one used
        assert baked.delight_strength == 1.0
        assert not np.array_equal(baked.image, off.image)
    else:  # from behind the head: the guard keeps the photo's shading, the bake is the one without de-lighting
        assert baked.delight_strength == 0.0
        assert np.array_equal(baked.image, off.image)
        assert np.array_equal(baked.coverage, off.coverage)


def test_delight_off_takes_the_previous_path(side_lit, ict_model, renderer, monkeypatch) -> None:
    photo, fit, off, _ = side_lit

    def fail(*args, **kwargs):
        raise AssertionError("delight_face must not run with delight=False")

    calls: list[bool] = []
    original = project_photo

    def spy(*args, **kwargs):
        calls.append(bool(kwargs.get("with_normals", False)))
        return original(*args, **kwargs)

    monkeypatch.setattr("headcast.texture.bake.delight_face", fail)
    monkeypatch.setattr("headcast.texture.bake.project_photo", spy)
    again = bake_texture(photo, fit, ict_model, TextureSettings(atlas_size=SIZE, delight=False), renderer=renderer)
    assert calls == [False]  # one projection pass, its normals not asked for
    assert np.array_equal(again.image, off.image) and again.lighting is None


def test_projection_normals_match_a_uv_raster_and_leave_the_colours_alone(side_lit, ict_model, renderer) -> None:
    photo, fit, _, _ = side_lit
    model = ict_model
    maps = atlas_maps(model, SIZE, renderer)
    params = fit.params
    verts = transform_points(head_vertices(model, params), params.pose)
    opaque = model.triangles[opaque_triangle_mask(model)]
    normals = smooth_normals(verts, opaque)
    trust = np.full(photo.pixels.shape[:2], 255, np.uint8)
    size = maps.face_box[1] - maps.face_box[0]
    args = (photo.pixels, trust, fit.camera, verts, normals, opaque, maps.face_triangles, maps.face_uv, size,
            0.005, (0.3, 0.65), renderer)  # fmt: skip
    plain = project_photo(*args)
    with_normals = project_photo(*args, with_normals=True)
    assert plain.normal is None and with_normals.normal is not None
    assert np.array_equal(plain.color, with_normals.color) and np.array_equal(plain.weight, with_normals.weight)
    raster = rasterize_uv(maps.face_uv, normals[maps.face_triangles], (size, size), renderer)
    ref = raster.values / np.maximum(np.linalg.norm(raster.values, axis=-1, keepdims=True), 1e-9)
    # half-float attachment: ~1e-3 (measured max 5e-4 on the fitted portraits)
    assert np.abs(with_normals.normal[raster.mask] - ref[raster.mask]).max() < 2e-3


def test_settings_validate_the_delight_ramps() -> None:
    with pytest.raises(ValueError, match="delight_facing"):
        TextureSettings(delight_facing=(0.2, -0.2))
    with pytest.raises(ValueError, match="delight_floor"):
        TextureSettings(delight_floor=0.0)
    assert replace(TextureSettings(), delight=False).delight is False


def _avatar(photo: Photo, fit: FitResult, texture: UVTexture, model) -> Avatar:
    landmarks = Landmarks(
        points=np.zeros((478, 3)), blendshapes=np.zeros(52), blendshape_names=tuple(f"b{i}" for i in range(52)),
        transform=np.eye(4), image_size=(640, 640), num_faces=1, box=np.array([0.0, 0.0, 640.0, 640.0]),
    )  # fmt: skip
    fit68 = replace(fit, landmarks68_2d=np.full((68, 2), 320.0))
    return Avatar(photo, landmarks, fit68, texture, model, {}, ())


def test_params_json_carries_the_lighting_estimate(side_lit, ict_model, tmp_path) -> None:
    photo, fit, off, on = side_lit
    doc = params_document(_avatar(photo, fit, on, ict_model))
    assert doc.lighting is not None and on.lighting is not None
    assert doc.lighting.frame == "camera"
    assert np.allclose(doc.lighting.coefficients, on.lighting.coefficients)
    assert np.allclose(doc.lighting.direction, on.lighting.direction)
    # the head faces the camera (zero rotation): the model-frame direction is the camera-frame one
    assert np.allclose(doc.lighting.direction_model, on.lighting.direction, atol=1e-12)
    assert doc.lighting.explained == pytest.approx(on.lighting.explained)
    assert doc.lighting.delight_strength == pytest.approx(1.0)
    path = write_params(tmp_path / "params.json", _avatar(photo, fit, on, ict_model))
    raw = json.loads(path.read_text())
    assert len(raw["lighting"]["coefficients"]) == 9 and raw["lighting"]["frame"] == "camera"
    assert load_params_document(path).lighting == doc.lighting
    # without an estimate the field is left out of the file (like joint_rotations), not written as null
    path_off = write_params(tmp_path / "off.json", _avatar(photo, fit, off, ict_model))
    assert "lighting" not in json.loads(path_off.read_text())
    assert load_params_document(path_off).lighting is None


def test_params_json_lighting_direction_is_rotated_into_the_model_frame(side_lit, ict_model) -> None:
    photo, fit, _, on = side_lit
    pose = HeadPose(np.array([0.0, 0.5, 0.0]), np.array([0.0, 0.0, -0.6]))
    turned = replace(fit, params=replace(fit.params, pose=pose))
    doc = params_document(_avatar(photo, turned, on, ict_model))
    assert doc.lighting is not None and on.lighting is not None
    rot = axis_angle_to_matrix(np.array([0.0, 0.5, 0.0]))
    assert np.allclose(rot @ np.asarray(doc.lighting.direction_model), on.lighting.direction, atol=1e-9)


def test_params_json_lighting_relights_in_either_frame_and_reads_back(side_lit, ict_model, tmp_path) -> None:
    from headcast.render.views import albedo_light
    from headcast.texture.lighting import shading

    photo, fit, _, on = side_lit
    pose = HeadPose(np.array([0.2, 0.5, -0.1]), np.array([0.0, 0.0, -0.6]))
    turned = replace(fit, params=replace(fit.params, pose=pose))
    path = write_params(tmp_path / "params.json", _avatar(photo, turned, on, ict_model))
    doc = load_params_document(path).lighting
    assert doc is not None and on.lighting is not None
    assert doc.coefficients_model is not None and doc.shading_range is not None
    # the model-frame coefficients shade a model normal as the camera-frame ones shade the posed normal
    rot = axis_angle_to_matrix(pose.rotation)
    n = np.random.default_rng(0).normal(size=(200, 3))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    assert np.allclose(shading(n, np.asarray(doc.coefficients_model)), shading(n @ rot.T, on.lighting), atol=1e-5)
    # the range the bake clamped to (raised to the de-lighting floor) and what the renders need come back
    assert doc.shading_range[0] >= TextureSettings().delight_floor
    back = replace(on, lighting=doc.estimate(), delight_strength=doc.delight_strength)
    original, restored = albedo_light(on), albedo_light(back)
    assert original is not None and restored is not None
    assert np.allclose(restored.matrix, original.matrix) and restored.shading_range == original.shading_range
    assert restored.exponents == pytest.approx(original.exponents) and restored.strength == original.strength


def _side_lit_projection(side_lit, model, renderer, trust_level: int):
    """The side-lit photo projected into the face cell of the fitted head, under a constant trust."""
    photo, fit, _, _ = side_lit
    maps = atlas_maps(model, SIZE, renderer)
    verts = transform_points(head_vertices(model, fit.params), fit.params.pose)
    opaque = model.triangles[opaque_triangle_mask(model)]
    trust = np.full(photo.pixels.shape[:2], trust_level, np.uint8)
    size = maps.face_box[1] - maps.face_box[0]
    proj = project_photo(photo.pixels, trust, fit.camera, verts, smooth_normals(verts, opaque), opaque,
                         maps.face_triangles, maps.face_uv, size, 0.005, (0.3, 0.65), renderer,
                         with_normals=True)  # fmt: skip
    return maps, proj, size


def test_projection_reports_the_photos_trust_where_the_camera_does_not_see(side_lit, ict_model, renderer) -> None:
    maps, proj, _ = _side_lit_projection(side_lit, ict_model, renderer, 128)
    assert proj.trust is not None
    chart = maps.face_mask
    hidden = chart & (proj.weight == 0.0) & (proj.trust > 0.0)
    assert hidden.sum() > 1000  # texels the camera does not see still report the trust where they project
    assert np.abs(proj.trust[chart & (proj.trust > 0)] - 128 / 255).max() < 2e-3
    assert np.all(proj.weight <= proj.trust + 1e-3)  # the weight is the trust × visibility × view angle


def test_texels_kept_as_photographed_are_not_divided(side_lit, ict_model, renderer) -> None:
    maps, proj, size = _side_lit_projection(side_lit, ict_model, renderer, 255)
    settings = TextureSettings(atlas_size=SIZE)
    kept = np.zeros(proj.weight.shape, np.float32)
    kept[:, : size // 2] = 1.0  # the left half of the cell as photographed
    full = delight_face(proj.color, proj.weight, proj.normal, maps, settings)
    half = delight_face(proj.color, proj.weight, proj.normal, maps, settings, as_photographed=kept)
    assert full.lighting is not None and half.strength is not None and full.strength is not None
    left = np.zeros_like(kept, bool)
    left[:, : size // 2] = True
    assert half.strength[left].max() == 0.0
    assert np.abs(half.color[left] - proj.color[left]).max() < 1e-4  # divided by the shading ** 0 (sRGB round trip)
    assert np.array_equal(half.color[~left], full.color[~left])
    assert np.abs(full.color[left & (proj.weight > 0)] - proj.color[left & (proj.weight > 0)]).max() > 0.05
