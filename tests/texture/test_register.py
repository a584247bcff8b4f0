"""The feature registration of the bake: the shift field and the shifted photo lookup."""

import numpy as np
import pytest

from headcast.geometry.camera import HeadPose, camera_from_fov, transform_points
from headcast.headmodel.base import HeadParams, head_vertices
from headcast.landmarks.types import Photo
from headcast.render.raster import RenderSettings, smooth_normals
from headcast.render.views import render_head
from headcast.texture.atlas import opaque_triangle_mask
from headcast.texture.maps import atlas_maps
from headcast.texture.project import FACE_OVAL, project_photo
from headcast.texture.register import NUM_MESH_LANDMARKS, feature_shifts
from headcast.texture.types import UVTexture


def _striped_atlas(size: int) -> np.ndarray:
    """Smooth diagonal colour waves: any shift of the photo shows up in the baked colours."""
    rows, cols = np.mgrid[0:size, 0:size] / size
    phase = 2 * np.pi * (5 * cols + 4 * rows)
    img = np.stack([0.5 + 0.35 * np.sin(phase), 0.5 + 0.35 * np.cos(phase), 0.5 + 0.2 * np.sin(phase / 2)], axis=-1)
    return np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)


def _layout(rng: np.random.Generator) -> np.ndarray:
    """478 landmark-like points: the face oval on a circle of radius 200 px, the rest scattered inside it."""
    points = np.zeros((478, 2))
    radius = 200 * np.sqrt(rng.uniform(0.0, 0.7, 478))
    angle = rng.uniform(0, 2 * np.pi, 478)
    points[:] = np.c_[400 + radius * np.cos(angle), 300 + radius * np.sin(angle)]
    ring = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    points[list(FACE_OVAL)] = np.c_[400 + 200 * np.cos(ring), 300 + 200 * np.sin(ring)]
    return points


def test_no_residual_gives_no_shift() -> None:
    fitted = _layout(np.random.default_rng(0))
    vertices = np.random.default_rng(1).uniform(100, 700, (500, 2))
    shifts = feature_shifts(fitted, fitted, vertices, smoothing=1e-4, fade=0.05, max_shift=0.05)
    assert shifts.shape == (500, 2) and shifts.dtype == np.float32
    assert np.abs(shifts).max() < 1e-6


def test_shift_carries_each_feature_to_its_detection_and_fades_outside() -> None:
    fitted = _layout(np.random.default_rng(0))
    detected = fitted.copy()
    # a smooth residual field inside the face: 0 on the oval (the anchors), up to ~8 px in the middle
    offset = fitted[:NUM_MESH_LANDMARKS] - [400, 300]
    bump = np.clip(1 - (np.linalg.norm(offset, axis=1) / 200) ** 2, 0, None)[:, None]
    detected[:NUM_MESH_LANDMARKS] += bump * np.array([8.0, -5.0])
    detected[list(FACE_OVAL)] = fitted[list(FACE_OVAL)]
    inner = np.setdiff1d(np.arange(NUM_MESH_LANDMARKS), FACE_OVAL)
    far = np.array([[400.0, 300.0 + 200 * 1.6], [400.0 + 200 * 1.8, 300.0]])
    at = np.vstack([fitted[inner], far])
    shifts = feature_shifts(detected, fitted, at, smoothing=1e-6, fade=0.05, max_shift=0.2)
    want = (detected - fitted)[inner]
    assert np.abs(shifts[: len(inner)] - want).max() < 0.3  # interpolates the residuals
    assert np.abs(shifts[len(inner) :]).max() < 0.05  # nothing far outside the face
    # a bad fit does not smear the photo: shifts are capped at max_shift face widths
    capped = feature_shifts(detected, fitted, at, smoothing=1e-6, fade=0.05, max_shift=0.01)
    assert np.linalg.norm(capped, axis=1).max() <= 0.01 * 400 + 1e-3


@pytest.mark.parametrize("shift", [(6.0, -4.0)])
def test_projection_samples_the_photo_at_the_shifted_position(ict_model, renderer, shift) -> None:
    model = ict_model
    size = 1024
    maps = atlas_maps(model, size, renderer)
    known = UVTexture(_striped_atlas(size), maps.uv, np.zeros((size, size), np.float32))
    params = HeadParams(np.zeros(0), np.zeros(model.num_expressions), HeadPose(np.zeros(3), np.array([0, 0, -0.6])))
    camera = camera_from_fov(640, 640, 30.0)
    shot = render_head(model, params, known, camera, settings=RenderSettings(shading="unlit"), renderer=renderer)
    photo = Photo(np.ascontiguousarray(shot.color[..., :3]))
    dx, dy = int(shift[0]), int(shift[1])
    moved = np.roll(photo.pixels, (dy, dx), axis=(0, 1))  # the photo's content now sits (dx, dy) further on

    verts = transform_points(head_vertices(model, params), params.pose)
    opaque = model.triangles[opaque_triangle_mask(model)]
    normals = smooth_normals(verts, opaque)
    trust = np.full(photo.pixels.shape[:2], 255, np.uint8)
    r0, r1, *_ = maps.face_box

    def bake(pixels: np.ndarray, shifts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        proj = project_photo(
            pixels,
            trust,
            camera,
            verts,
            normals,
            opaque,
            maps.face_triangles,
            maps.face_uv,
            r1 - r0,
            0.005,
            (0.3, 0.65),
            renderer,
            shifts_px=shifts,
        )
        return proj.color, proj.weight

    plain, weight = bake(photo.pixels, None)
    unshifted, _ = bake(moved, None)
    shifted, weight_shifted = bake(moved, np.tile(np.array(shift, np.float32), (len(verts), 1)))
    seen = (weight > 0.95) & (weight_shifted > 0.95)
    assert seen.sum() > 1000
    err_shifted = np.abs(shifted - plain)[seen].mean()
    err_unshifted = np.abs(unshifted - plain)[seen].mean()
    assert err_shifted < 0.01 and err_unshifted > 3 * err_shifted
