"""Training the emotion MLP (PyTorch, CPU, seeded and deterministic).

Loss (as in the thesis the design follows): L1 on the expression weights plus weighted L1 on the pose parts,
neck/head pose and global pose each with its own weight (``OutputBlock.loss_weight``)::

    L = mean|ŵ − w| + λ_neck · mean|n̂ − n| + λ_global · mean|ĝ − g|   (+ ε · mean|d − w| on the unclamped weights)

The ε term keeps a gradient on expression outputs while the clamp is saturated (without it an output pushed below
0 for a target > 0 would never recover). Outputs are zero-anchored and squashed exactly as in
:func:`headcast.emotion.model.mlp_forward`, so the trained network and the numpy/JS forward passes agree.

Reproducibility: numpy data from ``GeneratorSettings.seed``, ``torch.manual_seed(seed)``, one thread,
``torch.use_deterministic_algorithms(True)``, float32. The same torch build on the same CPU gives the same
weights bit for bit; ``headcast train-emotion --check`` compares a fresh run with the packaged files.
torch is imported inside the functions (an optional, evaluation/training-only dependency).
"""

import time
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from headcast.emotion.generator import EmotionDataset, GeneratorSettings, generate_examples
from headcast.emotion.model import EmotionMLP, OutputLayout, mlp_forward
from headcast.emotion.types import EMOTIONS


@dataclass(frozen=True)
class TrainSettings:
    """Network size and optimiser settings.

    Attributes:
        hidden: widths of the hidden layers.
        steps: Adam steps.
        batch_size: examples per step.
        learning_rate: initial Adam step size (cosine decay to 1 % of it).
        unclamped_weight: ε of the unclamped-expression term.
        seed: torch seed (initialisation and batch order).
        data: the generator settings of the training set.
        validation: the generator settings of the held-out set.
    """

    hidden: tuple[int, ...] = (64, 64)
    steps: int = 4000
    batch_size: int = 256
    learning_rate: float = 3e-3
    unclamped_weight: float = 0.05
    seed: int = 0
    data: GeneratorSettings = field(default_factory=GeneratorSettings)
    validation: GeneratorSettings = field(default_factory=lambda: GeneratorSettings(num_examples=2000, seed=1))


@dataclass(frozen=True)
class TrainReport:
    """What a training run did.

    Attributes:
        seconds: wall time of the optimisation.
        final_loss: training loss of the last step.
        validation_mae: ``{block name: mean absolute error}`` on the held-out set (weights: unitless, angles: rad).
    """

    seconds: float
    final_loss: float
    validation_mae: dict[str, float]


def train_emotion_mlp(layout: OutputLayout, settings: TrainSettings) -> tuple[EmotionMLP, TrainReport]:
    """Train one network for ``layout`` (the identity variant when ``settings.data.num_identity`` > 0)."""
    data = generate_examples(settings.data, layout)
    model, seconds = train_on_examples(data, layout, settings)
    val = generate_examples(
        GeneratorSettings(**{**asdict(settings.validation), "num_identity": settings.data.num_identity,
                               "identity_gain": settings.data.identity_gain}), layout
    )
    mae = validation_error(model, val)
    meta = dict(model.meta or {})
    meta["validation_mae"] = mae
    return replace(model, meta=meta), TrainReport(seconds, float(meta["final_loss"]), mae)


def train_on_examples(data: EmotionDataset, layout: OutputLayout,
                      settings: TrainSettings) -> tuple[EmotionMLP, float]:
    """Optimise a network on given examples (the loss of the module docstring; ``settings.data`` is not read).

    Args:
        data: inputs ``(N, 7 + K)`` (K identity coefficients: the network's ``num_identity``) and targets
            ``(N, layout.size)`` in the layout's units.
        layout: the output blocks (range rules and loss weights).
        settings: network size, optimiser and seed.

    Returns:
        The network (weights rounded through float32, as the JSON file stores them, so it is the saved one; ``meta``
        has the settings, the final loss and the torch version) and the optimisation's wall time, seconds.
    """
    import torch  # optional dependency: training only

    torch.manual_seed(settings.seed)
    torch.use_deterministic_algorithms(True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        weights, biases, loss = _optimise(torch, data, layout, settings)
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    meta: dict[str, Any] = {"train": _settings_json(settings), "final_loss": loss, "torch": torch.__version__}
    return EmotionMLP(tuple(w.astype(np.float32).astype(np.float64) for w in weights),
                      tuple(b.astype(np.float32).astype(np.float64) for b in biases), layout,
                      data.inputs.shape[1] - len(EMOTIONS), meta), seconds


def validation_error(model: EmotionMLP, data: EmotionDataset) -> dict[str, float]:
    """Mean absolute error per output block on a data set."""
    k = len(EMOTIONS)
    pred = mlp_forward(model, data.inputs[:, :k], data.inputs[:, k:])
    return {name: float(np.mean(np.abs(pred[:, sl] - data.targets[:, sl])))
            for name, sl in model.layout.slices().items()}


def _settings_json(settings: TrainSettings) -> dict[str, Any]:
    d = asdict(settings)
    d["hidden"] = list(settings.hidden)
    return d


Params = tuple[NDArray[np.float64], ...]


def _optimise(
    torch: Any, data: EmotionDataset, layout: OutputLayout, settings: TrainSettings
) -> tuple[Params, Params, float]:
    k = len(EMOTIONS)
    x = torch.tensor(data.inputs, dtype=torch.float32)
    y = torch.tensor(data.targets, dtype=torch.float32)
    sizes = [x.shape[1], *settings.hidden, layout.size]
    layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in pairwise(sizes))

    def raw(inp: Any) -> Any:
        h = inp
        for i, layer in enumerate(layers):
            h = layer(h)
            if i < len(layers) - 1:
                h = torch.relu(h)
        return h

    slices = layout.slices()
    opt = torch.optim.Adam(layers.parameters(), lr=settings.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, settings.steps, eta_min=settings.learning_rate * 0.01)
    gen = torch.Generator().manual_seed(settings.seed)
    loss_value = float("nan")
    for _ in range(settings.steps):
        idx = torch.randint(0, x.shape[0], (settings.batch_size,), generator=gen)
        xb, yb = x[idx], y[idx]
        x0 = xb.clone()
        x0[:, :k] = 0.0
        d = raw(xb) - raw(x0)
        loss = torch.zeros(())
        for block in layout.blocks:
            sl = slices[block.name]
            db, tb = d[:, sl], yb[:, sl]
            if block.kind == "weights":
                out = torch.clamp(db, 0.0, 1.0)
                loss = loss + settings.unclamped_weight * block.loss_weight * torch.mean(torch.abs(db - tb))
            else:
                out = block.bound * torch.tanh(db / block.bound)
            loss = loss + block.loss_weight * torch.mean(torch.abs(out - tb))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        loss_value = float(loss.detach())
    weights = tuple(layer.weight.detach().numpy().astype(np.float64) for layer in layers)
    biases = tuple(layer.bias.detach().numpy().astype(np.float64) for layer in layers)
    return weights, biases, loss_value
