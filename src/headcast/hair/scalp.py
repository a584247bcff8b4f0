"""The scalp of a head: where hair grows, its UV parametrisation, and the guide-root grid.

Scalp UV (HairNet-style canonical map, documented in DESIGN.md):
    A sphere is fitted to the skull (head vertices above ear level). For a point ``p`` with ``d = p - centre``,
    ``φ = arccos(d̂_y)`` is the angle from straight up and ``ψ = atan2(d_x, d_z)`` the azimuth (0 = facing forward,
    +π/2 = the head's left, +x). The azimuthal-equidistant map ``uv = 0.5 + 0.5 · (φ / φ_max) · (sin ψ, cos ψ)``
    puts the crown at the centre of the unit square, the forehead towards +v and the head's left towards +u.

Scalp region:
    A face/head-neck vertex is scalp when ``φ < φ_hairline(ψ)``. The hairline angle is interpolated linearly over
    ``|ψ|`` between knots placed by the head's own landmarks: the **front** (ψ = 0; the forehead point
    ``front_height`` brow-to-nose-base distances above the brow line, at x = 0; 1.0 by default, measured from the
    photo when there is one), the **temple** corner above the outer brow ends (landmarks 17/26; a little lower),
    the **sideburn** in front of the ear (14° of ψ behind the jaw contour's top, landmarks 0/16, which lies on the
    cheek about 2.5 cm ahead of the ear; 4° of φ below that landmark), the **front of the ear** (7° further back)
    where the line rises **over the ear** (8° above the landmark, whose height is about the ear's top; held to
    |ψ| = 118°, the ear's back), then down behind the ear (|ψ| = 132°, 6° below the landmark) to the **nape**
    (|ψ| = 180°, 24° below it). Where a photo shows the hairline, the scalp read off it
    (``hair.hairline.photo_scalp``: the surface the photo shows as hair or skin) replaces that curve.
"""

import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from headcast.hair.sdf import sample_surface
from headcast.headmodel.base import LinearHeadModel

GRID = 32
"""Guide grid side (HairNet: 32 × 32 roots)."""
PHI_MAX = np.deg2rad(130.0)
"""Polar angle mapped to the UV disc's rim."""


@dataclass(frozen=True)
class ScalpSettings:
    """How the scalp is delimited and sampled.

    Attributes:
        temple_drop_deg: hairline angle added at the temples (above the outer brow ends) relative to the front,
            degrees.
        sideburn_behind_deg: how far behind the jaw contour's top (landmarks 0/16) the sideburn knot lies, degrees
            of ψ (the ear's front is ``ear_gap_deg`` further back).
        sideburn_below_deg: how far below the jaw contour's top the sideburn ends, degrees of φ.
        ear_gap_deg: ψ from the sideburn to the front of the ear, where the hairline rises over the ear.
        ear_back_deg: |ψ| of the back of the ear, degrees.
        over_ear_deg: how far above the jaw contour's top the hairline passes over the ear, degrees of φ (the top
            of the ear is at about that landmark's height).
        behind_ear_deg: the hairline behind the ear (|ψ| = 132°), degrees of φ below the jaw contour's top.
        nape_deg: the hairline at the nape (|ψ| = 180°), degrees of φ below the jaw contour's top.
        samples: dense surface samples on the scalp (render roots are drawn from them).
        seed: sampling seed.
    """

    temple_drop_deg: float = 8.0
    sideburn_behind_deg: float = 14.0
    sideburn_below_deg: float = 4.0
    ear_gap_deg: float = 7.0
    ear_back_deg: float = 118.0
    over_ear_deg: float = 8.0
    behind_ear_deg: float = 6.0
    nape_deg: float = 24.0
    samples: int = 30000
    seed: int = 0


@dataclass(frozen=True, eq=False)
class Scalp:
    """Scalp geometry of one head in the model frame.

    Attributes:
        centre: ``(3,)`` skull sphere centre, metres.
        radius: skull sphere radius, metres.
        hairline_phi: ``(2, K)`` the default hairline's knots: ``|ψ|`` (ascending, 0 to π) and the polar angle
            φ there, radians (front, temple, sideburn, ear front, over the ear, behind the ear, nape).
        points: ``(S, 3)`` dense surface samples on the scalp, metres.
        normals: ``(S, 3)`` their outward unit normals.
        uv: ``(S, 2)`` their scalp UVs.
        guide_roots: ``(32, 32, 3)`` root per guide cell (row = v index, column = u index), metres.
        guide_normals: ``(32, 32, 3)`` unit normals at the guide roots.
        guide_valid: ``(32, 32)`` bool, False where the cell lies off the scalp.
        brow_y: height of the brow line, metres (fringes stop there).
        face_half_width: ``(2, K)`` rows (y, half width) of the face outline from the jaw landmarks, metres.
        face_front_z: z of the cheeks' front (hair in front of it and below the brows is pushed aside), metres.
    """

    centre: NDArray[np.float64]
    radius: float
    hairline_phi: NDArray[np.float64]
    points: NDArray[np.float64]
    normals: NDArray[np.float64]
    uv: NDArray[np.float64]
    guide_roots: NDArray[np.float64]
    guide_normals: NDArray[np.float64]
    guide_valid: NDArray[np.bool_]
    brow_y: float
    face_half_width: NDArray[np.float64]
    face_front_z: float


def head_surface_triangles(model: LinearHeadModel, vertices: NDArray[np.floating] | None = None) -> NDArray[np.int32]:
    """``(T', 3)`` triangles of the head's outer surface: the ``face`` and ``head_neck`` parts above the shoulders.

    The ICT bust ends in two flat shoulder stubs; strands sliding over their cut edge flared out sideways, so
    triangles lying entirely more than 4 cm below the chin and more than 7 cm from the mid-plane are left out
    (the neck stays). ``vertices`` (``(V, 3)``, metres) locate the chin; the template is used when None.
    """
    v = model.template if vertices is None else np.asarray(vertices)
    mask = model.part_mask("face", "head_neck")
    chin_y = float(v[model.landmarks68[8], 1])
    shoulder = (v[:, 1] < chin_y - 0.04) & (np.abs(v[:, 0]) > 0.07)
    keep = mask[model.triangles].all(axis=1) & ~shoulder[model.triangles].all(axis=1)
    return model.triangles[keep]


def fit_sphere(points: NDArray[np.floating]) -> tuple[NDArray[np.float64], float]:
    """Least-squares sphere through points (algebraic fit: ``|p|² = 2 c·p + (r² − |c|²)``).

    Args:
        points: ``(N, 3)``, N ≥ 4.

    Returns:
        centre ``(3,)`` and radius.
    """
    p = np.asarray(points, dtype=np.float64)
    a = np.concatenate([2.0 * p, np.ones((len(p), 1))], axis=1)
    b = (p**2).sum(axis=1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    c = sol[:3]
    return c, float(np.sqrt(sol[3] + c @ c))


def scalp_angles(points: NDArray[np.floating], centre: NDArray[np.floating]) -> tuple[NDArray, NDArray]:
    """Polar angle φ from +y and azimuth ψ (0 = +z, +π/2 = +x) of points about ``centre``; ``(...,)`` each."""
    d = np.asarray(points, dtype=np.float64) - centre
    r = np.maximum(np.linalg.norm(d, axis=-1), 1e-12)
    phi = np.arccos(np.clip(d[..., 1] / r, -1.0, 1.0))
    psi = np.arctan2(d[..., 0], d[..., 2])
    return phi, psi


def scalp_uv(points: NDArray[np.floating], centre: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(..., 2)`` scalp UVs of points (see the module docstring)."""
    phi, psi = scalp_angles(points, centre)
    rho = 0.5 * phi / PHI_MAX
    return np.stack([0.5 + rho * np.sin(psi), 0.5 + rho * np.cos(psi)], axis=-1)


def uv_direction(uv: NDArray[np.floating]) -> NDArray[np.float64]:
    """Inverse of the UV map's angular part: ``(..., 2)`` UVs → ``(..., 3)`` unit directions from the centre."""
    q = np.asarray(uv, dtype=np.float64) - 0.5
    rho = np.linalg.norm(q, axis=-1)
    phi = 2.0 * rho * PHI_MAX
    psi = np.arctan2(q[..., 0], q[..., 1])
    s = np.sin(phi)
    return np.stack([s * np.sin(psi), np.cos(phi), s * np.cos(psi)], axis=-1)


def hairline_phi(psi: NDArray[np.floating], knots: NDArray[np.floating]) -> NDArray[np.float64]:
    """Hairline polar angle at azimuths ``psi``: linear in ``|ψ|`` between ``knots`` (``(2, K)``: |ψ|, φ; radians)."""
    k = np.asarray(knots, dtype=np.float64)
    return np.interp(np.abs(np.asarray(psi, dtype=np.float64)), k[0], k[1])


def hairline_knots(
    model: LinearHeadModel, vertices: NDArray[np.floating], centre: NDArray[np.floating], phi_front: float,
    settings: "ScalpSettings | None" = None, phi_temple: float | None = None, phi_sideburn: float | None = None,
) -> NDArray[np.float64]:
    """``(2, 7)`` the default hairline's knots (module docstring), placed by the head's landmarks.

    Args:
        model: the head model (iBUG-68 landmark vertices).
        vertices: ``(V, 3)`` the head's vertices, metres.
        centre: ``(3,)`` skull centre.
        phi_front: the front hairline's polar angle (``front_phi``), radians.
        settings: the knots' offsets.
        phi_temple: the temple's polar angle instead of ``phi_front`` + the temple drop.
        phi_sideburn: the sideburn's polar angle instead of the jaw top's plus ``sideburn_below_deg``.
    """
    s = ScalpSettings() if settings is None else settings
    lm = np.asarray(vertices, dtype=np.float64)[model.landmarks68]
    _, psi_brow = scalp_angles(lm[[17, 26]], centre)
    phi_jaw, psi_jaw = scalp_angles(lm[[0, 16]], centre)
    brow = float(np.mean(np.abs(psi_brow)))
    jaw, jaw_phi = float(np.mean(np.abs(psi_jaw))), float(np.mean(phi_jaw))
    d = np.deg2rad
    side = jaw_phi - d(s.over_ear_deg)
    sideburn = jaw + d(s.sideburn_behind_deg)
    psi = np.array([0.0, brow, sideburn, sideburn + d(s.ear_gap_deg), d(s.ear_back_deg), d(132.0), np.pi])
    psi = np.maximum.accumulate(np.maximum(psi, np.arange(7) * 1e-3))  # ascending even on an odd head
    phi = np.array([
        phi_front, phi_front + d(s.temple_drop_deg) if phi_temple is None else phi_temple,
        jaw_phi + d(s.sideburn_below_deg) if phi_sideburn is None else phi_sideburn, side, side,
        jaw_phi + d(s.behind_ear_deg), jaw_phi + d(s.nape_deg),
    ])
    return np.stack([psi, phi])


def front_phi(
    model: LinearHeadModel, vertices: NDArray[np.floating], centre: NDArray[np.floating], front_height: float
) -> float:
    """Polar angle about ``centre`` of the forehead point ``front_height`` brow-to-nose-base distances above the brows.

    The point is the face vertex nearest to the line x = 0 at that height (``build_scalp``'s front control value).
    """
    v = np.asarray(vertices, dtype=np.float64)
    lm = v[model.landmarks68]
    brow_y = float(lm[17:27, 1].mean())
    unit = brow_y - float(lm[33, 1])
    face = v[model.part_mask("face", "head_neck")]
    y = brow_y + front_height * unit
    near = face[np.argmin(np.abs(face[:, 0]) * 4.0 + np.abs(face[:, 1] - y) - 0.01 * face[:, 2])]
    phi, _ = scalp_angles(near, centre)
    return float(phi)


def build_scalp(
    model: LinearHeadModel,
    vertices: NDArray[np.floating],
    settings: ScalpSettings | None = None,
    front_height: float = 1.0,
    photo_keep: NDArray[np.bool_] | None = None,
) -> Scalp:
    """Delimit and sample the scalp of a head.

    Args:
        model: the head model (parts, triangles, iBUG-68 landmark vertices).
        vertices: ``(V, 3)`` the head's vertices in the model frame, metres (identity applied).
        settings: hairline shape and sampling.
        front_height: height of the front hairline above the brow line, in brow-to-nose-base distances (1.0 is
            typical; the photo's hairline gives a per-person value).
        photo_keep: ``(S,)`` which of the candidate samples (``candidate_samples``) are scalp, read off the photo
            (``hair.hairline.photo_scalp``); replaces the control-point curve (``control`` still records it).

    Returns:
        The scalp with its dense samples and the 32 × 32 guide-root grid.
    """
    s = ScalpSettings() if settings is None else settings
    v = np.asarray(vertices, dtype=np.float64)
    lm = v[model.landmarks68]
    brow_y = float(lm[17:27, 1].mean())
    nose_base_y = float(lm[33, 1])
    unit = brow_y - nose_base_y  # brow to nose base, ~5 cm
    ear_y = float(lm[[0, 16], 1].mean())
    head_ids = np.flatnonzero(model.part_mask("face", "head_neck"))
    skull = v[head_ids][v[head_ids, 1] > ear_y + 0.2 * unit]
    centre, radius = fit_sphere(skull)
    phi_front = front_phi(model, v, centre, front_height)
    control = hairline_knots(model, v, centre, phi_front, s)
    pts, nrm, phi, psi, facing = _surface_samples(model, v, s.samples * 3, s.seed, centre)
    keep = phi < hairline_phi(psi, control) if photo_keep is None else np.asarray(photo_keep, dtype=bool).copy()
    # outward-facing only: drop samples whose normal points towards the centre (inner folds, ear backs)
    keep &= facing
    pts, nrm = pts[keep][: s.samples], nrm[keep][: s.samples]
    uv = scalp_uv(pts, centre)
    cells = (np.arange(GRID) + 0.5) / GRID
    gu, gv = np.meshgrid(cells, cells)  # (row = v, column = u)
    cell_uv = np.stack([gu, gv], axis=-1)
    dist, idx = cKDTree(uv).query(cell_uv.reshape(-1, 2), k=1)
    valid = (dist < 0.75 / GRID).reshape(GRID, GRID)
    roots = pts[idx].reshape(GRID, GRID, 3)
    normals = nrm[idx].reshape(GRID, GRID, 3)
    jaw = lm[0:17]
    order = np.argsort(jaw[:, 1])
    face_width = np.stack([jaw[order, 1], np.abs(jaw[order, 0])])
    face_front_z = float(np.median(lm[[1, 2, 14, 15], 2]))
    return Scalp(centre, radius, control, pts, nrm, uv, roots, normals, valid, brow_y, face_width, face_front_z)


_Samples = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]
_SAMPLES: dict[tuple[int, int, int, int], tuple["weakref.ReferenceType[NDArray[np.float64]]", _Samples]] = {}


def candidate_samples(
    model: LinearHeadModel, vertices: NDArray[np.floating], centre: NDArray[np.floating],
    settings: ScalpSettings | None = None,
) -> _Samples:
    """The head-surface samples ``build_scalp`` chooses the scalp from (the same cached samples).

    Returns:
        points and normals ``(S, 3)``, φ and ψ ``(S,)`` about ``centre`` (the scalp's skull centre), and whether
        each normal points away from it ``(S,)``.
    """
    s = ScalpSettings() if settings is None else settings
    v = np.asarray(vertices, dtype=np.float64)  # as build_scalp has it: the same array hits the samples' cache
    return _surface_samples(model, v, s.samples * 3, s.seed, np.asarray(centre, dtype=np.float64))


def _surface_samples(
    model: LinearHeadModel, v: NDArray[np.float64], count: int, seed: int, centre: NDArray[np.float64],
) -> _Samples:
    """Surface samples of the head (points, normals, φ, ψ about ``centre``, outward-facing) for ``build_scalp``.

    They depend on the vertices only (the skull centre is fitted to them), not on the hairline: a head whose
    scalp is rebuilt for another front height (``head.with_front_height``, tried while fitting) reuses them. Kept
    for the last few vertex arrays, by identity (an array changed in place would not be noticed).
    """
    key = (id(v), id(model), count, seed)
    entry = _SAMPLES.get(key)
    if entry is not None and entry[0]() is v:
        return entry[1]
    pts, nrm, _ = sample_surface(v, head_surface_triangles(model, v), count, seed)
    phi, psi = scalp_angles(pts, centre)
    value = (pts, nrm, phi, psi, np.einsum("nd,nd->n", nrm, pts - centre) > 0.0)
    if len(_SAMPLES) >= 4:
        _SAMPLES.clear()
    _SAMPLES[key] = (weakref.ref(v), value)
    return value


_TREES: "weakref.WeakKeyDictionary[Scalp, dict[str, cKDTree]]" = weakref.WeakKeyDictionary()


def scalp_tree(scalp: Scalp, kind: str) -> cKDTree:
    """KD-tree of the scalp samples' ``"points"`` (model frame) or ``"uv"`` (scalp UV), built once per scalp.

    Try-on aligns and re-roots every groom on the same head: the trees are reused across styles.
    """
    trees = _TREES.setdefault(scalp, {})
    tree = trees.get(kind)
    if tree is None:
        data = {"points": scalp.points, "uv": scalp.uv}[kind]
        tree = trees[kind] = cKDTree(data)
    return tree
