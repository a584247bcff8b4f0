import numpy as np
import pytest

from headcast.hair.generator import GrowSettings
from headcast.hair.stage import HairSettings, hair_files, make_hair


class _Fit:
    """The parts of a FitResult the hair stage reads for a library style without a photo analysis."""

    def __init__(self, params) -> None:
        self.params = params
        self.landmarks68_2d = np.zeros((68, 2))


def test_none_and_style_modes(ict_model, mean_params) -> None:
    fit = _Fit(mean_params)
    pixels = np.zeros((8, 8, 3), np.uint8)
    assert make_hair(pixels, fit, ict_model, HairSettings(mode="none")).strands is None  # type: ignore[arg-type]
    grow = GrowSettings(render_strands=500, render_points=8)
    res = make_hair(pixels, fit, ict_model, HairSettings(mode="bob", color=(1.0, 0.0, 0.0), grow=grow))  # type: ignore[arg-type]
    assert res.strands is not None and res.strands.root_color == (1.0, 0.0, 0.0)
    files = hair_files(res, HairSettings())
    assert {"hair.json", "hair.data", "hair.hair", "hair_guides.obj", "hair_ribbons.glb"} <= set(files)
    with pytest.raises(ValueError, match="auto"):
        make_hair(pixels, fit, ict_model, HairSettings(mode="auto"))  # type: ignore[arg-type]
