"""The outline warp of the rest mesh (headcast.headmodel.warp): its geometry, packing and where it applies."""

import numpy as np
import pytest

from headcast.geometry.camera import HeadPose
from headcast.headmodel.base import (
    HeadParams,
    anchor_freedom,
    blend_vertices,
    ear_vertices,
    ear_weights,
    face_anchor_vertices,
    head_vertices,
    rest_vertices,
    skin_vertices,
)
from headcast.headmodel.warp import OutlineWarp, pack_warp, plane_coords, shift_profile, unpack_warp, warp_offsets


def frontal_warp(model, shift: float, angles_deg=(-75.0, 75.0)) -> OutlineWarp:
    """A warp facing the model's +z with one shift over the given angle range (every 5°)."""
    eyes = model.template[[model.landmarks68[36], model.landmarks68[45]]]
    angles = np.deg2rad(np.arange(angles_deg[0], angles_deg[1] + 1e-9, 5.0))
    return OutlineWarp(eyes.mean(axis=0), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]), angles,
                       np.full(len(angles), shift))


def test_pack_round_trip_and_bad_vectors() -> None:
    rng = np.random.default_rng(1)
    warp = OutlineWarp(rng.normal(size=3), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]),
                       np.array([-0.5, 0.1, 0.7]), rng.normal(size=3), 0.4, 0.02, 0.05)
    back = unpack_warp(pack_warp(warp))
    assert back is not None
    np.testing.assert_array_equal(pack_warp(back), pack_warp(warp))
    assert unpack_warp(pack_warp(None)) is None
    with pytest.raises(ValueError):
        unpack_warp(np.zeros(13))  # 12 + an odd count
    with pytest.raises(ValueError, match="increase"):
        OutlineWarp(np.zeros(3), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0]),
                    np.zeros(2))


def test_shift_profile_interpolates_and_falls_to_zero_beyond_the_ends() -> None:
    warp = OutlineWarp(np.zeros(3), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]),
                       np.array([-0.2, 0.0, 0.2]), np.array([1.0, 3.0, 1.0]))
    got = shift_profile(np.array([-0.4, -0.3, -0.1, 0.0, 0.3, 1.0]), warp)
    np.testing.assert_allclose(got, [0.0, 0.5, 2.0, 3.0, 0.5, 0.0])


def test_plane_coords_measure_angle_from_up() -> None:
    warp = OutlineWarp(np.zeros(3), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]), np.zeros(0), np.zeros(0))
    phi, r, p = plane_coords(np.array([[0.0, 2.0, 5.0], [3.0, 0.0, -1.0]]), warp)
    np.testing.assert_allclose(r, [2.0, 3.0])
    np.testing.assert_allclose(p[:, 2], 0.0)  # the component along the axis is dropped
    assert phi[0] == pytest.approx(0.0) and abs(phi[1]) == pytest.approx(np.pi / 2)


def test_warp_moves_the_outline_by_the_shift_and_leaves_the_face(ict_model) -> None:
    warp = frontal_warp(ict_model, 0.008)
    rest = blend_vertices(ict_model, np.zeros(ict_model.num_identity), np.zeros(ict_model.num_expressions))
    skin = skin_vertices(ict_model)
    freedom = anchor_freedom(ict_model, warp.anchor_near, warp.anchor_far)
    ears, ear_weight = ear_vertices(ict_model), ear_weights(ict_model, warp.ear_sigma)
    off = warp_offsets(rest, warp, skin, freedom, ears, ear_weight)
    assert np.abs(off @ warp.axis).max() < 1e-12  # in the plane facing the camera
    # the landmark-fitted face stays where it is
    assert np.abs(off[face_anchor_vertices(ict_model, 1)]).max() == 0.0
    # the top of the skull (straight up in the plane) rises by the shift
    phi, r, _ = plane_coords(rest, warp)
    top = skin[np.argmax(np.where(np.abs(phi[skin]) < 0.05, r[skin], -1.0))]
    assert np.linalg.norm(off[top]) == pytest.approx(0.008, rel=0.05)
    # nothing moves where the warp's angles do not reach (below the ears)
    assert np.abs(off[np.abs(phi) > np.deg2rad(85.0)]).max() == 0.0
    zero = OutlineWarp(warp.centre, warp.axis, warp.up, warp.angles, np.zeros_like(warp.shifts))
    assert np.abs(warp_offsets(rest, zero, skin, freedom, ears, ear_weight)).max() == 0.0


def test_ear_shifts_move_the_ears_outward_and_nothing_far_from_them(ict_model) -> None:
    base = frontal_warp(ict_model, 0.0)
    warp = OutlineWarp(base.centre, base.axis, base.up, base.angles, base.shifts, ear_shifts=np.array([0.01, 0.0]))
    zeros = np.zeros(ict_model.num_expressions)
    identity = np.zeros(ict_model.num_identity)
    off = rest_vertices(ict_model, identity, zeros, warp) - rest_vertices(ict_model, identity, zeros, None)
    plus, minus = ear_vertices(ict_model)
    rim = int(np.argmax(ear_weights(ict_model, warp.ear_sigma)[0]))
    # the +x ear's rim moves by the full shift, outward (from the centre between the eyes to the ear, in the plane)
    assert np.linalg.norm(off[rim]) == pytest.approx(0.01, rel=0.01) and off[rim, 0] > 0.009 and off[rim, 2] == 0.0
    assert 0.003 < off[plus, 0] < 0.0101  # its middle, partly: the ear turns out about its root
    assert np.abs(off[minus]).max() == 0.0  # the other ear's shift is 0
    far = np.linalg.norm(ict_model.template - ict_model.template[plus], axis=1) > 0.05
    assert np.abs(off[far]).max() < 5e-4  # under 5 % of the shift


def test_head_vertices_apply_the_warp_before_expression(ict_model) -> None:
    rng = np.random.default_rng(3)
    identity = rng.normal(size=ict_model.num_identity) * 0.5
    expression = np.clip(rng.normal(0.2, 0.2, ict_model.num_expressions), 0, 1)
    pose = HeadPose(np.zeros(3), np.zeros(3))
    warp = frontal_warp(ict_model, 0.006)
    neutral_warped = rest_vertices(ict_model, identity, np.zeros_like(expression), warp)
    neutral = blend_vertices(ict_model, identity, np.zeros_like(expression))
    # the displacement of the expressive head equals the neutral head's: the warp rides under the expression
    with_expr = head_vertices(ict_model, HeadParams(identity, expression, pose, warp=warp))
    plain = head_vertices(ict_model, HeadParams(identity, expression, pose))
    np.testing.assert_allclose(with_expr - plain, neutral_warped - neutral, atol=1e-9)
    assert np.abs(neutral_warped - neutral).max() > 0.004
