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
    ict_layout,
    load_packaged_model,
    model_to_json,
    packaged_model_name,
    save_model,
)
from headcast.emotion.train import TrainSettings, train_emotion_mlp

IDENTITY_INPUTS = 10
"""Identity coefficients the identity-conditioned network reads (the first 10 PCA modes)."""


def variant_settings(variant: ModelVariant, steps: int | None = None) -> TrainSettings:
    """The committed training settings of a variant (``steps`` overrides the step count)."""
    base = TrainSettings()
    if variant == "identity":
        base = replace(base, data=replace(base.data, num_identity=IDENTITY_INPUTS))
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
    layout: OutputLayout = ict_layout(head.expression_names)
    out = package_data_dir() if out_dir is None else out_dir
    status = 0
    variants: tuple[ModelVariant, ...] = ("base", "identity")
    for variant in variants:
        model, report = train_emotion_mlp(layout, variant_settings(variant, steps))
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


__all__ = ["GeneratorSettings", "train_packaged_models", "variant_settings"]
