"""Which photo pixels may texture the skin: face parsing removes hair, glasses, hands, hats and clothes.

A pixel may give the face its colour only when the face parser labels it as the face itself (:data:`PHOTO_CLASSES`:
skin, brows, eyes, nose, inner mouth, lips, ears, neck). Every other class — hair, hat, eyeglasses, earrings,
necklace, cloth, background (which includes a hand in front of the face) — is an occluder: the occluder mask is
dilated a little (the parser's edges are soft and hair strands are thin) and feathered, and the texels that see it
get zero photo weight, so they are completed like unseen skin (mirror, membrane fill).

Eyeglasses are the exception that matters most for likeness: the parser labels the whole spectacles — frames *and*
lenses — so refusing them all would blank the eyes' surroundings (lids, creases, often the brows) of every
glasses wearer. Given the photo's pixels, :func:`glasses_lenses` keeps the lens interiors: the glasses region less
a rim band of the frame's width (the frames lie on the region's edge, the bridge is thin), unless the lenses are
much darker than the face's skin or of another hue (sunglasses, tinted or opaque glasses), which stay occluders.
"""

import cv2
import numpy as np
from numpy.typing import NDArray

from headcast.parsing.face import FACE_CLASSES, FaceClass, class_mask

PHOTO_CLASSES: tuple[FaceClass, ...] = (*FACE_CLASSES, FaceClass.NECK)
"""Classes whose pixels show the person's own face or neck (all others occlude it)."""


def glasses_lenses(
    pixels: NDArray[np.uint8],
    classes: NDArray[np.uint8],
    face_width: float,
    rim: float = 0.05,
    dark_lens: float = 0.55,
    tint: float = 20.0,
) -> NDArray[np.bool_]:
    """The see-through lens interiors of the parsed eyeglasses (module docstring); all False without glasses.

    Args:
        pixels: ``(H, W, 3)`` uint8 RGB photo.
        classes: its ``(H, W)`` face-parsing classes.
        face_width: the face's width in photo pixels.
        rim: the frame's width (the band removed from the glasses region's edge), as a fraction of the face width.
        dark_lens: lenses whose median luminance is below this fraction of the facial skin's are sunglasses.
        tint: lenses whose median chroma (CIELAB a*, b*, 8-bit OpenCV scale) lies further than this from the
            skin's are tinted or opaque, and stay occluders.

    Returns:
        ``(H, W)`` bool.
    """
    glasses = (classes == int(FaceClass.EYE_GLASSES)).astype(np.uint8)
    skin = classes == int(FaceClass.SKIN)
    if not glasses.any() or not skin.any():
        return np.zeros(classes.shape, dtype=bool)
    radius = max(1, round(rim * face_width))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    lens = cv2.erode(glasses, kernel).astype(bool)
    if not lens.any():
        return lens
    lab = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2LAB).astype(np.float32)
    lens_lab, skin_lab = np.median(lab[lens], axis=0), np.median(lab[skin], axis=0)
    if lens_lab[0] < dark_lens * skin_lab[0] or np.hypot(*(lens_lab[1:] - skin_lab[1:])) > tint:
        return np.zeros(classes.shape, dtype=bool)  # sunglasses or opaque: the eyes are not seen
    return lens


def occlusion_trust(
    classes: NDArray[np.uint8],
    face_width: float,
    dilation: float,
    feather: float,
    max_side: int = 512,
    pixels: NDArray[np.uint8] | None = None,
) -> NDArray[np.uint8]:
    """Per-pixel trust of the photo from its face-parsing classes: 255 on the face, 0 on and near occluders.

    Args:
        classes: ``(H, W)`` uint8 :class:`~headcast.parsing.FaceClass` map of the photo.
        face_width: the face's width in photo pixels (sets the dilation and feather widths).
        dilation: the occluders grow by this fraction of the face width.
        feather: width of the soft edge (Gaussian, ~2σ) as a fraction of the face width, outside the grown
            occluders (the mask is 0 on every dilated occluder pixel).
        max_side: working resolution (the mask is computed at most this large and resized).
        pixels: the ``(H, W, 3)`` photo; when given, see-through eyeglass lenses are not occluders
            (:func:`glasses_lenses`).

    Returns:
        ``(H, W)`` uint8, 255 where the photo may be used, 0 where it shows an occluder.
    """
    h, w = classes.shape
    scale = min(1.0, max_side / max(h, w))
    sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
    occluding = ~class_mask(classes, PHOTO_CLASSES)
    if pixels is not None:
        occluding &= ~glasses_lenses(pixels, classes, face_width)
    occluder = occluding.astype(np.uint8)
    if scale < 1.0:
        occluder = np.asarray(cv2.resize(occluder, (sw, sh), interpolation=cv2.INTER_AREA) > 0, np.uint8)
    px = face_width * scale
    radius = max(1, round(dilation * px))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    grown = np.asarray(cv2.dilate(occluder, kernel), np.float32)
    sigma = max(0.5, 0.5 * feather * px)
    soft = np.asarray(cv2.GaussianBlur(grown, (0, 0), sigma), np.float32)
    keep = np.clip(1.0 - 2.0 * soft, 0.0, 1.0) * (1.0 - grown)  # zero on the grown occluder, soft outside it
    if scale < 1.0:
        keep = cv2.resize(keep, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.rint(keep * 255).astype(np.uint8)
