"""Build the embedding of MediaPipe's 478 landmarks on a linear head model (ICT FaceKit).

Method (run by ``scripts/make_correspondences.py``):

1. MediaPipe's canonical face mesh (``face_model_with_iris.obj``: vertex i = landmark i, centimetres) is
   scaled to metres and aligned to the model template by a similarity (Umeyama) on ten robust anchor pairs
   (eye corners, nose tip, subnasale, mouth corners, lip centres: MediaPipe ids vs iBUG-68 model vertices).
2. Model-based ICP: repeat — project every canonical mesh vertex onto the model's face surface (closest point,
   material role ``face``), solve the model's first identity modes and a few expression weights (jaw, blinks) by
   ridge-regularised linear least squares so the model surface passes through the canonical points (plus the
   anchors), then re-estimate the similarity. Pairs much farther than the median are ignored.
3. Each canonical vertex is projected onto the closest face triangle of the fitted model; barycentric weights
   transfer to every identity and expression because the topology is shared. Lid and lip contour points are
   restricted to the matching side (upper lid/lip landmarks onto triangles that move with ``eyeBlink`` resp.
   stay when ``jawOpen`` moves, lower ones onto the others) so closed eyes and an open mouth stay consistent.
4. Lid landmarks (the 14 + 14 lid contour points and the four eye corners) are then moved onto the eye
   opening's boundary loop of the face mesh — the lid margin a render shows — at the landmark's own x (frontal
   view). Closest-point projection alone put the upper-lid points ~2.5 mm below the margin, inside the lid's
   rounded edge, so fitted eyes ended up ~3.5 mm too open ("staring").
5. The iris landmarks (468–477) go onto the model's iris triangles: the centre onto the front-most iris vertex,
   the four rim points at the canonical offsets around it.
6. The face oval is the canonical mesh's outer boundary loop; its part below the eyes is the sliding contour.
   For each contour landmark the fitter gets a slice of model vertices (within ``slice_halfwidth`` of the plane
   through the landmark spanned by the oval's outward normal and the depth axis).

7. Calibration against the detector (:func:`calibrate_embedding`): the canonical mesh says where MediaPipe's
   points are meant to be, not where the detector puts them on a face like ICT's. Fitting the mean head to
   MediaPipe's landmarks on renders of the mean head gave |α| ≈ 9 σ instead of 0 — a bias the identity absorbed,
   which made reconstructions worse than the mean head on synthetic heads. So the script renders the mean head
   (textures baked from fixture portraits with the uncalibrated table, a few yaw angles), runs the detector,
   back-projects every non-contour mesh landmark onto the rendered surface (per-pixel triangle id and
   barycentrics), averages the hits in the model frame and re-embeds that point (same class rules as step 3).

Everything is deterministic (fixed iteration counts, stable sorts, seeded inputs), so the output file is
reproducible.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.fitting.correspondence import Correspondence
from headcast.fitting.embedding import boundary_loops, closest_point_on_mesh, umeyama
from headcast.headmodel.base import LinearHeadModel, MaterialRole, blend_vertices

NUM_MESH_LANDMARKS = 468

# MediaPipe id -> iBUG-68 index of the same anatomical point.
ANCHORS: dict[int, int] = {33: 36, 133: 39, 362: 42, 263: 45, 4: 30, 2: 33, 61: 48, 291: 54, 0: 51, 17: 57}

UPPER_LID = (246, 161, 160, 159, 158, 157, 173, 466, 388, 387, 386, 385, 384, 398)
LOWER_LID = (7, 163, 144, 145, 153, 154, 155, 249, 390, 373, 374, 380, 381, 382)
UPPER_LIP = (185, 40, 39, 37, 0, 267, 269, 270, 409, 191, 80, 81, 82, 13, 312, 311, 310, 415)
LOWER_LIP = (146, 91, 181, 84, 17, 314, 405, 321, 375, 95, 88, 178, 87, 14, 317, 402, 318, 324)
# Iris: centre first, then the rim. 468-472 is the subject's right eye (-x), 473-477 the left (+x).
IRIS_RIGHT = (468, 469, 470, 471, 472)
IRIS_LEFT = (473, 474, 475, 476, 477)
OVAL_START = 10

FIT_EXPRESSIONS = ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight")


@dataclass(frozen=True)
class EmbeddingSettings:
    """Parameters of the embedding build.

    Attributes:
        num_identity: identity modes fitted to the canonical face.
        iterations: ICP iterations.
        identity_ridge: ridge weight on identity coefficients (m² per σ²).
        expression_ridge: ridge weight on the fitted expression weights (m² per unit weight).
        anchor_weight: weight of an anchor pair relative to one closest-point pair.
        reject_factor: closest-point pairs farther than this × the median distance are ignored.
        slice_halfwidth: half-width of the contour slices, metres.
        slice_inner: how far a slice reaches inside the landmark (towards the face centre), metres.
        slice_outer: how far a slice reaches outside the landmark, metres.
        slice_max: most vertices per slice (evenly subsampled).
    """

    num_identity: int = 60
    iterations: int = 15
    identity_ridge: float = 2e-6
    expression_ridge: float = 2e-6
    anchor_weight: float = 5.0
    reject_factor: float = 3.0
    slice_halfwidth: float = 0.003
    slice_inner: float = 0.015
    slice_outer: float = 0.03
    slice_max: int = 48


@dataclass(frozen=True, eq=False)
class EmbeddingReport:
    """Diagnostics of a build.

    Attributes:
        correspondence: the table.
        distances: ``(468,)`` metres from each aligned canonical vertex to its embedded model point.
        scale: the canonical-to-model similarity scale.
        identity: ``(K,)`` identity coefficients fitted to the canonical face.
        expression: fitted weights of ``FIT_EXPRESSIONS``.
    """

    correspondence: Correspondence
    distances: NDArray[np.float64]
    scale: float
    identity: NDArray[np.float64]
    expression: NDArray[np.float64]


def read_obj(text: str) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Vertices ``(V, 3)`` and triangles ``(T, 3)`` (0-based) of a triangle OBJ's text."""
    verts: list[list[float]] = []
    faces: list[list[int]] = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v":
            verts.append([float(x) for x in parts[1:4]])
        elif parts[0] == "f":
            faces.append([int(x.split("/")[0]) - 1 for x in parts[1:4]])
    return np.array(verts, dtype=np.float64), np.array(faces, dtype=np.int64)


def build_embedding(
    model: LinearHeadModel,
    canonical: NDArray[np.floating],
    canonical_triangles: NDArray[np.integer],
    settings: EmbeddingSettings,
) -> EmbeddingReport:
    """Embed MediaPipe's landmarks on ``model`` (see the module docstring for the method).

    Args:
        model: the head model (metres).
        canonical: ``(478, 3)`` MediaPipe canonical face vertices, metres, same axes as the model.
        canonical_triangles: ``(T, 3)`` its triangles.
        settings: build parameters.
    """
    src = np.asarray(canonical, dtype=np.float64)
    tris = np.asarray(model.triangles)
    face_tris = np.nonzero(model.material_mask("face"))[0]
    classes = _triangle_classes(model, face_tris)
    point_class = _landmark_classes()
    mesh_ids = np.arange(NUM_MESH_LANDMARKS)
    anchor_mp = np.array(list(ANCHORS), dtype=np.int64)
    anchor_vid = model.landmarks68[np.array(list(ANCHORS.values()))]
    expr_ids = np.array([model.expression_index(n) for n in FIT_EXPRESSIONS])
    k = min(settings.num_identity, model.num_identity)

    s, r, t = umeyama(src[anchor_mp], model.template[anchor_vid].astype(np.float64))
    alpha = np.zeros(k)
    weights = np.zeros(len(expr_ids))
    expr_full = np.zeros(model.num_expressions)
    for _ in range(settings.iterations):
        aligned = s * src @ r.T + t
        expr_full[expr_ids] = weights
        verts = blend_vertices(model, alpha, expr_full)
        fid, bary, dist = _project(aligned[mesh_ids], verts, tris, classes, point_class[mesh_ids])
        keep = dist <= settings.reject_factor * max(float(np.median(dist)), 1e-4)
        alpha, weights = _solve_shape(
            model, k, expr_ids, tris[fid], bary, aligned[mesh_ids], keep,
            anchor_vid, aligned[anchor_mp], settings,
        )  # fmt: skip
        expr_full[expr_ids] = weights
        verts = blend_vertices(model, alpha, expr_full)
        targets = np.einsum("nkc,nk->nc", verts[tris[fid]], bary)
        w_pts = np.concatenate([keep.astype(np.float64), np.full(len(anchor_mp), settings.anchor_weight)])
        s, r, t = umeyama(
            np.concatenate([src[mesh_ids], src[anchor_mp]]), np.concatenate([targets, verts[anchor_vid]]), w_pts
        )

    aligned = s * src @ r.T + t
    expr_full[expr_ids] = weights
    verts = blend_vertices(model, alpha, expr_full)
    face_ids = np.zeros(len(src), dtype=np.int64)
    barycentric = np.zeros((len(src), 3))
    fid, bary, dist = _project(aligned[mesh_ids], verts, tris, classes, point_class[mesh_ids])
    face_ids[mesh_ids], barycentric[mesh_ids] = fid, bary
    _snap_lids_to_margin(verts, tris, face_tris, aligned, face_ids, barycentric)
    iris_roles: tuple[tuple[tuple[int, ...], MaterialRole], ...] = (
        (IRIS_RIGHT, "iris_right"), (IRIS_LEFT, "iris_left"),
    )
    for iris, material in iris_roles:
        ids = np.array(iris)
        fid_i, bary_i = _embed_iris(model, verts, aligned[ids], material)
        face_ids[ids], barycentric[ids] = fid_i, bary_i

    oval = _face_oval(canonical_triangles, src)
    eye_level = 0.5 * (src[33, 1] + src[263, 1])
    contour = oval[src[oval, 1] < eye_level]
    template_pts = np.einsum("nkc,nk->nc", model.template.astype(np.float64)[tris[face_ids]], barycentric)
    candidates = _contour_slices(model, template_pts, oval, contour, settings)
    corr = Correspondence(
        model_name=model.name,
        num_triangles=len(tris),
        face_ids=face_ids,
        barycentric=barycentric,
        face_oval=oval,
        contour=contour,
        contour_candidates=candidates,
    )
    return EmbeddingReport(corr, dist, s, alpha, weights)


EYE_CORNERS = {33: "outer", 133: "inner", 362: "inner", 263: "outer"}


def _snap_lids_to_margin(
    verts: NDArray[np.float64],
    tris: NDArray[np.integer],
    face_tris: NDArray[np.int64],
    aligned: NDArray[np.float64],
    face_ids: NDArray[np.int64],
    barycentric: NDArray[np.float64],
) -> None:
    """Move lid landmarks onto the eye-opening boundary loops (in place; see step 4 of the module docstring).

    Each loop is split at its extreme-x vertices into an upper and a lower chain; a lid landmark goes to the
    point of its chain with the same x as the aligned canonical point, an eye corner to the loop's extreme-x
    vertex. The point is written as barycentric weights on the face triangle owning that boundary edge.
    """
    face = tris[face_tris]
    loops = [lp for lp in boundary_loops(face) if 10 <= len(lp) <= 200]
    eye_loops = sorted(
        (lp for lp in loops if abs(verts[lp, 0].mean()) > 0.015 and verts[lp, 1].mean() > verts[:, 1].mean()),
        key=lambda lp: float(verts[lp, 0].mean()),
    )
    if len(eye_loops) != 2:
        raise ValueError(f"expected two eye-opening loops on the face mesh, found {len(eye_loops)}")
    edge_owner: dict[tuple[int, int], int] = {}
    for t_id, tri in zip(face_tris, face, strict=True):
        for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0])):
            edge_owner[(min(a, b), max(a, b))] = int(t_id)
    for loop, side in zip(eye_loops, (-1.0, 1.0), strict=True):
        x = verts[loop, 0]
        i_min, i_max = int(np.argmin(x)), int(np.argmax(x))
        ring = np.roll(loop, -i_min)
        j = (i_max - i_min) % len(loop)
        chain_a, chain_b = ring[: j + 1], np.r_[ring[j:], ring[:1]]
        upper, lower = (chain_a, chain_b) if verts[chain_a, 1].mean() > verts[chain_b, 1].mean() else (chain_b, chain_a)
        for ids, chain in ((UPPER_LID, upper), (LOWER_LID, lower)):
            for lm in ids:
                if np.sign(aligned[lm, 0]) == side:
                    _place_on_chain(lm, aligned[lm, 0], chain, verts, tris, edge_owner, face_ids, barycentric)
        for lm, kind in EYE_CORNERS.items():
            if np.sign(aligned[lm, 0]) != side:
                continue
            inner_is_max = side < 0  # the right eye (-x) has its inner corner at larger x
            vid = loop[i_max] if (kind == "inner") == inner_is_max else loop[i_min]
            _place_on_chain(lm, verts[vid, 0], upper, verts, tris, edge_owner, face_ids, barycentric)


def _place_on_chain(
    landmark: int,
    x: float,
    chain: NDArray[np.int64],
    verts: NDArray[np.float64],
    tris: NDArray[np.integer],
    edge_owner: dict[tuple[int, int], int],
    face_ids: NDArray[np.int64],
    barycentric: NDArray[np.float64],
) -> None:
    """Put ``landmark`` at the point of the polyline ``chain`` whose x equals ``x`` (clamped to its ends)."""
    cx = verts[chain, 0]
    order = 1.0 if cx[-1] >= cx[0] else -1.0
    for k in range(len(chain) - 1):
        x0, x1 = cx[k] * order, cx[k + 1] * order
        if x0 <= x * order <= x1 or k == len(chain) - 2 or (k == 0 and x * order < x0):
            span = x1 - x0
            t = float(np.clip((x * order - x0) / span, 0.0, 1.0)) if span > 0 else 0.0
            a, b = int(chain[k]), int(chain[k + 1])
            tri_id = edge_owner[(min(a, b), max(a, b))]
            corners = list(tris[tri_id])
            w = np.zeros(3)
            w[corners.index(a)] = 1.0 - t
            w[corners.index(b)] = t
            face_ids[landmark], barycentric[landmark] = tri_id, w
            return


def calibrate_embedding(
    corr: Correspondence,
    model: LinearHeadModel,
    hits: NDArray[np.floating],
    valid: NDArray[np.bool_],
    min_hits: int = 2,
) -> Correspondence:
    """Re-embed mesh landmarks at the mean of their detector hits on the mean head (step 7 of the module docstring).

    Args:
        corr: the canonical-mesh embedding; its contour, oval and iris entries are kept.
        model: the head model; hits refer to its template (mean head, neutral), metres, model frame.
        hits: ``(R, 478, 3)`` where each render's detected landmark lands on the template surface.
        valid: ``(R, 478)`` whether that landmark hit the face in that render.
        min_hits: landmarks with fewer valid hits keep their canonical embedding.

    Returns:
        The calibrated table.
    """
    h = np.asarray(hits, dtype=np.float64)
    ok = np.asarray(valid, dtype=bool)
    count = ok.sum(axis=0)
    mean = np.einsum("rnc,rn->nc", h, ok.astype(np.float64)) / np.maximum(count, 1)[:, None]
    ids = np.arange(NUM_MESH_LANDMARKS)
    is_contour = np.zeros(len(corr.face_ids), dtype=bool)
    is_contour[corr.contour] = True
    redo = ids[(count[ids] >= min_hits) & ~is_contour[ids]]
    tris = np.asarray(model.triangles)
    face_tris = np.nonzero(model.material_mask("face"))[0]
    fid, bary, _ = _project(
        mean[redo], model.template.astype(np.float64), tris, _triangle_classes(model, face_tris),
        _landmark_classes()[redo],
    )  # fmt: skip
    face_ids = corr.face_ids.copy()
    barycentric = corr.barycentric.copy()
    face_ids[redo], barycentric[redo] = fid, bary
    return Correspondence(
        model_name=corr.model_name,
        num_triangles=corr.num_triangles,
        face_ids=face_ids,
        barycentric=barycentric,
        face_oval=corr.face_oval,
        contour=corr.contour,
        contour_candidates=corr.contour_candidates,
    )


def _landmark_classes() -> NDArray[np.int64]:
    """``(478,)`` class per landmark: 0 any, 1 upper lid, 2 lower lid, 3 upper lip, 4 lower lip."""
    cls = np.zeros(478, dtype=np.int64)
    for c, ids in enumerate((UPPER_LID, LOWER_LID, UPPER_LIP, LOWER_LIP), start=1):
        cls[list(ids)] = c
    return cls


def _triangle_classes(model: LinearHeadModel, face_tris: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    """Face triangle ids allowed for each landmark class (see :func:`_landmark_classes`)."""
    tris = model.triangles[face_tris]

    def motion(name: str) -> NDArray[np.float64]:
        d = np.linalg.norm(model.expression_basis[model.expression_index(name)], axis=1).astype(np.float64)
        return d[tris].mean(axis=1)

    blink = np.maximum(motion("eyeBlinkLeft"), motion("eyeBlinkRight"))
    jaw = motion("jawOpen")
    lm = model.landmarks68
    blink_thr = 0.5 * float(
        np.linalg.norm(model.expression_basis[model.expression_index("eyeBlinkRight"), lm[37]])
    )  # upper-lid margin motion
    jaw_thr = 0.5 * float(np.linalg.norm(model.expression_basis[model.expression_index("jawOpen"), lm[57]]))
    upper_lid = blink >= blink_thr
    lower_jaw = jaw >= jaw_thr
    return [face_tris, face_tris[upper_lid], face_tris[~upper_lid], face_tris[~lower_jaw], face_tris[lower_jaw]]


def _project(
    points: NDArray[np.float64],
    verts: NDArray[np.float64],
    tris: NDArray[np.integer],
    classes: list[NDArray[np.int64]],
    point_class: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Closest allowed face triangle per point: triangle id, barycentric ``(N, 3)``, distance ``(N,)``."""
    fid = np.zeros(len(points), dtype=np.int64)
    bary = np.zeros((len(points), 3))
    dist = np.zeros(len(points))
    for c, allowed in enumerate(classes):
        sel = np.nonzero(point_class == c)[0]
        if len(sel) == 0:
            continue
        row, b, d = closest_point_on_mesh(points[sel], verts, tris[allowed])
        fid[sel], bary[sel], dist[sel] = allowed[row], b, d
    return fid, bary, dist


def _solve_shape(
    model: LinearHeadModel,
    k: int,
    expr_ids: NDArray[np.integer],
    corners: NDArray[np.integer],
    bary: NDArray[np.float64],
    targets: NDArray[np.float64],
    keep: NDArray[np.bool_],
    anchor_vid: NDArray[np.integer],
    anchor_targets: NDArray[np.float64],
    settings: EmbeddingSettings,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ridge least squares for identity ``α`` and expression weights ``w`` (clipped to [0, 1]).

    Minimises ``Σ_j keep_j ‖T_j + A_j α + B_j w − y_j‖² + λ_a Σ_anchors ‖…‖² + ρ_α‖α‖² + ρ_w‖w‖²`` where
    ``T_j, A_j, B_j`` are the template and bases interpolated at the embedded points.
    """

    def interp(stack: NDArray[np.floating]) -> NDArray[np.float64]:  # (M, V, 3) -> (M, N, 3)
        return np.einsum("mnkc,nk->mnc", stack[:, corners].astype(np.float64), bary)

    basis = np.concatenate([model.identity_basis[:k], model.expression_basis[expr_ids]])
    b_pts = interp(basis)[:, keep].reshape(len(basis), -1).T
    t_pts = np.einsum("nkc,nk->nc", model.template[corners].astype(np.float64), bary)[keep].reshape(-1)
    b_anc = basis[:, anchor_vid].astype(np.float64).reshape(len(basis), -1).T
    t_anc = model.template[anchor_vid].astype(np.float64).reshape(-1)
    wa = np.sqrt(settings.anchor_weight)
    a_mat = np.concatenate([b_pts, wa * b_anc])
    rhs = np.concatenate([targets[keep].reshape(-1) - t_pts, wa * (anchor_targets.reshape(-1) - t_anc)])
    ridge = np.concatenate([np.full(k, settings.identity_ridge), np.full(len(expr_ids), settings.expression_ridge)])
    x = np.linalg.solve(a_mat.T @ a_mat + np.diag(ridge), a_mat.T @ rhs)
    return x[:k], np.clip(x[k:], 0.0, 1.0)


def _embed_iris(
    model: LinearHeadModel, verts: NDArray[np.float64], aligned: NDArray[np.float64], material: MaterialRole
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Iris centre on the front-most iris vertex, rim points at the canonical offsets, projected onto the iris."""
    iris_tris = np.nonzero(model.material_mask(material))[0]
    iris_verts = np.unique(model.triangles[iris_tris])
    apex = verts[iris_verts[np.argmax(verts[iris_verts, 2])]]
    targets = apex + (aligned - aligned[0])
    row, bary, _ = closest_point_on_mesh(targets, verts, model.triangles[iris_tris])
    return iris_tris[row], bary


def _face_oval(triangles: NDArray[np.integer], canonical: NDArray[np.float64]) -> NDArray[np.int64]:
    """The outer boundary loop of the canonical mesh, from landmark 10 towards +x first."""
    tri = np.asarray(triangles)
    mesh_only = tri[(tri < NUM_MESH_LANDMARKS).all(axis=1)]
    loop = next(lp for lp in boundary_loops(mesh_only) if OVAL_START in lp)
    loop = np.roll(loop, -int(np.nonzero(loop == OVAL_START)[0][0]))
    if canonical[loop[1], 0] < canonical[loop[0], 0]:
        loop = np.concatenate([loop[:1], loop[1:][::-1]])
    return loop


def _contour_slices(
    model: LinearHeadModel,
    template_pts: NDArray[np.float64],
    oval: NDArray[np.int64],
    contour: NDArray[np.int64],
    settings: EmbeddingSettings,
) -> NDArray[np.int64]:
    """``(C, M)`` vertex ids (−1 padded) of the face surface slice through each contour landmark."""
    pos = {int(i): n for n, i in enumerate(oval)}
    xy = template_pts[oval, :2]
    centre = xy.mean(axis=0)
    cand_ids = np.asarray(model.face_vertices)
    cand = model.template[cand_ids].astype(np.float64)
    out = np.full((len(contour), settings.slice_max), -1, dtype=np.int64)
    for row, lm in enumerate(contour):
        n = pos[int(lm)]
        tangent = xy[(n + 1) % len(oval)] - xy[n - 1]
        tangent /= np.linalg.norm(tangent)
        normal = np.array([tangent[1], -tangent[0]])
        p = template_pts[lm, :2]
        if normal @ (p - centre) < 0:
            normal = -normal
        rel = cand[:, :2] - p
        across = np.abs(rel @ tangent)
        along = rel @ normal
        sel = np.nonzero(
            (across <= settings.slice_halfwidth) & (along >= -settings.slice_inner) & (along <= settings.slice_outer)
        )[0]
        sel = sel[np.argsort(along[sel], kind="stable")]
        if len(sel) > settings.slice_max:
            sel = sel[np.round(np.linspace(0, len(sel) - 1, settings.slice_max)).astype(np.int64)]
        out[row, : len(sel)] = cand_ids[sel]
    return out
