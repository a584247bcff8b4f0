"""Gradient-domain completion: a membrane (Laplace) interpolant that continues the photo's colours into unseen skin.

The completed colour ``f`` minimises ``E(f) = Σ_i w_i |f_i − v_i|² + Σ_{i~j} |f_i − f_j|²`` over a grid (4-neighbour
links ``i~j``), with ``f = v`` on fixed texels: where the photo is seen (``w`` large) ``f`` follows it, elsewhere
``f`` is the smoothest surface that meets the photo's colours along the projection boundary (∇²f = 0 away from the
data: the membrane of Pérez et al. 2003, "Poisson Image Editing", with a zero guidance field). Solved exactly by a
sparse LU factorisation (SuperLU, minimum-degree ordering) on a coarse grid: the completion only needs low
frequencies (128² takes 20–60 ms on one core), the fine detail comes from :mod:`headcast.texture.detail`.
"""

import cv2
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from numpy.typing import NDArray


def membrane(
    values: NDArray[np.floating], weights: NDArray[np.floating], fixed: NDArray[np.bool_] | None = None
) -> NDArray[np.float64]:
    """Minimise ``Σ_i w_i |f_i − v_i|² + Σ_{i~j} |f_i − f_j|²`` subject to ``f = v`` on ``fixed``.

    The normal equations are ``(diag(w) + L) f = diag(w) v`` for the free texels, with ``L`` the grid graph
    Laplacian (Neumann at the grid border) and the fixed neighbours moved to the right-hand side; symmetric
    positive definite when every connected group of free texels touches a fixed texel or a positive weight
    (a ridge of 1e-9 keeps an isolated group at 0 instead of failing).

    Args:
        values: ``(H, W, C)`` data values (and the values of the fixed texels).
        weights: ``(H, W)`` data weights ``w ≥ 0`` (0 = unknown; large = follow the data).
        fixed: ``(H, W)`` bool Dirichlet texels (None: none).

    Returns:
        ``(H, W, C)`` float64 ``f``.

    Example:
        >>> v = np.zeros((1, 5, 1)); v[0, 0] = 0.0; v[0, 4] = 1.0
        >>> fixed = np.zeros((1, 5), bool); fixed[0, [0, 4]] = True
        >>> membrane(v, np.zeros((1, 5)), fixed)[0, :, 0].round(2).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    vals = np.asarray(values, np.float64)
    h, w = vals.shape[:2]
    n = h * w
    flat = vals.reshape(n, -1)
    wt = np.asarray(weights, np.float64).ravel()
    if fixed is None:
        fixed = np.zeros((h, w), bool)
    free = ~np.asarray(fixed, bool).ravel()
    idx = np.arange(n).reshape(h, w)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    deg = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    rhs = wt[:, None] * flat
    for p, q in ((a, b), (b, a)):  # links to fixed texels become data on the free side
        sel = free[p] & ~free[q]
        np.add.at(rhs, p[sel], flat[q[sel]])
    pos = np.full(n, -1, np.int64)
    pos[free] = np.arange(int(free.sum()))
    both = free[a] & free[b]
    m = int(free.sum())
    rows = np.concatenate([pos[a[both]], pos[b[both]], np.arange(m)])
    cols = np.concatenate([pos[b[both]], pos[a[both]], np.arange(m)])
    diag = wt[free] + deg[free] + 1e-9
    vals_m = np.concatenate([-np.ones(2 * int(both.sum())), diag])
    out = flat.copy()
    if m:
        mat = sp.csc_matrix((vals_m, (rows, cols)), shape=(m, m))
        sol = sla.spsolve(mat, rhs[free], permc_spec="MMD_AT_PLUS_A")  # minimum degree on A + Aᵀ: A is symmetric
        out[free] = np.asarray(sol).reshape(m, -1)
    return out.reshape(vals.shape)


#: Coarse-grid data gain: a fully seen coarse texel is pulled to the photo's colour this many times as hard as to
#: one neighbour (about the number of face-cell texels it averages at the default grid), so the photo dominates
#: wherever it has weight and the membrane only bridges the gaps.
DATA_GAIN = 50.0

#: Photo weight from which a texel anchors the membrane: anchors ramp from 0 at this weight to 1 at weight 1, so the
#: membrane continues the well-seen colours and the feathered rim of the projection (where hair, shadow or
#: background may still tint the photo) only enters through the final blend, weighted by its own small weight.
ANCHOR_WEIGHT = 0.5


def membrane_fill(
    color: NDArray[np.float32],
    weight: NDArray[np.float32],
    seam_fade: NDArray[np.float32],
    base: NDArray[np.float32],
    grid: int,
    screening: float,
) -> NDArray[np.float32]:
    """Low-frequency completion of the face cell: the photo's colours continued smoothly to the skin tone at the seam.

    On a ``grid``² area-averaged copy of the cell: data ``v`` = the weight-averaged photo colour with weight
    ``DATA_GAIN · w̄ + screening`` (the screening pulls towards ``base``), Dirichlet ``f = base`` on coarse texels
    outside the chart (``seam_fade`` ≈ 0), then :func:`membrane`; the solution is upsampled (bicubic) and faded to
    ``base`` by ``seam_fade``, so the chart's outer border is exactly ``base`` (the colour of the head cell behind
    it) and colour and brightness continue across the projection boundary instead of stepping to a flat tone.

    Args:
        color: ``(F, F, 3)`` photo colours (mirror-completed), sRGB [0, 1].
        weight: ``(F, F)`` their weights in [0, 1].
        seam_fade: ``(F, F)`` 0 at the chart's outer border, 1 inside (:class:`~headcast.texture.maps.AtlasMaps`).
        base: ``(3,)`` skin tone of the seam and the far field.
        grid: side of the coarse grid (at most ``F``).
        screening: pull towards ``base`` relative to one neighbour link (0: none).

    Returns:
        ``(F, F, 3)`` float32 smooth fill.
    """
    f = weight.shape[0]
    n = max(2, min(int(grid), f))
    base = np.asarray(base, np.float32)
    anchor = np.clip((weight - ANCHOR_WEIGHT) / max(1.0 - ANCHOR_WEIGHT, 1e-6), 0.0, 1.0).astype(np.float32)
    ws = np.asarray(cv2.resize(anchor, (n, n), interpolation=cv2.INTER_AREA), np.float64)
    weighted = (color * anchor[..., None]).astype(np.float32)
    vs = np.asarray(cv2.resize(weighted, (n, n), interpolation=cv2.INTER_AREA), np.float64)
    fade = np.asarray(cv2.resize(seam_fade, (n, n), interpolation=cv2.INTER_AREA), np.float64)
    data = DATA_GAIN * ws + screening
    target = (DATA_GAIN * vs + screening * base) / np.maximum(data, 1e-12)[..., None]
    fixed = fade < 0.05
    target[fixed] = base
    sol = membrane(target, data, fixed).astype(np.float32)
    up = np.asarray(cv2.resize(sol, (f, f), interpolation=cv2.INTER_CUBIC), np.float32)
    return (base + (up - base) * seam_fade[..., None]).astype(np.float32)
