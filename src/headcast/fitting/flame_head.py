"""FLAME as the pipeline's head model: a skinned ``LinearHeadModel`` with a UV layout and a landmark table of ours.

A user's FLAME file (:func:`headcast.headmodel.flame.load_flame`) has geometry, bases and skinning but neither UVs
(FLAME's own UV file is not redistributable) nor MediaPipe's landmarks. Both are made here, at load time, by
transferring ICT FaceKit's (MIT) through the packaged ICT↔FLAME table (:mod:`headcast.fitting.flame_correspondence`):

1. **FLAME on ICT's surface.** Every FLAME vertex gets a place on ICT's template: the table's ICT point for the
   ~4,000 skin vertices it covers; for the others (eyeballs, the neck's rim, the inside of the lips) the aligned
   position (the table's similarity) moved by the mean offset of its 8 nearest covered vertices.
2. **UV charts.** ICT's UVs are cut into charts (triangles joined by shared UV corners; each chart has one
   material). Every FLAME triangle takes the chart under most of its corners (skin triangles choose among ICT's
   ``face`` and ``head`` charts, eyeball triangles among the ``sclera`` ones), and each of its corners
   gets the UV of its closest point on that chart. A FLAME vertex on a chart border has one UV per chart, so the
   texture is continuous inside a chart and seams follow ICT's. Materials, roles and the atlas are ICT's (the
   texture stage bakes and paints FLAME's atlas exactly as ICT's).
3. **MediaPipe landmarks.** Each of ICT's 478 landmark points (on ICT's template) is re-embedded as the closest
   point of FLAME's surface placed as in step 1 (the iris points on the eyeball triangles, the rest on the skin);
   the jaw-contour candidate slices map vertex by vertex. The iBUG-68 vertices and the face region of the
   geometry evaluation map the same way.
4. **Parts.** ``face`` and ``head_neck`` from the chart material of each skin vertex, ``eyeballs`` from the
   skinning weights (vertices that follow an eye joint).

Conventions of the resulting model: ``name="flame"``; identity = FLAME's shape β (first ``num_identity``),
expression = ψ (first ``num_expression``, ``expression_kind="coefficients"``, named ``psi_00`` …), the skeleton is
FLAME's five joints with the jaw fitted to the landmarks (:class:`~headcast.headmodel.base.Skeleton`).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from headcast.fitting.correspondence import Correspondence, landmark_points
from headcast.fitting.embedding import closest_point_on_mesh
from headcast.fitting.flame_correspondence import FlameCorrespondence, correspondence_targets
from headcast.headmodel.base import AtlasCell, LinearHeadModel, MaterialRole, Skeleton
from headcast.headmodel.flame import FlameModel

FLAME_HEAD_NAME = "flame"
SKIN_ROLES: tuple[MaterialRole, ...] = ("face", "head")
EYE_ROLES: tuple[MaterialRole, ...] = ("sclera_left", "sclera_right")
"""ICT's eyeball is a sclera sphere (its UVs a frontal projection, painted with the iris in the middle) with a
separate iris/cornea shell in front; FLAME's eyeball is one sphere, so it takes the sclera's charts only."""
_NEIGHBOURS = 8  # covered vertices whose offsets extend the table to a vertex it does not cover
_CANDIDATES = 48  # triangles tested per closest-point query


@dataclass(frozen=True, eq=False)
class FlameHead:
    """FLAME prepared for the pipeline.

    Attributes:
        model: the skinned head model (UVs, materials, atlas, parts and landmarks of this module).
        correspondence: MediaPipe's 478 landmarks on ``model``.
        on_ict: ``(V, 3)`` where each FLAME template vertex sits on ICT's template (step 1), metres.
    """

    model: LinearHeadModel
    correspondence: Correspondence
    on_ict: NDArray[np.float64]


def flame_on_ict(
    template: NDArray[np.floating], table: FlameCorrespondence, ict: LinearHeadModel
) -> NDArray[np.float64]:
    """``(V, 3)`` the FLAME template's vertices placed on ICT's template (step 1 of the module docstring).

    Args:
        template: ``(V, 3)`` FLAME's template, metres.
        table: the ICT↔FLAME table.
        ict: ICT FaceKit (its template and triangles).
    """
    v = np.asarray(template, dtype=np.float64)
    aligned = table.alignment_scale * v @ table.alignment_rotation.T + table.alignment_translation
    ids = table.flame_vertex_ids
    out = aligned.copy()
    out[ids] = correspondence_targets(ict.template.astype(np.float64), ict.triangles, table)
    offsets = out[ids] - aligned[ids]
    rest = np.setdiff1d(np.arange(len(v)), ids)
    _, near = cKDTree(aligned[ids]).query(aligned[rest], k=_NEIGHBOURS)
    out[rest] = aligned[rest] + offsets[near].mean(axis=1)
    return out


def uv_charts(model: LinearHeadModel) -> NDArray[np.int64]:
    """``(T,)`` chart id of every triangle: triangles sharing a UV corner are one chart (per material)."""
    t = len(model.triangles)
    corners = model.triangle_uvs.astype(np.int64) + len(model.uv) * model.triangle_material[:, None].astype(np.int64)
    rows = np.repeat(np.arange(t), 3)
    graph = coo_matrix((np.ones(3 * t), (rows, corners.ravel() + t)), shape=(t + corners.max() + 1,) * 2)
    _, labels = connected_components(graph, directed=False)
    return np.unique(labels[:t], return_inverse=True)[1].astype(np.int64)


def _closest(points: NDArray[np.float64], vertices: NDArray[np.float64], triangles: NDArray[np.integer],
             rows: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Closest point among the triangles ``rows``: the chosen rows (of the full triangle array) and barycentrics."""
    hit, bary, _ = closest_point_on_mesh(points, vertices, triangles[rows], min(_CANDIDATES, len(rows)))
    return rows[hit], bary


def flame_head_model(
    flame: FlameModel,
    ict: LinearHeadModel,
    table: FlameCorrespondence,
    ict_landmarks: Correspondence,
    num_identity: int = 100,
    num_expression: int = 50,
) -> FlameHead:
    """FLAME as a skinned :class:`LinearHeadModel` with UVs and landmarks transferred from ICT (module docstring).

    Args:
        flame: the user's FLAME buffers.
        ict: ICT FaceKit, the source of the UV charts, materials and atlas.
        table: the packaged ICT↔FLAME table (made for ``ict``).
        ict_landmarks: MediaPipe's landmark table on ``ict``.
        num_identity: shape components kept (≤ FLAME's 300).
        num_expression: expression components kept (≤ FLAME's 100).

    Raises:
        ValueError: a table made for another ICT topology, or too many components asked for.
    """
    table.check_model(ict)
    ict_landmarks.check_model(ict)
    if num_identity > flame.num_shape or num_expression > flame.num_expression:
        raise ValueError(f"FLAME has {flame.num_shape} shape and {flame.num_expression} expression components")
    tris = flame.faces.astype(np.int64)
    n = flame.num_vertices
    on_ict = flame_on_ict(flame.template, table, ict)
    iv = ict.template.astype(np.float64)

    # which FLAME vertices are eyeball (follow an eye joint) and which are skin
    eye_joints = [i for i, name in enumerate(flame.joint_names) if name.startswith("eye")]
    eyeball = np.isin(np.argmax(flame.lbs_weights, axis=1), eye_joints)
    tri_eye = eyeball[tris].sum(axis=1) >= 2

    # 2. each FLAME corner's closest point on ICT's charts of its kind, then one chart per triangle
    charts = uv_charts(ict)
    skin_rows = np.flatnonzero(ict.material_mask(*SKIN_ROLES))
    eye_rows = np.flatnonzero(ict.material_mask(*EYE_ROLES))
    vert_row = np.zeros(n, dtype=np.int64)
    skin_v, eye_v = np.flatnonzero(~eyeball), np.flatnonzero(eyeball)
    vert_row[skin_v] = _closest(on_ict[skin_v], iv, ict.triangles, skin_rows)[0]
    vert_row[eye_v] = _closest(on_ict[eye_v], iv, ict.triangles, eye_rows)[0]
    corner_chart = charts[vert_row[tris]]  # (T, 3)
    # majority chart per triangle (the first corner's on a three-way tie); eyeball triangles keep eyeball charts
    same01 = corner_chart[:, 0] == corner_chart[:, 1]
    same12 = corner_chart[:, 1] == corner_chart[:, 2]
    tri_chart = np.where(same01 | (corner_chart[:, 0] == corner_chart[:, 2]), corner_chart[:, 0],
                         np.where(same12, corner_chart[:, 1], corner_chart[:, 0]))
    eye_chart = np.isin(tri_chart, charts[eye_rows])
    tri_chart = np.where(tri_eye & ~eye_chart, corner_chart[:, 0], tri_chart)

    # corners: the UV of the closest point on the triangle's chart; one UV per (vertex, chart)
    pairs = np.unique(np.stack([tris.ravel(), np.repeat(tri_chart, 3)], axis=1), axis=0)
    pair_uv = np.zeros((len(pairs), 2))
    ict_uv = ict.uv.astype(np.float64)
    for chart in np.unique(pairs[:, 1]):
        sel = np.flatnonzero(pairs[:, 1] == chart)
        rows = np.flatnonzero(charts == chart)
        hit, bary = _closest(on_ict[pairs[sel, 0]], iv, ict.triangles, rows)
        pair_uv[sel] = np.einsum("nk,nkc->nc", bary, ict_uv[ict.triangle_uvs[hit]])
    key = pairs[:, 0] * (charts.max() + 1) + pairs[:, 1]
    corner_key = tris * (charts.max() + 1) + tri_chart[:, None]
    triangle_uvs = np.searchsorted(key, corner_key).astype(np.int32)

    # materials: the ICT material of each triangle's chart, renumbered over those FLAME uses
    chart_material = np.zeros(charts.max() + 1, dtype=np.int64)
    chart_material[charts] = ict.triangle_material
    ict_material = chart_material[tri_chart]
    used = np.unique(ict_material)
    material_names = tuple(ict.material_names[m] for m in used)
    roles: dict[MaterialRole, tuple[str, ...]] = {}
    for m in used:
        roles.setdefault(ict.material_role(int(m)), ())
        roles[ict.material_role(int(m))] += (ict.material_names[m],)
    atlas: dict[str, AtlasCell] = {name: ict.uv_atlas[name] for name in material_names}

    # 4. parts
    face_material = np.isin(ict_material, ict.material_ids("face"))
    face_v = np.zeros(n, dtype=bool)
    face_v[tris[face_material & ~tri_eye].ravel()] = True
    parts = {
        "face": np.flatnonzero(face_v & ~eyeball),
        "head_neck": np.flatnonzero(~face_v & ~eyeball),
        "eyeballs": np.flatnonzero(eyeball),
    }

    # 3. landmarks: ICT's 478 points, the iBUG-68 vertices and the narrow face, re-embedded on FLAME
    skin_tris = np.flatnonzero(~tri_eye)
    eye_tris = np.flatnonzero(tri_eye)
    points = landmark_points(iv, ict.triangles, ict_landmarks)
    iris = np.arange(len(points)) >= 468
    face_ids = np.zeros(len(points), dtype=np.int64)
    bary = np.zeros((len(points), 3))
    face_ids[~iris], bary[~iris] = _closest(points[~iris], on_ict, tris, skin_tris)
    face_ids[iris], bary[iris] = _closest(points[iris], on_ict, tris, eye_tris)
    skin_tree = cKDTree(on_ict[skin_v])
    landmarks68 = skin_v[skin_tree.query(iv[ict.landmarks68])[1]]
    cand = ict_landmarks.contour_candidates
    mapped = np.where(cand >= 0, skin_v[skin_tree.query(iv[np.maximum(cand, 0)])[1]], -1)
    candidates = np.full_like(cand, -1)
    for c, row in enumerate(mapped):
        keep = list(dict.fromkeys(int(i) for i in row if i >= 0))  # de-duplicated, order kept
        candidates[c, : len(keep)] = keep
    narrow = np.zeros(ict.num_vertices, dtype=bool)
    narrow[ict.face_vertices] = True
    near_ict = cKDTree(iv).query(on_ict[skin_v])[1]
    face_vertices = skin_v[narrow[near_ict] & face_v[skin_v]]

    model = LinearHeadModel(
        name=FLAME_HEAD_NAME,
        template=flame.template.astype(np.float32),
        identity_basis=np.ascontiguousarray(np.moveaxis(flame.shape_basis[..., :num_identity], 2, 0)),
        expression_basis=np.ascontiguousarray(np.moveaxis(flame.expression_basis[..., :num_expression], 2, 0)),
        expression_names=tuple(f"psi_{i:02d}" for i in range(num_expression)),
        triangles=flame.faces.astype(np.int32),
        triangle_uvs=triangle_uvs,
        uv=pair_uv.astype(np.float32),
        triangle_material=np.searchsorted(used, ict_material).astype(np.int16),
        material_names=material_names,
        parts=parts,
        landmarks68=landmarks68.astype(np.int64),
        face_vertices=face_vertices.astype(np.int64),
        material_roles=roles,
        uv_atlas=atlas,
        skeleton=Skeleton(flame.joint_names, flame.parents.copy(), flame.j_regressor, flame.lbs_weights,
                          flame.posedirs, fitted_joints=("jaw",)),
        expression_kind="coefficients",
    )
    corr = Correspondence(
        model_name=FLAME_HEAD_NAME,
        num_triangles=len(tris),
        face_ids=face_ids,
        barycentric=bary,
        face_oval=ict_landmarks.face_oval.copy(),
        contour=ict_landmarks.contour.copy(),
        contour_candidates=candidates,
    )
    return FlameHead(model, corr, on_ict)
