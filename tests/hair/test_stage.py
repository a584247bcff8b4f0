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
    assert {"hair.json", "hair.data", "hair.hair", "hair_guides.obj"} <= set(files)
    with pytest.raises(ValueError, match="auto"):
        make_hair(pixels, fit, ict_model, HairSettings(mode="auto"))  # type: ignore[arg-type]


@pytest.mark.parametrize(("iou", "warned"), [(0.45, True), (0.8, False)])
def test_poorly_matching_auto_hair_is_reported(ict_model, mean_params, monkeypatch, iou: float, warned: bool) -> None:
    import headcast.hair.stage as stage
    from headcast.hair.reconstruct import HairReconstruction

    grow = GrowSettings(render_strands=200, render_points=8)
    head = stage.prepare_head(ict_model, mean_params)
    strands = stage.style_strands("bob", head, grow)
    monkeypatch.setattr(stage, "_analyse", lambda *a, **k: type("A", (), {"hairline_y": None, "fringe": False})())
    monkeypatch.setattr(stage, "hairline_height", lambda *a, **k: 1.0)
    monkeypatch.setattr(stage, "reconstruct_hair",
                        lambda *a, **k: HairReconstruction(strands, "bob", None, iou, 10.0, 1, 0.1))
    settings = HairSettings(mode="auto", photo_hairline=False, photo_colors=False)  # the stub analysis has no masks
    res = make_hair(np.zeros((8, 8, 3), np.uint8), _Fit(mean_params), ict_model, settings,  # type: ignore[arg-type]
                    classes=np.zeros((8, 8), np.uint8))
    assert any("matches the photo's hair poorly" in n for n in res.notes) == warned
