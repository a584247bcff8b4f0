"""Hair metrics of ``headcast eval`` (EVALUATION.md, Hair): silhouette IoU, colour ΔE, penetration and root gap.

The silhouette, IoU and alignment maths live in :mod:`headcast.hair` (``silhouette``, ``align``, ``grooms``);
this module only composes them for one photo and adds the colour difference.
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.fitting.types import FitResult
from headcast.hair.align import alignment_report, anchor_transform
from headcast.hair.grooms import align_groom
from headcast.hair.head import HairHead
from headcast.hair.silhouette import head_depth, mask_iou, splat_strands
from headcast.hair.types import Strands
from headcast.headmodel.base import LinearHeadModel, head_vertices
from headcast.render.context import Renderer


@dataclass(frozen=True)
class HairMetrics:
    """Hair of one photo's avatar.

    Attributes:
        iou: rendered hair silhouette vs the photo's hair mask at the photo's view, [0, 1].
        delta_e: CIEDE2000 between the median Lab colours of rendered and photographed hair (None: no visible
            rendered hair).
        penetration_anchor: share of strand points inside the head after the thesis' anchor-point alignment.
        root_gap_mm_anchor: mean root-to-scalp distance after the anchor-point alignment, mm.
        penetration_default: the same after the project's default alignment (``grooms.align_groom``).
        root_gap_mm_default: the same after the default alignment, mm.
    """

    iou: float
    delta_e: float | None
    penetration_anchor: float
    root_gap_mm_anchor: float
    penetration_default: float
    root_gap_mm_default: float


def median_lab(image: NDArray[np.uint8], mask: NDArray[np.bool_]) -> NDArray[np.float64] | None:
    """``(3,)`` per-channel median CIE Lab (D65) of the sRGB pixels under ``mask``; None when the mask is empty."""
    from skimage.color import rgb2lab

    pixels = np.asarray(image)[np.asarray(mask, dtype=bool)]
    if len(pixels) == 0:
        return None
    lab = rgb2lab(pixels.reshape(-1, 1, 3).astype(np.float64) / 255.0).reshape(-1, 3)
    return np.median(lab, axis=0)


def hair_delta_e(
    photo: NDArray[np.uint8], photo_mask: NDArray[np.bool_], render: NDArray[np.uint8], render_mask: NDArray[np.bool_]
) -> float | None:
    """CIEDE2000 between the median Lab colours of the photo's and the render's hair; None when a mask is empty."""
    from skimage.color import deltaE_ciede2000

    a, b = median_lab(photo, photo_mask), median_lab(render, render_mask)
    if a is None or b is None:
        return None
    return float(deltaE_ciede2000(a, b))


def eroded(mask: NDArray[np.bool_], pixels: int = 1) -> NDArray[np.bool_]:
    """``mask`` eroded by ``pixels`` (drops edge pixels blended with the background); ``mask`` if that empties it."""
    k = 2 * pixels + 1
    out = cv2.erode(np.asarray(mask, np.uint8), np.ones((k, k), np.uint8)) > 0
    return out if out.any() else np.asarray(mask, dtype=bool)


def silhouette_iou(
    strands: Strands, fit: FitResult, model: LinearHeadModel, photo_hair: NDArray[np.bool_],
    renderer: Renderer | None = None,
) -> float:
    """IoU of the strands' visible silhouette with the photo's hair mask, at the photo's camera and resolution.

    The silhouette is ``silhouette.splat_strands`` behind the head's depth map, as the hair stage scores it.
    """
    params = fit.params
    depth = head_depth(model, head_vertices(model, params), params.pose, fit.camera,
                       renderer)
    mask, _ = splat_strands(strands.points, params.pose, fit.camera, depth)
    return mask_iou(mask, photo_hair)


def alignment_metrics(
    strands: Strands, head: HairHead, max_strands: int = 2000
) -> tuple[float, float, float, float]:
    """Penetration and root gap of the groom re-aligned onto ``head``: thesis anchor method vs the default.

    The anchor-point method is applied as published; the default is ``grooms.align_groom``. At most
    ``max_strands`` evenly spaced strands are used.

    Returns:
        ``(penetration_anchor, root_gap_mm_anchor, penetration_default, root_gap_mm_default)``.
    """
    pts = np.asarray(strands.points, dtype=np.float64)
    if len(pts) > max_strands:
        pts = pts[np.linspace(0, len(pts) - 1, max_strands).astype(np.int64)]
    polys = tuple(pts)
    head_points = head.vertices[head.model.part_mask("face", "head_neck")]
    t = anchor_transform(pts.reshape(-1, 3), pts[:, 0], head_points)
    anchor = alignment_report([t.apply(p) for p in polys], head.sdf)
    default = alignment_report(align_groom(polys, head), head.sdf)
    return anchor.penetration, anchor.root_gap_mm, default.penetration, default.root_gap_mm
