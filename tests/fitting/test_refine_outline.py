"""The skull-outline refinement: the photo's outline along the fan, and the identity following a bare skull."""

import cv2
import numpy as np
import pytest

from headcast.fitting.correspondence import Correspondence, load_correspondence
from headcast.fitting.metrics import nme
from headcast.fitting.refine import RefineSettings, fan_directions, outline_rays, photo_outline, refine_identity
from headcast.headmodel.base import HeadParams, LinearHeadModel, blend_vertices
from headcast.parsing.face import FaceClass
from testhelp import SCENE_SIZE
from testhelp import OutlineScene as Head

SIZE = SCENE_SIZE


def disc_classes(centre: tuple[float, float], radius: float, top_class: FaceClass | None = None) -> np.ndarray:
    """A skin disc on background; with ``top_class`` the disc's top third is that class instead."""
    classes = np.zeros((SIZE, SIZE), np.uint8)
    cv2.circle(classes, (int(centre[0]), int(centre[1])), int(radius), int(FaceClass.SKIN), -1)
    if top_class is not None:
        top = np.zeros_like(classes, dtype=bool)
        top[: int(centre[1] - radius / 3)] = True
        classes[top & (classes > 0)] = int(top_class)
    return classes


def test_photo_outline_reads_a_bare_disc() -> None:
    centre = np.array([400.0, 420.0])
    dirs = fan_directions(centre, centre + np.array([0.0, -100.0]), 15, 60.0)
    assert np.allclose(dirs[7], [0.0, -1.0])  # the middle ray points at the forehead
    out = photo_outline(disc_classes((400, 420), 200), centre, dirs, 100.0, RefineSettings())
    assert out.usable.all()
    np.testing.assert_allclose(out.radius, 200.0, atol=2.0)


def test_photo_outline_ignores_hair_and_frame_edges() -> None:
    centre = np.array([400.0, 420.0])
    dirs = fan_directions(centre, centre + np.array([0.0, -100.0]), 15, 60.0)
    hair = photo_outline(disc_classes((400, 420), 200, FaceClass.HAIR), centre, dirs, 100.0, RefineSettings())
    assert not hair.usable[7]  # the top ray ends in hair
    cropped = photo_outline(disc_classes((400, 420), 1200), centre, dirs, 100.0, RefineSettings())
    assert np.isnan(cropped.radius).all() and not cropped.usable.any()  # the head runs out of the frame


@pytest.fixture(scope="module")
def corr() -> Correspondence:
    return load_correspondence()


def face_shift_mm(model: LinearHeadModel, a: HeadParams, b: HeadParams) -> float:
    face = model.parts["face"]
    va = blend_vertices(model, a.identity, a.expression)[face]
    vb = blend_vertices(model, b.identity, b.expression)[face]
    return float(np.median(np.linalg.norm(va - vb, axis=1))) * 1000


def test_refinement_moves_the_cranium_to_a_bare_skull_and_keeps_the_face(ict_model, corr) -> None:
    head = Head(ict_model, corr)
    classes = head.classes(head.true)
    start = head.fit(head.start)
    refined, report = refine_identity(start, ict_model, corr, classes, start.landmarks_2d, RefineSettings())
    assert report.reason == "" and report.rays_used >= 20
    assert report.outline_after < 0.5 * report.outline_before
    assert report.outline_after < 0.02  # eye distances
    # the face is anchored where the landmark fit put it
    assert face_shift_mm(ict_model, start.params, refined.params) < 1.0
    # the reported landmarks moved with the identity: they are the refined model's own projections
    again = head.fit(refined.params)
    np.testing.assert_allclose(refined.landmarks_2d, again.landmarks_2d, atol=1e-6)
    np.testing.assert_allclose(refined.landmarks68_2d, again.landmarks68_2d, atol=1e-6)
    assert refined.nme == pytest.approx(nme(again.landmarks_2d, start.landmarks_2d, 263, 33))


def test_refinement_leaves_a_head_with_hair_alone(ict_model, corr) -> None:
    head = Head(ict_model, corr)
    classes = head.classes(head.true)
    classes[classes > 0] = int(FaceClass.HAIR)  # the outline is hair everywhere: no skull measurement
    start = head.fit(head.start)
    refined, report = refine_identity(start, ict_model, corr, classes, start.landmarks_2d, RefineSettings())
    assert refined is start and report.rays_used == 0 and "bare skin" in report.reason
    none, report = refine_identity(start, ict_model, corr, None, start.landmarks_2d, RefineSettings())
    assert none is start and report.reason == "no face parsing"


def test_refinement_of_a_skinned_model(ict_model, corr) -> None:
    from testhelp import ict_with_jaw

    model = ict_with_jaw(ict_model)
    head = Head(model, corr)
    jaw = np.zeros((model.skeleton.num_joints, 3))
    jaw[model.skeleton.joint_index("jaw")] = [0.15, 0.0, 0.0]
    true = HeadParams(head.true_identity, head.true.expression, head.pose, jaw)
    start = head.fit(HeadParams(np.zeros(60), head.true.expression, head.pose, jaw))
    refined, report = refine_identity(start, model, corr, head.classes(true), start.landmarks_2d, RefineSettings())
    assert report.outline_after < 0.5 * report.outline_before
    np.testing.assert_allclose(refined.landmarks_2d, head.fit(refined.params).landmarks_2d, atol=1e-3)  # pixels


def test_ear_rays_measure_ears_only() -> None:
    centre = np.array([400.0, 420.0])
    classes = disc_classes((400, 420), 150)
    cv2.ellipse(classes, (555, 450), (30, 60), 0, 0, 360, int(FaceClass.R_EAR), -1)  # an ear on the image's right
    settings = RefineSettings(rays=15, fan_deg=60.0, ear_rays=8, ear_fan_deg=(80.0, 115.0))
    dirs, ears, half = outline_rays(centre, centre + np.array([0.0, -100.0]), settings)
    assert dirs.shape == (31, 2) and ears.sum() == 16 and np.all(half > 0)
    out = photo_outline(classes, centre, dirs, 100.0, settings, ears, half)
    right = ears & (dirs[:, 0] > 0.9)  # the right fan's rays pointing at the ear
    assert right.any() and out.usable[right].all()
    assert np.all(out.radius[right] > 160)  # they end at the ear's rim, beyond the disc
    left = ears & (dirs[:, 0] < 0)
    assert not out.usable[left].any()  # skin, not an ear, ends those rays
    assert out.usable[~ears].all()  # the skull fan sees bare skin
