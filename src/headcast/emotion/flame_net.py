"""The emotion network for FLAME: layout, training on transferred examples, and a per-file cache.

The FLAME network is the packaged network's architecture and loss (:mod:`headcast.emotion.train`) with the
reference thesis' outputs: 50 expression coefficients ψ and 6 pose values θ (global rotation 3, jaw rotation 3),
all zero-anchored (no emotion → no change). Its examples are the generator's, moved to FLAME by fitting
(:mod:`headcast.emotion.flame_targets`). A FLAME model file is each user's own and cannot be shipped, so neither
can a network trained for it: it is trained on the user's machine the first time it is needed
(:func:`load_or_train_flame_emotion`) and kept in a cache keyed by the file's sha256 and the settings.

Cache folder (as :func:`headcast.assets.weights.weights_dir`): ``$HEADCAST_WEIGHTS/flame_emotion`` when the variable
is set, else ``<sys.prefix>/share/headcast/weights/flame_emotion`` — inside the virtual environment, next to the
other weights, so the torch build that trained it is the one that reads it, and deleting the environment removes it.
The file is the ordinary JSON weight file (``headcast-emotion-mlp/1``) with ``meta.flame_sha256`` and
``meta.settings_digest``; a file whose meta does not match is retrained and replaced.

Default cost, measured on 2 CPU cores with the synthetic test file (docs/emotion.md, "FLAME"): 184 fits of 0.10 s
each (18 s, one core: the fits are serial) plus 3 s of training — 25 s the first time, a file read afterwards.
"""

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from headcast.emotion.flame_targets import (
    FlameReference,
    FlameTransfer,
    FlameTransferSettings,
    flame_reference,
    generated_transfer,
)
from headcast.emotion.generator import EmotionDataset, GeneratorSettings
from headcast.emotion.model import EmotionMLP, OutputBlock, OutputLayout, load_model, save_model
from headcast.emotion.train import TrainSettings, train_on_examples, validation_error
from headcast.errors import OptionalComponentError
from headcast.fitting.flame_correspondence import FlameCorrespondence
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.flame import FlameModel

FLAME_EMOTION_VERSION = 1
"""Bumped when the targets or the training change in a way the settings do not show (part of the cache key)."""

ANGLE_LABELS = ("pitch", "yaw", "roll")


def flame_layout(num_expression: int = 50, expression_bound: float = 3.0, global_weight: float = 1.0,
                 jaw_weight: float = 4.0) -> OutputLayout:
    """FLAME layout: ψ (``num_expression`` coefficients), then global and jaw rotations (3 each, ±0.5 rad).

    The output vector is the thesis' ``ψ (50) + θ (6)`` with θ = (global, jaw). ψ is a ``coefficients`` block,
    ``bound · tanh(d / bound)`` (module docstring of :mod:`headcast.emotion.model`); ``expression_bound`` should
    exceed the largest target well (within half the bound the squashing changes a value by < 8 %).

    Args:
        num_expression: ψ components (the fits' ``num_expression``).
        expression_bound: largest |ψ| output, FLAME's units (σ).
        global_weight: loss weight of the global rotation (radians).
        jaw_weight: loss weight of the jaw rotation (radians): 0.01 rad of jaw moves the chin ≈ 1 mm, several
            ψ components' worth.
    """
    return OutputLayout((
        OutputBlock("expression", num_expression, "coefficients", bound=expression_bound,
                    labels=tuple(f"psi_{i:02d}" for i in range(num_expression))),
        OutputBlock("global", 3, "angles", bound=0.5, loss_weight=global_weight, labels=ANGLE_LABELS),
        OutputBlock("jaw", 3, "angles", bound=0.5, loss_weight=jaw_weight, labels=ANGLE_LABELS),
    ))


def _default_examples() -> GeneratorSettings:
    return GeneratorSettings(num_examples=160, grid_steps=6)


def _default_train() -> TrainSettings:
    return TrainSettings(hidden=(64, 64), steps=2000, batch_size=128)


@dataclass(frozen=True)
class FlameEmotionSettings:
    """What a FLAME network is trained on and how.

    Attributes:
        examples: the generator's sampling (its ``num_examples`` random rows plus the single-emotion grid of
            ``grid_steps`` levels); neutral rows are not fitted. Default 160 + 42 rows (184 fits): see
            docs/emotion.md, "FLAME", for the measured trade-off.
        transfer: the fits.
        train: network size and optimiser (``train.data`` is not read).
        min_expression_bound: the ψ block's bound is ``max(this, 2 · max |ψ target|)``.
        global_weight: loss weight of the global rotation.
        jaw_weight: loss weight of the jaw rotation.
    """

    examples: GeneratorSettings = field(default_factory=_default_examples)
    transfer: FlameTransferSettings = field(default_factory=FlameTransferSettings)
    train: TrainSettings = field(default_factory=_default_train)
    min_expression_bound: float = 3.0
    global_weight: float = 1.0
    jaw_weight: float = 4.0

    def digest(self) -> str:
        """Short sha256 of the settings and :data:`FLAME_EMOTION_VERSION` (the cache key's second half)."""
        text = json.dumps({"version": FLAME_EMOTION_VERSION, "settings": asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class FlameEmotionReport:
    """What building a FLAME network cost and how well it fits its own examples.

    Attributes:
        examples: rows of the data set (neutral rows included).
        fits: rows fitted.
        reference_seconds: wall time of the reference fits.
        fit_seconds: wall time of the examples' fits.
        train_seconds: wall time of the optimisation.
        reference_fit_mm: mean distance of the reference FLAME to ICT's neutral mean head, mm.
        example_fit_mm: mean over fitted rows of each fit's mean distance to its ICT mesh, mm.
        translation_drift_mm: mean over fitted rows of the fit's translation change (not learned), mm.
        expression_bound: the ψ block's bound.
        final_loss: training loss of the last step.
        training_mae: ``{block: mean absolute error}`` on the training examples (ψ in σ, angles in radians).
    """

    examples: int
    fits: int
    reference_seconds: float
    fit_seconds: float
    train_seconds: float
    reference_fit_mm: float
    example_fit_mm: float
    translation_drift_mm: float
    expression_bound: float
    final_loss: float
    training_mae: dict[str, float]


def training_dataset(transfer: FlameTransfer) -> EmotionDataset:
    """The examples as the trainer reads them: inputs ``(N, 7)`` (no identity), targets ``(N, E' + 6)``."""
    return EmotionDataset(transfer.intensities, transfer.targets)


def layout_for(transfer: FlameTransfer, settings: FlameEmotionSettings) -> OutputLayout:
    """:func:`flame_layout` for these targets (ψ bound: ``max(min_expression_bound, 2 · max |ψ target|)``)."""
    n_expr = transfer.targets.shape[1] - 6
    largest = float(np.max(np.abs(transfer.targets[:, :n_expr]))) if len(transfer.targets) else 0.0
    bound = float(np.ceil(max(settings.min_expression_bound, 2.0 * largest)))
    return flame_layout(n_expr, bound, settings.global_weight, settings.jaw_weight)


def train_flame_emotion(flame: FlameModel, ict_model: LinearHeadModel, corr: FlameCorrespondence,
                        settings: FlameEmotionSettings | None = None,
                        reference: FlameReference | None = None) -> tuple[EmotionMLP, FlameEmotionReport]:
    """Train the FLAME emotion network for one FLAME file (the module docstring).

    Args:
        flame: the user's FLAME buffers.
        ict_model: ICT FaceKit (the generator's shapes; the table's model).
        corr: the packaged ICT↔FLAME table.
        settings: examples, fits and training.
        reference: :func:`~headcast.emotion.flame_targets.flame_reference` when already fitted (same file and
            ``settings.transfer``).

    Returns:
        The network (outputs ψ − ψ₀, global, jaw; ``meta`` has the report and settings) and the report.

    Raises:
        OptionalComponentError: torch (the ``hair`` or ``eval`` extra) is not installed.
    """
    settings = FlameEmotionSettings() if settings is None else settings
    try:
        import torch  # noqa: F401  (checked before the minute of fitting, not after)
    except ImportError as exc:
        raise OptionalComponentError(
            "training the FLAME emotion network needs torch: pip install 'headcast[hair]' (CPU torch)"
        ) from exc
    start = time.perf_counter()
    if reference is None:
        reference = flame_reference(flame, ict_model, corr, settings.transfer)
    reference_seconds = time.perf_counter() - start
    transfer = generated_transfer(settings.examples, flame, ict_model, corr, reference, settings.transfer)
    layout = layout_for(transfer, settings)
    data = training_dataset(transfer)
    model, train_seconds = train_on_examples(data, layout, settings.train)
    fitted = transfer.fitted
    report = FlameEmotionReport(
        examples=len(fitted),
        fits=transfer.num_fitted,
        reference_seconds=reference_seconds,
        fit_seconds=transfer.seconds,
        train_seconds=train_seconds,
        reference_fit_mm=reference.fit_m * 1000.0,
        example_fit_mm=float(transfer.fit_m[fitted].mean() * 1000.0) if fitted.any() else 0.0,
        translation_drift_mm=float(transfer.translation_drift_m[fitted].mean() * 1000.0) if fitted.any() else 0.0,
        expression_bound=layout.blocks[0].bound,
        final_loss=float((model.meta or {})["final_loss"]),
        training_mae=validation_error(model, data),
    )
    meta = {**dict(model.meta or {}), "head_model": "flame", "report": asdict(report),
            "flame_settings": asdict(settings)}
    return EmotionMLP(model.weights, model.biases, model.layout, model.num_identity, meta), report


def flame_emotion_dir(env: dict[str, str] | None = None) -> Path:
    """The cache folder (module docstring): ``<weights folder>/flame_emotion``."""
    from headcast.assets.weights import weights_dir

    return weights_dir(env) / "flame_emotion"


def flame_emotion_path(flame_sha256: str, settings: FlameEmotionSettings | None = None,
                       folder: Path | None = None) -> Path:
    """Where the network for a FLAME file (its sha256, hex) and settings is kept."""
    settings = FlameEmotionSettings() if settings is None else settings
    if len(flame_sha256) != 64 or any(c not in "0123456789abcdef" for c in flame_sha256):
        raise ValueError(f"not a lower-case hex sha256: {flame_sha256!r}")
    folder = flame_emotion_dir() if folder is None else folder
    return folder / f"flame_emotion_{flame_sha256[:16]}_{settings.digest()}.json"


def _cached(path: Path, flame_sha256: str, settings: FlameEmotionSettings) -> EmotionMLP | None:
    """The cached network when ``path`` holds one for this file and settings (None: missing or stale)."""
    if not path.is_file():
        return None
    try:
        model = load_model(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    meta = model.meta or {}
    if meta.get("flame_sha256") != flame_sha256 or meta.get("settings_digest") != settings.digest():
        return None
    return model


def load_or_train_flame_emotion(flame: FlameModel, flame_sha256: str, ict_model: LinearHeadModel,
                                corr: FlameCorrespondence, settings: FlameEmotionSettings | None = None,
                                folder: Path | None = None) -> EmotionMLP:
    """The FLAME network for this file: from the cache, or trained (:func:`train_flame_emotion`) and cached.

    Args:
        flame: the user's FLAME buffers.
        flame_sha256: sha256 (hex) of the file they were read from (``FlameExport.sha256``).
        ict_model: ICT FaceKit.
        corr: the packaged ICT↔FLAME table.
        settings: examples, fits and training (part of the cache key).
        folder: cache folder (default :func:`flame_emotion_dir`).

    Returns:
        The network. A fresh one is written atomically (a temporary file renamed), so concurrent runs never read a
        half-written file; two runs that both miss the cache both train and the last rename wins (same weights).
    """
    settings = FlameEmotionSettings() if settings is None else settings
    path = flame_emotion_path(flame_sha256, settings, folder)
    model = _cached(path, flame_sha256, settings)
    if model is not None:
        return model
    model, _ = train_flame_emotion(flame, ict_model, corr, settings)
    meta = {**dict(model.meta or {}), "flame_sha256": flame_sha256, "settings_digest": settings.digest()}
    model = EmotionMLP(model.weights, model.biases, model.layout, model.num_identity, meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_model(model, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return load_model(path)
