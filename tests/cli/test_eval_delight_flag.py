"""``headcast eval --delight on|off`` sets TextureSettings.delight of the evaluated pipeline, and nothing else."""

from pathlib import Path

import pytest

import headcast.pipeline as pipeline_module
from headcast.cli.main import _eval_command, _load_pipeline, build_parser
from headcast.pipeline import PipelineSettings
from headcast.texture.settings import TextureSettings


@pytest.mark.parametrize(("flag", "expected"), [("on", True), ("off", False), (None, TextureSettings().delight)])
def test_delight_flag_reaches_the_texture_settings(monkeypatch, tmp_path: Path, flag, expected) -> None:
    argv = ["eval", str(tmp_path), "--out", str(tmp_path / "out")] + ([] if flag is None else ["--delight", flag])
    args = build_parser().parse_args(argv)
    assert args.delight == flag
    loaded: list[PipelineSettings] = []
    monkeypatch.setattr(pipeline_module.Pipeline, "load", classmethod(lambda cls, s: loaded.append(s) or s))
    _load_pipeline(None, delight=None if args.delight is None else args.delight == "on")
    assert loaded[0].texture == TextureSettings(delight=expected)
    assert ("--delight" in _eval_command(args)) == (flag is not None)


def test_delight_flag_rejects_other_values(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", str(tmp_path), "--out", str(tmp_path), "--delight", "yes"])


@pytest.mark.parametrize(("flag", "expected"), [("on", True), ("off", False), (None, True)])
def test_refine_flag_reaches_the_refine_settings(monkeypatch, tmp_path: Path, flag, expected) -> None:
    argv = ["eval", str(tmp_path), "--out", str(tmp_path / "out")] + ([] if flag is None else ["--refine", flag])
    args = build_parser().parse_args(argv)
    loaded: list[PipelineSettings] = []
    monkeypatch.setattr(pipeline_module.Pipeline, "load", classmethod(lambda cls, s: loaded.append(s) or s))
    _load_pipeline(None, refine=None if args.refine is None else args.refine == "on")
    assert loaded[0].refine.enabled is expected
    assert loaded[0].texture == TextureSettings()  # nothing else changes
    assert ("--refine" in _eval_command(args)) == (flag is not None)


@pytest.mark.parametrize("name", ["outline", "register", "nose"])
@pytest.mark.parametrize(("flag", "expected"), [("on", True), ("off", False), (None, None)])
def test_ablation_flags_reach_their_settings(monkeypatch, tmp_path: Path, name, flag, expected) -> None:
    argv = ["eval", str(tmp_path), "--out", str(tmp_path / "out")] + ([] if flag is None else [f"--{name}", flag])
    args = build_parser().parse_args(argv)
    loaded: list[PipelineSettings] = []
    monkeypatch.setattr(pipeline_module.Pipeline, "load", classmethod(lambda cls, s: loaded.append(s) or s))
    value = getattr(args, name)
    _load_pipeline(None, **{name: None if value is None else value == "on"})
    default = PipelineSettings()
    if name == "outline":
        assert loaded[0].outline.enabled is (default.outline.enabled if expected is None else expected)
        assert loaded[0].texture == default.texture
    elif name == "register":
        assert loaded[0].texture.register_features is (
            default.texture.register_features if expected is None else expected)
        assert loaded[0].outline == default.outline
    else:
        assert loaded[0].texture.nose_from_photo is (default.texture.nose_from_photo if expected is None else expected)
        assert loaded[0].texture.register_features is default.texture.register_features
    assert (f"--{name}" in _eval_command(args)) == (flag is not None)
