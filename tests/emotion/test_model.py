import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from headcast.emotion.model import (
    load_packaged_model,
    mlp_forward,
    model_from_json,
    model_to_json,
    predict,
    relu_mlp_raw,
)
from headcast.emotion.types import EMOTIONS, NEUTRAL, EmotionIntensities

NODE_DIR = Path(__file__).resolve().parents[2] / "tools" / "node"


def _random_inputs(n: int, k: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.concatenate([rng.random((n, 7)), rng.normal(size=(n, k))], axis=1)


@pytest.mark.parametrize("variant", ["base", "identity"])
def test_zero_input_is_exactly_neutral(variant):
    model = load_packaged_model(variant)
    out = mlp_forward(model, np.zeros(7), np.ones(10))
    assert np.all(out == 0.0)


def test_outputs_in_range():
    model = load_packaged_model()
    out = mlp_forward(model, np.random.default_rng(0).random((500, 7)))
    sl = model.layout.slices()
    assert out[:, sl["expression"]].min() >= 0 and out[:, sl["expression"]].max() <= 1
    assert np.abs(out[:, sl["neck"]]).max() < 0.5


def test_symmetric_except_contempt():
    model = load_packaged_model()
    labels = model.layout.blocks[0].labels
    pairs = [(labels.index(n), labels.index(n[:-2] + "_R")) for n in labels if n.endswith("_L")]
    for e in EMOTIONS:
        if e == "contempt":
            continue
        for s in (0.3, 0.7, 1.0):
            w = predict(model, EmotionIntensities(**{e: s})).expression
            diff = max(abs(w[i] - w[j]) for i, j in pairs)
            assert diff < 0.03, (e, s, diff)  # network fit error (validation MAE ~0.002); targets are symmetric
    w = predict(model, EmotionIntensities(contempt=1.0)).expression
    assert w[labels.index("mouthSmile_R")] - w[labels.index("mouthSmile_L")] > 0.2


def test_json_round_trip_numpy_reference():
    model = load_packaged_model("identity")
    again = model_from_json(json.loads(json.dumps(model_to_json(model))))
    x = _random_inputs(50, 10)
    np.testing.assert_array_equal(mlp_forward(model, x[:, :7], x[:, 7:]), mlp_forward(again, x[:, :7], x[:, 7:]))
    # plain loop reference of the raw forward pass
    h = x[0]
    for i, (w, b) in enumerate(zip(model.weights, model.biases, strict=True)):
        h = np.array([sum(w[r, c] * h[c] for c in range(w.shape[1])) + b[r] for r in range(w.shape[0])])
        h = np.maximum(h, 0) if i < len(model.weights) - 1 else h
    np.testing.assert_allclose(relu_mlp_raw(model.weights, model.biases, x[:1])[0], h, atol=1e-10)


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
@pytest.mark.parametrize("variant", ["base", "identity"])
def test_node_reference_agrees(variant, tmp_path):
    model = load_packaged_model(variant)
    x = _random_inputs(64, 10)
    x[:4, :7] = 0.0
    model_path = tmp_path / "model.json"
    model_path.write_text(json.dumps(model_to_json(model)))
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"inputs": x.tolist()}))
    run = subprocess.run(["node", str(NODE_DIR / "emotion_mlp_check.mjs"), str(model_path), str(cases)],
                         capture_output=True, text=True, check=True, timeout=60)
    js = np.array(json.loads(run.stdout))
    np.testing.assert_allclose(js, mlp_forward(model, x[:, :7], x[:, 7:]), atol=1e-5)  # float64 both; 1e-5 spec


def test_neutral_predict():
    out = predict(load_packaged_model(), NEUTRAL)
    assert not out.expression.any() and not out.neck.any()


def test_identity_variant_scales_with_face_size():
    """Mode 0 shrinks the eye-corner distance (gain ≈ −0.037/σ): −3σ must smile more than +3σ, ≈ 1.11 / 0.89."""
    model = load_packaged_model("identity")
    happy = EmotionIntensities(happiness=1.0)
    small, large = np.zeros(10), np.zeros(10)
    small[0], large[0] = 3.0, -3.0
    labels = next(b.labels for b in model.layout.blocks if b.name == "expression")
    k = labels.index("mouthSmile_L")
    w_small, w_large = predict(model, happy, small).expression[k], predict(model, happy, large).expression[k]
    assert 1.15 < w_large / w_small < 1.35  # (1 + 0.111) / (1 − 0.111) = 1.25, MLP fit within ~0.1
