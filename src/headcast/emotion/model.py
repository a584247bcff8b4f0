"""The emotion network: a small MLP (linear + ReLU) from emotion intensities to expression weights and pose.

Forward pass (pure numpy, :func:`mlp_forward`; the same maths in ``tools/node/emotion_mlp.mjs``)::

    h_0 = x                                   x = [intensities (7), identity[:k] (k, identity variant only)]
    h_i = relu(W_i h_{i-1} + b_i)             hidden layers
    z   = W_L h_{L-1} + b_L                   raw outputs
    d   = z(x) − z(x with intensities = 0)    zero-anchored: no emotion → exactly no change
    out = clamp(d, 0, 1)            for "weights" blocks (expression weights)
    out = bound · tanh(d / bound)   for "angles" blocks (pose, radians, |out| < bound)
                                    and "coefficients" blocks (unbounded-ish model coefficients, e.g. FLAME's ψ,
                                    with a generous bound: near-linear well inside it)

The output layout is data (:class:`OutputBlock`), so another head model (FLAME: 50 expression + 6 pose
parameters, :func:`headcast.emotion.flame_net.flame_layout`) is a different layout, not different code. Every kind
other than ``weights`` uses the same ``tanh`` rule, which is what ``tools/node/emotion_mlp.mjs`` computes for any
kind but ``weights``, so a new layout needs no change there.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from headcast.emotion.types import EMOTIONS, EmotionIntensities

BlockKind = Literal["weights", "angles", "coefficients"]
"""How a block of outputs is kept in range: ``weights`` clamped to [0, 1]; ``angles`` (radians) and
``coefficients`` (a model's unbounded expression components, e.g. FLAME's ψ in σ units) bounded by
``bound · tanh(d / bound)`` — the same rule, the kind names the unit."""

ModelVariant = Literal["base", "identity"]
"""Packaged networks: emotion only, or emotion plus the first identity coefficients."""

FORMAT = "headcast-emotion-mlp/1"
"""``format`` field of the JSON weight files."""


@dataclass(frozen=True)
class OutputBlock:
    """A contiguous group of network outputs.

    Attributes:
        name: ``"expression"``, ``"neck"`` (head-on-neck rotation) or ``"global"`` (whole-body rotation), or another
            model's names (FLAME: ``"expression"`` 50, ``"global"`` 3, ``"jaw"`` 3).
        size: number of outputs.
        kind: range rule (see module docstring).
        bound: for ``angles`` and ``coefficients``: the largest magnitude (radians; the coefficients' own unit).
        loss_weight: weight of this block's L1 term in training.
        labels: optional per-output names (expression: the head model's own shape names, as written to JSON and
            matched to the GLB's morph targets).
        arkit: expression block of a layout built for training: the canonical (ARKit) name of each label, which the
            prototypes are looked up by (:func:`expression_layout`); not stored in the JSON file.
    """

    name: str
    size: int
    kind: BlockKind
    bound: float = 1.0
    loss_weight: float = 1.0
    labels: tuple[str, ...] = ()
    arkit: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputLayout:
    """The network's output vector as named blocks, in order."""

    blocks: tuple[OutputBlock, ...]

    @property
    def size(self) -> int:
        """Total outputs."""
        return sum(b.size for b in self.blocks)

    def slices(self) -> dict[str, slice]:
        """``{block name: slice into the output vector}``."""
        out: dict[str, slice] = {}
        start = 0
        for b in self.blocks:
            out[b.name] = slice(start, start + b.size)
            start += b.size
        return out


def expression_layout(expression_names: tuple[str, ...], arkit_names: tuple[str, ...] | None = None,
                      neck_weight: float = 2.0, global_weight: float = 1.0) -> OutputLayout:
    """Linear-model layout (ICT FaceKit): one weight per shape, then neck and global rotations (3 each, ±0.5 rad).

    Args:
        expression_names: the model's own shape names (``model.expression_names``), the expression labels.
        arkit_names: their canonical names (``model.expression_arkit_names``); default: ``expression_names``
            (names that are canonical already).
        neck_weight: loss weight of the neck block.
        global_weight: loss weight of the global block.
    """
    arkit = tuple(expression_names if arkit_names is None else arkit_names)
    if len(arkit) != len(expression_names):
        raise ValueError(f"{len(expression_names)} expression names but {len(arkit)} canonical names")
    return OutputLayout((
        OutputBlock("expression", len(expression_names), "weights", labels=tuple(expression_names), arkit=arkit),
        OutputBlock("neck", 3, "angles", bound=0.5, loss_weight=neck_weight, labels=("pitch", "yaw", "roll")),
        OutputBlock("global", 3, "angles", bound=0.5, loss_weight=global_weight, labels=("pitch", "yaw", "roll")),
    ))


@dataclass(frozen=True, eq=False)
class EmotionMLP:
    """Weights of a trained emotion network (data only; maths in :func:`mlp_forward`).

    Attributes:
        weights: per layer ``(out, in)`` float64 matrices.
        biases: per layer ``(out,)`` float64 vectors.
        layout: meaning of the outputs.
        num_identity: identity coefficients in the input after the 7 intensities (0 for the base variant).
        meta: provenance (seed, steps, loss, generator settings) written to / read from the JSON file.
    """

    weights: tuple[NDArray[np.float64], ...]
    biases: tuple[NDArray[np.float64], ...]
    layout: OutputLayout
    num_identity: int = 0
    meta: Mapping[str, Any] | None = None

    @property
    def num_inputs(self) -> int:
        """7 + ``num_identity``."""
        return len(EMOTIONS) + self.num_identity


def relu_mlp_raw(weights: tuple[NDArray[np.float64], ...], biases: tuple[NDArray[np.float64], ...],
                 x: NDArray[np.floating]) -> NDArray[np.float64]:
    """Raw outputs ``z`` of a linear+ReLU MLP (no activation after the last layer).

    Args:
        weights: per layer ``(out, in)``.
        biases: per layer ``(out,)``.
        x: ``(..., in)`` inputs.

    Returns:
        ``(..., out)`` float64.
    """
    h = np.asarray(x, dtype=np.float64)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w.T + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return h


def squash(layout: OutputLayout, d: NDArray[np.floating]) -> NDArray[np.float64]:
    """Apply each block's range rule to zero-anchored raw outputs ``d`` ``(..., layout.size)``."""
    out = np.array(d, dtype=np.float64)
    for block, sl in zip(layout.blocks, layout.slices().values(), strict=True):
        if block.kind == "weights":
            out[..., sl] = np.clip(out[..., sl], 0.0, 1.0)
        else:
            out[..., sl] = block.bound * np.tanh(out[..., sl] / block.bound)
    return out


def mlp_forward(model: EmotionMLP, intensities: NDArray[np.floating],
                identity: NDArray[np.floating] | None = None) -> NDArray[np.float64]:
    """Evaluate the network.

    Args:
        model: the weights.
        intensities: ``(..., 7)`` in [0, 1], :data:`EMOTIONS` order.
        identity: ``(..., K)`` identity coefficients (σ units), K ≥ ``model.num_identity``; ignored by the base
            variant; zeros (the mean head) when None.

    Returns:
        ``(..., layout.size)`` outputs, blocks in layout order (weights in [0, 1], angles in radians).
    """
    s = np.asarray(intensities, dtype=np.float64)
    if s.shape[-1] != len(EMOTIONS):
        raise ValueError(f"intensities have shape {s.shape}, expected (..., {len(EMOTIONS)})")
    parts = [s]
    if model.num_identity:
        ident = np.zeros((*s.shape[:-1], model.num_identity)) if identity is None else np.asarray(identity)
        ident = np.broadcast_to(ident[..., : model.num_identity], (*s.shape[:-1], model.num_identity))
        parts.append(ident)
    x = np.concatenate(parts, axis=-1)
    x0 = x.copy()
    x0[..., : len(EMOTIONS)] = 0.0
    d = relu_mlp_raw(model.weights, model.biases, x) - relu_mlp_raw(model.weights, model.biases, x0)
    return squash(model.layout, d)


@dataclass(frozen=True)
class EmotionOutput:
    """Network output for one input, split by block (ICT layout).

    Attributes:
        expression: ``(E,)`` weights in [0, 1].
        neck: ``(3,)`` axis-angle radians.
        global_: ``(3,)`` axis-angle radians.
    """

    expression: NDArray[np.float64]
    neck: NDArray[np.float64]
    global_: NDArray[np.float64]


def predict(model: EmotionMLP, emotion: EmotionIntensities,
            identity: NDArray[np.floating] | None = None) -> EmotionOutput:
    """One emotion → expression weights and pose tendencies (ICT layout: ``expression``, ``neck``, ``global``)."""
    out = mlp_forward(model, emotion.as_array(), identity)
    sl = model.layout.slices()
    return EmotionOutput(out[sl["expression"]], out[sl["neck"]], out[sl["global"]])


def model_to_json(model: EmotionMLP) -> dict[str, Any]:
    """JSON document of a model (weights as nested lists of float32-exact numbers)."""
    return {
        "format": FORMAT,
        "inputs": [*EMOTIONS, *(f"identity_{i}" for i in range(model.num_identity))],
        "num_identity": model.num_identity,
        "activation": "relu",
        "zero_anchored": True,
        "layout": [
            {"name": b.name, "size": b.size, "kind": b.kind, "bound": b.bound, "loss_weight": b.loss_weight,
             "labels": list(b.labels)}
            for b in model.layout.blocks
        ],
        "layers": [
            {"weight": np.asarray(w, np.float32).astype(float).tolist(),
             "bias": np.asarray(b, np.float32).astype(float).tolist()}
            for w, b in zip(model.weights, model.biases, strict=True)
        ],
        "meta": dict(model.meta or {}),
    }


def model_from_json(doc: Mapping[str, Any]) -> EmotionMLP:
    """Inverse of :func:`model_to_json`."""
    if doc.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document (format={doc.get('format')!r})")
    layout = OutputLayout(tuple(
        OutputBlock(b["name"], int(b["size"]), b["kind"], float(b["bound"]), float(b["loss_weight"]),
                    tuple(b["labels"]))
        for b in doc["layout"]
    ))
    return EmotionMLP(
        weights=tuple(np.asarray(layer["weight"], dtype=np.float64) for layer in doc["layers"]),
        biases=tuple(np.asarray(layer["bias"], dtype=np.float64) for layer in doc["layers"]),
        layout=layout,
        num_identity=int(doc["num_identity"]),
        meta=dict(doc.get("meta", {})),
    )


def save_model(model: EmotionMLP, path: Path | str) -> Path:
    """Write the JSON weight file (compact, one line per layer row is not needed: plain ``json.dump``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model_to_json(model), separators=(",", ":")) + "\n")
    return path


def load_model(path: Path | str) -> EmotionMLP:
    """Read a JSON weight file."""
    return model_from_json(json.loads(Path(path).read_text()))


def packaged_model_name(variant: ModelVariant) -> str:
    """File name of a packaged network in ``headcast/emotion/data``."""
    return {"base": "emotion_mlp.json", "identity": "emotion_mlp_identity.json"}[variant]


def load_packaged_model(variant: ModelVariant = "base") -> EmotionMLP:
    """The committed network (``headcast/emotion/data/*.json``, reproduced by ``headcast train-emotion``)."""
    text = resources.files("headcast.emotion").joinpath("data", packaged_model_name(variant)).read_text()
    return model_from_json(json.loads(text))
