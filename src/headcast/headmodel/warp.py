"""The outline warp of a rest mesh: a smooth radial displacement in the plane facing the photo's camera.

:mod:`headcast.fitting.outline` measures it (where the photo's skull and ear outline lies beyond or inside the
fitted mesh's); this module holds its numbers and evaluates it, so every stage that builds the head's vertices
(:func:`headcast.headmodel.base.head_vertices`, the hair's head, the exports) applies the same displacement::

    p = (X − c) − ((X − c)·a) a              X's offset from the centre c in the plane ⟂ the view axis a
    φ = atan2(p·(a × u), p·u),  r = |p|      its angle from the plane's up u and its radius
    X' = X + s(φ) · w_r(r / R(φ)) · w_f(X) · p / r

``s(φ)`` interpolates the per-ray shifts (metres) over their angles and falls to 0 one ray spacing beyond the
ends; ``R(φ)`` is the rest mesh's own skin silhouette radius at ``φ`` (the largest radius in its angular bin);
``w_r`` is a smoothstep from ``inner`` to 1 (the middle of the face does not move); ``w_f`` is 0 within
``anchor_near`` of the face's anchor vertices (:func:`headcast.headmodel.base.face_anchor_vertices`: the face the
landmarks fit) and 1 beyond ``anchor_far``.

The ears move on their own (a template's ears often sit inside the photo's, and the face anchors hold them)::

    X' += e_k · g_k(X) · d_k                 k = the model's +x and −x ear

``e_k`` is the ear's shift (metres), ``g_k`` a Gaussian of the template distance to the ear's outermost vertex
(σ = ``ear_sigma``; :func:`headcast.headmodel.base.ear_weights`) and ``d_k`` the in-plane direction from the centre
to that vertex. Everything is a function of the identity's rest mesh (expression 0) and these numbers; the
displacement is added before expression and skinning.
"""

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

ANGLE_BINS = 120
"""Angular bins of the silhouette radius ``R(φ)`` (3° each)."""


@dataclass(frozen=True, eq=False)
class OutlineWarp:
    """The numbers of one outline warp (module docstring), model frame.

    Attributes:
        centre: ``(3,)`` the plane's centre (between the outer eye corners), metres.
        axis: ``(3,)`` unit normal of the plane (towards the photo's camera).
        up: ``(3,)`` unit "up" in the plane (⟂ ``axis``).
        angles: ``(R,)`` increasing ray angles ``φ`` from ``up``, radians.
        shifts: ``(R,)`` radial shift at the silhouette per angle, metres (+ outward).
        inner: ``w_r`` is 0 below this fraction of the silhouette radius.
        anchor_near: ``w_f`` is 0 within this distance of a face anchor, metres.
        anchor_far: ``w_f`` is 1 beyond this distance, metres.
        ear_shifts: ``(2,)`` shift of the model's +x and −x ear, metres (+ outward).
        ear_sigma: σ of the ears' Gaussian weights, metres.
    """

    centre: NDArray[np.float64]
    axis: NDArray[np.float64]
    up: NDArray[np.float64]
    angles: NDArray[np.float64]
    shifts: NDArray[np.float64]
    inner: float = 0.55
    anchor_near: float = 0.01
    anchor_far: float = 0.035
    ear_shifts: NDArray[np.float64] = field(default_factory=lambda: np.zeros(2))
    ear_sigma: float = 0.012

    def __post_init__(self) -> None:
        for name in ("centre", "axis", "up"):
            if np.shape(getattr(self, name)) != (3,):
                raise ValueError(f"OutlineWarp.{name} must be a 3-vector, got shape {np.shape(getattr(self, name))}")
        if np.shape(self.angles) != np.shape(self.shifts) or np.ndim(self.angles) != 1:
            raise ValueError("OutlineWarp.angles and shifts must be 1-D arrays of one length")
        if len(self.angles) > 1 and not np.all(np.diff(self.angles) > 0):
            raise ValueError("OutlineWarp.angles must increase")
        if not 0.0 <= self.inner < 1.0 or not 0.0 <= self.anchor_near < self.anchor_far:
            raise ValueError("OutlineWarp needs 0 ≤ inner < 1 and 0 ≤ anchor_near < anchor_far")
        if np.shape(self.ear_shifts) != (2,) or not self.ear_sigma > 0:
            raise ValueError("OutlineWarp needs two ear shifts and ear_sigma > 0")
        if not all(np.all(np.isfinite(np.asarray(getattr(self, n), dtype=np.float64)))
                   for n in ("centre", "axis", "up", "angles", "shifts", "ear_shifts")):
            raise ValueError("OutlineWarp numbers must be finite")


def plane_coords(
    points: NDArray[np.floating], warp: OutlineWarp
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Angle ``φ`` (radians from the plane's up), radius ``r`` and in-plane offset ``p`` of ``(N, 3)`` points."""
    x = np.asarray(points, dtype=np.float64) - warp.centre
    a = warp.axis
    p = x - np.outer(x @ a, a)
    side = np.cross(a, warp.up)
    phi = np.arctan2(p @ side, p @ warp.up)
    return phi, np.linalg.norm(p, axis=1), p


def angle_bin(phi: NDArray[np.float64], bins: int = ANGLE_BINS) -> NDArray[np.int64]:
    """The bin of each angle over ``[−π, π)``."""
    return np.clip(((np.asarray(phi) + np.pi) / (2 * np.pi) * bins).astype(np.int64), 0, bins - 1)


def silhouette_radius(phi: NDArray[np.float64], r: NDArray[np.float64], bins: int = ANGLE_BINS) -> NDArray[np.float64]:
    """``(bins,)`` the largest ``r`` per angular bin (:func:`angle_bin`); empty bins take their neighbours'."""
    out = np.full(bins, np.nan)
    np.fmax.at(out, angle_bin(phi, bins), np.asarray(r, dtype=np.float64))
    good = np.isfinite(out)
    if not good.any():
        return np.ones(bins)
    centres = np.arange(bins, dtype=np.float64)
    return np.interp(centres, centres[good], out[good], period=bins)


def shift_profile(phi: NDArray[np.float64], warp: OutlineWarp) -> NDArray[np.float64]:
    """``s(φ)``: the shifts interpolated over the angles, falling to 0 one ray spacing beyond either end."""
    ang = np.asarray(warp.angles, dtype=np.float64)
    if len(ang) == 0:
        return np.zeros(np.shape(phi))
    step = float(np.median(np.diff(ang))) if len(ang) > 1 else np.deg2rad(5.0)
    knots = np.concatenate([[ang[0] - step], ang, [ang[-1] + step]])
    values = np.concatenate([[0.0], np.asarray(warp.shifts, dtype=np.float64), [0.0]])
    return np.interp(phi, knots, values, left=0.0, right=0.0)


def warp_offsets(
    rest: NDArray[np.floating],
    warp: OutlineWarp,
    skin: NDArray[np.integer],
    freedom: NDArray[np.floating],
    ears: NDArray[np.integer],
    ear_weight: NDArray[np.floating],
) -> NDArray[np.float64]:
    """``(V, 3)`` the warp's displacement of the identity's rest mesh, metres.

    Args:
        rest: ``(V, 3)`` the identity's rest mesh (expression 0), model frame.
        warp: the warp.
        skin: the skin vertices whose outermost radius per angle is the silhouette ``R(φ)``.
        freedom: ``(V,)`` ``w_f`` per vertex (:func:`headcast.headmodel.base.anchor_freedom`).
        ears: ``(2,)`` the +x and −x ear's outermost vertex (:func:`headcast.headmodel.base.ear_vertices`).
        ear_weight: ``(2, V)`` ``g_k`` per vertex.
    """
    phi, r, p = plane_coords(rest, warp)
    radius = silhouette_radius(phi[skin], r[skin])[angle_bin(phi)]
    t = np.clip((r / np.maximum(radius, 1e-9) - warp.inner) / (1.0 - warp.inner), 0.0, 1.0)
    w_r = t * t * (3.0 - 2.0 * t)
    w_f = np.asarray(freedom, dtype=np.float64)
    unit = p / np.maximum(r, 1e-9)[:, None]
    out = (shift_profile(phi, warp) * w_r * w_f)[:, None] * unit
    for k in range(2):
        if warp.ear_shifts[k] != 0.0:
            d = p[int(ears[k])] / max(float(r[int(ears[k])]), 1e-9)
            out += (warp.ear_shifts[k] * np.asarray(ear_weight[k], dtype=np.float64))[:, None] * d
    return out


PACKED_HEADER = 15
"""Leading numbers of :func:`pack_warp`: centre, axis, up (3 each), inner, anchor_near, anchor_far, the two ear
shifts and ear_sigma."""


def pack_warp(warp: OutlineWarp | None) -> NDArray[np.float64]:
    """The warp as one vector: the :data:`PACKED_HEADER` numbers, angles, shifts (None: empty)."""
    if warp is None:
        return np.zeros(0)
    head = [warp.centre, warp.axis, warp.up, [warp.inner, warp.anchor_near, warp.anchor_far], warp.ear_shifts,
            [warp.ear_sigma]]
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in (*head, warp.angles, warp.shifts)])


def unpack_warp(packed: NDArray[np.floating]) -> OutlineWarp | None:
    """Inverse of :func:`pack_warp`.

    Raises:
        ValueError: the vector is not a packed warp (wrong length or invalid numbers).
    """
    v = np.asarray(packed, dtype=np.float64).ravel()
    if v.size == 0:
        return None
    if v.size < PACKED_HEADER or (v.size - PACKED_HEADER) % 2:
        raise ValueError(f"a packed outline warp has {PACKED_HEADER} + 2·R numbers, got {v.size}")
    n = (v.size - PACKED_HEADER) // 2
    h = PACKED_HEADER
    return OutlineWarp(
        centre=v[0:3], axis=v[3:6], up=v[6:9], angles=v[h : h + n], shifts=v[h + n :],
        inner=float(v[9]), anchor_near=float(v[10]), anchor_far=float(v[11]), ear_shifts=v[12:14],
        ear_sigma=float(v[14]),
    )
