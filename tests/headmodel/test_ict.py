import numpy as np

from headcast.geometry.camera import HeadPose
from headcast.headmodel import HeadParams, blend_vertices, pose_head


def test_zero_coefficients_give_the_template(ict_model) -> None:
    v = blend_vertices(ict_model, np.zeros(ict_model.num_identity), np.zeros(ict_model.num_expressions))
    assert np.array_equal(v.astype(np.float32), ict_model.template)


def test_units_are_metres_and_axes(ict_model) -> None:
    size = ict_model.template.max(0) - ict_model.template.min(0)
    assert np.all((size > 0.15) & (size < 0.45))  # a head with neck, not centimetres
    lm = ict_model.template[ict_model.landmarks68]
    assert lm[30, 2] > lm[36, 2]  # nose tip in front of the eye corner (+z forward)
    assert lm[45, 0] > 0 > lm[36, 0]  # iBUG 45 = the head's left outer eye corner at +x


def test_left_shapes_move_left_side(ict_model) -> None:
    d = ict_model.expression_basis[ict_model.expression_index("eyeBlinkLeft")]
    moved = np.linalg.norm(d, axis=1) > 1e-4
    assert ict_model.template[moved, 0].mean() > 0.02


def test_single_mode_is_linear(ict_model) -> None:
    ids = np.array([0, 100, 5000])
    a = np.zeros(ict_model.num_identity)
    a[3] = 2.0
    w = np.zeros(ict_model.num_expressions)
    w[ict_model.expression_index("jawOpen")] = 0.5
    v = blend_vertices(ict_model, a, w, vertex_ids=ids)
    expect = (
        ict_model.template[ids]
        + 2.0 * ict_model.identity_basis[3, ids]
        + 0.5 * ict_model.expression_basis[ict_model.expression_index("jawOpen"), ids]
    )
    assert np.allclose(v, expect, atol=1e-7)
    batch = blend_vertices(ict_model, np.stack([a, 0 * a]), np.stack([w, w]), vertex_ids=ids)
    assert batch.shape == (2, 3, 3) and np.allclose(batch[0], v)


def test_pose_head_camera_frame(ict_model) -> None:
    params = HeadParams(
        np.zeros(ict_model.num_identity),
        np.zeros(ict_model.num_expressions),
        HeadPose(np.zeros(3), np.array([0.0, 0.0, -0.5])),
    )
    mesh = pose_head(ict_model, params, frame="camera")
    assert np.allclose(mesh.vertices, ict_model.template + np.array([0.0, 0.0, -0.5]), atol=1e-6)
    assert mesh.frame == "camera"


def test_parts_cover_all_vertices(ict_model) -> None:
    assert ict_model.part_mask(*ict_model.parts).all()
    assert ict_model.triangles.max() < ict_model.num_vertices
