"""The outline warp's measurement (headcast.fitting.outline): a head whose true skull lies beyond the fitted one."""

import numpy as np
import pytest

from headcast.fitting.correspondence import Correspondence, load_correspondence
from headcast.fitting.outline import OutlineSettings, fit_outline_warp
from headcast.headmodel.base import HeadParams, blend_vertices, rest_vertices
from headcast.headmodel.warp import OutlineWarp
from headcast.parsing.face import FaceClass
from testhelp import OutlineScene


@pytest.fixture(scope="module")
def corr() -> Correspondence:
    return load_correspondence()


def true_warp(model, shift: float) -> OutlineWarp:
    """A frontal warp of the mean head's skull by ``shift`` metres over ±75° of its up direction."""
    eyes = model.template[[model.landmarks68[36], model.landmarks68[45]]]
    angles = np.deg2rad(np.arange(-75.0, 75.1, 5.0))
    return OutlineWarp(eyes.mean(axis=0), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]), angles,
                       np.full(len(angles), shift))


def test_the_warp_brings_the_outline_to_a_larger_bare_skull_and_keeps_the_face(ict_model, corr) -> None:
    scene = OutlineScene(ict_model, corr)
    truth = HeadParams(scene.start.identity, scene.start.expression, scene.pose, warp=true_warp(ict_model, 0.008))
    start = scene.fit(scene.start)
    warped, report = fit_outline_warp(start, ict_model, scene.classes(truth), OutlineSettings())
    assert report.reason == "" and report.rays_used >= 20
    assert report.offset_after < 0.4 * report.offset_before
    assert warped.params.warp is not None
    assert 5.0 < report.max_shift_mm < 11.0  # about the true 8 mm
    # the rest of the fit is untouched: identity, expression, pose and the fitted landmarks
    np.testing.assert_array_equal(warped.params.identity, start.params.identity)
    np.testing.assert_array_equal(warped.landmarks_2d, start.landmarks_2d)
    # the face vertices do not move; the crown does, towards the truth's
    face = ict_model.parts["face"]
    zeros = np.zeros(ict_model.num_expressions)
    mine = rest_vertices(ict_model, start.params.identity, zeros, warped.params.warp)
    plain = blend_vertices(ict_model, start.params.identity, zeros)
    true = rest_vertices(ict_model, start.params.identity, zeros, truth.warp)
    lower_face = face[plain[face, 1] < np.median(plain[face, 1])]
    assert np.abs(mine[lower_face] - plain[lower_face]).max() < 1e-4
    crown = np.argmax(plain[:, 1])
    assert np.linalg.norm(mine[crown] - true[crown]) < 0.4 * np.linalg.norm(plain[crown] - true[crown])


def test_no_warp_without_bare_skin_at_the_outline(ict_model, corr) -> None:
    scene = OutlineScene(ict_model, corr)
    classes = scene.classes(scene.start)
    classes[classes > 0] = int(FaceClass.HAIR)
    start = scene.fit(scene.start)
    same, report = fit_outline_warp(start, ict_model, classes, OutlineSettings())
    assert same is start and report.rays_used == 0 and "bare skin" in report.reason
    same, report = fit_outline_warp(start, ict_model, None, OutlineSettings())
    assert same is start and report.reason == "no face parsing"
    same, report = fit_outline_warp(start, ict_model, classes, OutlineSettings(enabled=False))
    assert same is start and report.reason == "disabled"


def test_ears_move_out_to_the_photos_ears(ict_model, corr) -> None:
    import cv2

    from headcast.geometry.camera import project, transform_points
    from headcast.headmodel.base import ear_weights, head_vertices

    scene = OutlineScene(ict_model, corr)
    frame = true_warp(ict_model, 0.0)
    truth = HeadParams(scene.start.identity, scene.start.expression, scene.pose,
                       warp=OutlineWarp(frame.centre, frame.axis, frame.up, frame.angles, frame.shifts,
                                        ear_shifts=np.array([0.008, 0.008])))
    classes = scene.classes(truth)
    classes[classes > 0] = int(FaceClass.HAIR)  # the skull is under hair: only the ears are measured
    uv = project(transform_points(head_vertices(ict_model, truth), truth.pose), scene.camera)
    ears = (ear_weights(ict_model, 0.012) > 0.05).any(axis=0)
    tris = np.asarray(ict_model.triangles)
    for tri in tris[ears[tris].all(axis=1)]:
        cv2.fillConvexPoly(classes, np.round(uv[tri]).astype(np.int32), int(FaceClass.L_EAR))
    start = scene.fit(scene.start)
    warped, report = fit_outline_warp(start, ict_model, classes, OutlineSettings())
    assert report.rays_used == 0 and min(report.ear_rays_used) >= 2
    assert warped.params.warp is not None
    np.testing.assert_allclose(warped.params.warp.ear_shifts, [0.008, 0.008], atol=0.003)
    assert not np.any(warped.params.warp.shifts)  # no skull shift without bare skin at the outline
