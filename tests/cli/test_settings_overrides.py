"""``KEY=VALUE,...`` settings overrides (``headcast.cli.overrides``) and ``headcast eval --fit/--texture``."""

from pathlib import Path

import pytest

import headcast.pipeline as pipeline_module
from headcast.cli.main import _eval_command, _load_pipeline, build_parser
from headcast.cli.overrides import apply_overrides, parse_overrides
from headcast.fitting.settings import FitSettings
from headcast.pipeline import PipelineSettings
from headcast.texture.settings import TextureSettings


def test_values_take_the_type_of_the_fields_default() -> None:
    got = parse_overrides(
        " noise_role=all, contour_rounds=2 ,depth_weight=0,landmark_noise=packaged,unfitted_expression_prefixes=a+b",
        FitSettings,
    )
    assert got == {
        "noise_role": "all",
        "contour_rounds": 2,
        "depth_weight": 0.0,
        "landmark_noise": "packaged",
        "unfitted_expression_prefixes": ("a", "b"),
    }
    assert isinstance(got["depth_weight"], float)
    assert parse_overrides("delight=off,mirror=YES", TextureSettings) == {"delight": False, "mirror": True}
    assert parse_overrides("landmark_noise=None", FitSettings) == {"landmark_noise": None}
    assert parse_overrides("nose_turn_deg=10+20.5", TextureSettings) == {"nose_turn_deg": (10.0, 20.5)}
    assert parse_overrides("", FitSettings) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus=1", "no field 'bogus'"),
        ("contour_rounds", "not key=value"),
        ("contour_rounds=two", "FitSettings.contour_rounds: cannot read 'two' as int"),
        ("loss_scale=wide", "cannot read 'wide' as float"),
        ("expression_init=mediapipe,identity_prior=x", "identity_prior"),
    ],
)
def test_bad_items_are_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_overrides(text, FitSettings)


def test_a_bool_field_accepts_only_yes_or_no_words() -> None:
    with pytest.raises(ValueError, match="delight"):
        parse_overrides("delight=maybe", TextureSettings)


def test_eval_overrides_reach_the_pipeline_and_the_recorded_command(monkeypatch, tmp_path: Path) -> None:
    argv = ["eval", str(tmp_path), "--out", str(tmp_path / "out"), "--landmark-noise", "packaged",
            "--fit", "noise_role=all", "--texture", "nose_turn_deg=10+20"]  # fmt: skip
    args = build_parser().parse_args(argv)
    loaded: list[PipelineSettings] = []
    monkeypatch.setattr(pipeline_module.Pipeline, "load", classmethod(lambda cls, s: loaded.append(s) or s))
    _load_pipeline(None, landmark_noise=True, fit_overrides=args.fit, texture_overrides=args.texture)
    default = PipelineSettings()
    assert loaded[0].fit == FitSettings(landmark_noise="packaged", noise_role="all")
    assert loaded[0].texture == TextureSettings(nose_turn_deg=(10.0, 20.0))
    assert loaded[0].refine == default.refine
    command = _eval_command(args)
    assert "--fit noise_role=all" in command and "--texture nose_turn_deg=10+20" in command


def test_eval_rejects_an_unknown_field_at_the_command_line(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", str(tmp_path), "--out", str(tmp_path), "--texture", "colour=red"])
    assert "TextureSettings has no field 'colour'" in capsys.readouterr().err


def test_apply_overrides_replaces_only_the_named_fields() -> None:
    base = FitSettings(contour_rounds=5)
    assert apply_overrides(base, "") is base
    got = apply_overrides(base, "noise_role=depth")
    assert got == FitSettings(contour_rounds=5, noise_role="depth")
