"""Landmark error metrics."""

import numpy as np
from numpy.typing import NDArray


def nme(
    pred: NDArray[np.floating], target: NDArray[np.floating], left_outer_eye_idx: int, right_outer_eye_idx: int
) -> float:
    """Normalised mean error: mean point distance over the target's outer-eye-corner distance.

    ``NME = (1/N) Σ_i ‖pred_i − target_i‖ / ‖target[left] − target[right]‖`` (the "inter-ocular" normalisation
    of 300-W; for MediaPipe landmarks the outer corners are 263 and 33).

    Args:
        pred: ``(N, 2)`` predicted points, pixels.
        target: ``(N, 2)`` reference points, pixels.
        left_outer_eye_idx: index of one outer eye corner in ``target``.
        right_outer_eye_idx: index of the other outer eye corner.

    Returns:
        the NME (dimensionless); ``inf`` when the two corners coincide.

    Example:
        >>> nme(np.array([[0.0, 1.0], [10.0, 1.0]]), np.array([[0.0, 0.0], [10.0, 0.0]]), 1, 0)
        0.1
    """
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if p.shape != t.shape or p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"pred and target must both be (N, 2); got {p.shape} and {t.shape}")
    norm = float(np.linalg.norm(t[left_outer_eye_idx] - t[right_outer_eye_idx]))
    if norm == 0.0:
        return float("inf")
    return float(np.mean(np.linalg.norm(p - t, axis=1)) / norm)
