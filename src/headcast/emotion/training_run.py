"""``headcast train-emotion``: train the packaged networks (base and identity-conditioned) and write or check them."""

import json
import sys
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np

from headcast.assets import AssetSettings
from headcast.emotion.generator import GeneratorSettings
from headcast.emotion.model import (
    ModelVariant,
    OutputLayout,
    expression_layout,
    load_packaged_model,
    model_to_json,
    packaged_model_name,
    save_model,
)
from headcast.emotion.train import TrainSettings, train_emotion_mlp
from headcast.headmodel.base import LinearHeadModel

IDENTITY_INPUTS = 10
"""Identity coefficients the identity-conditioned network reads (the first 10 PCA modes)."""


def face_size_gain(head: LinearHeadModel, num: int = IDENTITY_INPUTS) -> tuple[float, ...]:
    """Relative change of the outer-eye-corner distance (iBUG 36–45) per σ of each of the first ``num`` modes.

    Exact for each mode alone (the distance is a norm of a linear function; the first-order term is kept):
    ``gain_k = ((d_k · e) / |e|) / |e|`` with ``e`` = the mean head's eye-corner vector and ``d_k`` its change.
    """
    ids = head.landmarks68[[36, 45]]
    e = head.template[ids[1]].astype(np.float64) - head.template[ids[0]]
    d = head.identity_basis[:num, ids[1]].astype(np.float64) - head.identity_basis[:num, ids[0]]
    length = float(np.linalg.norm(e))
    return tuple(round(float(g), 6) for g in (d @ e) / length**2)


def variant_settings(variant: ModelVariant, steps: int | None = None,
                     identity_gain: tuple[float, ...] = ()) -> TrainSettings:
    """The committed training settings of a variant (``steps`` overrides the step count).

    ``identity_gain`` (:func:`face_size_gain`) makes the identity variant's targets scale with face size
    (:func:`headcast.emotion.generator.face_scale`); the base variant ignores it.
    """
    base = TrainSettings()
    if variant == "identity":
        base = replace(base, data=replace(base.data, num_identity=IDENTITY_INPUTS, identity_gain=identity_gain))
    return base if steps is None else replace(base, steps=steps)


def package_data_dir() -> Path:
    """``headcast/emotion/data`` of the installed package (the source tree for an editable install)."""
    return Path(str(resources.files("headcast.emotion").joinpath("data")))


def train_packaged_models(assets: AssetSettings, out_dir: Path | None, steps: int | None, check: bool) -> int:
    """Train both variants; write them to ``out_dir`` (package data by default) or compare (``check``).

    Returns:
        Exit status: 0, or 1 when ``check`` finds a difference larger than 1e-6.
    """
    from headcast.headmodel.ict import load_ict_facekit

    head = load_ict_facekit(assets, num_identity=IDENTITY_INPUTS)
    layout: OutputLayout = expression_layout(head.expression_names, head.expression_arkit_names)
    out = package_data_dir() if out_dir is None else out_dir
    status = 0
    variants: tuple[ModelVariant, ...] = ("base", "identity")
    for variant in variants:
        model, report = train_emotion_mlp(layout, variant_settings(variant, steps, face_size_gain(head)))
        mae = ", ".join(f"{k} {v:.4f}" for k, v in report.validation_mae.items())
        print(f"{variant}: {report.seconds:.1f} s, final loss {report.final_loss:.5f}, validation MAE {mae}")
        if check:
            packaged = load_packaged_model(variant)
            diff = max(float(np.max(np.abs(a - b))) for a, b in
                       zip((*model.weights, *model.biases), (*packaged.weights, *packaged.biases), strict=True))
            print(f"{variant}: largest weight difference to the packaged file: {diff:.2e}")
            status |= int(diff > 1e-6)
        else:
            path = save_model(model, out / packaged_model_name(variant))
            print(f"{variant}: wrote {path} ({len(json.dumps(model_to_json(model))) / 1e3:.0f} kB)")
    if check and status:
        print("train-emotion: the packaged weights were not reproduced", file=sys.stderr)
    return status


__all__ = ["GeneratorSettings", "face_size_gain", "train_packaged_models", "variant_settings"]
