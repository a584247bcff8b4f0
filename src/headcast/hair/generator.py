"""Procedural groom generator: grows guide strands from scalp roots with collisions, then densifies them.

Growth (per guide, vectorised over guides; all in the model frame, metres):

1. Length from the per-region lengths of :class:`~headcast.hair.types.HairParams`, blended by the root's
   direction from the skull centre (squared-cosine weights of front/back/sides/top), ±6 % jitter.
2. Initial direction ``normalize(comb + lift · n)``: the comb direction is the tangential part of "down + away
   from the parting" (front strands are swept back, or forwards for the fringe share; ``part_depth`` blends a
   left/right split at the parting with a sideways comb that fades to zero at it, i.e. no parting);
   ``lift = 0.05 + 1.5·(1 − gravity)^2.5``.
3. Steps of ``length / 99``: the direction bends towards −y with curvature ``κ = 45 · gravity`` (1/m, ramped in over
   the first 2 cm; fringe strands take a gravity of at least ``FRINGE_GRAVITY``), the point is pushed out of the head
   to a clearance that grows from 1.5 mm to ``1.5 mm + volume · layer`` over the first 6 cm (``layer`` ~ U(0.25, 1)
   per strand gives the hair body its thickness; fringe strands at most ``FRINGE_VOLUME``), and points below the
   brow line in front of the cheeks are pushed sideways out of the face.
   Within 1 cm of their clearance layer strands lose ``gravity²`` of the outward part of their direction, so hair
   hugs the head instead of flying off it. Non-fringe front strands also bend backwards (up to 60/m, by how far
   forward the root is), so swept-back hair does not flop over the forehead. Fringe strands stop ``fringe_stop`` ±
   6 mm above the brows (random per strand) and slant sideways by ``fringe_sweep``.
4. Gathered styles (ponytail, bun, braid) comb every strand over the scalp to a gather point at the back of the
   head, then follow a tail whose shape depends on the style (``tail_side``: over a shoulder, beside the neck).
5. Curls (helix of ``curl_radius``) and waves (planar sine of ``waviness``) at ``curl_frequency`` turns per metre,
   ramped in over 3 cm, then one more collision pass.

Densification interpolates the guides' root-relative shapes at dense scalp roots (inverse-distance weights of the 3
nearest guides in scalp UV), pulls tips towards the nearest guide (``clumping``), adds smooth random ``frizz``,
smooths the last part of every strand (``smooth_tips``: no kinked or spiky ends), feathers the ends (lengths
trimmed by ``tip_feather`` × u², u uniform: most strands keep nearly all their length, a few end early, so a lock
thins out towards its end instead of stopping as a blunt brush), keeps the strands out of the face below the brows
(``face_guard_cut``: pushed aside, or ended where the push would exceed 1.5 cm) and pushes everything out of the head
once more.
Everything is deterministic for a seed.
"""

import weakref
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from headcast.hair.scalp import GRID, Scalp
from headcast.hair.sdf import HeadSDF, push_out, sample_sdf
from headcast.hair.types import HairParams, Strands

GUIDE_POINTS = 100
"""Points per guide strand (HairNet: 100)."""
FRINGE_GRAVITY = 0.85
"""The least gravity of fringe strands: a fringe hangs over the forehead even in a style whose hair stands up."""

FRINGE_VOLUME = 0.003
"""The most hair-body thickness (metres) of fringe strands: a fringe lies on the forehead, it is not lifted off it
by the volume of the hair behind (with the style's volume, 1.2 cm, fringes stood off the forehead like a visor)."""


@dataclass(frozen=True)
class GrowSettings:
    """Sampling of the generator.

    Attributes:
        render_strands: number of dense render strands (≥ 10 000 for display).
        render_points: points per render strand.
        guide_points: points per guide while growing (resampled to 100 in ``Strands.guides``; fewer = faster).
        root_clearance: minimum distance of strand points from the scalp, metres.
        tip_feather: the most a render strand is shortened by to feather the ends, share of its length.
        tip_smooth: share of each render strand, from the tip, that ``smooth_tips`` smooths.
        seed: random seed; the same seed and inputs give the same strands.
    """

    render_strands: int = 16000
    render_points: int = 24
    guide_points: int = GUIDE_POINTS
    root_clearance: float = 0.0015
    tip_feather: float = 0.3
    tip_smooth: float = 0.4
    seed: int = 0


def _normalize(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def region_lengths(params: HairParams, directions: NDArray[np.floating]) -> NDArray[np.float64]:
    """Blend the per-region lengths at root directions.

    Args:
        params: generator parameters.
        directions: ``(N, 3)`` unit directions of the roots from the skull centre.

    Returns:
        ``(N,)`` strand lengths, metres.
    """
    d = np.asarray(directions, dtype=np.float64)
    w = np.stack(
        [
            np.clip(d[:, 2], 0, None) ** 2,
            np.clip(-d[:, 2], 0, None) ** 2,
            d[:, 0] ** 2,
            np.clip(d[:, 1], 0, None) ** 2,
        ],
        axis=1,
    )
    lengths = np.array([params.length_front, params.length_back, params.length_sides, params.length_top])
    return (w @ lengths) / np.maximum(w.sum(axis=1), 1e-9)


def is_fringe(params: HairParams, directions: NDArray[np.floating], rand: NDArray[np.floating]) -> NDArray[np.bool_]:
    """``(N,)`` which roots are fringe: the front quarter of the scalp (d_z > 0.2), share ``params.fringe``."""
    d = np.asarray(directions)
    return (d[:, 2] > 0.2) & (np.asarray(rand) < params.fringe)


def comb_directions(
    params: HairParams, roots: NDArray[np.floating], normals: NDArray[np.floating], scalp: Scalp,
    fringe: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Unit tangential comb direction per root: down, away from the parting, front swept back (fringe: forwards).

    Args:
        params: generator parameters.
        roots: ``(N, 3)`` root positions, metres.
        normals: ``(N, 3)`` unit scalp normals.
        scalp: the scalp (centre, radius).
        fringe: ``(N,)`` fringe roots.

    Returns:
        ``(N, 3)`` unit vectors tangent to the scalp.
    """
    r = np.asarray(roots, dtype=np.float64)
    n = np.asarray(normals, dtype=np.float64)
    d = _normalize(r - scalp.centre)
    x_part = params.parting * scalp.radius * 0.5
    side = np.where(r[:, 0] >= x_part, 1.0, -1.0)
    near_part = np.exp(-np.abs(r[:, 0] - x_part) / (0.3 * scalp.radius)) * np.clip(d[:, 1], 0, None)
    front = np.clip(d[:, 2], 0, None)
    vec = np.zeros_like(r)
    vec[:, 1] = np.where(fringe, -1.0, -1.0 + 1.2 * front)
    # a parting splits the hair left/right; without one the sideways comb grows smoothly from the mid-line
    depth = float(np.clip(params.part_depth, 0.0, 1.0))
    smooth = np.clip((r[:, 0] - x_part) / (0.35 * scalp.radius), -1.0, 1.0)
    vec[:, 0] = depth * side * (0.5 + 1.5 * near_part) + (1.0 - depth) * 0.5 * smooth
    # a fringe falls over the forehead instead of following the parting (which would open a V), slanted by
    # ``fringe_sweep``
    vec[:, 0] = np.where(fringe, params.fringe_sweep, vec[:, 0])
    vec[:, 2] = np.where(fringe, 0.35, -2.5 * front - 0.2)
    tangent = vec - np.einsum("nd,nd->n", vec, n)[:, None] * n
    return _normalize(tangent)


def _face_guard(
    points: NDArray[np.float64], scalp: Scalp, side: NDArray[np.float64], top: float = 0.01,
    exempt: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """Push points below ``brow_y + top`` and in front of the cheeks sideways, out of the face.

    The face's half width at a height is interpolated from the jaw landmarks (the widest value above them, up to
    the brows), plus 6 mm. ``side`` (±1, broadcastable) picks the side for points on the mid-plane; ``exempt``
    (broadcastable bool) marks strands left alone (the fringe).
    """
    ys, half = scalp.face_half_width
    y, z = points[..., 1], points[..., 2]
    low = (y < scalp.brow_y + top) & (z > scalp.face_front_z - 0.015)
    if exempt is not None:
        low &= ~exempt
    if not low.any():
        return points
    # only the low points in front of the cheeks can be inside: the face width is looked up for those alone
    at = np.nonzero(low)
    x = points[..., 0][at]
    width = np.interp(y[at], ys, np.maximum.accumulate(half)) + 0.006
    inside = np.abs(x) < width
    if not inside.any():
        return points
    out = points.copy()
    sx = np.where(np.abs(x) > 1e-4, np.sign(x), np.broadcast_to(side, points.shape[:-1])[at])
    xs = out[..., 0]
    xs[tuple(i[inside] for i in at)] = (sx * width)[inside]
    return out


def face_guard_cut(
    points: NDArray[np.floating], scalp: Scalp, side: NDArray[np.float64], top: float = -0.01,
    max_shift: float = 0.015,
) -> NDArray[np.float64]:
    """``_face_guard`` for render strands: a strand that the guard would move far sideways ends there instead.

    The guard pushes points in front of the face out to the face's side. For hair that hangs beside the cheeks
    the push is small; a strand that falls over the middle of the face (an interpolated fringe strand rooted
    lower than its guides, so that it reaches below the brows) would be pushed several centimetres and drawn as a
    horizontal line across the eyes, standing off the temples like a visor seen from the side. Such a strand
    keeps its points before the first one pushed more than ``max_shift`` metres (its tip then ends at the brows,
    as a fringe does; at least 2 mm stay); the others are guarded as ``_face_guard`` does.

    Args:
        points: ``(N, P, 3)`` polylines, root first, metres.
        scalp: gives the face's half width and the brow height.
        side: ``(N, 1)`` or broadcastable ±1, the side for points on the mid-plane.
        top: the guard acts below ``brow_y + top``, metres.
        max_shift: the largest sideways push kept, metres.

    Returns:
        ``(N, P, 3)`` float64 polylines.
    """
    x = np.asarray(points, dtype=np.float64)
    guarded = _face_guard(x, scalp, side, top=top)
    if guarded is x or x.shape[1] < 2:
        return guarded
    far = np.abs(guarded[..., 0] - x[..., 0]) > max_shift
    far[:, 0] = False
    cut = far.any(axis=1)
    if not cut.any():
        return guarded
    first = np.argmax(far[cut], axis=1)
    arc = np.linalg.norm(np.diff(guarded[cut], axis=1), axis=2).sum(axis=1)
    share = np.maximum((first - 1) / (x.shape[1] - 1), np.minimum(0.002 / np.maximum(arc, 1e-9), 1.0))
    out = guarded.copy()
    out[cut] = resample_polylines(guarded[cut], x.shape[1], share)
    return out


def _gather_point(params: HairParams, scalp: Scalp, sdf: HeadSDF) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gather point of an updo at the back of the head and its outward normal."""
    phi = np.deg2rad(125.0 - 80.0 * float(np.clip(params.updo_height, 0, 1)))
    direction = np.array([0.0, np.cos(phi), -np.sin(phi)])
    # march outwards to 1.2 cm outside the head: all 301 steps sampled at once, the first one out is taken
    path = scalp.centre + np.linspace(0.0, 0.3, 301)[:, None] * direction
    out = sample_sdf(sdf, path, with_gradient=False)[0] > 0.012
    return path[int(np.argmax(out)) if out.any() else -1].copy(), direction


def _grow_loose(
    params: HairParams, roots: NDArray[np.float64], normals: NDArray[np.float64], scalp: Scalp, sdf: HeadSDF,
    rng: np.random.Generator, settings: GrowSettings, length_scale: NDArray[np.float64] | None = None,
    volume: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    n_strands = len(roots)
    d_hat = _normalize(roots - scalp.centre)
    lengths = region_lengths(params, d_hat) * rng.uniform(0.94, 1.06, n_strands)
    if length_scale is not None:
        lengths = lengths * length_scale
    fringe = is_fringe(params, d_hat, rng.random(n_strands))
    lengths = np.where(fringe, np.maximum(lengths, 0.09), lengths)
    count = settings.guide_points
    step = lengths / (count - 1)
    comb = comb_directions(params, roots, normals, scalp, fringe)
    # a fringe hangs whatever the rest of the hair does (a quiff's low gravity made its fringe stand out as spikes)
    gravity = np.where(fringe, max(params.gravity, FRINGE_GRAVITY), params.gravity)
    lift = 0.05 + 1.5 * (1.0 - gravity) ** 2.5
    hug = float(np.clip(params.gravity, 0.0, 1.0)) ** 2
    d = _normalize(comb + lift[:, None] * normals)
    layer = rng.uniform(0.25, 1.0, n_strands)
    crown = 1.0 + (params.crown_volume - 1.0) * np.clip(d_hat[:, 1], 0.0, 1.0) ** 2
    vol = (np.full(n_strands, params.volume) if volume is None else volume) * crown
    vol = np.where(fringe, np.minimum(vol, FRINGE_VOLUME), vol)
    stop_y = scalp.brow_y + params.fringe_stop + rng.uniform(-0.006, 0.006, n_strands)
    side = np.where(roots[:, 0] >= 0, 1.0, -1.0)
    kappa = 45.0 * gravity
    # front strands that are not fringe stay swept back (styled hair): a backward pull of up to 60/m
    sweep = np.where(fringe, 0.0, 60.0 * np.clip((d_hat[:, 2] - 0.1) / 0.5, 0.0, 1.0))
    out = np.empty((n_strands, count, 3))
    out[:, 0] = roots
    p = roots.copy()
    active = np.ones(n_strands, dtype=bool)
    all_active, any_fringe = True, bool(fringe.any())
    # what does not depend on the positions, for every step at once (row k − 1 = step k): arc length s, the
    # bend ``κ·step·ramp`` down and ``sweep·step`` back, the clearance; the loop then only does the geometry
    s_all = np.arange(1, count)[:, None] * step
    bend = np.zeros((count - 1, n_strands, 3))
    bend[..., 1] = -(kappa * step * np.clip(s_all / 0.02, 0.0, 1.0))
    bend[..., 2] = -(sweep * step)
    clear_all = settings.root_clearance + vol * layer * np.clip(s_all / 0.06, 0.0, 1.0)
    guard = _FaceGuard(scalp, side, ~fringe)
    step_col = step[:, None]
    for k in range(1, count):
        d = _unit3(d + bend[k - 1])
        q = p + d * step_col
        clearance = clear_all[k - 1]
        dist, grad = sample_sdf(sdf, q)
        assert grad is not None
        normal = _unit3(grad)
        q += np.maximum(clearance - dist, 0.0)[:, None] * normal
        guard.apply(q)
        if any_fringe:
            stop = fringe & (q[:, 1] < stop_y) & (q[:, 2] > scalp.face_front_z - 0.02)
            active &= ~stop
            all_active = bool(active.all())
            if not all_active:
                q = np.where(active[:, None], q, p)
        d_new = _unit3(q - p + 1e-12 * d)
        # strands in the hair layer hug the head: remove (gravity ×) the outward part of the direction
        near = (dist < clearance + 0.01)[:, None]
        outward = np.maximum(np.einsum("nd,nd->n", d_new, normal), 0.0)[:, None]
        d_new = np.where(near, _unit3(d_new - hug * outward * normal), d_new)
        d = d_new if all_active else np.where(active[:, None], d_new, d)
        p = q
        out[:, k] = p
    return out


def _unit3(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """``_normalize`` of ``(N, 3)`` vectors, bit-identical, without ``np.linalg.norm``'s overhead (growth loop)."""
    return v / np.maximum(np.sqrt(np.add.reduce(v * v, axis=1)), 1e-12)[:, None]  # what np.linalg.norm computes


class _FaceGuard:
    """``_face_guard`` for the growth loop (``top`` = 1 cm), set up once and applied in place.

    Same result as ``_face_guard``; only points low and far forward enough are looked at (most strand points are
    above the brows).
    """

    def __init__(self, scalp: Scalp, side: NDArray[np.float64], keep: NDArray[np.bool_]) -> None:
        self.ys, half = scalp.face_half_width
        self.half = np.maximum.accumulate(half)
        self.top_y = scalp.brow_y + 0.01
        self.front_z = scalp.face_front_z - 0.015
        self.side, self.keep = side, keep

    def apply(self, q: NDArray[np.float64]) -> None:
        """Move the guarded points of ``(N, 3)`` ``q`` (one point per strand) sideways, in place."""
        low = (q[:, 1] < self.top_y) & (q[:, 2] > self.front_z) & self.keep
        if not low.any():
            return
        rows = np.flatnonzero(low)
        x = q[rows, 0]
        width = np.interp(q[rows, 1], self.ys, self.half) + 0.006
        inside = np.abs(x) < width
        if not inside.any():
            return
        sx = np.where(np.abs(x) > 1e-4, np.sign(x), self.side[rows])
        q[rows[inside], 0] = (sx * width)[inside]


def _grow_updo(
    params: HairParams, roots: NDArray[np.float64], scalp: Scalp, sdf: HeadSDF, rng: np.random.Generator,
    settings: GrowSettings,
) -> NDArray[np.float64]:
    n_strands = len(roots)
    gather, g_normal = _gather_point(params, scalp, sdf)
    n_head = round(0.45 * settings.guide_points)
    n_tail = settings.guide_points - n_head
    t = np.linspace(0.0, 1.0, n_head)[None, :, None]
    # over the scalp: straight line root → gather point, lifted off the head and pushed out tightly
    path = roots[:, None] * (1 - t) + gather[None, None] * t
    lift = np.sin(np.pi * t) * 0.01
    path = path + lift * _normalize(path - scalp.centre)
    clearance = settings.root_clearance + 0.003 * np.sin(np.pi * t[..., 0]) + 0.001
    for _ in range(3):
        path = push_out(sdf, path, clearance, iterations=2)
    u = np.linspace(0.0, 1.0, n_tail + 1)[1:][None, :, None]
    e1 = np.array([1.0, 0.0, 0.0])
    e2 = _normalize(np.cross(e1, g_normal))
    phase = rng.uniform(0, 2 * np.pi, n_strands)[:, None, None]
    radius = np.sqrt(rng.random(n_strands))[:, None, None]
    length = params.tail_length
    if params.updo == "bun":
        turns = 2.0
        theta = phase + 2 * np.pi * turns * u
        r_bun = 0.03 * (1.0 - 0.55 * u) * (0.6 + 0.4 * radius)
        centre = gather + g_normal * 0.025
        tail = centre + r_bun * (np.cos(theta) * e1 + np.sin(theta) * e2) + g_normal * (0.012 * np.sin(np.pi * u))
    else:
        down = np.array([0.0, -1.0, 0.0])
        back = -np.array([0.0, 0.0, 1.0])
        s = u * length
        centre = gather + s * down * 0.9 + back * (0.04 * (1 - np.exp(-s / 0.04)))
        if params.tail_side != 0.0:  # over a shoulder: swing round beside the neck, forwards to the ear line
            side = float(np.clip(params.tail_side, -1.0, 1.0))
            reach = np.clip(s[..., 0] / 0.12, 0.0, 1.0)
            reach = reach * reach * (3.0 - 2.0 * reach)
            centre = centre.copy()
            centre[..., 0] += side * 0.075 * reach
            centre[..., 2] += abs(side) * reach * (scalp.centre[2] - 0.01 - centre[..., 2])
        spread = 0.010 + 0.010 * u
        offset = spread * radius * (np.cos(phase) * e1 + np.sin(phase) * np.array([0.0, 0.0, 1.0]))
        if params.updo == "braid":
            k = (np.arange(n_strands) % 3)[:, None, None]
            w = 2 * np.pi * s / 0.045
            a = 2 * np.pi * k / 3.0
            width = 0.014 * (1.0 - 0.4 * u)
            offset = 0.35 * offset + width * (np.sin(w + a) * e1 + 0.5 * np.sin(2 * (w + a)) * np.array([0, 0, 1.0]))
        tail = centre + offset
    out = np.concatenate([path, tail], axis=1)
    return push_out(sdf, out, settings.root_clearance, iterations=2)


def _add_curls(
    params: HairParams, strands: NDArray[np.float64], normals: NDArray[np.float64], rng: np.random.Generator,
    skip: int = 0,
) -> NDArray[np.float64]:
    """Helical curls and planar waves, ramped in over 3 cm of arc length (points before ``skip`` untouched)."""
    if params.curl_radius <= 0 and params.waviness <= 0:
        return strands
    seg = np.linalg.norm(np.diff(strands, axis=1), axis=2)
    s = np.concatenate([np.zeros((len(strands), 1)), np.cumsum(seg, axis=1)], axis=1)
    if skip:
        s = np.clip(s - s[:, skip : skip + 1], 0.0, None)
    tangent = _normalize(np.gradient(strands, axis=1))
    b1 = _normalize(np.cross(tangent, normals[:, None, :]) + 1e-9)
    b2 = np.cross(tangent, b1)
    phase = rng.uniform(0, 2 * np.pi, (len(strands), 1))
    theta = 2 * np.pi * params.curl_frequency * s + phase
    ramp = np.clip(s / 0.03, 0.0, 1.0)[..., None]
    offset = params.curl_radius * (np.cos(theta)[..., None] * b1 + np.sin(theta)[..., None] * b2)
    offset = offset + params.waviness * np.sin(theta)[..., None] * b1
    return strands + ramp * offset


def grow_guides(
    params: HairParams, scalp: Scalp, sdf: HeadSDF, settings: GrowSettings | None = None,
    cell_mask: NDArray[np.bool_] | None = None, length_scale: NDArray[np.floating] | None = None,
    volume_map: NDArray[np.floating] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Grow the 32 × 32 guide grid.

    Args:
        params: generator parameters.
        scalp: roots, normals and landmarks-derived limits.
        sdf: head signed distance, for collisions.
        settings: sampling and seed.
        cell_mask: ``(32, 32)`` bool, grow only these cells (e.g. a coarser grid while fitting).
        length_scale: ``(32, 32)`` per-guide length factors on top of the regional lengths (from the photo's
            silhouette, ``reconstruct``); loose styles only.
        volume_map: ``(32, 32)`` per-guide hair-layer thickness in metres replacing ``params.volume`` (from the
            photo's silhouette, ``reconstruct``); loose styles only.

    Returns:
        ``(32, 32, 100, 3)`` float32 guides (zeros where invalid) and the ``(32, 32)`` validity mask.
    """
    s = GrowSettings() if settings is None else settings
    rng = np.random.default_rng(s.seed)
    valid = scalp.guide_valid.copy() if cell_mask is None else scalp.guide_valid & cell_mask
    roots = scalp.guide_roots[valid]
    normals = scalp.guide_normals[valid]
    if params.updo == "none":
        scale = None if length_scale is None else np.asarray(length_scale, dtype=np.float64)[valid]
        vol = None if volume_map is None else np.asarray(volume_map, dtype=np.float64)[valid]
        strands = _grow_loose(params, roots, normals, scalp, sdf, rng, s, scale, vol)
        strands = _add_curls(params, strands, normals, rng)
    else:
        strands = _grow_updo(params, roots, scalp, sdf, rng, s)
        strands = _add_curls(params, strands, normals, rng, skip=round(0.45 * s.guide_points))
    strands = push_out(sdf, strands, s.root_clearance * 0.5, iterations=2)
    if s.guide_points != GUIDE_POINTS:
        strands = resample_polylines(strands, GUIDE_POINTS)
    strands[:, 0] = roots
    guides = np.zeros((GRID, GRID, GUIDE_POINTS, 3), dtype=np.float32)
    guides[valid] = strands
    return guides, valid


def resample_polylines(
    strands: NDArray[np.floating], count: int, extent: NDArray[np.floating] | None = None
) -> NDArray[np.float64]:
    """Resample polylines uniformly in point index (≈ arc length for uniform steps).

    Args:
        strands: ``(N, P, 3)`` polylines.
        count: points per output polyline.
        extent: ``(N,)`` fraction in (0, 1] of each polyline kept (its tip trimmed); whole when None.

    Returns:
        ``(N, count, 3)`` float64.
    """
    x = np.asarray(strands, dtype=np.float64)
    n, p = x.shape[:2]
    if extent is None:  # the same sample positions on every polyline: gather along the point axis
        j0, f1 = _uniform_positions(count, p)
        return np.take(x, j0, axis=1) * (1 - f1) + np.take(x, j0 + 1, axis=1) * f1
    frac = np.asarray(extent, dtype=np.float64)
    pos = np.linspace(0.0, 1.0, count)[None, :] * frac[:, None] * (p - 1)
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, p - 2)
    f = (pos - i0)[..., None]
    lin = (np.arange(n) * p)[:, None] + i0  # flat point index
    flat = x.reshape(n * p, 3)
    return np.take(flat, lin, axis=0) * (1 - f) + np.take(flat, lin + 1, axis=0) * f


@lru_cache(maxsize=64)
def _uniform_positions(count: int, points: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Segment index ``(count,)`` and ``(count, 1)`` fraction of ``count`` uniform samples on ``points`` points."""
    pos = np.linspace(0.0, 1.0, count) * (points - 1)
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, points - 2)
    return i0, (pos - i0)[:, None]


_WeightCache = dict[tuple[bytes, int, int], tuple[NDArray, NDArray, NDArray]]
_WEIGHTS: "weakref.WeakKeyDictionary[Scalp, _WeightCache]" = weakref.WeakKeyDictionary()


def interpolation_weights(
    scalp: Scalp, valid: NDArray[np.bool_], count: int, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Dense root picks, their 3 nearest valid guides (index into ``guides[valid]``) and inverse-distance weights.

    Cached per (scalp, validity mask, count, seed): the fitting loop reuses them for every evaluation.
    """
    cache = _WEIGHTS.setdefault(scalp, {})
    key = (np.asarray(valid).tobytes(), count, seed)
    hit = cache.get(key)
    if hit is not None:
        return hit
    rng = np.random.default_rng(seed + 1)
    cells = (np.arange(GRID) + 0.5) / GRID
    gu, gv = np.meshgrid(cells, cells)
    guide_uv = np.stack([gu, gv], axis=-1)[valid]
    tree = cKDTree(guide_uv)
    near, _ = tree.query(scalp.uv, k=1)
    pool = np.flatnonzero(near < 1.5 / GRID)
    pick = rng.choice(pool, size=count, replace=len(pool) < count)
    k = min(3, len(guide_uv))
    dist, idx = tree.query(scalp.uv[pick], k=k)
    dist, idx = dist.reshape(count, k), idx.reshape(count, k)
    w = 1.0 / (dist + 0.2 / GRID) ** 2
    w /= w.sum(axis=1, keepdims=True)
    if len(cache) > 16:
        cache.clear()
    cache[key] = (pick, idx, w)
    return pick, idx, w


def interpolate_strands(
    guides: NDArray[np.floating], valid: NDArray[np.bool_], scalp: Scalp, sdf: HeadSDF | None, params: HairParams,
    settings: GrowSettings | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Dense render strands from the guide grid (see the module docstring).

    Args:
        guides: ``(32, 32, 100, 3)`` guide grid, metres.
        valid: ``(32, 32)`` validity.
        scalp: dense roots come from ``scalp.points``.
        sdf: head signed distance, for a last collision pass (skipped when None).
        params: clumping and frizz are read from it.
        settings: counts and seed.

    Returns:
        ``(N, P, 3)`` float32 render strands and ``(N, 2)`` float32 root UVs.
    """
    s = GrowSettings() if settings is None else settings
    rng = np.random.default_rng(s.seed + 1)
    g = np.asarray(guides, dtype=np.float64)[valid]
    if len(g) == 0:
        return np.zeros((0, s.render_points, 3), np.float32), np.zeros((0, 2), np.float32)
    g = resample_polylines(g, s.render_points)
    pick, idx, w = interpolation_weights(scalp, valid, s.render_strands, s.seed)
    roots, uv = scalp.points[pick], scalp.uv[pick]
    n, p, k = len(pick), s.render_points, idx.shape[1]
    rel = (g - g[:, :1]).reshape(len(g), -1)
    # inverse-distance blend of the k nearest guides' root-relative shapes: a sparse (N × G) matrix product
    blend = csr_matrix((w.ravel(), idx.ravel(), np.arange(0, n * k + 1, k)), shape=(n, len(g)))
    pts = (blend @ rel).reshape(n, p, 3)
    pts += roots[:, None]
    t = np.linspace(0.0, 1.0, p)[None, :, None]
    nearest = np.take(g, idx[:, 0], axis=0)
    clump_target = (roots - nearest[:, 0])[:, None] * ((1.0 - t) * 0.35)
    clump_target += nearest
    clump_target -= pts
    clump_target *= params.clumping * t**1.5 * 0.85
    pts += clump_target
    if params.frizz > 0:
        noise = rng.normal(size=pts.shape)
        for _ in range(2):
            noise[:, 1:-1] = 0.25 * noise[:, :-2] + 0.5 * noise[:, 1:-1] + 0.25 * noise[:, 2:]
        noise *= params.frizz * 2.0 * t**2
        pts += noise
    pts = smooth_tips(pts, s.tip_smooth)
    pts = resample_polylines(pts, s.render_points, 1.0 - s.tip_feather * rng.random(len(pts)) ** 2)
    side = np.where(roots[:, 0] >= 0, 1.0, -1.0)[:, None]
    pts = face_guard_cut(pts, scalp, side, top=-0.01)
    if sdf is not None:
        pts = push_out(sdf, pts, s.root_clearance * 0.5, iterations=4)
    pts[:, 0] = roots
    return pts.astype(np.float32), uv.astype(np.float32)


def smooth_tips(strands: NDArray[np.floating], share: float = 0.4, iterations: int = 4) -> NDArray[np.float64]:
    """Smooth the last ``share`` of each polyline: no kinks or spikes at the tips, the roots and shafts untouched.

    Each iteration moves every inner point towards the mean of its two neighbours and the tip towards the straight
    continuation of its last segment but one (``2 p[−2] − p[−3]``), by a weight that rises smoothly from 0 at
    ``1 − share`` of the point index to 0.5 at the tip (a Laplacian filter with a smoothstep ramp).

    Args:
        strands: ``(N, P, 3)`` polylines, root first, P ≥ 3.
        share: the part of each polyline that is smoothed, from the tip, in [0, 1].
        iterations: filter passes.

    Returns:
        ``(N, P, 3)`` polylines.
    """
    x = np.array(strands, dtype=np.float64)
    p = x.shape[1]
    if share <= 0 or p < 3:
        return x
    t = np.clip((np.linspace(0.0, 1.0, p) - (1.0 - share)) / share, 0.0, 1.0)
    w = (0.5 * t * t * (3.0 - 2.0 * t))[None, :, None]
    for _ in range(iterations):
        target = x.copy()
        target[:, 1:-1] = 0.5 * (x[:, :-2] + x[:, 2:])
        target[:, -1] = 2.0 * x[:, -2] - x[:, -3]
        x += w * (target - x)
    return x


def make_strands(
    params: HairParams, scalp: Scalp, sdf: HeadSDF, settings: GrowSettings | None = None, name: str = "custom",
    root_color: tuple[float, float, float] = (0.25, 0.17, 0.11),
    tip_color: tuple[float, float, float] | None = None,
    length_scale: NDArray[np.floating] | None = None,
    volume_map: NDArray[np.floating] | None = None,
) -> Strands:
    """Grow guides and densify them into a :class:`Strands` value (see the module docstring and ``grow_guides``)."""
    s = GrowSettings() if settings is None else settings
    guides, valid = grow_guides(params, scalp, sdf, s, length_scale=length_scale, volume_map=volume_map)
    points, uv = interpolate_strands(guides, valid, scalp, sdf, params, s)
    tip = root_color if tip_color is None else tip_color
    return Strands(guides, valid, points, uv, tuple(root_color), tuple(tip), name, params)  # type: ignore[arg-type]
