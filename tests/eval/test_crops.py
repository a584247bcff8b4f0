import numpy as np
import pytest

from headcast.eval.crops import PixelBox, crop_padded, resize_square, square_box


@pytest.mark.parametrize(
    ("cx", "cy", "side", "expected"),
    [
        (50.0, 50.0, 10.0, PixelBox(45, 45, 55, 55)),
        (10.5, 20.5, 5.0, PixelBox(8, 18, 13, 23)),  # odd side centred on a pixel centre
        (0.0, 0.0, 4.0, PixelBox(-2, -2, 2, 2)),  # may leave the image
        (3.0, 3.0, 0.2, PixelBox(3, 3, 4, 4)),  # at least one pixel
    ],
)
def test_square_box(cx, cy, side, expected):
    box = square_box(cx, cy, side)
    assert box == expected
    assert box.width == box.height


def test_crop_padded_inside_and_outside():
    img = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    inside = crop_padded(img, PixelBox(1, 2, 4, 5))
    np.testing.assert_array_equal(inside, img[2:5, 1:4])
    out = crop_padded(img, PixelBox(-2, -1, 3, 2))
    assert out.shape == (3, 5, 3)
    np.testing.assert_array_equal(out[1:, 2:], img[0:2, 0:3])
    assert not out[0].any() and not out[:, :2].any()
    assert not crop_padded(img, PixelBox(10, 10, 12, 12)).any()  # fully outside: black


def test_crop_padded_keeps_2d_masks():
    mask = np.ones((4, 4), np.float32)
    out = crop_padded(mask, PixelBox(2, 2, 6, 6))
    assert out.shape == (4, 4) and out.dtype == np.float32 and out.sum() == 4


def test_resize_square_shape_and_dtype():
    img = np.full((40, 30, 3), 77, np.uint8)
    for size in (16, 64):
        out = resize_square(img, size)
        assert out.shape == (size, size, 3) and out.dtype == np.uint8
        assert (out == 77).all()  # a constant image stays constant under area / bilinear resampling


def test_crop_padded_edge_mode_repeats_border_pixels():
    img = np.arange(3 * 4, dtype=np.uint8).reshape(3, 4)
    out = crop_padded(img, PixelBox(-1, -2, 5, 3), pad="edge")
    assert out.shape == (5, 6)
    np.testing.assert_array_equal(out[2:, 1:5], img[0:3])
    np.testing.assert_array_equal(out[0], [0, 0, 1, 2, 3, 3])  # above the image: the top row, edge-extended
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
