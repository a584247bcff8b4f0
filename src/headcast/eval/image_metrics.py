"""Fidelity at the photo's own view: EVALUATION.md's head crop, PSNR, SSIM and ST-LPIPS.

The crop rule (:func:`head_crop`), in order:

1. the tight box around the photo's head mask (:func:`headcast.parsing.head_mask`);
2. the square centred on that box with side ``(1 + dilate) · max(width, height)`` — "dilated 5 %" is read as the
   side growing by 5 % (2.5 % each way); where the square leaves the image, the mask is padded with "not head"
   (and the images by repeating their border pixels, so that resampling blends no black into the head);
3. photo, render and mask cropped to that square and resized to ``out_size``² (area averaging when shrinking,
   bilinear when enlarging; the mask is resized as a fraction and kept where ≥ 0.5);
4. every pixel outside the resized mask set to black in *both* crops.

PSNR and SSIM then compare the whole ``out_size``² crops (the black outside counts as agreeing pixels, as the
definition implies). ST-LPIPS is the shift-tolerant AlexNet LPIPS — label it ST-LPIPS, it is not vanilla LPIPS.

Convention: images are ``(H, W, 3)`` uint8 sRGB (RGB order); masks ``(H, W)`` bool; the render has the photo's
size (rendered with the fitted camera at the photo's resolution).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from headcast.eval.crops import PixelBox, crop_padded, resize_square, square_box
from headcast.eval.deps import STLPIPS_ALEX_WEIGHTS, TORCH_PIP, import_optional, packaged_weights_path
from headcast.landmarks.image_io import check_rgb

if TYPE_CHECKING:
    from headcast.eval.nets.stlpips_alex import ShiftTolerantLPIPS

SKIMAGE_PIP = "pip install scikit-image"


@dataclass(frozen=True, eq=False)
class HeadCrops:
    """Photo and render cut out by :func:`head_crop`.

    Attributes:
        photo: ``(S, S, 3)`` uint8, black outside the mask.
        render: ``(S, S, 3)`` uint8, black outside the mask.
        mask: ``(S, S)`` bool, the photo's head mask in the crop.
        box: the square in the photo's pixels that was cut (may extend past the image).
    """

    photo: NDArray[np.uint8]
    render: NDArray[np.uint8]
    mask: NDArray[np.bool_]
    box: PixelBox


def mask_bounds(mask: NDArray[np.bool_]) -> PixelBox:
    """The tight box ``[x0, x1) × [y0, y1)`` around the true pixels of an ``(H, W)`` mask.

    Raises:
        ValueError: the mask is empty.
    """
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        raise ValueError("the head mask is empty: no head was parsed in the photo")
    return PixelBox(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def head_crop_box(head_mask: NDArray[np.bool_], dilate: float = 0.05) -> PixelBox:
    """The square crop of EVALUATION.md around a head mask (steps 1–2 of the module docstring).

    Args:
        head_mask: ``(H, W)`` bool.
        dilate: relative growth of the square's side beyond the mask's longer box side.

    Returns:
        Square integer pixel box (may extend past the image).

    Example:
        >>> m = np.zeros((100, 100), bool); m[20:60, 30:50] = True
        >>> head_crop_box(m, dilate=0.05)
        PixelBox(x0=19, y0=19, x1=61, y1=61)
    """
    tight = mask_bounds(head_mask)
    side = (1.0 + dilate) * max(tight.width, tight.height)
    return square_box(0.5 * (tight.x0 + tight.x1), 0.5 * (tight.y0 + tight.y1), side)


def head_crop(
    photo: NDArray[np.uint8],
    render: NDArray[np.uint8],
    head_mask: NDArray[np.bool_],
    out_size: int = 256,
    dilate: float = 0.05,
) -> HeadCrops:
    """Crop photo and render to the photo's head, resize, and black out everything but the head.

    Args:
        photo: ``(H, W, 3)`` uint8 RGB.
        render: ``(H, W, 3)`` uint8 RGB, the avatar rendered at the photo's camera and resolution.
        head_mask: ``(H, W)`` bool, the photo's face-parsing head mask.
        out_size: side of the output crops in pixels.
        dilate: see :func:`head_crop_box`.

    Returns:
        The crops, the resized mask and the box.
    """
    check_rgb(photo, "photo")
    check_rgb(render, "render")
    if photo.shape != render.shape or head_mask.shape != photo.shape[:2]:
        raise ValueError(
            f"photo {photo.shape}, render {render.shape} and head mask {head_mask.shape} must share (H, W)"
        )
    box = head_crop_box(head_mask, dilate)
    mask_frac = resize_square(crop_padded(head_mask.astype(np.float32), box), out_size)
    mask = mask_frac >= 0.5
    # edge padding keeps black from bleeding into border pixels when resampling; the outside is masked anyway
    photo_c = resize_square(crop_padded(photo, box, "edge"), out_size)
    render_c = resize_square(crop_padded(render, box, "edge"), out_size)
    photo_c[~mask] = 0
    render_c[~mask] = 0
    return HeadCrops(photo_c, render_c, mask, box)


def psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Peak signal-to-noise ratio in dB of two ``(H, W, 3)`` uint8 images (peak 255); ``inf`` when identical.

    ``10 · log10(255² / MSE)`` over all pixels and channels (scikit-image ``peak_signal_noise_ratio``).
    """
    _check_pair(a, b)
    if np.array_equal(a, b):
        return float("inf")
    metrics = import_optional("skimage.metrics", SKIMAGE_PIP)
    return float(metrics.peak_signal_noise_ratio(a, b, data_range=255))


def ssim(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Mean structural similarity of two ``(H, W, 3)`` uint8 images (H, W ≥ 7); 1 when identical.

    Wang et al. 2004 as implemented by scikit-image (``structural_similarity``, 7×7 uniform window,
    ``channel_axis=-1``, ``data_range=255``), averaged over channels.
    """
    _check_pair(a, b)
    metrics = import_optional("skimage.metrics", SKIMAGE_PIP)
    return float(metrics.structural_similarity(a, b, channel_axis=-1, data_range=255))


class PerceptualMetric(Protocol):
    """A learned perceptual distance between two images (lower = more similar)."""

    name: str

    def distance(self, a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
        """Distance between two ``(H, W, 3)`` uint8 RGB images of the same size."""
        ...


@dataclass(frozen=True)
class STLPIPSSettings:
    """Settings of :class:`STLPIPS`.

    Attributes:
        net: the trunk; only the AlexNet variant is implemented (EVALUATION.md's choice).
        verify_weights: check the checkpoint's sha256 on load.
    """

    net: Literal["alex"] = "alex"
    verify_weights: bool = True


class STLPIPS:
    """Shift-tolerant LPIPS, AlexNet variant (Ghildyal & Liu, ECCV 2022), on CPU; loads on first use.

    Weights come from the installed ``stlpips-pytorch`` package; the network is our own
    (:mod:`headcast.eval.nets.stlpips_alex`). Images are scaled from [0, 255] to [-1, 1] (``x / 127.5 − 1``).
    """

    name = "ST-LPIPS (AlexNet)"

    def __init__(self, settings: STLPIPSSettings | None = None) -> None:
        self.settings = STLPIPSSettings() if settings is None else settings
        self._model: ShiftTolerantLPIPS | None = None
        self._torch: Any = None

    def load(self) -> None:
        """Load torch and the weights if not yet loaded.

        Raises:
            MissingEvalDependencyError: torch or ``stlpips-pytorch`` is not installed.
        """
        if self._model is not None:
            return
        torch = import_optional("torch", TORCH_PIP)
        from headcast.eval.nets.stlpips_alex import load_stlpips_alex

        path = packaged_weights_path(STLPIPS_ALEX_WEIGHTS, verify=self.settings.verify_weights)
        self._model = load_stlpips_alex(torch.load(path, map_location="cpu", weights_only=True))
        self._torch = torch

    def distance(self, a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
        """ST-LPIPS between two ``(H, W, 3)`` uint8 RGB images (H, W ≥ 32); 0 when identical."""
        _check_pair(a, b)
        if min(a.shape[:2]) < 32:
            raise ValueError(f"ST-LPIPS needs images of at least 32×32 pixels, got {a.shape[:2]}")
        self.load()
        assert self._model is not None
        torch = self._torch
        pair = np.stack([a, b]).astype(np.float32) / 127.5 - 1.0
        x = torch.from_numpy(np.ascontiguousarray(pair.transpose(0, 3, 1, 2)))
        with torch.inference_mode():
            d = self._model(x[:1], x[1:])
        return float(d[0])


def _check_pair(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> None:
    check_rgb(a, "a")
    check_rgb(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {a.shape} vs {b.shape}")
