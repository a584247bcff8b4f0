"""Strand colours from the photo: the reach along a strand, the photo's colour where seen, export of the colours."""

from dataclasses import replace

import numpy as np
import pytest

from headcast.fitting.types import FitResult
from headcast.geometry.camera import Camera, HeadPose, project, transform_points
from headcast.hair.colour import photo_strand_colors, reach_weights
from headcast.hair.display import gradient_colors, strand_colors
from headcast.hair.generator import GrowSettings, make_strands
from headcast.hair.gltf import strand_geometry
from headcast.hair.head import HairHead
from headcast.hair.types import HairParams

CAMERA = Camera(1200.0, 1200.0, 300.0, 300.0, 600, 600)


def test_reach_weights_decay_away_from_the_seen_points() -> None:
    arc = np.array([[0.0, 0.01, 0.02, 0.03], [0.0, 0.01, 0.02, 0.03], [0.0, 0.01, 0.02, 0.03]])
    seen = np.array([[True, False, False, False], [False, False, True, False], [False] * 4])
    w = reach_weights(seen, arc, 0.01)
    np.testing.assert_allclose(w[0], np.exp(-np.array([0.0, 1.0, 2.0, 3.0])))
    np.testing.assert_allclose(w[1], np.exp(-np.array([2.0, 1.0, 0.0, 1.0])))  # both ways along the strand
    np.testing.assert_array_equal(w[2], 0.0)  # never seen: the flat colour


def test_strands_take_the_photos_colour_where_they_lie_over_its_hair(
    hair_head: HairHead, mean_params, renderer
) -> None:
    pose = HeadPose(np.zeros(3), np.array([0.0, -0.03, -0.6]))
    lm = project(transform_points(hair_head.vertices[hair_head.model.landmarks68], pose), CAMERA)
    fit = FitResult(replace(mean_params, pose=pose), CAMERA, np.zeros((478, 2)), lm, 0.0)
    strands = make_strands(HairParams(), hair_head.scalp, hair_head.sdf, GrowSettings(render_strands=400,
                                                                                      render_points=12))
    pixels = np.zeros((CAMERA.height, CAMERA.width, 3), np.uint8)
    pixels[..., 0] = 200  # a red photo
    hair = np.zeros((CAMERA.height, CAMERA.width), bool)
    hair[:, : CAMERA.width // 2] = True  # hair on the image's left half only
    flat = gradient_colors(strands)
    colours = photo_strand_colors(strands.points, flat, pixels, hair, fit, hair_head, renderer=renderer)
    assert colours.shape == strands.points.shape
    pc = transform_points(strands.points.reshape(-1, 3), pose)
    u = (CAMERA.cx + CAMERA.fx * pc[:, 0] / -pc[:, 2]).reshape(strands.points.shape[:2])
    front = (pc[:, 2] > -0.6).reshape(u.shape)  # nearer the camera than the head's centre: in view
    on_hair = front & (u < CAMERA.width / 2 - 40)
    away = (u > CAMERA.width / 2 + 40).all(axis=1)  # strands wholly over the image's right half
    red = colours[on_hair]
    assert red.shape[0] > 50 and np.median(red[:, 0]) > 0.7 and np.median(red[:, 1]) < 0.1
    np.testing.assert_allclose(colours[away], flat[away], atol=1e-5)  # off the photo's hair: unchanged


def test_photo_colours_reach_the_exports(hair_head: HairHead) -> None:
    strands = make_strands(HairParams(), hair_head.scalp, hair_head.sdf, GrowSettings(render_strands=300,
                                                                                      render_points=8))
    own = np.zeros(strands.points.shape, np.float32)
    own[..., 2] = 0.8  # blue everywhere
    coloured = replace(strands, colors=own)
    srgb = strand_colors(coloured)
    assert srgb[..., 2].min() > 0.5 and srgb[..., 0].max() == 0.0  # blue with the per-strand brightness jitter
    geo = strand_geometry(coloured, "lines")
    np.testing.assert_allclose(geo.colors.reshape(srgb.shape), srgb.astype(np.float64) ** 2.2, rtol=1e-5)
    assert coloured.recoloured((1.0, 0.0, 0.0)).colors is None
    assert strand_colors(strands)[..., 2].max() < 0.5  # the default brown gradient without them
    with pytest.raises(AttributeError):
        coloured.colors = None  # type: ignore[misc]
