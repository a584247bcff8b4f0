"""Training examples for the emotion network: (intensities [+ identity]) → (expression weights, neck, global pose).

The targets come from the written-down prototypes (:mod:`headcast.emotion.prototypes`), so the data set is a
deterministic function of :class:`GeneratorSettings` (numpy ``default_rng(seed)``). Inputs are drawn as:

* ``neutral_fraction`` all zeros;
* ``single_fraction`` one emotion, intensity ~ U(0, 1);
* the rest mixtures of 2 … ``max_mixture`` distinct emotions, each ~ U(0, 1);
* plus, always, a grid of every single emotion at intensities 0, 1/(g−1), …, 1 (``grid_steps`` = g).

Identity inputs (identity variant) are N(0, ``identity_sigma``²) per coefficient. ICT's expression shapes are
identity-independent vertex deltas in metres, so the same weights move a small face *relatively* more than a large
one. The identity variant's targets therefore scale every expression weight by the face size relative to the mean
face (outer-eye-corner distance, linearised in the identity coefficients, :func:`face_scale`), so the displacement
is the same fraction of the face for everyone (min(1, ·) keeps weights in [0, 1]). Pose tendencies are unchanged.
``identity_gain`` (relative size change per σ of each coefficient) is computed from the head model by
``headcast train-emotion``; with no gain (base variant, tests) the targets ignore identity.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.emotion.model import OutputLayout
from headcast.emotion.prototypes import mixture_expression_batch, mixture_pose
from headcast.emotion.types import EMOTIONS


@dataclass(frozen=True)
class GeneratorSettings:
    """How the examples are drawn (see the module docstring)."""

    num_examples: int = 20000
    seed: int = 0
    neutral_fraction: float = 0.05
    single_fraction: float = 0.35
    max_mixture: int = 3
    grid_steps: int = 21
    num_identity: int = 0
    identity_sigma: float = 1.0
    identity_gain: tuple[float, ...] = ()
    max_scale_change: float = 0.25


def face_scale(identity: NDArray[np.floating], settings: GeneratorSettings) -> NDArray[np.float64]:
    """``(N,)`` face size relative to the mean face, ``1 + identity · gain``, clipped to ``1 ± max_scale_change``.

    Args:
        identity: ``(N, K)`` identity coefficients in σ units (K ≥ len(gain); extra columns are ignored).
        settings: ``identity_gain`` ``(G,)`` relative size change per σ of each coefficient.
    """
    ident = np.asarray(identity, dtype=np.float64)
    gain = np.asarray(settings.identity_gain, dtype=np.float64)
    if gain.size == 0:
        return np.ones(ident.shape[0])
    lo, hi = 1.0 - settings.max_scale_change, 1.0 + settings.max_scale_change
    return np.clip(1.0 + ident[:, : gain.size] @ gain, lo, hi)


@dataclass(frozen=True, eq=False)
class EmotionDataset:
    """Examples as arrays, batch first.

    Attributes:
        inputs: ``(N, 7 + num_identity)`` intensities in :data:`EMOTIONS` order, then identity coefficients (σ).
        targets: ``(N, layout.size)`` expression weights in [0, 1], then neck and global axis-angle (radians).
    """

    inputs: NDArray[np.float64]
    targets: NDArray[np.float64]


def sample_intensities(settings: GeneratorSettings, rng: np.random.Generator) -> NDArray[np.float64]:
    """``(N, 7)`` random intensity vectors (neutral, single and mixture rows, then the single-emotion grid)."""
    n, k = settings.num_examples, len(EMOTIONS)
    out = np.zeros((n, k))
    kind = rng.random(n)
    single = (kind >= settings.neutral_fraction) & (kind < settings.neutral_fraction + settings.single_fraction)
    mixed = kind >= settings.neutral_fraction + settings.single_fraction
    rows = np.flatnonzero(single)
    out[rows, rng.integers(0, k, rows.size)] = rng.random(rows.size)
    for r in np.flatnonzero(mixed):
        m = int(rng.integers(2, settings.max_mixture + 1))
        out[r, rng.choice(k, m, replace=False)] = rng.random(m)
    levels = np.linspace(0.0, 1.0, settings.grid_steps)
    grid = np.zeros((k * levels.size, k))
    for e in range(k):
        grid[e * levels.size : (e + 1) * levels.size, e] = levels
    return np.concatenate([out, grid])


def targets_for(intensities: NDArray[np.floating], layout: OutputLayout) -> NDArray[np.float64]:
    """Prototype targets ``(N, layout.size)`` for ``(N, 7)`` intensities (ICT layout: expression, neck, global)."""
    block = next(b for b in layout.blocks if b.name == "expression")
    if not block.arkit:
        raise ValueError("the expression block has no canonical (ARKit) names: build the layout with expression_layout")
    names = block.arkit
    neck, glob = mixture_pose(intensities)
    return np.concatenate([mixture_expression_batch(intensities, names), neck, glob], axis=1)


def generate_examples(settings: GeneratorSettings, layout: OutputLayout) -> EmotionDataset:
    """The full data set for ``settings`` (deterministic)."""
    rng = np.random.default_rng(settings.seed)
    s = sample_intensities(settings, rng)
    ident = rng.normal(0.0, settings.identity_sigma, (s.shape[0], settings.num_identity))
    targets = targets_for(s, layout)
    if settings.num_identity and settings.identity_gain:
        expr = layout.slices()["expression"]
        targets[:, expr] = np.minimum(1.0, targets[:, expr] * face_scale(ident, settings)[:, None])
    return EmotionDataset(np.concatenate([s, ident], axis=1), targets)
