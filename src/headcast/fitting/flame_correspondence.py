"""A fixed ICT FaceKit ↔ FLAME correspondence: where each FLAME skin vertex sits on ICT's surface.

The table lets FLAME be fitted to any ICT FaceKit head (:mod:`headcast.fitting.flame_fit`): the target of FLAME
vertex ``flame_vertex_ids[i]`` is the ICT surface point ``Σ_k barycentric[i, k] · V[triangles[ict_triangle_ids[i],
k]]`` of the ICT mesh, so the targets follow the ICT head's identity and expression.

Made from the two templates only (``scripts/make_flame_correspondence.py``, byte-reproducible, checked by a test):

1. *Rigid alignment* — a similarity ``x_ict ≈ s R x_flame + t`` (Umeyama 1991) from the 51 inner iBUG-68 landmarks
   (brows, nose, eyes, mouth; the jaw contour 0–16 is left out: FLAME's static contour and ICT's contour vertices
   are not the same points on the face), then refined by trimmed similarity ICP on the skin (closest points on ICT's
   skin within ``icp_max_distance_m`` whose normals agree), with the inner landmarks kept in the sum at
   ``landmark_weight`` so the face features stay matched.
2. *Landmark warp* — the two mean heads differ in their features' placement by a few millimetres, which closest
   points alone would not fix (FLAME's eye corner would land beside ICT's). The aligned FLAME template is moved by a
   smooth displacement field, a Gaussian radial-basis interpolation (width ``warp_sigma_m``, ridge
   ``warp_ridge``) of the residual landmark offsets, so the landmarks meet and the field fades away from the face.
3. *Closest points* — each warped FLAME skin vertex (not the eyeballs) gets the closest point on ICT's skin
   triangles (its ``face`` and ``head_neck`` parts: not eyeballs, teeth, gums, mouth or eye sockets, lashes), kept
   when it lies within ``max_distance_m`` and the two surfaces' normals agree (``min_normal_dot``); the rest of
   FLAME (the neck below ICT's, the inside of the lips) has no counterpart and gets no target.

Sources and licences (the table is derived data of both):

- ICT FaceKit (USC Institute for Creative Technologies, github.com/ICT-VGL/ICT-FaceKit), MIT licence: its neutral
  template, triangles, parts and iBUG-68 vertex ids.
- FLAME's CC-BY template (MPI-IS, ``data/template.ply`` and ``data/flame_static_embedding_68.pkl`` of
  github.com/TimoBolkart/TF_FLAME, FLAME model licence CC-BY-4.0, https://creativecommons.org/licenses/by/4.0/):
  Li, Bolkart, Black, Li, Romero, "Learning a model of facial shape and expression from 4D scans", ACM TOG
  (SIGGRAPH Asia) 2017. Changed: only vertex indices, barycentric weights and per-point distances computed from the
  template are stored; no FLAME geometry is. CC-BY-4.0 allows sharing adapted material with attribution and a note
  of the changes, which this docstring, the table's ``attribution`` entry and docs/dependencies.md give.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from headcast.errors import AssetError
from headcast.fitting.correspondence import write_reproducible_npz
from headcast.fitting.embedding import closest_point_on_mesh, umeyama
from headcast.geometry.mesh import barycentric_interpolate, vertex_normals
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.flame import FLAME_NUM_VERTICES, FlameTemplate

FLAME_CORRESPONDENCE_FILE = "ict_flame_correspondence.npz"
ICT_SKIN_PARTS = ("face", "head_neck")
"""ICT's parts that are skin (the surface FLAME's skin may correspond to)."""
FLAME_EYEBALL_START = 3931
"""FLAME's vertices 3931…5022 are its two eyeballs (closed meshes of 546 vertices each), never corresponded."""
INNER_LANDMARKS = np.arange(17, 68)
"""iBUG-68 points used for the alignment: brows, nose, eyes, mouth (not the jaw contour 0–16)."""
ATTRIBUTION = (
    "Derived from ICT FaceKit (USC ICT, MIT licence) and FLAME's CC-BY template and 68-point embedding (MPI-IS, "
    "TF_FLAME data/template.ply, CC-BY-4.0; Li, Bolkart, Black, Li, Romero, ACM TOG 2017). Changes: only vertex "
    "indices, barycentric weights and distances are stored."
)
CC_BY_SHA256 = {
    "template.ply": "f78fbf2a107d6ae95094d319800d77a83e182018d5fc7f139272b6304d017caf",
    "flame_static_embedding_68.npz": "50ff3f7ed9948f5a00283250e58453435f1378019d2c5698109a03d706e3e210",
}
"""sha256 of the CC-BY files the packaged table was made from (their SOURCE.txt lists the same)."""


@dataclass(frozen=True)
class FlameCorrespondenceSettings:
    """How the table is made (defaults: the packaged table).

    Attributes:
        icp_iterations: similarity-ICP refinements after the landmark alignment.
        icp_max_distance_m: ICP pairs farther apart than this are left out, metres.
        landmark_weight: weight of each inner landmark in the ICP sums, relative to one skin vertex.
        warp_sigma_m: width of the Gaussian landmark warp, metres.
        warp_ridge: ridge added to the warp's kernel matrix (smooths, keeps it well conditioned).
        max_distance_m: a FLAME vertex whose closest ICT skin point is farther than this gets no target, metres.
        min_normal_dot: ... nor one whose normal and the ICT triangle's point more than acos(this) apart.
        candidates: triangles tested per closest-point query (``closest_point_on_mesh``).
    """

    icp_iterations: int = 10
    icp_max_distance_m: float = 0.01
    landmark_weight: float = 20.0
    warp_sigma_m: float = 0.02
    warp_ridge: float = 1e-3
    max_distance_m: float = 0.006
    min_normal_dot: float = 0.6
    candidates: int = 32


@dataclass(frozen=True, eq=False)
class FlameCorrespondence:
    """FLAME skin vertices embedded on an ICT FaceKit surface.

    Attributes:
        ict_model_name: ``LinearHeadModel.name`` of the ICT model (``"ict-facekit"``).
        ict_num_triangles: ``len(model.triangles)`` of that model (guards against another topology).
        flame_vertex_ids: ``(N,)`` int FLAME vertex ids with a target, ascending.
        ict_triangle_ids: ``(N,)`` int rows of the ICT model's ``triangles``.
        barycentric: ``(N, 3)`` float weights on those triangles' corners (rows sum to 1).
        distances_m: ``(N,)`` float distance from the warped FLAME template vertex to its ICT point, metres
            (the quality of the table; not used by the fit).
        alignment_scale: ``s`` of the template alignment ``x_ict ≈ s R x_flame + t``.
        alignment_rotation: ``(3, 3)`` ``R``.
        alignment_translation: ``(3,)`` ``t``, metres.
    """

    ict_model_name: str
    ict_num_triangles: int
    flame_vertex_ids: NDArray[np.int64]
    ict_triangle_ids: NDArray[np.int64]
    barycentric: NDArray[np.float64]
    distances_m: NDArray[np.float64]
    alignment_scale: float
    alignment_rotation: NDArray[np.float64]
    alignment_translation: NDArray[np.float64]

    @property
    def num_points(self) -> int:
        """N."""
        return int(self.flame_vertex_ids.shape[0])

    def check_model(self, model: LinearHeadModel) -> None:
        """Raise ValueError when the table was not made for ``model``'s topology."""
        if model.name != self.ict_model_name or len(model.triangles) != self.ict_num_triangles:
            raise ValueError(
                f"the ICT↔FLAME correspondence was made for '{self.ict_model_name}' with {self.ict_num_triangles} "
                f"triangles, not for '{model.name}' with {len(model.triangles)}"
            )


@dataclass(frozen=True, eq=False)
class FlameLandmarks:
    """FLAME's iBUG-68 embedding: ``(68,)`` triangle ids and ``(68, 3)`` barycentric weights on FLAME's faces."""

    face_ids: NDArray[np.int64]
    barycentric: NDArray[np.float64]


def read_flame_landmarks68(path: Path | str) -> FlameLandmarks:
    """Read ``flame_static_embedding_68.npz`` (``lmk_face_idx (68,)``, ``lmk_b_coords (68, 3)``; no pickle)."""
    path = Path(path)
    if not path.is_file():
        raise AssetError(
            f"FLAME's 68-point landmark embedding not found: {path}. It is data/flame_static_embedding_68.pkl of "
            f"MPI-IS's TF_FLAME repository (CC-BY), kept as .npz in shared/assets/flame_tf_flame_cc_by/."
        )
    with np.load(path, allow_pickle=False) as z:
        return FlameLandmarks(z["lmk_face_idx"].astype(np.int64), z["lmk_b_coords"].astype(np.float64))


def ict_skin_triangles(model: LinearHeadModel) -> NDArray[np.int64]:
    """Rows of ``model.triangles`` whose three corners are all in ICT's skin parts (:data:`ICT_SKIN_PARTS`)."""
    skin = model.part_mask(*ICT_SKIN_PARTS)
    return np.flatnonzero(skin[model.triangles].all(axis=1)).astype(np.int64)


def _unit_rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)


def _triangle_normals(vertices: NDArray[np.float64], triangles: NDArray[np.integer]) -> NDArray[np.float64]:
    c = vertices[triangles]
    return _unit_rows(np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]))


def gaussian_warp(
    sources: NDArray[np.float64], offsets: NDArray[np.float64], sigma: float, ridge: float
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """A smooth displacement field through ``offsets`` at ``sources``: Gaussian radial basis functions.

    ``d(x) = Σ_i a_i exp(−|x − p_i|² / 2σ²)`` with ``(K + ridge I) a = offsets``, ``K_ij = exp(−|p_i − p_j|² / 2σ²)``
    (ridge 0 interpolates exactly; the field fades to zero a few σ from the points).

    Args:
        sources: ``(L, 3)`` points ``p_i``, metres.
        offsets: ``(L, 3)`` displacements wanted there, metres.
        sigma: kernel width, metres.
        ridge: added to the kernel's diagonal.

    Returns:
        A function ``(N, 3) → (N, 3)`` displacements.
    """
    p = np.asarray(sources, dtype=np.float64)

    def kernel(x: NDArray[np.float64]) -> NDArray[np.float64]:
        d2 = np.sum((x[:, None, :] - p[None, :, :]) ** 2, axis=2)
        return np.exp(-d2 / (2.0 * sigma * sigma))

    coeffs = np.linalg.solve(kernel(p) + ridge * np.eye(len(p)), np.asarray(offsets, dtype=np.float64))

    def warp(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return kernel(np.asarray(x, dtype=np.float64)) @ coeffs

    return warp


def build_flame_correspondence(
    model: LinearHeadModel,
    flame: FlameTemplate,
    flame_landmarks: FlameLandmarks,
    settings: FlameCorrespondenceSettings | None = None,
) -> FlameCorrespondence:
    """Make the table from ICT's template and FLAME's CC-BY template (method: the module docstring).

    Args:
        model: ICT FaceKit (metres); its ``template``, ``triangles``, ``parts`` and ``landmarks68`` are used.
        flame: FLAME's template (5023 vertices, metres).
        flame_landmarks: FLAME's iBUG-68 embedding on ``flame.faces``.
        settings: thresholds (default: the packaged table's).

    Returns:
        The correspondence.
    """
    settings = FlameCorrespondenceSettings() if settings is None else settings
    if flame.vertices.shape[0] != FLAME_NUM_VERTICES:
        raise ValueError(f"FLAME's template has {FLAME_NUM_VERTICES} vertices, got {flame.vertices.shape[0]}")
    ict = model.template.astype(np.float64)
    fv = flame.vertices.astype(np.float64)
    ict_lm = ict[model.landmarks68][INNER_LANDMARKS]
    flame_lm = barycentric_interpolate(fv, flame.faces, flame_landmarks.face_ids, flame_landmarks.barycentric)
    flame_lm = flame_lm[INNER_LANDMARKS]

    skin_rows = ict_skin_triangles(model)
    skin_tris = model.triangles[skin_rows]
    skin_normals = _triangle_normals(ict, skin_tris)
    body = np.arange(FLAME_EYEBALL_START)
    body_normals = vertex_normals(fv, flame.faces).astype(np.float64)[body]

    def closest(points: NDArray[np.float64], normals: NDArray[np.float64], max_dist: float) -> tuple[
        NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]
    ]:
        rows, bary, dist = closest_point_on_mesh(points, ict, skin_tris, settings.candidates)
        dots = np.einsum("ij,ij->i", _unit_rows(normals), skin_normals[rows])
        return rows, bary, dist, (dist < max_dist) & (dots > settings.min_normal_dot)

    # 1. similarity from the inner landmarks, refined by trimmed ICP with the landmarks kept in the sums
    s, rot, t = umeyama(flame_lm, ict_lm)
    lm_weights = np.full(len(flame_lm), settings.landmark_weight)
    for _ in range(settings.icp_iterations):
        moved = s * fv[body] @ rot.T + t
        rows, bary, _, ok = closest(moved, body_normals @ rot.T, settings.icp_max_distance_m)
        hits = barycentric_interpolate(ict, skin_tris, rows[ok], bary[ok])
        s, rot, t = umeyama(
            np.concatenate([fv[body][ok], flame_lm]),
            np.concatenate([hits, ict_lm]),
            np.concatenate([np.ones(int(ok.sum())), lm_weights]),
        )

    # 2. a smooth warp that brings the aligned landmarks onto ICT's
    aligned = s * fv @ rot.T + t
    aligned_lm = s * flame_lm @ rot.T + t
    warp = gaussian_warp(aligned_lm, ict_lm - aligned_lm, settings.warp_sigma_m, settings.warp_ridge)
    warped = aligned + warp(aligned)
    warped_normals = vertex_normals(warped, flame.faces).astype(np.float64)

    # 3. closest points on ICT's skin, kept where near and facing the same way
    rows, bary, dist, ok = closest(warped[body], warped_normals[body], settings.max_distance_m)
    return FlameCorrespondence(
        ict_model_name=model.name,
        ict_num_triangles=len(model.triangles),
        flame_vertex_ids=body[ok].astype(np.int64),
        ict_triangle_ids=skin_rows[rows[ok]],
        barycentric=bary[ok],
        distances_m=dist[ok],
        alignment_scale=float(s),
        alignment_rotation=rot,
        alignment_translation=t,
    )


def correspondence_targets(
    ict_vertices: NDArray[np.floating], ict_triangles: NDArray[np.integer], corr: FlameCorrespondence
) -> NDArray[np.float64]:
    """The ICT surface points of FLAME's corresponded vertices.

    Args:
        ict_vertices: ``(..., V_ict, 3)`` an ICT mesh (any frame, metres).
        ict_triangles: ``(T, 3)`` ICT's triangles (``model.triangles``).
        corr: the table.

    Returns:
        ``(..., N, 3)`` float64 targets for ``corr.flame_vertex_ids``, in the frame of ``ict_vertices``.
    """
    return barycentric_interpolate(ict_vertices, ict_triangles, corr.ict_triangle_ids, corr.barycentric)


def load_flame_correspondence(path: Path | str | None = None) -> FlameCorrespondence:
    """Load the table (default: the one packaged in ``headcast/fitting/data``)."""
    if path is None:
        data = resources.files("headcast.fitting").joinpath("data", FLAME_CORRESPONDENCE_FILE).read_bytes()
    else:
        data = Path(path).read_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return FlameCorrespondence(
            ict_model_name=str(z["ict_model_name"]),
            ict_num_triangles=int(z["ict_num_triangles"]),
            flame_vertex_ids=z["flame_vertex_ids"].astype(np.int64),
            ict_triangle_ids=z["ict_triangle_ids"].astype(np.int64),
            barycentric=z["barycentric"].astype(np.float64),
            distances_m=z["distances_m"].astype(np.float64),
            alignment_scale=float(z["alignment_scale"]),
            alignment_rotation=z["alignment_rotation"].astype(np.float64),
            alignment_translation=z["alignment_translation"].astype(np.float64),
        )


def save_flame_correspondence(corr: FlameCorrespondence, path: Path | str) -> None:
    """Write the table as a byte-reproducible ``.npz`` (sorted members, fixed timestamps, compact dtypes)."""
    arrays: dict[str, NDArray[np.generic]] = {
        "attribution": np.array(ATTRIBUTION),
        "ict_model_name": np.array(corr.ict_model_name),
        "ict_num_triangles": np.array(corr.ict_num_triangles, dtype=np.int64),
        "flame_vertex_ids": corr.flame_vertex_ids.astype(np.int16),
        "ict_triangle_ids": corr.ict_triangle_ids.astype(np.int32),
        "barycentric": corr.barycentric.astype(np.float32),
        "distances_m": corr.distances_m.astype(np.float32),
        "alignment_scale": np.array(corr.alignment_scale, dtype=np.float64),
        "alignment_rotation": corr.alignment_rotation.astype(np.float64),
        "alignment_translation": corr.alignment_translation.astype(np.float64),
    }
    write_reproducible_npz(path, arrays)

