"""Stand-in FLAME model files: FLAME's real pickle layouts on the CC-BY template's topology, with made-up contents.

No FLAME model file may enter the repository or the test machines, so headcast's FLAME support is developed against
files that have the real file's structure and contents of our own. Two builders give the arrays
(:class:`SyntheticFlame`), two writers the file layouts.

:func:`build_synthetic_flame` — random contents, for the loader and LBS tests:

- topology and template vertices: the CC-BY ``template.ply`` (5,023 vertices, 9,976 triangles, metres);
- ``shapedirs`` (5023, 3, 400): random orthonormal directions (QR) scaled to millimetre RMS displacements, the first
  300 "identity", the last 100 "expression" — every vertex moves independently, so a photo fit to it is meaningless;
- kintree: global (root) → neck → jaw, neck → eye_left, neck → eye_right;
- ``J_regressor`` (:func:`flame_joint_regressor`): each row an average of a few vertices (neck-base ring, jaw sides,
  each eyeball);
- ``weights`` (:func:`flame_skinning_weights`): smooth, with exact zeros (each eyeball rigid to its eye, a jaw
  region, the neck base to the root);
- ``posedirs``: small random offsets (0.2 mm per unit of the pose feature).

:func:`build_standin_flame` — a *realistic* stand-in, smooth bases a photo fit can use: ICT FaceKit's identity
modes and expression shapes transferred onto FLAME's topology through headcast's ICT↔FLAME table
(``headcast.fitting.flame_correspondence``), the same kintree and regressor, jaw weights drawn on the template's
lower face, no pose correctives. It is derived from ICT FaceKit (USC ICT, MIT licence) and FLAME's CC-BY template
(MPI-IS, CC-BY-4.0); nothing in it comes from a FLAME model file, and it is not FLAME: its bases span ICT's
100 identity modes and 52 expression shapes, not FLAME's statistics. ``scripts/make_standin_flame.py`` writes it.

Writers: :func:`write_flame_2020` as Python 2's cPickle wrote FLAME 2020's ``generic_model.pkl`` (protocol 2, byte
strings as ``BINSTRING``, Python 2 module names, ``chumpy.ch.Ch`` arrays, a ``scipy.sparse`` CSC ``J_regressor``, a
uint32 kintree) and :func:`write_flame_2023` as plain numpy arrays (protocol 4, dense ``J_regressor``, -1 as the
root's parent), optionally with ``chumpy`` arrays.

Convention: FLAME's frame is headcast's model frame — metres, +x the head's left, +y up, +z forward.
"""

import io
import pickle
import struct
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.csgraph
import scipy.sparse.linalg
from scipy.spatial import cKDTree

from headcast.fitting.flame_correspondence import FlameCorrespondence
from headcast.geometry.mesh import barycentric_interpolate
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.flame import FlameTemplate

EYEBALL_START = 3931  # vertices 3931…5022 are the two eyeballs (two closed 546-vertex meshes in the template)
NUM_IDENTITY = 300
NUM_EXPRESSION = 100


@dataclass(frozen=True)
class SyntheticFlame:
    """The arrays of a stand-in FLAME file (float64; the writers store them in the real layouts)."""

    v_template: np.ndarray  # (5023, 3) metres
    f: np.ndarray  # (9976, 3)
    shapedirs: np.ndarray  # (5023, 3, 400): 300 identity + 100 expression, metres per unit coefficient
    posedirs: np.ndarray  # (5023, 3, 36)
    j_regressor: np.ndarray  # (5, 5023) dense
    weights: np.ndarray  # (5023, 5)
    parents: tuple[int, ...] = (-1, 0, 1, 1, 1)

    def as_dict(self) -> dict[str, object]:
        """The plain-numpy (FLAME 2023 style) dict of the required and the usual extra keys."""
        joints = self.j_regressor @ self.v_template
        return {
            "v_template": self.v_template,
            "f": self.f,
            "shapedirs": self.shapedirs,
            "posedirs": self.posedirs,
            "J_regressor": self.j_regressor,
            "kintree_table": np.array([self.parents, range(5)], dtype=np.int64),
            "weights": self.weights,
            "J": joints,
            "bs_style": "lbs",
            "bs_type": "lrotmin",
        }


# --- shared by both builders ----------------------------------------------------------------------------------------


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 below ``lo``, 1 above ``hi``, C¹ in between (``hi < lo`` gives the falling step)."""
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _nearest_average(v: np.ndarray, targets: list[np.ndarray], k: int) -> np.ndarray:
    """A regressor row averaging the ``k`` vertices nearest to each target (uniform weights, summing to 1)."""
    row = np.zeros(len(v))
    for target in targets:
        ids = np.argsort(np.linalg.norm(v - target, axis=1))[:k]
        row[ids] += 1.0
    return row / row.sum()


def _eye_masks(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(V,)`` masks of the left (+x) and the right (−x) eyeball."""
    eyeball = np.arange(len(v)) >= EYEBALL_START
    return eyeball & (v[:, 0] > 0), eyeball & (v[:, 0] < 0)


def flame_joint_regressor(v: np.ndarray) -> np.ndarray:
    """``(5, V)`` rows averaging template vertices: neck-base ring, neck sides, jaw (in front of both ears), eyes.

    Args:
        v: ``(V, 3)`` the template, metres.
    """
    left_eye, right_eye = _eye_masks(v)
    body = np.arange(len(v)) < EYEBALL_START
    y_min = v[body, 1].min()
    return np.stack(
        [
            _nearest_average(v, [v[body & (v[:, 1] < y_min + 0.01)].mean(0)], 12),  # global: neck-base ring
            _nearest_average(v, [np.array([s * 0.045, -0.11, -0.01]) for s in (1, -1)], 10),  # neck
            _nearest_average(v, [np.array([s * 0.065, -0.02, -0.03]) for s in (1, -1)], 10),  # jaw, at both ears
            left_eye / left_eye.sum(),
            right_eye / right_eye.sum(),
        ]
    )


def _root_weight(v: np.ndarray) -> np.ndarray:
    """``(V,)`` the root (global) joint's weight: the neck base follows it, fading out 8–13 cm below the origin."""
    return _smoothstep(v[:, 1], -0.08, -0.13)


def flame_skinning_weights(v: np.ndarray, jaw: np.ndarray) -> np.ndarray:
    """``(V, 5)`` LBS weights: root at the neck base, ``jaw`` where given, the neck elsewhere, eyeballs rigid.

    Args:
        v: ``(V, 3)`` the template, metres.
        jaw: ``(V,)`` the jaw's weight, in [0, 1 − root weight] (the eyeballs' entries are ignored).
    """
    n = len(v)
    body = np.arange(n) < EYEBALL_START
    left_eye, right_eye = _eye_masks(v)
    root = _root_weight(v)
    weights = np.zeros((n, 5))
    weights[:, 0] = root
    weights[:, 2] = jaw
    weights[:, 1] = 1.0 - root - jaw
    weights[~body] = 0.0
    weights[left_eye, 3] = 1.0
    weights[right_eye, 4] = 1.0
    return weights


# --- the random synthetic model -------------------------------------------------------------------------------------


def _orthonormal_basis(rng: np.random.Generator, n_rows: int, n_cols: int) -> np.ndarray:
    """Orthonormal columns: the Q of a Gaussian matrix's QR factorisation, by Cholesky QR.

    ``Q = A R⁻¹`` with ``Rᵀ R = Aᵀ A`` (Cholesky) is the Q of the QR factorisation with a positive diagonal; for a
    well-conditioned ``A`` (15069 × 400 Gaussian) it is orthonormal to ~1e-15 and ~8× faster than Householder
    QR on two cores.
    """
    a = rng.standard_normal((n_rows, n_cols))
    lower = np.linalg.cholesky(a.T @ a)
    return scipy.linalg.solve_triangular(lower, a.T, lower=True).T


def build_synthetic_flame(template: FlameTemplate, seed: int = 2017) -> SyntheticFlame:
    """Random bases on the template (module docstring): for loader and LBS tests, not for fitting photos."""
    rng = np.random.default_rng(seed)
    v = template.vertices.astype(np.float64)
    n = len(v)

    # Bases: orthonormal directions in R^{3V}; column k of the identity part moves vertices by ~2 mm RMS / √(k+1),
    # the expression part by ~1 mm RMS / √(k+1) (per unit coefficient, as FLAME's σ-scaled components roughly do).
    basis = _orthonormal_basis(rng, 3 * n, NUM_IDENTITY + NUM_EXPRESSION)
    rms = np.concatenate([2e-3 / np.sqrt(np.arange(1, 301)), 1e-3 / np.sqrt(np.arange(1, 101))])
    shapedirs = (basis * (rms * np.sqrt(3 * n))).reshape(n, 3, NUM_IDENTITY + NUM_EXPRESSION)

    root = _root_weight(v)
    jaw = _smoothstep(v[:, 1], -0.03, -0.05) * _smoothstep(v[:, 2], -0.02, 0.01) * (1.0 - root)  # below the mouth
    weights = flame_skinning_weights(v, jaw)

    posedirs = rng.normal(scale=2e-4, size=(n, 3, 36))
    return SyntheticFlame(v, template.faces.astype(np.int64), shapedirs, posedirs, flame_joint_regressor(v), weights)


# --- the realistic stand-in: ICT FaceKit's shapes on FLAME's topology -----------------------------------------------

STANDIN_NOTE = (
    "NOT FLAME: a development stand-in in FLAME's file layout, made by headcast's scripts/make_standin_flame.py. "
    "Identity and expression bases derived from ICT FaceKit (USC ICT, MIT licence); template: FLAME's CC-BY "
    "template (MPI-IS, TF_FLAME data/template.ply, CC-BY-4.0; Li, Bolkart, Black, Li, Romero, ACM TOG 2017); "
    "skeleton and weights made up. Contains nothing from a FLAME model file."
)
"""The ``standin_note`` entry the script stores in the file (ASCII: the 2020 layout's Python 2 pickle holds it too)."""

STANDIN_EXCLUDED_EXPRESSIONS = ("jawOpen", "jawLeft", "jawRight", "pupilDilateLeft", "pupilDilateRight")
"""ICT shapes left out of the stand-in's expression basis: the jaw joint opens and turns the jaw (as in FLAME, whose
expression space holds no jaw rotation), and pupil dilation moves no skin."""

# The jaw's weight (:func:`standin_jaw_weight`) is drawn in the side view (z forward, y up) of the CC-BY template with
# lines through two (z, y) points, metres: read off the template's chin, jaw line and ears.
_JAW_BORDER = ((0.03, -0.092), (-0.04, -0.057))  # the mandible's lower border, chin to jaw angle
_JAW_FULL_TOP = ((0.035, -0.056), (-0.03, -0.045))  # top of the region that moves with the jaw alone
_JAW_FREE_BOTTOM = ((0.06, -0.034), (-0.045, -0.015))  # bottom of the region the jaw does not move: upper lip to ear
_JAW_FULL_BACK_Z = 0.01  # the full region ends 2–3 cm in front of the ramus ...
_JAW_FREE_BACK_Z = -0.045  # ... and nothing from the ramus back moves with the jaw
_JAW_FULL_BELOW_BORDER = 0.004  # the full region reaches 4 mm under the jaw line ...
_JAW_FREE_BELOW_BORDER = 0.035  # ... the neck 3.5 cm under it does not move with the jaw
_JAW_FREE_BELOW_Y = -0.125  # nor anything below this height (the neck base, the root's)
_LIP_CHECK_RADIUS_M = 0.01  # lip_consistent_rows checks table rows this close to the mouth opening's rim ...
_LIP_MISMATCH = 0.5  # ... and drops those whose ICT lip and jaw weight disagree by more than this


def _edges(faces: np.ndarray) -> np.ndarray:
    """``(3F, 2)`` the triangles' edges, each once per triangle, as (i, j) with i < j."""
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).astype(np.int64)
    return np.sort(e, axis=1)


def graph_laplacian(faces: np.ndarray, n: int) -> sp.csr_matrix:
    """``(n, n)`` the mesh's uniform graph Laplacian ``L = D − A`` (``A`` the vertex adjacency, ``D`` its degrees)."""
    e = np.unique(_edges(faces), axis=0)
    adjacency = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    adjacency = adjacency + adjacency.T
    return (sp.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency).tocsr()


def harmonic_fill(laplacian: sp.csr_matrix, known: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values on every vertex: ``values`` where ``known``, the discrete harmonic extension elsewhere.

    Solves ``L_uu x_u = −L_uk x_k``: each unknown vertex becomes the average of its mesh neighbours, so the field is
    smooth, follows the surface (not straight-line distance: the upper lip does not borrow from the lower one across
    the mouth) and is constant along an open border such as the neck's end.

    Args:
        laplacian: ``(n, n)`` :func:`graph_laplacian` of one connected mesh.
        known: ``(n,)`` bool, at least one true.
        values: ``(n, ...)`` values, read where ``known``.

    Returns:
        ``(n, ...)`` float64.
    """
    values = np.asarray(values, dtype=np.float64)
    k, u = np.flatnonzero(known), np.flatnonzero(~known)
    out = values.copy()
    if len(u):
        flat = values[k].reshape(len(k), -1)
        solve = scipy.sparse.linalg.splu(laplacian[u][:, u].tocsc())
        out[u] = solve.solve(-(laplacian[u][:, k] @ flat)).reshape((len(u), *values.shape[1:]))
    return out


def _mouth_lips(v: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertex ids of the mouth opening's upper and lower rim (the corners, where the lips meet, in neither).

    The body mesh has two open borders: the neck's end and the mouth, which the lips' inner sheets rim from corner
    to corner. The corners are the mouth border's extreme x; a rim vertex above the corners' chord is the upper lip's.
    """
    e = _edges(faces)
    e = e[(e < EYEBALL_START).all(axis=1)]
    unique, count = np.unique(e, axis=0, return_counts=True)
    border = unique[count == 1]
    _, label = scipy.sparse.csgraph.connected_components(
        sp.coo_matrix((np.ones(len(border)), (border[:, 0], border[:, 1])), shape=(len(v), len(v))), directed=False
    )
    on_border = np.unique(border)
    loops = [on_border[label[on_border] == k] for k in np.unique(label[on_border])]
    if len(loops) != 2:
        raise ValueError(f"expected two open borders (neck, mouth) on FLAME's body mesh, found {len(loops)}")
    mouth = max(loops, key=lambda ids: v[ids, 1].mean())
    left, right = mouth[np.argmax(v[mouth, 0])], mouth[np.argmin(v[mouth, 0])]
    chord = np.interp(v[mouth, 0], [v[right, 0], v[left, 0]], [v[right, 1], v[left, 1]])
    corner = np.isin(mouth, [left, right])
    return mouth[(v[mouth, 1] > chord) & ~corner], mouth[(v[mouth, 1] < chord) & ~corner]


def _height_above(v: np.ndarray, line: tuple[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    """``(V,)`` each vertex's y above the side-view line through two (z, y) points, metres."""
    (z0, y0), (z1, y1) = line
    return v[:, 1] - (y0 + (v[:, 2] - z0) * (y1 - y0) / (z1 - z0))


def standin_jaw_weight(template: FlameTemplate) -> np.ndarray:
    """``(V,)`` the jaw joint's skinning weight on the CC-BY template: chin, lower lip, lower face; 0 on the eyes.

    A harmonic interpolation (:func:`harmonic_fill` over the body mesh) between a region fixed at 1 — the lower lip's
    inner rim and the lower face from below the mouth corners to just under the jaw line, back to 2–3 cm short of
    the ramus — and one fixed at 0: the upper lip's inner rim, everything above a line from the upper lip to the ear,
    from the ramus back, and the neck well below the jaw line. The lips meet only at the mouth corners, so the lower
    lip (and its inner sheet, FLAME's stand-in for the lower teeth region) follows the jaw and the upper lip does
    not; the cheeks and the neck under the chin blend smoothly. Times (1 − root weight), so the neck base stays with
    the root. Checked against ICT's ``jawOpen`` shape: the weight a 0.35 rad rotation about the jaw joint needs to
    reproduce it at each table point differs from this one by 0.23 RMS over the lower face (mean 0.03).
    """
    v = template.vertices.astype(np.float64)
    n_body = EYEBALL_START
    body = v[:n_body]
    upper, lower = _mouth_lips(v, template.faces)
    border = _height_above(body, _JAW_BORDER)
    full = (
        (_height_above(body, _JAW_FULL_TOP) < 0) & (border > -_JAW_FULL_BELOW_BORDER) & (body[:, 2] > _JAW_FULL_BACK_Z)
    )
    free = (
        (_height_above(body, _JAW_FREE_BOTTOM) > 0)
        | (body[:, 2] < _JAW_FREE_BACK_Z)
        | (border < -_JAW_FREE_BELOW_BORDER)
        | (body[:, 1] < _JAW_FREE_BELOW_Y)
    )
    full[lower] = True
    free[upper] = True
    full &= ~free
    faces = template.faces[(template.faces < n_body).all(axis=1)]
    weight = np.zeros(len(v))
    weight[:n_body] = harmonic_fill(graph_laplacian(faces, n_body), full | free, full.astype(np.float64))
    return np.clip(weight, 0.0, 1.0) * (1.0 - _root_weight(v))


def lip_consistent_rows(
    template: FlameTemplate, ict_model: LinearHeadModel, corr: FlameCorrespondence, jaw_weight: np.ndarray
) -> np.ndarray:
    """``(N,)`` bool: the table rows to trust — all but FLAME lip vertices whose ICT point is on the other lip.

    Within :data:`_LIP_CHECK_RADIUS_M` of the mouth opening's rim, a vertex the stand-in's jaw carries (weight
    ``w``) belongs on ICT's lower lip, which ICT's ``jawOpen`` shape moves down: with ``r`` the point's downward
    motion in that shape over the largest such motion in the table, a row with ``|r − w| >`` :data:`_LIP_MISMATCH` is
    dropped (its vertex is then filled like the vertices without a table entry). The packaged table puts a few
    vertices of FLAME's lower-lip inner sheet on ICT points ``jawOpen`` hardly moves (the upper lip's side).

    Args:
        template: FLAME's CC-BY template.
        ict_model: ICT FaceKit, metres.
        corr: the ICT↔FLAME table.
        jaw_weight: ``(V,)`` :func:`standin_jaw_weight`.
    """
    v = template.vertices.astype(np.float64)
    rim = v[np.concatenate(_mouth_lips(v, template.faces))]
    points = v[corr.flame_vertex_ids]
    near = np.min(np.linalg.norm(points[:, None] - rim[None], axis=2), axis=1) < _LIP_CHECK_RADIUS_M
    jaw_open = ict_model.expression_basis[ict_model.expression_index("jawOpen")].astype(np.float64)
    moved = barycentric_interpolate(jaw_open, ict_model.triangles, corr.ict_triangle_ids, corr.barycentric)
    down = (moved @ corr.alignment_rotation)[:, 1]  # y in FLAME's frame (the scale cancels in the ratio)
    r = down / down.min()
    return ~(near & (np.abs(r - jaw_weight[corr.flame_vertex_ids]) > _LIP_MISMATCH))


def transfer_ict_shapes(
    template: FlameTemplate,
    ict_model: LinearHeadModel,
    corr: FlameCorrespondence,
    shapes: np.ndarray,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """ICT displacement fields moved onto FLAME's topology and frame.

    - Table vertices (``corr.flame_vertex_ids[rows]``): the barycentric interpolation of the ICT field at the
      vertex's ICT point, rotated and scaled into FLAME's frame, ``d_flame = Rᵀ d_ict / s`` (``x_ict ≈ s R x_flame
      + t``).
    - The other body vertices (ears' insides, nostrils, the lips' inner sheets, eye corners, the neck below ICT's,
      rows left out): :func:`harmonic_fill` over FLAME's body mesh.
    - Each eyeball moves rigidly by the mean displacement of ICT's eyeball on the same side (its centroid's motion).

    Args:
        template: FLAME's topology and rest vertices (metres).
        ict_model: ICT FaceKit, metres.
        corr: the ICT↔FLAME table made for ``ict_model`` and this template.
        shapes: ``(K, V_ict, 3)`` ICT displacement fields (e.g. ``ict_model.identity_basis``), metres.
        rows: ``(N,)`` bool, the table rows to use (default: all; see :func:`lip_consistent_rows`).

    Returns:
        ``(V, 3, K)`` float64 displacements, metres, FLAME's ``shapedirs`` layout.
    """
    corr.check_model(ict_model)
    v = template.vertices.astype(np.float64)
    shapes = np.asarray(shapes, dtype=np.float64)
    n, n_body, k = len(v), EYEBALL_START, len(shapes)
    rotation, scale = corr.alignment_rotation, corr.alignment_scale

    rows = np.ones(corr.num_points, dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    ids = corr.flame_vertex_ids[rows]
    out = np.zeros((n, 3, k))
    at_points = barycentric_interpolate(
        shapes, ict_model.triangles, corr.ict_triangle_ids[rows], corr.barycentric[rows]
    )
    known = np.zeros(n_body, dtype=bool)
    known[ids] = True
    values = np.zeros((n_body, 3, k))
    values[ids] = np.moveaxis(at_points @ rotation / scale, 0, 2)  # row-vector form of Rᵀ d / s
    faces = template.faces[(template.faces < n_body).all(axis=1)]
    out[:n_body] = harmonic_fill(graph_laplacian(faces, n_body), known, values)

    ict_eyeball = ict_model.part_mask("eyeballs")
    ict_x = ict_model.template[:, 0]
    for flame_eye, ict_side in zip(_eye_masks(v), (ict_x > 0, ict_x < 0), strict=True):
        moved = shapes[:, ict_eyeball & ict_side].mean(axis=1) @ rotation / scale  # (K, 3)
        out[flame_eye] = moved.T[None]
    return out


def _principal_components(shapes: np.ndarray) -> np.ndarray:
    """``(V, 3, K)`` shapes → orthogonal components spanning them, by variance, each scaled to its standard deviation.

    Treating the K shapes as samples of a zero-mean distribution (the neutral face at 0), ``X = U S Wᵀ`` (``X`` the
    ``3V × K`` shapes) gives the directions ``U`` and standard deviations ``S / √K``; component ``k`` is
    ``U_k S_k / √K``, as FLAME's components are σ-scaled principal components. Each sign makes the component's
    largest coordinate positive (deterministic across LAPACKs).
    """
    n, _, k = shapes.shape
    u, s, _ = np.linalg.svd(shapes.reshape(3 * n, k), full_matrices=False)
    u *= np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(k)])
    return (u * (s / np.sqrt(k))).reshape(n, 3, k)


def ict_mean_offset(template: FlameTemplate, ict_model: LinearHeadModel, corr: FlameCorrespondence) -> np.ndarray:
    """``(V, 3)`` displacement that moves FLAME's CC-BY template onto ICT's mean head (in FLAME's frame), metres.

    Table vertices go to their ICT point mapped back by the table's similarity (``x = Rᵀ (x_ict − t) / s``); the
    other body vertices follow by :func:`harmonic_fill`; each eyeball moves rigidly with the mean offset of the 40
    body vertices nearest its centre. The two templates differ by a median ~1.8 mm (up to a few cm at the neck's
    lower edge, where ICT's neck is longer); no ICT identity mode can express that difference.
    """
    corr.check_model(ict_model)
    v = template.vertices.astype(np.float64)
    n_body = EYEBALL_START
    ids = corr.flame_vertex_ids
    points = barycentric_interpolate(ict_model.template.astype(np.float64), ict_model.triangles,
                                     corr.ict_triangle_ids, corr.barycentric)
    known = np.zeros(n_body, dtype=bool)
    known[ids] = True
    values = np.zeros((n_body, 3, 1))
    values[ids, :, 0] = (points - corr.alignment_translation) @ corr.alignment_rotation / corr.alignment_scale - v[ids]
    faces = template.faces[(template.faces < n_body).all(axis=1)]
    out = np.zeros_like(v)
    out[:n_body] = harmonic_fill(graph_laplacian(faces, n_body), known, values)[..., 0]
    tree = cKDTree(v[:n_body])
    for eye in _eye_masks(v):
        _, near = tree.query(v[eye].mean(axis=0), k=40)
        out[eye] = out[near].mean(axis=0)
    return out


def build_standin_flame(
    template: FlameTemplate, ict_model: LinearHeadModel, corr: FlameCorrespondence, ict_mean_template: bool = False
) -> SyntheticFlame:
    """The realistic stand-in: ICT FaceKit's shape spaces on FLAME's topology (a development file, not FLAME).

    - template: FLAME's CC-BY template, or with ``ict_mean_template`` that template moved onto ICT's mean head
      (:func:`ict_mean_offset`: the stand-in is then ICT FaceKit's shape space on FLAME's topology, so a landmark
      fit is limited by the same things as ICT's, not by a template no mode can reach);
    - identity ``shapedirs[..., :100]``: ICT's 100 identity modes (1σ each), :func:`transfer_ict_shapes` through
      the table rows :func:`lip_consistent_rows` keeps; components 100–299 are zero;
    - expression ``shapedirs[..., 300:352]``: the principal components (:func:`_principal_components`) of ICT's
      expression shapes at weight 1, transferred, without :data:`STANDIN_EXCLUDED_EXPRESSIONS` (52 of ICT's 57);
      components 352–399 are zero;
    - ``J_regressor``, kintree: as the synthetic file's (:func:`flame_joint_regressor`);
    - ``weights``: :func:`flame_skinning_weights` with :func:`standin_jaw_weight`;
    - ``posedirs``: zero (no pose correctives).

    Args:
        template: FLAME's CC-BY template (the one ``corr`` was made from).
        ict_model: ICT FaceKit (``headcast.headmodel.ict.load_ict_facekit``), metres, 100 identity modes.
        corr: ``headcast.fitting.flame_correspondence.load_flame_correspondence()``.
        ict_mean_template: move the template onto ICT's mean head (skinning weights and joints stay drawn on the
            CC-BY template's coordinates; the regressor follows the moved vertices).

    Returns:
        The arrays, float64.
    """
    v = template.vertices.astype(np.float64)
    n = len(v)
    if ict_model.num_identity > NUM_IDENTITY:
        raise ValueError(f"at most {NUM_IDENTITY} identity modes fit FLAME's layout, got {ict_model.num_identity}")
    excluded = set(ict_model.expression_ids(*STANDIN_EXCLUDED_EXPRESSIONS))
    kept = [i for i in range(ict_model.num_expressions) if i not in excluded]

    jaw = standin_jaw_weight(template)
    rows = lip_consistent_rows(template, ict_model, corr, jaw)
    shapedirs = np.zeros((n, 3, NUM_IDENTITY + NUM_EXPRESSION))
    shapedirs[..., : ict_model.num_identity] = transfer_ict_shapes(
        template, ict_model, corr, ict_model.identity_basis, rows
    )
    expression = transfer_ict_shapes(template, ict_model, corr, ict_model.expression_basis[kept], rows)
    shapedirs[..., NUM_IDENTITY : NUM_IDENTITY + len(kept)] = _principal_components(expression)

    weights = flame_skinning_weights(v, jaw)
    regressor = flame_joint_regressor(v)
    if ict_mean_template:
        v = v + ict_mean_offset(template, ict_model, corr)
    posedirs = np.zeros((n, 3, 36))
    return SyntheticFlame(v, template.faces.astype(np.int64), shapedirs, posedirs, regressor, weights)


# --- writers --------------------------------------------------------------------------------------------------------


@contextmanager
def fake_chumpy() -> Iterator[types.SimpleNamespace]:
    """Modules ``chumpy.ch`` (class ``Ch``) and ``chumpy.reordering`` (class ``Select``), importable only inside.

    Pickle names an object's class by module and name; these classes exist so that a file can reference
    ``chumpy.ch.Ch`` as FLAME 2020's does, and are gone again before anything is loaded. Their instances hold what
    chumpy's own ``Ch.__getstate__`` returns (its ``__dict__`` without the weak-reference caches).
    """
    names = ("chumpy", "chumpy.ch", "chumpy.reordering")
    saved = {name: sys.modules.get(name) for name in names}
    package, ch_module, reordering = (types.ModuleType(name) for name in names)

    class Ch:
        def __init__(self, x: object) -> None:
            self.__dict__.update(
                x=np.asarray(x, dtype=np.float64),
                _dirty_vars=set(),
                _itr=None,
                _depends_on_deps={},
                _make_dense=False,
                _make_sparse=False,
            )

    class Select(Ch):  # a chumpy expression (an indexing op), not a stored array
        def __init__(self, a: object, idxs: object) -> None:
            super().__init__(np.zeros(0))
            del self.__dict__["x"]
            self.__dict__.update(a=a, idxs=idxs)

    for cls, module in ((Ch, ch_module), (Select, reordering)):
        cls.__module__ = module.__name__
        cls.__qualname__ = cls.__name__
        setattr(module, cls.__name__, cls)
    package.ch = ch_module  # type: ignore[attr-defined]
    package.reordering = reordering  # type: ignore[attr-defined]
    sys.modules.update(dict(zip(names, (package, ch_module, reordering), strict=True)))
    try:
        yield types.SimpleNamespace(Ch=Ch, Select=Select)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class Py2StylePickler(pickle._Pickler):  # the pure-Python pickler: its dispatch table can be extended
    """Writes ``bytes`` as Python 2's ``str`` (``SHORT_BINSTRING`` / ``BINSTRING``), as Python 2's cPickle did.

    A Python 3 pickler writes bytes at protocol 2 as ``_codecs.encode(text, "latin1")``; a file from Python 2 has
    raw byte strings instead, which Python 3 reads only with ``encoding="latin1"`` (numpy's array buffers included).
    """

    dispatch: ClassVar[dict] = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def save_py2_str(self, obj: bytes) -> None:
        if not self.bin:  # protocol 0: STRING, the repr of the byte string on one line
            self.write(pickle.STRING + repr(obj)[1:].encode("ascii") + b"\n")
        elif len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


# Module paths as a Python 2-era numpy / scipy wrote them (GLOBAL opcodes are newline-terminated text).
PY2_MODULE_NAMES = {
    b"numpy._core.multiarray\n": b"numpy.core.multiarray\n",
    b"scipy.sparse._csc\n": b"scipy.sparse.csc\n",
}


def py2_pickle_bytes(obj: object, protocol: int = 2) -> bytes:
    """``obj`` pickled the way Python 2's cPickle with Python 2-era numpy and scipy would have."""
    buf = io.BytesIO()
    Py2StylePickler(buf, protocol=protocol).dump(obj)
    data = buf.getvalue()
    for new, old in PY2_MODULE_NAMES.items():
        data = data.replace(new, old)
    return data


def write_flame_2020(
    path: Path, flame: SyntheticFlame, edit: Callable[[dict, types.SimpleNamespace], None] | None = None
) -> Path:
    """FLAME 2020's layout: chumpy arrays, sparse CSC regressor, uint32 kintree, Python 2 pickle (protocol 2).

    ``edit(d, chumpy)`` may change the dict before it is written (for the unrecognised-file tests).
    """
    with fake_chumpy() as chumpy:
        kintree = np.array([[2**32 - 1, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.uint32)
        d: dict = {
            "v_template": chumpy.Ch(flame.v_template),
            "f": flame.f.astype(np.uint32),
            "shapedirs": chumpy.Ch(flame.shapedirs),
            "posedirs": chumpy.Ch(flame.posedirs),
            "J_regressor": sp.csc_matrix(flame.j_regressor),
            "kintree_table": kintree,
            "weights": chumpy.Ch(flame.weights),
            "J": chumpy.Ch(flame.j_regressor @ flame.v_template),
            "weights_prior": chumpy.Ch(flame.weights),
            "pose": chumpy.Ch(np.zeros(15)),
            "betas": chumpy.Ch(np.zeros(400)),
            "trans": chumpy.Ch(np.zeros(3)),
            "bs_style": b"lbs",
            "bs_type": b"lrotmin",
        }
        if edit is not None:
            edit(d, chumpy)
        data = py2_pickle_bytes({key.encode("latin1"): value for key, value in d.items()})
    path.write_bytes(data)
    return path


def write_flame_2023(
    path: Path,
    flame: SyntheticFlame,
    chumpy_arrays: bool = False,
    edit: Callable[[dict], None] | None = None,
    protocol: int = 4,
) -> Path:
    """FLAME 2023's layout: plain numpy arrays (or, with ``chumpy_arrays``, ``chumpy.ch.Ch`` ones), Python 3 pickle.

    ``edit(d)`` may change the dict before it is written. Protocol 5 stores numpy arrays through
    ``numpy._core.numeric._frombuffer`` instead of ``_reconstruct``.
    """
    d = flame.as_dict()
    d["f"] = flame.f.astype(np.int32)
    if edit is not None:
        edit(d)
    if chumpy_arrays:
        with fake_chumpy() as chumpy:
            for key in ("v_template", "shapedirs", "posedirs", "weights", "J"):
                d[key] = chumpy.Ch(d[key])
            path.write_bytes(pickle.dumps(d, protocol=protocol))
    else:
        path.write_bytes(pickle.dumps(d, protocol=protocol))
    return path
