import numpy as np

from headcast.geometry.camera import Camera
from headcast.headmodel.base import blend_vertices
from headcast.render.mouth import cavity_occlusion, light_through_loop, loop_solid_angle, mouth_cavity
from headcast.render.raster import MeshDraw, RenderSettings, render

CAM = Camera(100.0, 100.0, 32.0, 32.0, 64, 64)
QUAD = np.array([[-0.1, -0.1, -1.0], [0.1, -0.1, -1.0], [0.1, 0.1, -1.0], [-0.1, 0.1, -1.0]], np.float32)
QUAD_TRIS = np.array([[0, 1, 2], [0, 2, 3]])

SQUARE = np.array([[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]])


def test_solid_angle_of_a_square_matches_the_closed_form():
    for d in (0.1, 1.0, 3.0):
        exact = 4.0 * np.arcsin(1.0 / (1.0 + d * d))  # 4 asin(ab / sqrt((a² + d²)(b² + d²))), a = b = 1
        assert np.isclose(loop_solid_angle(np.array([[0.0, 0.0, d]]), SQUARE)[0], exact, atol=1e-9)


def test_light_through_the_opening():
    behind = np.array([[0.0, 0.0, -0.5], [0.0, 5.0, -0.5]])  # under the centre / far off to the side
    lit = light_through_loop(behind, SQUARE, np.array([0.0, 0.0, 1.0]), cone_deg=10.0)
    assert lit[0] == 1.0 and lit[1] == 0.0
    assert light_through_loop(np.array([[0.0, 0.0, 1.0]]), SQUARE, np.array([0.0, 0.0, 1.0]))[0] == 1.0  # in front


def test_cavity_darkens_with_depth_and_closing(ict_model):
    cavity = mouth_cavity(ict_model)
    assert cavity is not None and len(cavity.loop) > 20
    names = ict_model.expression_names
    ident = np.zeros(ict_model.identity_basis.shape[0])
    w = np.zeros(len(names))
    w[names.index("jawOpen")] = 1.0
    occ_open = cavity_occlusion(ict_model, blend_vertices(ict_model, ident, w))
    occ_closed = cavity_occlusion(ict_model, blend_vertices(ict_model, ident, np.zeros(len(names))))
    assert occ_open is not None and occ_closed is not None
    face = ict_model.parts["face"]
    assert np.all(occ_open[face] == 1.0)  # only the inside of the mouth is shaded
    inner = cavity.interior
    assert occ_open.min() >= 0.0 and occ_open.max() <= 1.0
    assert occ_open[inner, 0].mean() > occ_closed[inner, 0].mean()  # an open mouth lets light in
    z = ict_model.template[inner, 2]
    front, back = inner[z > np.percentile(z, 90)], inner[z < np.percentile(z, 10)]
    assert occ_open[front, 0].mean() > 2 * occ_open[back, 0].mean()  # the throat is darker than the incisors


def test_occlusion_scales_ambient_and_direct_light(renderer):
    settings = RenderSettings(light_dir=(0.0, 0.0, 1.0), ambient=0.5)
    full = render(CAM, [MeshDraw(QUAD, QUAD_TRIS)], settings=settings, renderer=renderer).color[32, 32, 0]
    no_direct = np.tile([1.0, 0.0], (4, 1))
    half = render(CAM, [MeshDraw(QUAD, QUAD_TRIS, occlusion=no_direct)], settings=settings,
                  renderer=renderer).color[32, 32, 0]
    dark = render(CAM, [MeshDraw(QUAD, QUAD_TRIS, occlusion=np.zeros((4, 2)))], settings=settings,
                  renderer=renderer).color[32, 32, 0]
    assert full == 255 and dark == 0
    assert abs(int(half) - round(255 * 0.5 ** (1 / 2.2))) <= 2  # ambient only, in linear light
