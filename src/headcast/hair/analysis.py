"""Hair analysis of a portrait: masks, colour, orientation map, hairline, fringe, length, bald / shaved.

Masks come from face parsing (BiSeNet classes), the orientation map from a Gabor filter bank.

Convention: images are ``(H, W, 3)`` uint8 sRGB in ``Photo.pixels`` coordinates (row 0 at the top); angles are in
image axes (x right, y down), in [0, π) since a strand direction has no sign. Lab is CIE L*a*b* (D65) as computed
by OpenCV from sRGB in [0, 1].
"""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.hair.types import HairAnalysis
from headcast.parsing.face import FACE_CLASSES, FaceClass, class_mask


@dataclass(frozen=True)
class AnalysisSettings:
    """Thresholds and filter sizes of the analysis.

    Attributes:
        orientations: number of Gabor orientations in [0, π).
        wavelength_px: Gabor wavelength at the working scale, pixels.
        working_face_px: the photo is rescaled so the face (brow line to chin) spans this many pixels for the
            orientation filters.
        bald_ratio: hair area / face area below which the head counts as bald.
        shaved_thickness: hair above the skin thinner than this share of the face height counts as shaved.
        head_margin: the subject's hair must touch the box around their brows and forehead widened by this many
            face heights (``subject_hair``).
        near: other hair within this many face heights of it belongs to the subject too.
        max_side: hair farther than this many face heights sideways from the face's centre line is dropped.
        max_above: hair higher than this many face heights above the brow line is dropped.
        max_below: hair lower than this many face heights below the chin is dropped.
    """

    orientations: int = 16
    wavelength_px: float = 4.0
    working_face_px: float = 110.0
    bald_ratio: float = 0.08
    shaved_thickness: float = 0.07
    head_margin: float = 0.35
    near: float = 0.3
    max_side: float = 1.5
    max_above: float = 1.3
    max_below: float = 2.5


def lab_of_srgb(rgb: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(..., 3)`` sRGB in [0, 1] → CIE Lab (D65)."""
    a = np.asarray(rgb, dtype=np.float32).reshape(-1, 1, 3)
    return cv2.cvtColor(a, cv2.COLOR_RGB2Lab).reshape(np.shape(rgb)).astype(np.float64)


def srgb_of_lab(lab: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(..., 3)`` CIE Lab → sRGB in [0, 1] (clipped)."""
    a = np.asarray(lab, dtype=np.float32).reshape(-1, 1, 3)
    return np.clip(cv2.cvtColor(a, cv2.COLOR_Lab2RGB).reshape(np.shape(lab)), 0.0, 1.0).astype(np.float64)


def subject_hair(
    hair: NDArray[np.bool_], landmarks68: NDArray[np.floating], settings: AnalysisSettings | None = None
) -> NDArray[np.bool_]:
    """Only the subject's hair: the parts of the hair mask connected to the subject's head, within reach of it.

    Face parsing labels every person's hair, and hair-coloured blobs at the frame's edges. The subject's hair is
    the 8-connected components of the mask that reach into the box over the subject's forehead (between the outer
    brow ends and from the brow line up to one face height above it, widened by ``head_margin`` face heights), and
    the components that come within ``near`` face heights of those (a tail the ear separates from the head), cut to
    ``max_side`` face heights either side of the face's centre line, ``max_above`` above the brow line and
    ``max_below`` below the chin (another person's hair touching the subject's is cut off there). Specks under
    0.2 % of a face height squared are dropped.

    Args:
        hair: ``(H, W)`` bool hair mask.
        landmarks68: ``(68, 2)`` the subject's iBUG-68 points, pixels.
        settings: the margins.

    Returns:
        ``(H, W)`` bool, a subset of ``hair``.
    """
    s = AnalysisSettings() if settings is None else settings
    lm = np.asarray(landmarks68, dtype=np.float64)
    brow, chin = float(lm[17:27, 1].mean()), float(lm[8, 1])
    fh = max(chin - brow, 1.0)
    cx = float(lm[27, 0])
    h, w = hair.shape
    x0, x1 = float(lm[17:27, 0].min()) - s.head_margin * fh, float(lm[17:27, 0].max()) + s.head_margin * fh
    y0, y1 = brow - (1.0 + s.head_margin) * fh, brow + s.head_margin * fh

    def touching(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        num, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        box = labels[int(np.clip(y0, 0, h)) : int(np.clip(y1, 0, h)), int(np.clip(x0, 0, w)) : int(np.clip(x1, 0, w))]
        keep = np.zeros(num, dtype=bool)
        keep[np.unique(box)] = True
        keep[0] = False
        keep &= stats[:, cv2.CC_STAT_AREA] > 0.002 * fh**2
        return np.asarray(keep[labels], dtype=bool)

    mask = np.asarray(hair, dtype=bool)
    out = touching(mask)
    # pieces that the ears or a hand separate from it (a tail over the shoulder): within reach of the head's hair
    near = cv2.distanceTransform((~out).astype(np.uint8), cv2.DIST_L2, 3) <= max(1.0, s.near * fh)
    num, labels, stats, _ = cv2.connectedComponentsWithStats((mask & ~out).astype(np.uint8), connectivity=8)
    extra = np.zeros(num, dtype=bool)
    extra[np.unique(labels[near & mask & ~out])] = True
    extra[0] = False
    extra &= stats[:, cv2.CC_STAT_AREA] > 0.002 * fh**2
    out |= extra[labels]
    cols, rows = np.arange(w)[None, :], np.arange(h)[:, None]
    reach = (np.abs(cols - cx) <= s.max_side * fh) & (rows >= brow - s.max_above * fh)
    reach &= rows <= chin + s.max_below * fh
    return out & reach


def gabor_orientation(
    gray: NDArray[np.floating], orientations: int = 16, wavelength: float = 4.0
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Dominant strand direction per pixel from a bank of Gabor filters (Paris et al. 2004 style).

    OpenCV's kernel oscillates along ``(cos θ, sin θ)``, so stripes (strands) run along ``θ + π/2``.

    Args:
        gray: ``(H, W)`` grey image, any range.
        orientations: filters evenly spaced over [0, π).
        wavelength: the filters' wavelength, pixels.

    Returns:
        ``(H, W)`` float32 angle of the strands in [0, π) (image axes) and ``(H, W)`` confidence in [0, 1]:
        ``(max − mean) / max`` of the rectified responses.
    """
    g = np.asarray(gray, dtype=np.float32)
    sigma = 0.45 * wavelength
    ksize = int(2 * np.ceil(2.5 * sigma) + 1)
    thetas = np.pi * np.arange(orientations) / orientations
    responses = np.empty((orientations, *g.shape), dtype=np.float32)
    for i, th in enumerate(thetas):
        kernel = cv2.getGaborKernel((ksize, ksize), sigma, float(th), wavelength, 0.75, 0.0, ktype=cv2.CV_32F)
        kernel -= kernel.mean()
        responses[i] = np.abs(cv2.filter2D(g, cv2.CV_32F, kernel))
    best = responses.argmax(axis=0)
    peak = responses.max(axis=0)
    conf = (peak - responses.mean(axis=0)) / np.maximum(peak, 1e-6)
    angle = np.mod(thetas[best] + np.pi / 2, np.pi).astype(np.float32)
    return angle, np.clip(conf, 0.0, 1.0).astype(np.float32)


def analyse_hair(
    pixels: NDArray[np.uint8],
    classes: NDArray[np.uint8],
    landmarks68: NDArray[np.floating],
    settings: AnalysisSettings | None = None,
) -> HairAnalysis:
    """Analyse the hair of a portrait.

    Args:
        pixels: ``(H, W, 3)`` uint8 sRGB photo.
        classes: ``(H, W)`` uint8 face-parsing classes (``headcast.parsing.FaceClass``).
        landmarks68: ``(68, 2)`` iBUG-68 points in pixels (e.g. ``FitResult.landmarks68_2d``).
        settings: thresholds.

    Returns:
        Masks, colours, orientation map, hairline / fringe / length measurements and bald / shaved flags.
    """
    s = AnalysisSettings() if settings is None else settings
    h, w = classes.shape
    hair = class_mask(classes, (FaceClass.HAIR,))
    hat = class_mask(classes, (FaceClass.HAT,))
    skin = class_mask(classes, (FaceClass.SKIN,))
    face = class_mask(classes, FACE_CLASSES)
    lm = np.asarray(landmarks68, dtype=np.float64)
    brow_y = float(lm[17:27, 1].mean())
    chin_y = float(lm[8, 1])
    nose_y = float(lm[33, 1])
    face_h = max(chin_y - brow_y, 1.0)
    unit = max(nose_y - brow_y, 1.0)
    cx = float(lm[27, 0])
    x0, x1 = float(lm[17:22, 0].min()), float(lm[22:27, 0].max())
    hair = subject_hair(hair, lm, s)  # another person's hair and blobs at the frame's edges go
    notes: list[str] = []
    hair_area = int(hair.sum())
    face_area = max(int(face.sum()), 1)
    ratio = hair_area / face_area
    rgb = pixels.astype(np.float32) / 255.0
    ys = np.flatnonzero(hair.any(axis=1))
    if hair_area > 20:
        top, bottom = ys.min(), ys.max()
        third = (bottom - top) / 3.0
        rows = np.arange(h)[:, None]
        # colours from the core of the mask: its edge and flyaways mix in the background (dark hair turned grey)
        k = max(1, round(0.02 * face_h)) * 2 + 1
        core = cv2.erode(hair.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        core = core if core.sum() > 0.2 * hair_area else hair
        upper = core & (rows <= top + third)
        lower = core & (rows >= bottom - third)
        root_lab = lab_of_srgb(np.median(rgb[upper], axis=0)) if upper.any() else lab_of_srgb(np.median(rgb[core], 0))
        tip_lab = lab_of_srgb(np.median(rgb[lower], axis=0)) if lower.any() else root_lab
        lowest = float(bottom)
        hair_top = float(top)
    else:
        root_lab = tip_lab = lab_of_srgb(np.array([0.25, 0.17, 0.11]))
        lowest = hair_top = brow_y
        notes.append("no hair visible")
    col = int(np.clip(round(cx), 0, w - 1))
    above = np.flatnonzero(skin[: int(max(brow_y, 1)), max(col - 2, 0) : col + 3].any(axis=1))
    skin_top = float(above.min()) if len(above) else brow_y - unit
    band_y0 = int(np.clip(brow_y - 0.9 * unit, 0, h - 1))
    band_y1 = int(np.clip(brow_y - 0.2 * unit, 0, h - 1))
    band = hair[band_y0 : band_y1 + 1, int(max(x0, 0)) : int(min(x1, w - 1)) + 1]
    fringe = float(band.mean()) if band.size else 0.0
    thickness = (skin_top - hair_top) / face_h
    bald = ratio < s.bald_ratio and not hat.any()
    shaved = (not bald) and thickness < s.shaved_thickness and ratio < 0.4
    # orientation on a rescaled copy around the hair
    scale = min(1.0, s.working_face_px / face_h)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    gray = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), dtype=np.float32)
    small_angle, small_conf = gabor_orientation(gray, s.orientations, s.wavelength_px)
    angle = np.asarray(cv2.resize(small_angle, (w, h), interpolation=cv2.INTER_NEAREST), dtype=np.float32)
    conf = np.asarray(cv2.resize(small_conf, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.float32) * hair
    small_hair = cv2.resize(hair.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    coherence = orientation_coherence(small_angle, small_conf, small_hair > 0)
    tail = tail_side(hair, lm)
    fringe_y, fringe_slant = fringe_shape(hair, angle, conf, lm)
    cols = np.arange(w)[None, :]
    below = hair & (np.arange(h)[:, None] > float(lm[2, 1]))
    loose = float((below & ((cols < lm[0:9, 0].min()) | (cols > lm[8:17, 0].max()))).sum()) / face_h**2
    return HairAnalysis(
        hair=hair, hat=hat, skin=skin, face=face, root_lab=root_lab, tip_lab=tip_lab,
        orientation=angle.astype(np.float32), confidence=conf.astype(np.float32), hairline_y=skin_top,
        fringe=fringe, lowest_y=lowest, reaches_shoulders=bool(lowest > chin_y + 0.5 * face_h),
        hair_ratio=float(ratio), bald=bool(bald), shaved=bool(shaved), notes=tuple(notes), coherence=coherence,
        tail_side=tail, loose_area=loose, lowest_below_chin=float((lowest - chin_y) / face_h), fringe_y=fringe_y,
        fringe_slant=fringe_slant,
    )


def fringe_shape(
    hair: NDArray[np.bool_], angle: NDArray[np.floating], confidence: NDArray[np.floating],
    landmarks68: NDArray[np.floating],
) -> tuple[float, float]:
    """Where a fringe ends and which way it slants, over the forehead.

    The end is the 75th percentile (the lower part: a fringe parted in the middle ends higher there) over the
    columns between the outer brow ends (landmarks 17, 26) of the lowest hair row between one face height above the
    brow line and 0.15 face heights below it (NaN where no column has hair there); the slant is measured between
    the brows' middles (landmarks 19, 24). The slant is ``dx / dy`` of the
    confidence-weighted mean strand direction (doubled angles) of the hair in the band from half a face height above
    the brow line to 0.1 below it: 0 for bangs hanging straight down, positive when they run down towards the
    image's right (the head's left, +x, in a frontal photo); 0 when the band has no confident hair.

    Returns:
        ``(fringe_y, fringe_slant)``: image row, pixels; slant, clipped to [−1.5, 1.5].
    """
    lm = np.asarray(landmarks68, dtype=np.float64)
    h, w = hair.shape
    brow, chin = float(lm[17:27, 1].mean()), float(lm[8, 1])
    fh = max(chin - brow, 1.0)
    xa, xb = sorted((float(lm[17, 0]), float(lm[26, 0])))
    c0, c1 = int(np.clip(np.floor(xa), 0, w - 1)), int(np.clip(np.ceil(xb), 0, w - 1)) + 1
    r0, r1 = int(np.clip(brow - fh, 0, h - 1)), int(np.clip(brow + 0.15 * fh, 0, h - 1)) + 1
    window = np.asarray(hair[r0:r1, c0:c1], dtype=bool)
    has = window.any(axis=0)
    lowest = r0 + (window.shape[0] - 1 - np.argmax(window[::-1], axis=0))
    fringe_y = float(np.percentile(lowest[has], 75)) if has.any() else float("nan")
    xa, xb = sorted((float(lm[19, 0]), float(lm[24, 0])))
    c0, c1 = int(np.clip(np.floor(xa), 0, w - 1)), int(np.clip(np.ceil(xb), 0, w - 1)) + 1
    b0, b1 = int(np.clip(brow - 0.5 * fh, 0, h - 1)), int(np.clip(brow + 0.1 * fh, 0, h - 1)) + 1
    a = np.asarray(angle[b0:b1, c0:c1], dtype=np.float64)
    wt = np.asarray(confidence[b0:b1, c0:c1], dtype=np.float64) * hair[b0:b1, c0:c1]
    if wt.sum() <= 1e-6:
        return fringe_y, 0.0
    mean = 0.5 * np.arctan2((wt * np.sin(2 * a)).sum(), (wt * np.cos(2 * a)).sum())
    dx, dy = np.cos(mean), np.sin(mean)  # an undirected line: dx / dy does not depend on its sign
    slant = dx / dy if abs(dy) > 1e-6 else 1.5
    return fringe_y, float(np.clip(slant, -1.5, 1.5))


def orientation_coherence(
    angle: NDArray[np.floating], confidence: NDArray[np.floating], mask: NDArray[np.bool_], window: int = 9
) -> float:
    """Local consistency of the strand direction over a hair mask, [0, 1] (NaN for an empty mask).

    In each ``window`` × ``window`` neighbourhood the confidence-weighted doubled-angle vectors are averaged; the
    length of the mean (1 = all parallel, 0 = all directions) is averaged over the (eroded) mask. Straight and wavy
    hair keep one direction over a window of a few millimetres; tight curls do not.
    """
    c = np.asarray(confidence, dtype=np.float32)
    a = np.asarray(angle, dtype=np.float32)
    inner = cv2.erode(np.asarray(mask, np.uint8), np.ones((5, 5), np.uint8)) > 0
    if inner.sum() < 20:
        inner = np.asarray(mask, dtype=bool)
    if not inner.any():
        return float("nan")
    cs = cv2.blur(np.cos(2.0 * a) * c, (window, window))
    sn = cv2.blur(np.sin(2.0 * a) * c, (window, window))
    cw = cv2.blur(c, (window, window))
    length = np.hypot(cs, sn) / np.maximum(cw, 1e-6)
    return float(np.mean(length[inner]))


def tail_side(hair: NDArray[np.bool_], landmarks68: NDArray[np.floating]) -> float:
    """+1 / −1 when a tail of hair hangs below the ear line beside the neck on one side only, else 0.

    Below the jaw point at ear-lobe level (landmark 2), the hair on each side of the face's mid-line is measured
    in face-height² units; a side with at least 0.08 while the other has under a fifth of it, and a tail taller
    than 0.4 face heights but narrower than 0.35, is a ponytail or braid over that shoulder. Image right is the
    head's left (+x) in a frontal photo.
    """
    lm = np.asarray(landmarks68, dtype=np.float64)
    brow, chin = float(lm[17:27, 1].mean()), float(lm[8, 1])
    fh = max(chin - brow, 1.0)
    cx, ear_y = float(lm[27, 0]), float(lm[2, 1])
    h, w = hair.shape
    low = np.asarray(hair, dtype=bool).copy()
    low[: int(np.clip(ear_y, 0, h))] = False
    cols = np.arange(w)[None, :]
    sides = [low & (cols < cx), low & (cols >= cx)]
    area = [m.sum() / fh**2 for m in sides]
    for i, sign in ((0, -1.0), (1, 1.0)):
        m, other = sides[i], area[1 - i]
        if area[i] < 0.08 or other > 0.2 * area[i]:
            continue
        widths = m.sum(axis=1)
        widths = widths[widths > 0]
        if len(widths) / fh > 0.4 and np.median(widths) / fh < 0.35:
            return sign
    return 0.0
