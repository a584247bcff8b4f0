"""See-through eyeglass lenses give the texture the eyes behind them; frames, sunglasses and tints do not."""

import cv2
import numpy as np

from headcast.parsing.face import FaceClass
from headcast.texture.occlusion import glasses_lenses, occlusion_trust

SKIN_RGB = (200, 150, 130)


def spectacles(lens_rgb: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A skin-coloured face with two round lenses in 6 px dark frames; the parser labels frames and lenses glasses."""
    pixels = np.zeros((400, 400, 3), np.uint8)
    pixels[:] = SKIN_RGB
    classes = np.full((400, 400), int(FaceClass.SKIN), np.uint8)
    for cx in (140, 260):
        cv2.circle(classes, (cx, 200), 50, int(FaceClass.EYE_GLASSES), -1)
        cv2.circle(pixels, (cx, 200), 50, (30, 25, 20), -1)  # the frame ...
        cv2.circle(pixels, (cx, 200), 44, lens_rgb, -1)  # ... around the lens
    return pixels, classes


def test_clear_lenses_are_seen_through_and_frames_are_not() -> None:
    pixels, classes = spectacles(SKIN_RGB)
    lens = glasses_lenses(pixels, classes, face_width=200.0)  # rim: 10 px
    assert lens[200, 140] and lens[200, 260] and lens[200, 105]  # inside both lenses, near the rim
    assert not lens[200, 91] and not lens[200, 189]  # the frame, on the region's edge
    assert not lens[classes != int(FaceClass.EYE_GLASSES)].any()
    keep = occlusion_trust(classes, 200.0, dilation=0.015, feather=0.03, pixels=pixels)
    assert keep[200, 140] == 255 and keep[200, 92] == 0
    without = occlusion_trust(classes, 200.0, dilation=0.015, feather=0.03)
    assert without[200, 140] == 0  # without the pixels every glasses pixel is an occluder


def test_sunglasses_and_tinted_lenses_stay_occluders() -> None:
    for lens_rgb in ((40, 35, 30), (60, 200, 60)):  # dark; green
        pixels, classes = spectacles(lens_rgb)
        assert not glasses_lenses(pixels, classes, face_width=200.0).any()
        assert occlusion_trust(classes, 200.0, 0.015, 0.03, pixels=pixels)[200, 140] == 0


def test_no_glasses_no_lenses() -> None:
    pixels, classes = spectacles(SKIN_RGB)
    classes[classes == int(FaceClass.EYE_GLASSES)] = int(FaceClass.SKIN)
    assert not glasses_lenses(pixels, classes, face_width=200.0).any()
