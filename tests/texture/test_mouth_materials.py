import numpy as np

from headcast.texture.atlas import cell_pixels
from headcast.texture.materials import mouth_texels, paint_mouth


def test_mouth_texels_and_paint(ict_model, renderer):
    texels = mouth_texels(ict_model, 512, renderer)
    assert texels is not None
    r0, r1, _, _ = cell_pixels(ict_model.atlas_cell("gums_tongue"), 512)
    assert texels.gum.shape == (r1 - r0, r1 - r0)
    covered = texels.depth_gums > 0
    assert 0.05 < texels.gum[covered].mean() < 0.8  # both gums and tongue exist
    assert texels.depth_teeth.max() > 0.04  # molars lie ~5 cm behind the incisors
    zero = np.zeros_like(texels.gum)
    gums, teeth = paint_mouth(texels, (0.78, 0.40, 0.42), (0.9, 0.86, 0.78), zero, zero)
    lum = gums @ np.array([0.299, 0.587, 0.114])
    front = covered & (texels.depth_gums < 0.01)
    back = covered & (texels.depth_gums > 0.04)
    assert lum[front & (texels.gum > 0.99)].mean() > lum[front & (texels.gum < 0.01)].mean()  # tongue darker
    assert lum[front].mean() > lum[back].mean()  # darker towards the throat
    assert teeth.max() <= 0.9 + 1e-6 and teeth.min() >= 0.0
