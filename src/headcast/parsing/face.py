"""Face parsing: a per-pixel class map of a portrait, and the head / hair / skin masks hair and the evaluation need.

Classes are CelebAMask-HQ's 19 (:class:`FaceClass`). ``l_``/``r_`` are the *subject's* left/right (``L_EYE`` lies on
the image's right in a frontal photo), but the network confuses the two brows often: use the union of both.

Convention: images are ``(H, W, 3)`` uint8 sRGB (RGB order), as loaded by ``headcast.landmarks.image_io``;
class maps and masks have the image's ``(H, W)``.

Example:
    >>> parser = BiSeNetFaceParser()                      # doctest: +SKIP
    >>> classes = parser.parse_face(photo)                 # doctest: +SKIP
    >>> mask = head_mask(classes)                          # doctest: +SKIP
"""

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from headcast.assets.optional import TORCH_PIP, import_optional
from headcast.assets.weights import weight_path
from headcast.errors import OptionalComponentError
from headcast.landmarks.image_io import check_rgb

if TYPE_CHECKING:
    from headcast.parsing.bisenet import BiSeNet


class FaceClass(IntEnum):
    """CelebAMask-HQ face-parsing classes, as output by the ``79999_iter.pth`` BiSeNet (index = value)."""

    BACKGROUND = 0
    SKIN = 1
    L_BROW = 2
    R_BROW = 3
    L_EYE = 4
    R_EYE = 5
    EYE_GLASSES = 6
    L_EAR = 7
    R_EAR = 8
    EARRING = 9
    NOSE = 10
    MOUTH = 11
    U_LIP = 12
    L_LIP = 13
    NECK = 14
    NECKLACE = 15
    CLOTH = 16
    HAIR = 17
    HAT = 18


FACE_CLASSES: tuple[FaceClass, ...] = (
    FaceClass.SKIN,
    FaceClass.L_BROW,
    FaceClass.R_BROW,
    FaceClass.L_EYE,
    FaceClass.R_EYE,
    FaceClass.L_EAR,
    FaceClass.R_EAR,
    FaceClass.NOSE,
    FaceClass.MOUTH,
    FaceClass.U_LIP,
    FaceClass.L_LIP,
)
"""The face without hair: skin, brows, eyes, ears, nose, inner mouth, lips."""

HEAD_CLASSES: tuple[FaceClass, ...] = (*FACE_CLASSES, FaceClass.HAIR)
"""EVALUATION.md's head mask: skin, brows, eyes, nose, lips (and inner mouth), ears, hair. Glasses, earrings,
hat, neck and clothes are not part of it."""

SKIN_CLASSES: tuple[FaceClass, ...] = (FaceClass.SKIN,)
"""Facial skin only (CelebAMask-HQ labels nose, ears and neck separately)."""

HAIR_CLASSES: tuple[FaceClass, ...] = (FaceClass.HAIR,)

Fit = Literal["stretch", "pad"]
"""How a non-square image becomes the network's square input: ``"stretch"`` resizes it (distorting the aspect,
as the original face-parsing demo does; the default — on the 3:4 fixture portraits it gave clean masks);
``"pad"`` pads the short side by edge replication first (keeps the aspect, but the replicated streaks were
sometimes labelled hair)."""


def class_mask(classes: NDArray[np.uint8], members: tuple[FaceClass, ...]) -> NDArray[np.bool_]:
    """Pixels whose class is one of ``members``.

    Args:
        classes: ``(H, W)`` uint8 class map (:class:`FaceClass` values).
        members: the classes to select.

    Returns:
        ``(H, W)`` bool mask.
    """
    return np.isin(classes, np.asarray([int(c) for c in members], dtype=np.uint8))


def head_mask(classes: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """``(H, W)`` bool: the head (:data:`HEAD_CLASSES`) — the region EVALUATION.md crops and compares."""
    return class_mask(classes, HEAD_CLASSES)


def hair_mask(classes: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """``(H, W)`` bool: hair (:data:`HAIR_CLASSES`)."""
    return class_mask(classes, HAIR_CLASSES)


def skin_mask(classes: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """``(H, W)`` bool: facial skin (:data:`SKIN_CLASSES`)."""
    return class_mask(classes, SKIN_CLASSES)


class FaceParser(Protocol):
    """Anything that labels each pixel of a portrait with a :class:`FaceClass`."""

    def parse_face(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """``(H, W, 3)`` uint8 RGB → ``(H, W)`` uint8 :class:`FaceClass` map."""
        ...


@dataclass(frozen=True)
class BiSeNetSettings:
    """Settings of :class:`BiSeNetFaceParser`.

    Attributes:
        input_size: side of the square network input in pixels (the model was trained at 512; multiple of 32).
        fit: how a non-square image is made square (:data:`Fit`).
        verify_weights: check the checkpoint's sha256 on load.
        threads: torch threads for one inference (None: torch's default, one per core). One by default: on the
            shared 2-core machine two OpenMP threads made BiSeNet 2.5x slower in wall time than one (1.3 s vs
            0.5 s per photo, even with the other core nearly idle), as several BLAS threads did for the fit
            (``PipelineSettings.blas_threads``). The class map does not depend on the thread count.
    """

    input_size: int = 512
    fit: Fit = "stretch"
    verify_weights: bool = True
    threads: int | None = 1


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BiSeNetFaceParser:
    """CelebAMask-HQ BiSeNet (ResNet-18) face parser on CPU; the network loads on first use (or :meth:`load`).

    Pipeline: make the image square (:data:`Fit`), resize to ``input_size``² (PIL bilinear, as in training),
    normalise with ImageNet mean/std, take the arg-max class, undo the square fit and resize the class map back to
    the input size with nearest-neighbour sampling.
    """

    def __init__(self, settings: BiSeNetSettings | None = None) -> None:
        self.settings = BiSeNetSettings() if settings is None else settings
        if self.settings.input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {self.settings.input_size}")
        self._net: BiSeNet | None = None
        self._torch: Any = None

    def load(self) -> None:
        """Load torch and the weights (``bisenet`` in the weights folder) if not yet loaded.

        Raises:
            OptionalComponentError: torch is not installed.
            MissingWeightsError: the BiSeNet weights are not in the weights folder (``headcast assets weights``).
        """
        if self._net is not None:
            return
        try:
            torch = import_optional("torch", TORCH_PIP, needed_by="Face parsing")
        except OptionalComponentError as err:  # the pipeline's warning quotes the first line: name the command there
            raise OptionalComponentError(f"face parsing needs torch, which is not installed ({TORCH_PIP})") from err
        from headcast.parsing.bisenet import load_bisenet

        path = weight_path("bisenet", verify=self.settings.verify_weights)
        net = load_bisenet(torch.load(path, map_location="cpu", weights_only=True))
        # channels-last (NHWC) convolutions are ~15 % faster on CPU (oneDNN); logits equal to ~1e-5
        self._net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # (stubs lack it)
        self._torch = torch

    def parse_face(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Label every pixel of a portrait.

        Args:
            image: ``(H, W, 3)`` uint8 RGB.

        Returns:
            ``(H, W)`` uint8 map of :class:`FaceClass` values.
        """
        check_rgb(image)
        self.load()
        assert self._net is not None
        torch = self._torch
        h, w = image.shape[:2]
        square, box = square_image(image, self.settings.fit)
        n = self.settings.input_size
        resized = np.asarray(Image.fromarray(square).resize((n, n), Image.Resampling.BILINEAR), dtype=np.float32)
        x = (resized / 255.0 - np.asarray(IMAGENET_MEAN, np.float32)) / np.asarray(IMAGENET_STD, np.float32)
        batch = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
        previous = torch.get_num_threads()
        torch.set_num_threads(previous if self.settings.threads is None else max(1, int(self.settings.threads)))
        try:
            with torch.inference_mode():
                logits = self._net(batch.contiguous(memory_format=torch.channels_last))
        finally:
            torch.set_num_threads(previous)
        labels = logits[0].argmax(dim=0).to(torch.uint8).numpy()
        full = cv2.resize(labels, (square.shape[1], square.shape[0]), interpolation=cv2.INTER_NEAREST)
        x0, y0 = box
        return np.ascontiguousarray(full[y0 : y0 + h, x0 : x0 + w])


def square_image(image: NDArray[np.uint8], fit: Fit) -> tuple[NDArray[np.uint8], tuple[int, int]]:
    """Make an image square for a square-input network.

    Args:
        image: ``(H, W, C)`` array.
        fit: ``"pad"``: replicate edges to ``max(H, W)`` on both sides of the short axis (centred);
            ``"stretch"``: return the image unchanged (the caller's square resize stretches it).

    Returns:
        The ``(S, S, C)`` image (``(H, W, C)`` for ``"stretch"``) and the ``(x0, y0)`` pixel offset of the original
        image inside it.
    """
    if fit == "stretch":
        return image, (0, 0)
    h, w = image.shape[:2]
    side = max(h, w)
    y0, x0 = (side - h) // 2, (side - w) // 2
    padded = cv2.copyMakeBorder(image, y0, side - h - y0, x0, side - w - x0, cv2.BORDER_REPLICATE)
    return np.asarray(padded, dtype=image.dtype), (x0, y0)
