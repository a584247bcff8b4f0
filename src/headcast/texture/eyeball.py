"""The eyeballs textured from the photo where it shows them; the painted eye elsewhere.

The painted eye (:func:`~headcast.texture.materials.paint_eye`, or the photo's iris rings) is the same disc for
everyone; what a face recogniser reads in the eyes — the iris's own pattern and colour, the pupil, the catchlight,
the shading of the whites — is in the photo. As for the teeth (:mod:`headcast.texture.teeth`), each sclera cell
gets the photo's pixels projected through the fitted eyeball (:func:`headcast.texture.project.project_photo`:
per-texel visibility against the whole opaque head — the lids hide the eyeball behind them — and the view angle),
from photo pixels inside the eye openings only: the polygons of MediaPipe's eye contours
(:data:`~headcast.texture.materials.RIGHT_EYE`, :data:`~headcast.texture.materials.LEFT_EYE`) shrunk by a small
fraction of the eye's width (the lid margin and lashes are not eyeball). The texel weights are eroded and feathered
so the photo's eye fades into the painted one where the lids hid it; an eye whose opening is too small (closed or
squinting) keeps the painted cell. The eyeball turns with the fitted gaze, so the photo's iris stays on the cornea
when the expression moves the eyes.

*Convention:* photo pixels as in docs/conventions.md (top-left origin); the cells' rows run top-down like the atlas
image; weights in [0, 1].
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.geometry.camera import Camera
from headcast.headmodel.base import LinearHeadModel, MaterialRole
from headcast.render.context import Renderer
from headcast.texture.materials import LEFT_EYE, RIGHT_EYE
from headcast.texture.project import project_photo
from headcast.texture.teeth import TeethProjection, feather_texels, role_cell_uv, spread_colour

EYEBALL_ROLES: tuple[MaterialRole, ...] = ("sclera_left", "sclera_right")
"""The cells the photo's eyes are projected into (the outer eyeball, which is drawn; the iris disc is behind it)."""


@dataclass(frozen=True)
class EyePhotoSettings:
    """How photo pixels are chosen for the eyeballs.

    Attributes:
        erosion: each eye-opening polygon is shrunk by this fraction of the eye's width (corner to corner).
        min_opening: an opening whose area over the squared eye width is below this is closed: not used.
        depth_tolerance: visibility tolerance of the projection, metres (the lid lies a millimetre or two in front
            of the eyeball).
        feather_texels: the texel weights are eroded and blurred over this radius (Gaussian σ, texels of a 1024²
            cell).
    """

    erosion: float = 0.04
    min_opening: float = 0.12
    depth_tolerance: float = 0.0015
    feather_texels: float = 6.0


def eye_trust(pixels_shape: tuple[int, int], points: NDArray[np.floating], settings: EyePhotoSettings
              ) -> NDArray[np.uint8]:
    """``(H, W)`` uint8 255 inside the (shrunk) eye openings that are open enough, 0 elsewhere."""
    h, w = pixels_shape
    out = np.zeros((h, w), np.uint8)
    q = np.asarray(points, np.float64)[:, :2]
    if len(q) < 468:
        return out
    for contour in (RIGHT_EYE, LEFT_EYE):
        poly = q[list(contour)]
        width = float(np.linalg.norm(poly[0] - poly[8]))  # corners: the contour's first and ninth points
        if width < 4.0:
            continue
        area = 0.5 * abs(float(np.dot(poly[:, 0], np.roll(poly[:, 1], 1)) - np.dot(poly[:, 1], np.roll(poly[:, 0], 1))))
        if area / width**2 < settings.min_opening:
            continue
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(poly * 4).astype(np.int32)], 255, shift=2)
        radius = round(settings.erosion * width)
        if radius > 0:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
            mask = np.asarray(cv2.erode(mask, kernel), np.uint8)
        out = np.asarray(np.maximum(out, mask), np.uint8)
    return out


def project_eyeballs(
    pixels: NDArray[np.uint8],
    points: NDArray[np.floating],
    camera: Camera,
    vertices_cam: NDArray[np.floating],
    normals_cam: NDArray[np.floating],
    occluders: NDArray[np.integer],
    model: LinearHeadModel,
    atlas_uv: NDArray[np.floating],
    cell_boxes: dict[MaterialRole, tuple[tuple[int, int, int, int], ...]],
    grazing_cos: tuple[float, float],
    settings: EyePhotoSettings,
    renderer: Renderer,
) -> dict[MaterialRole, TeethProjection]:
    """The photo's eyes in each eyeball cell of the model that has one (module docstring).

    Args:
        pixels: ``(H, W, 3)`` uint8 photo.
        points: ``(478, ≥2)`` MediaPipe landmark pixels.
        camera: the photo's intrinsics.
        vertices_cam: ``(V, 3)`` fitted head in the camera frame, metres.
        normals_cam: ``(V, 3)`` its unit vertex normals.
        occluders: ``(T_o, 3)`` opaque triangles (lids included).
        model: the head model (its sclera materials and cells).
        atlas_uv: ``(U, 2)`` atlas coordinates of the model's UVs.
        cell_boxes: the atlas' cell pixel boxes per role (``AtlasMaps.cell_boxes``).
        grazing_cos: view-angle ramp (as for the skin).
        settings: opening, erosion, tolerance and feathering.
        renderer: GL owner.

    Returns:
        ``{role: projection}`` (the teeth's cell type; ``pixels`` = the summed texel weight before feathering) for
        the roles with one cell and any seen texel; blended like the teeth
        (:func:`headcast.texture.teeth.blend_teeth`).
    """
    trust = eye_trust(pixels.shape[:2], points, settings)
    out: dict[MaterialRole, TeethProjection] = {}
    if not trust.any():
        return out
    for role in EYEBALL_ROLES:
        boxes = cell_boxes.get(role, ())
        if len(boxes) != 1 or not model.has_material(role):
            continue
        r0, r1, _, _ = boxes[0]
        size = r1 - r0
        tris, cell_uv = role_cell_uv(model, atlas_uv, role)
        proj = project_photo(pixels, trust, camera, vertices_cam, normals_cam, occluders, tris, cell_uv, size,
                             settings.depth_tolerance, grazing_cos, renderer)
        if not np.any(proj.weight > 0):
            continue
        sigma = settings.feather_texels * size / 1024.0
        weight = feather_texels(proj.weight, sigma)
        out[role] = TeethProjection(spread_colour(proj.color, proj.weight, 2.0 * sigma + 1.0), weight,
                                    float(proj.weight.sum()))
    return out
