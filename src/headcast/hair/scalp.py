"""The scalp of a head: where hair grows, its UV parametrisation, and the guide-root grid.

Scalp UV (HairNet-style canonical map, documented in DESIGN.md):
    A sphere is fitted to the skull (head vertices above ear level). For a point ``p`` with ``d = p - centre``,
    ``φ = arccos(d̂_y)`` is the angle from straight up and ``ψ = atan2(d_x, d_z)`` the azimuth (0 = facing forward,
    +π/2 = the head's left, +x). The azimuthal-equidistant map ``uv = 0.5 + 0.5 · (φ / φ_max) · (sin ψ, cos ψ)``
    puts the crown at the centre of the unit square, the forehead towards +v and the head's left towards +u.

Scalp region:
    A face/head-neck vertex is scalp when ``φ < φ_hairline(ψ)``. The hairline angle is interpolated over ``|ψ|``
    from five control values: the **front** from the landmarks (the forehead point ``front_height`` brow-to-nose-base
    distances above the brow line, at x = 0; 1.0 by default, measured from the photo when there is one), the
    **temples** (|ψ| = 45°) a little lower, the **sideburns** in front of the ears (|ψ| = 75°, 8° below the
    horizontal through the skull centre), **above the ears** (|ψ| = 100°, 8° above it) and the **nape**
    (|ψ| = 180°, 34° below it), with a knot at |ψ| = 130° between the last two.
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
        temple_drop_deg: hairline angle added at the temples relative to the front, degrees.
        sideburn_phi_deg: hairline polar angle at the sideburns (|ψ| = 75°, in front of the ears), degrees.
        side_phi_deg: hairline polar angle above the ears (|ψ| = 100°), degrees.
        nape_phi_deg: hairline polar angle at the nape, degrees.
        samples: dense surface samples on the scalp (render roots are drawn from them).
        seed: sampling seed.
    """

    temple_drop_deg: float = 8.0
    sideburn_phi_deg: float = 98.0
    side_phi_deg: float = 82.0
    nape_phi_deg: float = 124.0
    samples: int = 30000
    seed: int = 0


@dataclass(frozen=True, eq=False)
class Scalp:
    """Scalp geometry of one head in the model frame.

    Attributes:
        centre: ``(3,)`` skull sphere centre, metres.
        radius: skull sphere radius, metres.
        hairline_phi: ``(5,)`` hairline polar angles (front, temple, sideburn, side, nape), radians.
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


def hairline_phi(psi: NDArray[np.floating], control: NDArray[np.floating]) -> NDArray[np.float64]:
    """Hairline polar angle at azimuths ``psi`` from the (front, temple, sideburn, side, nape) control angles.

    Knots at |ψ| = 0°, 45°, 75°, 100°, 180°, plus 130° halfway between the side and the nape.
    """
    c = np.asarray(control, dtype=np.float64)
    knots = np.deg2rad([0.0, 45.0, 75.0, 100.0, 130.0, 180.0])
    values = np.array([c[0], c[1], c[2], c[3], 0.5 * (c[3] + c[4]) + np.deg2rad(4.0), c[4]])
    return np.interp(np.abs(np.asarray(psi, dtype=np.float64)), knots, values)


def build_scalp(
    model: LinearHeadModel,
    vertices: NDArray[np.floating],
    settings: ScalpSettings | None = None,
    front_height: float = 1.0,
) -> Scalp:
    """Delimit and sample the scalp of a head.

    Args:
        model: the head model (parts, triangles, iBUG-68 landmark vertices).
        vertices: ``(V, 3)`` the head's vertices in the model frame, metres (identity applied).
        settings: hairline shape and sampling.
        front_height: height of the front hairline above the brow line, in brow-to-nose-base distances (1.0 is
            typical; the photo's hairline gives a per-person value).

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
    front_point = np.array([0.0, brow_y + front_height * unit, 0.0])
    # the forehead surface point at that height: the face vertex nearest to the line x = 0, y = front_point.y
    face = v[head_ids]
    near = face[np.argmin(np.abs(face[:, 0]) * 4.0 + np.abs(face[:, 1] - front_point[1]) - 0.01 * face[:, 2])]
    phi_front, _ = scalp_angles(near, centre)
    control = np.array(
        [float(phi_front), float(phi_front) + np.deg2rad(s.temple_drop_deg), np.deg2rad(s.sideburn_phi_deg),
         np.deg2rad(s.side_phi_deg), np.deg2rad(s.nape_phi_deg)]
    )
    pts, nrm, phi, psi, facing = _surface_samples(model, v, s.samples * 3, s.seed, centre)
    keep = phi < hairline_phi(psi, control)
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
