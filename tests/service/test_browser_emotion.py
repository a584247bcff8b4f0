"""The page's emotion maths (web/src/emotion.js, run with node) against headcast.emotion's Python.

Tolerances: weights and matrices 1e-9 (both sides read the same float32-exact JSON numbers in float64; only the
summation order differs). The browser's neck pivot is a geometric estimate (the GLB does not name the chin vertex):
within 12 mm of ``neck_pivot``, which moves the rotated head by under 2.5 mm at the largest tendency.
"""

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from headcast.emotion import load_packaged_model
from headcast.emotion.apply import EmotionSettings, apply_emotion, neck_pivot, resting_expression
from headcast.emotion.types import EMOTIONS, EmotionIntensities
from headcast.geometry.camera import HeadPose
from headcast.geometry.rotation import axis_angle_to_matrix
from headcast.headmodel.base import HeadParams, blend_vertices

CHECK = Path(__file__).resolve().parents[2] / "web" / "test" / "emotion_check.mjs"
MODEL_JSON = resources.files("headcast.emotion").joinpath("data", "emotion_mlp.json")
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")


def _run_js(tmp_path: Path, cases: dict) -> dict:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"model": str(MODEL_JSON), **cases}))
    out = subprocess.run(["node", str(CHECK), str(path)], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def _intensities(rng: np.random.Generator) -> EmotionIntensities:
    v = rng.uniform(0, 1, len(EMOTIONS)) * (rng.uniform(size=len(EMOTIONS)) < 0.5)
    return EmotionIntensities.from_array(v)


def _single(name: str, value: float = 1.0) -> EmotionIntensities:
    return EmotionIntensities(**{name: value})


def test_rig_matches_apply_emotion(ict_model, tmp_path):
    """Browser weights and head matrix == apply_emotion's expression and pose change, seen in the model frame.

    Both modes: "keep" (the resting face, default) and "replace" (``keep_resting=False``). Half the cases give the
    resting face as params.json does (then the GLB's weights are deliberately different, so only the given resting
    face can produce the right answer); the other half leave the browser to derive it from the GLB's weights.
    """
    model = load_packaged_model()
    rng = np.random.default_rng(7)
    names = list(ict_model.expression_names)
    keep, replace = EmotionSettings(), EmotionSettings(keep_resting=False)
    rows = []
    for k in range(12):
        identity = rng.normal(size=20)
        fitted = rng.uniform(0, 0.4, len(names))
        s = _single(EMOTIONS[k % 7]) if k < 7 else _intensities(rng)
        b = EmotionIntensities() if k % 3 else _intensities(rng)
        pose = HeadPose(rng.normal(scale=0.2, size=3), np.array([0.01, -0.02, -0.6]))
        params = HeadParams(identity=identity, expression=fitted, pose=pose)
        rows.append((params, s, b, k % 2 == 0))
    cases = []
    for params, s, b, give_resting in rows:
        resting = resting_expression(model, params.expression, b, ict_model, params.identity)
        for mode in ("keep", "replace"):
            cases.append({
                "intensities": s.as_array().tolist(),
                "baseEmotion": b.as_array().tolist(),
                "baseWeights": (rng.uniform(0, 1, len(names)) if give_resting else params.expression).tolist(),
                "resting": dict(zip(names, resting.tolist(), strict=True)) if give_resting else None,
                "detectedEmotion": b.as_array().tolist() if give_resting else None,
                "identity": params.identity.tolist(),
                "pivot": neck_pivot(ict_model, params.identity, keep).tolist(),
                "mode": mode,
            })
    js = _run_js(tmp_path, {"targetNames": names, "rig": cases})["rig"]
    assert len(js) == 2 * len(rows)
    for i, (params, s, b, _) in enumerate(rows):
        ref = apply_emotion(params, s, model, ict_model, base=b, settings=keep)
        ref_replace = apply_emotion(params, s, model, ict_model, base=b, settings=replace)
        got_keep, got_replace = js[2 * i], js[2 * i + 1]
        np.testing.assert_allclose(got_keep["weights"], ref.expression, atol=1e-9, rtol=0)
        np.testing.assert_allclose(got_replace["weights"], ref_replace.expression, atol=1e-9, rtol=0)
        assert not np.allclose(ref.expression, ref_replace.expression)  # the two modes really differ
        # pose' = (R R_d, t + R (p − R_d p)): in the model frame the head moves by M = [R_d | p − R_d p]
        rot = axis_angle_to_matrix(params.pose.rotation)
        rot_new = axis_angle_to_matrix(ref.pose.rotation)
        m = np.array(got_keep["matrix"]).reshape(4, 4).T  # column-major → row-major
        np.testing.assert_allclose(m[:3, :3], rot.T @ rot_new, atol=1e-9, rtol=0)
        np.testing.assert_allclose(m[:3, 3], rot.T @ (ref.pose.translation - params.pose.translation), atol=1e-9)
        np.testing.assert_allclose(m[3], [0, 0, 0, 1], atol=0)
        assert np.array_equal(got_keep["matrix"], got_replace["matrix"])
    # the strongest tendency (sadness) really turns the head, so the pose check above is not vacuous
    sad = np.array(js[2]["matrix"]).reshape(4, 4).T
    assert np.degrees(np.arccos((np.trace(sad[:3, :3]) - 1) / 2)) > 5


def test_rig_sets_arkit_targets_through_target_sources(ict_model, tmp_path):
    """A GLB with ARKit-named targets (merged browInnerUp/cheekPuff, visemes): the page sets each target to
    ``S @ w`` where ``w`` is apply_emotion's expression in the model's own shapes and ``S`` the GLB's
    ``targetSources``; targets no shape sets (tongueOut, visemes) keep the GLB's weights ("keep") or 0."""
    from headcast.export.glb import glb_morphs
    from headcast.export.morphs import target_sources
    from headcast.export.settings import ExportSettings

    morphs = glb_morphs(ict_model, ExportSettings())
    sources = target_sources(ict_model, morphs)
    assert "browInnerUp" in sources and len(sources["browInnerUp"]) == 2  # a merged target is exercised
    model = load_packaged_model()
    rng = np.random.default_rng(5)
    names = list(ict_model.expression_names)
    keep, replace = EmotionSettings(), EmotionSettings(keep_resting=False)
    cases, rows = [], []
    for _ in range(6):
        params = HeadParams(rng.normal(size=20), rng.uniform(0, 0.6, len(names)),
                            HeadPose(np.zeros(3), np.array([0, 0, -0.6])))
        s, b = _intensities(rng), _intensities(rng)
        resting = resting_expression(model, params.expression, b, ict_model, params.identity)
        base = rng.uniform(0, 1, len(morphs.names))
        rows.append((params, s, b, base))
        for mode in ("keep", "replace"):
            cases.append({"intensities": s.as_array().tolist(), "baseEmotion": b.as_array().tolist(),
                          "baseWeights": base.tolist(), "resting": dict(zip(names, resting.tolist(), strict=True)),
                          "detectedEmotion": b.as_array().tolist(), "identity": params.identity.tolist(),
                          "pivot": [0, -0.07, 0.03], "mode": mode})
    js = _run_js(tmp_path, {"targetNames": list(morphs.names), "targetSources": sources, "rig": cases})["rig"]
    unset = ~morphs.show.any(axis=1)
    assert unset[list(morphs.names).index("tongueOut")] and unset[list(morphs.names).index("viseme_aa")]
    for i, (params, s, b, base) in enumerate(rows):
        for got, settings in ((js[2 * i], keep), (js[2 * i + 1], replace)):
            want = morphs.show @ apply_emotion(params, s, model, ict_model, base=b, settings=settings).expression
            want[unset] = np.clip(base[unset], 0, 1) if settings.keep_resting else 0
            np.testing.assert_allclose(got["weights"], want, atol=1e-9, rtol=0)


def test_rig_matches_an_avatar_showing_a_set_emotion(ict_model, tmp_path):
    """A GLB made with an emotion option: it shows ``shown`` while its resting face is relative to the detected
    emotion; the sliders must give avatar_with_emotion's expression (resting faded relative to the detected
    emotion) and turn the head relative to ``shown``."""
    from headcast.emotion.apply import expression_with_emotion, posed_with_emotion

    model = load_packaged_model()
    rng = np.random.default_rng(11)
    names = list(ict_model.expression_names)
    settings = EmotionSettings()
    cases, refs = [], []
    for k in range(6):
        identity = rng.normal(size=20)
        params = HeadParams(identity, rng.uniform(0, 0.4, len(names)), HeadPose(np.zeros(3), np.array([0, 0, -0.6])))
        detected, shown, s = _intensities(rng), _single(EMOTIONS[k]), _intensities(rng)
        resting = resting_expression(model, params.expression, detected, ict_model, identity)
        glb = expression_with_emotion(model, resting, shown, ict_model, identity, detected)
        cases.append({"intensities": s.as_array().tolist(), "baseEmotion": shown.as_array().tolist(),
                      "baseWeights": glb.tolist(), "resting": dict(zip(names, resting.tolist(), strict=True)),
                      "detectedEmotion": detected.as_array().tolist(), "identity": identity.tolist(),
                      "pivot": neck_pivot(ict_model, identity, settings).tolist(), "mode": "keep"})
        refs.append((expression_with_emotion(model, resting, s, ict_model, identity, detected),
                     posed_with_emotion(model, params.pose, s, shown, ict_model, identity, settings)))
    js = _run_js(tmp_path, {"targetNames": names, "rig": cases})["rig"]
    for got, (weights, pose) in zip(js, refs, strict=True):
        np.testing.assert_allclose(got["weights"], weights, atol=1e-9, rtol=0)
        m = np.array(got["matrix"]).reshape(4, 4).T
        np.testing.assert_allclose(m[:3, :3], axis_angle_to_matrix(pose.rotation), atol=1e-9, rtol=0)


def test_neutral_sliders_are_identity(ict_model, tmp_path):
    """Sliders at the GLB's own emotion: no rotation and the GLB's own weights ("keep"); all-zero sliders in
    'replace' = all-zero weights."""
    names = list(ict_model.expression_names)
    b = _single("happiness", 0.6).as_array().tolist()
    glb = np.random.default_rng(1).uniform(0.1, 0.5, len(names)).tolist()
    cases = [{"intensities": b, "baseEmotion": b, "baseWeights": glb, "pivot": [0, -0.07, 0.03], "mode": "keep"},
             {"intensities": b, "baseEmotion": b, "baseWeights": glb, "pivot": [0, -0.07, 0.03],
              "mode": "replace"},
             {"intensities": [0] * 7, "baseEmotion": [0] * 7, "baseWeights": glb, "pivot": [0, -0.07, 0.03],
              "mode": "replace"}]
    js = _run_js(tmp_path, {"targetNames": names, "rig": cases})["rig"]
    np.testing.assert_allclose(np.array(js[0]["matrix"]).reshape(4, 4), np.eye(4), atol=1e-12)
    np.testing.assert_allclose(js[0]["weights"], glb, atol=1e-12)
    assert js[1]["weights"][names.index("mouthSmile_L")] > 0.2
    assert js[2]["weights"] == [0.0] * len(names)


def test_pivot_estimate_near_neck_pivot(ict_model, tmp_path):
    """neckPivotFromPositions on neutral heads of several identities vs headcast's landmark-based neck_pivot."""
    rng = np.random.default_rng(3)
    settings = EmotionSettings()
    identities = [np.zeros(ict_model.num_identity), *(rng.normal(size=ict_model.num_identity) for _ in range(5))]
    heads = [blend_vertices(ict_model, ident, np.zeros(ict_model.num_expressions)) for ident in identities]
    js = _run_js(tmp_path, {"targetNames": [], "pivots": [{"positions": v.ravel().tolist()} for v in heads]})
    for ident, head, estimate in zip(identities, heads, js["pivots"], strict=True):
        ref = neck_pivot(ict_model, ident, settings)
        error = np.linalg.norm(np.array(estimate) - ref)
        assert error < 0.012, (estimate, ref)
        # effect on the shown head: the largest tendency about either pivot, farthest vertex
        model = load_packaged_model()
        out = apply_emotion(HeadParams(ident, np.zeros(ict_model.num_expressions), HeadPose(np.zeros(3), np.zeros(3))),
                            _single("sadness"), model, ict_model)
        r = axis_angle_to_matrix(out.pose.rotation)
        moved = np.abs((head - ref) @ r.T + ref - ((head - estimate) @ r.T + estimate)).max()
        assert moved < 0.0025


def test_parse_emotion_matches_service_spelling(tmp_path):
    texts = ["happiness=0.8,surprise=0.3", "neutral", "", "anger", " Fear = 0.25 , contempt=1"]
    js = _run_js(tmp_path, {"targetNames": [], "parse": texts})["parse"]
    from headcast.emotion import parse_emotion

    for text, got in zip(texts, js, strict=True):
        expected = parse_emotion(text).as_array() if text.strip() else np.zeros(7)
        np.testing.assert_allclose(got, expected, atol=0)
