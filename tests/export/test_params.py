"""params.json: schema, round trip to the same mesh, pixel-unit conversion, and clear errors."""

import json
from pathlib import Path

import numpy as np
import pytest
from exporthelp import make_avatar, random_texture

from headcast.avatar import Avatar
from headcast.export.params import ParamsFileError, load_params_document, read_params, write_params
from headcast.geometry.camera import project
from headcast.headmodel.base import LinearHeadModel, pose_head

# JSON stores float64 with repr (round-trip exact); the mesh is float32: compare at 1e-7 m (0.1 µm).
ROUND_TRIP_ATOL_M = 1e-7


def test_round_trip_gives_the_same_mesh(tmp_path: Path, tiny_avatar: Avatar) -> None:
    path = write_params(tmp_path / "params.json", tiny_avatar)
    params, camera = read_params(path, tiny_avatar.model)
    for frame in ("model", "camera"):
        again = pose_head(tiny_avatar.model, params, frame=frame).vertices
        expected = pose_head(tiny_avatar.model, tiny_avatar.fit.params, frame=frame).vertices
        np.testing.assert_allclose(again, expected, atol=ROUND_TRIP_ATOL_M, rtol=0)
    assert camera == tiny_avatar.fit.camera


def test_document_fields(tmp_path: Path, tiny_avatar: Avatar) -> None:
    raw = json.loads(write_params(tmp_path / "params.json", tiny_avatar, {"detect": 1.5}).read_text())
    assert raw["model"] == "tiny-test"
    assert list(raw["expression"]) == ["jawOpen", "mouthSmile_L", "eyeBlink_R"]
    assert raw["expression"]["mouthSmile_L"] == 0.4
    assert np.array(raw["landmarks68_2d"]).shape == (68, 2)
    assert raw["camera"]["extrinsics"] == raw["head_pose"]["matrix"]
    assert np.allclose(raw["head_pose"]["matrix"], tiny_avatar.fit.params.pose.matrix)
    assert set(raw["camera"]["intrinsics"]) == {"fx", "fy", "cx", "cy", "width", "height"}
    assert raw["image"] == {"source": "someone.jpg", "width": 64, "height": 48, "processing_scale": 1.0}
    assert raw["timings"] == {"detect": 1.5}
    assert raw["software"]["name"] == "headcast" and raw["schema_version"] == 1


def test_emotion_state_is_written(tmp_path: Path, tiny_avatar: Avatar) -> None:
    """The shown/detected emotion and the resting face reach params.json (the page's sliders read them)."""
    from dataclasses import replace

    from headcast.emotion.types import NEUTRAL, EmotionIntensities, EmotionState

    assert json.loads(write_params(tmp_path / "a.json", tiny_avatar).read_text()).get("emotion") is None
    state = EmotionState(NEUTRAL, EmotionIntensities(happiness=0.5), np.array([-0.25, 0.5, 1.25]))
    path = write_params(tmp_path / "b.json", replace(tiny_avatar, emotion=state))
    raw = json.loads(path.read_text())["emotion"]
    assert raw["shown"]["happiness"] == 0.5 and raw["detected"]["happiness"] == 0.0
    assert raw["resting_expression"] == {"jawOpen": -0.25, "mouthSmile_L": 0.5, "eyeBlink_R": 1.25}
    assert load_params_document(path).emotion is not None  # the reader accepts it


def test_pixels_refer_to_the_input_photo(tmp_path: Path, tiny: LinearHeadModel) -> None:
    """A photo processed at half size: intrinsics and landmarks are written in full-size pixels."""
    avatar = make_avatar(tiny, np.zeros(2), np.zeros(3), random_texture(len(tiny.uv)), scale=0.5)
    path = write_params(tmp_path / "params.json", avatar)
    doc = load_params_document(path)
    _, camera = read_params(path)
    assert (camera.width, camera.height) == (128, 96)
    assert camera.fx == pytest.approx(2 * avatar.fit.camera.fx)
    np.testing.assert_allclose(doc.landmarks68_2d, 2 * avatar.fit.landmarks68_2d)
    # projecting with the written camera lands on twice the processed-image pixels
    point = pose_head(tiny, avatar.fit.params, frame="camera").vertices[:1]
    np.testing.assert_allclose(project(point, camera), 2 * project(point, avatar.fit.camera), rtol=1e-12)
    assert doc.warnings == ["image downscaled"]


def test_reader_checks_the_model(tmp_path: Path, tiny_avatar: Avatar, tiny: LinearHeadModel) -> None:
    path = write_params(tmp_path / "params.json", tiny_avatar)
    raw = json.loads(path.read_text())
    raw["model"] = "other-model"
    path.write_text(json.dumps(raw))
    with pytest.raises(ParamsFileError, match="other-model"):
        read_params(path, tiny)
    params, _ = read_params(path)  # without a model: file order, no check
    assert params.expression.tolist() == [0.7, 0.4, 0.25]


def test_reader_orders_expression_like_the_model(tmp_path: Path, tiny_avatar: Avatar) -> None:
    path = write_params(tmp_path / "params.json", tiny_avatar)
    raw = json.loads(path.read_text())
    raw["expression"] = dict(reversed(list(raw["expression"].items())))
    path.write_text(json.dumps(raw))
    params, _ = read_params(path, tiny_avatar.model)
    assert params.expression.tolist() == [0.7, 0.4, 0.25]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("identity"), "identity"),
        (lambda d: d["head_pose"]["matrix"][0].__setitem__(3, 9.0), "matrix does not match"),
        (lambda d: d.__setitem__("landmarks68_2d", d["landmarks68_2d"][:5]), "landmarks68_2d"),
        (lambda d: d["camera"]["intrinsics"].__setitem__("fx", -1.0), "fx"),
    ],
)
def test_reader_rejects_invalid_files(tmp_path: Path, tiny_avatar: Avatar, edit, message: str) -> None:
    path = write_params(tmp_path / "params.json", tiny_avatar)
    raw = json.loads(path.read_text())
    edit(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(ParamsFileError, match=message):
        read_params(path)


def test_reader_reports_missing_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(ParamsFileError, match="cannot read"):
        read_params(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ParamsFileError, match=r"not a valid headcast params\.json"):
        read_params(tmp_path / "bad.json")


def _with_warp(avatar: Avatar) -> Avatar:
    from dataclasses import replace

    from headcast.headmodel.warp import OutlineWarp

    warp = OutlineWarp(np.array([0.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]),
                       np.deg2rad(np.array([-60.0, 0.0, 60.0])), np.array([0.004, 0.01, 0.004]), 0.2, 0.0, 0.001)
    return replace(avatar, fit=replace(avatar.fit, params=replace(avatar.fit.params, warp=warp)))


def test_the_outline_warp_round_trips_to_the_same_mesh(tmp_path: Path, tiny_avatar: Avatar) -> None:
    warped = _with_warp(tiny_avatar)
    moved = pose_head(warped.model, warped.fit.params).vertices - pose_head(tiny_avatar.model,
                                                                             tiny_avatar.fit.params).vertices
    assert np.abs(moved).max() > 1e-3  # the warp moves the tiny head
    raw = json.loads(write_params(tmp_path / "params.json", warped).read_text())
    assert raw["outline_warp"]["shifts"] == [0.004, 0.01, 0.004]
    params, _ = read_params(tmp_path / "params.json", warped.model)
    np.testing.assert_allclose(pose_head(warped.model, params).vertices,
                               pose_head(warped.model, warped.fit.params).vertices, atol=ROUND_TRIP_ATOL_M, rtol=0)
    assert "outline_warp" not in json.loads(write_params(tmp_path / "plain.json", tiny_avatar).read_text())
    raw["outline_warp"]["angles"] = [1.0, 0.0, -1.0]
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(ParamsFileError, match="increase"):
        read_params(tmp_path / "bad.json", warped.model)
