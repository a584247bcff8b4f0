"""Per-texel maps of the atlas that depend only on the head model (computed once per model and atlas size).

The maps are kept in the model's memo (``model.memo``), so they live as long as the model and need no module-level
table; ``Pipeline.load`` builds them once before the first photo.

The maps are rasterised in UV space from the **template** mesh (model frame, metres): the region of every
atlas texel, and for the face cell the mirror correspondence (x → −x), the fade towards the chart's outer seam,
the cheek/forehead texels used to measure the skin tone and the zone above the eyes where hair is likely.
"""

import itertools
from dataclasses import dataclass
from enum import IntEnum

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial import ConvexHull, Delaunay, cKDTree

from headcast.headmodel.base import AtlasCell, LinearHeadModel, MaterialRole
from headcast.render.context import Renderer, default_renderer
from headcast.render.raster import rasterize_uv, smooth_normals
from headcast.texture.atlas import atlas_uv, cell_pixels


class Region(IntEnum):
    """What an atlas texel belongs to."""

    EMPTY = 0
    FACE = 1
    HEAD = 2
    MOUTH_SOCKET = 3
    EYE_SOCKET = 4
    GUMS_TONGUE = 5
    TEETH = 6
    SCLERA = 7
    IRIS = 8
    LASHES = 9
    HIDDEN = 10


_ROLE_REGION: dict[MaterialRole, Region] = {
    "face": Region.FACE,
    "head": Region.HEAD,
    "gums_tongue": Region.GUMS_TONGUE,
    "teeth": Region.TEETH,
    "sclera_left": Region.SCLERA,
    "sclera_right": Region.SCLERA,
    "iris_left": Region.IRIS,
    "iris_right": Region.IRIS,
    "lashes": Region.LASHES,
    "overlay": Region.HIDDEN,
}

_EYE_ROLES: tuple[MaterialRole, ...] = ("sclera_left", "sclera_right")


@dataclass(frozen=True, eq=False)
class AtlasMaps:
    """Model-only maps of the atlas. ``F`` is the face cell's side in texels (``size / 2``).

    Attributes:
        size: atlas side ``S`` in texels.
        uv: ``(U, 2)`` float32 atlas coordinates of every model UV.
        region: ``(S, S)`` uint8 :class:`Region` per texel, row 0 = top.
        face_box: ``(row0, row1, col0, col1)`` of the face cell in the atlas.
        face_triangles: ``(T_f, 3)`` triangles of the face material.
        face_uv: ``(T_f, 3, 2)`` float32 face-cell coordinates of their corners, in [0, 1]² (bottom-left origin).
        face_mask: ``(F, F)`` bool, texels covered by the face chart.
        mirror_xy: ``(F, F, 2)`` float32 face-cell pixel coordinates (x, y; pixel centres at integers, the
            ``cv2.remap`` convention) of the texel on the mirrored side of the face.
        seam_fade: ``(F, F)`` float32 in [0, 1]: 0 at the chart's outer border (the seam to the back of the
            head), 1 from a few percent of the cell inwards.
        skin_sample: ``(F, F)`` bool, front-facing skin texels (cheeks, forehead, nose, chin; brows, eyes, lips
            and nostrils excluded) used to measure the skin tone.
        photo_zone: ``(F, F)`` float32 in [0, 1]: where the photo may texture the face at all (0 below the jaw
            line and on the ears, where a landmark fit is least reliable and the photo shows neck shadow, collar
            or hair).
        hair_risk: ``(F, F)`` float32 in [0, 1]: forehead/temple zone above the eyes (brows and eyes excluded)
            where the photo often shows hair.
        plain_skin: ``(F, F)`` float32 in [0, 1]: skin away from the eyes, brows, lips and nostrils (where a
            colour of a different hue than the skin cannot be a facial feature).
        beard_zone: ``(F, F)`` float32 in [0, 1]: around the mouth and chin, where dark skin-hued texels may be a
            beard or stubble and are kept.
        gate_full_half: ``(F/2, F/2)`` where texels far from the skin tone in lightness or hue are dropped:
            ``max(hair_risk, plain_skin · (1 − beard_zone))`` (hair over the forehead, temples and cheeks).
        gate_hue_half: ``(F/2, F/2)`` where only texels of a different hue are dropped: ``plain_skin ·
            beard_zone``.
        gutter_src: ``(G,)`` flat atlas indices of chart texels copied into the gutters.
        gutter_dst: ``(G,)`` flat atlas indices of the empty texels they fill (the nearest chart texel).
        grain: ``(S, S)`` float32 smooth noise (zero mean, unit std) for skin grain in completed regions.
        catchlight_uv: ``{"sclera_left": (2,), "sclera_right": (2,)}`` tile UVs of a cornea point above and to
            the right of the pupil (seen from the front), where a highlight is painted.
        cell_boxes: ``{role: ((row0, row1, col0, col1), ...)}`` pixel boxes of the cells of each material role
            of the model, in the model's material order for that role.
        nose_zone: ``(F, F)`` float32 in [0, 1]: the nose below its root (flanks, wings, nostrils, columella),
            fading to 0 over 4 mm round it. The photo sees the flanks and the nostrils at a grazing angle or not
            at all (the nostrils' inside, the groove behind the wings), yet it is their only source: there the
            photo weight is the photo's trust alone, not the view angle or self-occlusion (a skin fill instead
            puts a pale nose without nostrils on the face; the nose region alone carried the largest share of
            the same-view identity distance).
    """

    size: int
    uv: NDArray[np.float32]
    region: NDArray[np.uint8]
    face_box: tuple[int, int, int, int]
    face_triangles: NDArray[np.int32]
    face_uv: NDArray[np.float32]
    face_mask: NDArray[np.bool_]
    mirror_xy: NDArray[np.float32]
    seam_fade: NDArray[np.float32]
    skin_sample: NDArray[np.bool_]
    photo_zone: NDArray[np.float32]
    hair_risk: NDArray[np.float32]
    plain_skin: NDArray[np.float32]
    beard_zone: NDArray[np.float32]
    gate_full_half: NDArray[np.float32]
    gate_hue_half: NDArray[np.float32]
    gutter_src: NDArray[np.int64]
    gutter_dst: NDArray[np.int64]
    grain: NDArray[np.float32]
    catchlight_uv: dict[MaterialRole, NDArray[np.float32]]
    cell_boxes: dict[MaterialRole, tuple[tuple[int, int, int, int], ...]]
    nose_zone: NDArray[np.float32]

    def cell_box(self, role: MaterialRole) -> tuple[slice, slice]:
        """``(rows, cols)`` slices of the one cell of ``role``."""
        (box,) = self.cell_boxes[role]
        return slice(box[0], box[1]), slice(box[2], box[3])


def atlas_maps(model: LinearHeadModel, size: int, renderer: Renderer | None = None) -> AtlasMaps:
    """The maps of ``model`` at atlas side ``size``, computed once per (model, size) and kept in ``model.memo``.

    ``renderer`` only rasterises (any renderer gives the same maps); the process default when None.
    """
    size = int(size)
    return model.memo.get(
        ("texture.atlas_maps", size),
        lambda: build_atlas_maps(model, size, default_renderer() if renderer is None else renderer),
    )


def build_atlas_maps(model: LinearHeadModel, size: int, renderer: Renderer) -> AtlasMaps:
    """Compute :class:`AtlasMaps` (about 0.5 s at 2048²; use :func:`atlas_maps` for the cached version).

    Args:
        model: a model with an atlas cell for every material (``model.uv_atlas``) and a ``face`` material.
        size: atlas side in texels.
        renderer: GL owner used for the UV-space rasterisation.
    """
    uv = atlas_uv(model, size)
    region = _region_map(model, uv, size, renderer)
    face_cell = model.atlas_cell("face")
    r0, r1, c0, c1 = cell_pixels(face_cell, size)
    fsize = r1 - r0
    face_sel = model.material_mask("face")
    face_tris = model.triangles[face_sel].astype(np.int32)
    u0, v0, u1, _ = face_cell.rect
    face_uv = (uv[model.triangle_uvs[face_sel]] - np.array([u0, v0], np.float32)) / np.float32(u1 - u0)

    template = model.template.astype(np.float64)
    normals = smooth_normals(template, model.triangles)
    mirror_uv = _mirror_corner_uv(model, face_sel, face_uv)
    attrs = np.concatenate(
        [template[face_tris], normals[face_tris], mirror_uv],
        axis=-1,
    ).astype(np.float32)  # (T_f, 3, 8): position, normal, mirror uv
    ras = rasterize_uv(face_uv, attrs, (fsize, fsize), renderer)
    pos, nrm, muv, mask = ras.values[..., :3], ras.values[..., 3:6], ras.values[..., 6:8], ras.mask
    mirror_xy = np.stack([muv[..., 0] * fsize - 0.5, (1.0 - muv[..., 1]) * fsize - 0.5], axis=-1)
    mirror_xy[~mask] = -1.0
    seam_fade = _seam_fade(mask, fsize)
    step = 4  # the zones are smooth: compute them on every 4th texel and resize
    zones = _face_zones(model, pos[::step, ::step], nrm[::step, ::step], mask[::step, ::step])
    skin_small, risk_small, zone_small, plain_small, beard_small = zones
    nose_small = np.where(mask[::step, ::step], _nose_zone(model, pos[::step, ::step].astype(np.float64)), 0.0)
    nose_small = nose_small.astype(np.float32)
    skin_sample = mask & (cv2.resize(skin_small.astype(np.uint8), (fsize, fsize), interpolation=cv2.INTER_NEAREST) > 0)
    hair_risk = np.where(mask, cv2.resize(risk_small, (fsize, fsize), interpolation=cv2.INTER_LINEAR), 0.0)
    photo_zone = np.where(mask, cv2.resize(zone_small, (fsize, fsize), interpolation=cv2.INTER_LINEAR), 0.0)
    plain_skin = np.where(mask, cv2.resize(plain_small, (fsize, fsize), interpolation=cv2.INTER_LINEAR), 0.0)
    beard = np.where(mask, cv2.resize(beard_small, (fsize, fsize), interpolation=cv2.INTER_LINEAR), 0.0)
    gutter_src, gutter_dst = _gutter(region, tuple(model.uv_atlas.values()))
    return AtlasMaps(
        size=size,
        uv=uv,
        region=region,
        face_box=(r0, r1, c0, c1),
        face_triangles=face_tris,
        face_uv=face_uv.astype(np.float32),
        face_mask=mask,
        mirror_xy=mirror_xy.astype(np.float32),
        seam_fade=seam_fade,
        skin_sample=skin_sample,
        photo_zone=photo_zone.astype(np.float32),
        hair_risk=hair_risk.astype(np.float32),
        plain_skin=plain_skin.astype(np.float32),
        beard_zone=beard.astype(np.float32),
        gate_full_half=_half(np.maximum(hair_risk, plain_skin * (1.0 - beard))),
        gate_hue_half=_half(plain_skin * beard),
        gutter_src=gutter_src,
        gutter_dst=gutter_dst,
        grain=_grain(size),
        catchlight_uv=_catchlight_uv(model),
        cell_boxes={
            role: tuple(cell_pixels(c, size) for c in model.atlas_cells(role)) for role in model.material_roles
        },
        nose_zone=np.where(mask, cv2.resize(nose_small, (fsize, fsize), interpolation=cv2.INTER_LINEAR), 0.0).astype(
            np.float32
        ),
    )


def _half(image: NDArray[np.floating]) -> NDArray[np.float32]:
    """Area-average an ``(F, F)`` map to ``(F/2, F/2)``."""
    f = image.shape[0]
    return np.asarray(cv2.resize(image.astype(np.float32), (f // 2, f // 2), interpolation=cv2.INTER_AREA), np.float32)


def triangle_regions(model: LinearHeadModel) -> NDArray[np.uint8]:
    """``(T,)`` :class:`Region` of every triangle (material role, refined by part for the mouth and eye sockets)."""
    roles = [model.material_role(m) for m in range(len(model.material_names))]
    mat_region = np.array([_ROLE_REGION[r] for r in roles], dtype=np.uint8)
    out = mat_region[model.triangle_material]
    first = model.triangles[:, 0]
    for part, reg in (("mouth_socket", Region.MOUTH_SOCKET), ("eye_sockets", Region.EYE_SOCKET)):
        if model.has_part(part):
            out[(out == Region.HEAD) & model.part_mask(part)[first]] = reg
    return out


def _region_map(model: LinearHeadModel, uv: NDArray[np.float32], size: int, renderer: Renderer) -> NDArray[np.uint8]:
    labels = triangle_regions(model).astype(np.float32)
    # draw hidden shells first so that nothing visible is ever covered by them
    order = np.argsort(labels != Region.HIDDEN, kind="stable")
    corners = uv[model.triangle_uvs[order]]
    attrs = np.repeat(labels[order][:, None, None], 3, axis=1) / 255.0
    ras = rasterize_uv(corners, attrs, (size, size), renderer, precision="f1")
    region = np.rint(ras.values[..., 0] * 255.0).astype(np.uint8)
    region[~ras.mask] = Region.EMPTY
    return region


def _mirror_corner_uv(
    model: LinearHeadModel, face_sel: NDArray[np.bool_], face_uv: NDArray[np.float32]
) -> NDArray[np.float32]:
    """``(T_f, 3, 2)`` face-cell UV of the mirror image (x → −x) of each face-triangle corner."""
    tris = model.triangles[face_sel]
    verts = np.unique(tris)
    pts = model.template[verts].astype(np.float64)
    _, nearest = cKDTree(pts).query(pts * np.array([-1.0, 1.0, 1.0]))
    partner = np.full(model.num_vertices, -1, dtype=np.int64)
    partner[verts] = verts[nearest]
    flat_v = tris.ravel()
    flat_uv = face_uv.reshape(-1, 2)
    # every distinct (vertex, uv) pair of the face chart, sorted by vertex; a vertex on a UV seam has several
    flat_uvi = model.triangle_uvs[face_sel].ravel()
    pairs = np.unique(np.stack([flat_v, flat_uvi], axis=1), axis=0)
    sv = pairs[:, 0]
    uv_of = np.zeros((len(model.uv), 2), dtype=np.float32)
    uv_of[flat_uvi] = flat_uv
    suv = uv_of[pairs[:, 1]]
    first = np.searchsorted(sv, np.arange(model.num_vertices), side="left")
    last = np.searchsorted(sv, np.arange(model.num_vertices), side="right")
    p = partner[flat_v]
    out = suv[first[p]].copy()
    for i in np.flatnonzero(last[p] - first[p] > 1):
        cands = suv[first[p[i]] : last[p[i]]]
        want = np.array([1.0 - flat_uv[i, 0], flat_uv[i, 1]])  # the chart is symmetric about u = 0.5
        out[i] = cands[np.argmin(np.sum((cands - want) ** 2, axis=1))]
    return out.reshape(-1, 3, 2)


def _seam_fade(mask: NDArray[np.bool_], fsize: int) -> NDArray[np.float32]:
    """1 inside the chart, falling to 0 at its outer border (holes for the eyes and mouth do not count)."""
    filled = mask.astype(np.uint8)
    flood = np.pad(filled, 1)
    cv2.floodFill(flood, None, (0, 0), 2)
    outside = flood[1:-1, 1:-1] == 2
    solid = (~outside).astype(np.uint8)
    dist = cv2.distanceTransform(solid, cv2.DIST_L2, 5)
    width = 0.03 * fsize
    return np.clip((dist - 2.0) / width, 0.0, 1.0).astype(np.float32)


def _face_zones(
    model: LinearHeadModel, pos: NDArray[np.float32], nrm: NDArray[np.float32], mask: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.float32], NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Skin samples, hair risk, photo zone, plain skin and beard zone, from the template's iBUG-68 positions."""
    lm = model.template[model.landmarks68].astype(np.float64)
    p = pos.astype(np.float64)
    xy = p[..., :2]
    front = nrm[..., 2]
    brow_y = float(lm[17:27, 1].mean())
    eye_top = float(lm[[37, 38, 43, 44], 1].max())
    d_brow = np.min([_dist_to_points(xy, _densify(lm[a:b])) for a, b in ((17, 22), (22, 27))], axis=0)
    d_eye = np.min([_dist_to_points(xy, _densify(lm[a:b])) for a, b in ((36, 42), (42, 48))], axis=0)
    d_lips = _dist_to_points(xy, _densify(lm[48:60]))
    d_nostril = _dist_to_points(xy, _densify(lm[31:36], closed=False))

    # photo zone: above the jaw line (iBUG 0-16 seen from the front) and in front of the ears
    jaw = lm[8:17]  # chin to the right end, x increasing
    jaw_y = np.interp(np.abs(xy[..., 0]), jaw[:, 0], jaw[:, 1], right=-np.inf)
    above_jaw = np.clip((xy[..., 1] - jaw_y + 0.004) / 0.008, 0.0, 1.0)
    in_front = np.clip((p[..., 2] - (jaw[-1, 2] - 0.012)) / 0.012, 0.0, 1.0)
    zone = np.where(mask, above_jaw * in_front, 0.0)

    skin = (
        mask
        & (front > 0.5)
        & (zone > 0.99)
        & (xy[..., 1] < brow_y + 0.03)
        & (d_brow > 0.012)
        & (d_eye > 0.012)
        & (d_lips > 0.008)
        & (d_nostril > 0.008)
    )
    height = np.clip((xy[..., 1] - eye_top) / max(brow_y - eye_top, 1e-3), 0.0, 1.0)
    # the brows themselves are kept, but not a fringe lying on them: the keep-out band reaches 12 mm below the
    # brow line and only 3 mm above it
    brows = np.concatenate([_densify(lm[17:22], closed=False), _densify(lm[22:27], closed=False)])
    order = np.argsort(brows[:, 0])
    brow_line = np.interp(xy[..., 0], brows[order, 0], brows[order, 1])
    above = xy[..., 1] - brow_line
    over_brows = np.abs(xy[..., 0]) <= np.abs(brows[:, 0]).max() + 0.005
    brow_band = over_brows & (above < 0.003) & (above > -0.012)
    keep_out = np.where(brow_band, 0.0, np.clip((above - 0.003) / 0.004, 0.0, 1.0))
    keep_out = np.where(over_brows, keep_out, np.clip((d_brow - 0.010) / 0.006, 0.0, 1.0))
    keep_out = keep_out * np.clip((d_eye - 0.010) / 0.006, 0.0, 1.0)
    risk = np.where(mask, height * keep_out, 0.0)

    def away(d: NDArray[np.float64], inner: float) -> NDArray[np.float64]:
        return np.clip((d - inner) / 0.005, 0.0, 1.0)

    plain = away(d_brow, 0.008) * away(d_eye, 0.008) * away(d_lips, 0.008) * away(d_nostril, 0.006)
    plain = np.where(mask, plain, 0.0)
    # below the nose and inside the jaw: moustache, beard, stubble
    below_nose = np.clip((lm[33, 1] - xy[..., 1]) / 0.006, 0.0, 1.0)
    inside_jaw = np.clip((abs(lm[4, 0]) - np.abs(xy[..., 0])) / 0.006, 0.0, 1.0)
    beard = np.where(mask, below_nose * inside_jaw, 0.0)
    f32 = np.float32
    return skin, risk.astype(f32), zone.astype(f32), plain.astype(f32), beard.astype(f32)


def _nose_zone(
    model: LinearHeadModel,
    points: NDArray[np.float64],
    margin: float = 0.006,
    fade: float = 0.004,
) -> NDArray[np.float64]:
    """``(...)`` in [0, 1] for template positions ``(..., 3)``: how much each is on the nose.

    1 inside the outline through iBUG 27, 31–35 seen from the front (the nose below its root), grown by
    ``margin`` metres, fading to 0 over ``fade``; 0 more than 15 mm behind the nostrils' base (nothing of the
    back of the head).
    """
    lm = model.template[model.landmarks68].astype(np.float64)
    outline = lm[[27, 31, 32, 33, 34, 35], :2]
    hull = outline[ConvexHull(outline).vertices]
    xy = points[..., :2]
    inside = Delaunay(hull).find_simplex(xy.reshape(-1, 2)).reshape(xy.shape[:-1]) >= 0
    d = np.where(inside, 0.0, _dist_to_points(xy, _densify(hull, step=0.001)))
    near = np.clip((margin + fade - d) / fade, 0.0, 1.0)
    in_front = np.clip((points[..., 2] - (lm[[31, 35], 2].mean() - 0.015)) / 0.004, 0.0, 1.0)
    return near * in_front


def _densify(points: NDArray[np.float64], step: float = 0.002, closed: bool = True) -> NDArray[np.float64]:
    """Points every ``step`` metres along the polyline through ``points`` (closed when ``closed``)."""
    pts = np.asarray(points)
    if closed:
        pts = np.concatenate([pts, pts[:1]])
    out = [pts[:1]]
    for a, b in itertools.pairwise(pts):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(out)


def _dist_to_points(xy: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(...)`` distance in the x-y plane from each position ``(..., 2)`` to the nearest of ``points``."""
    d, _ = cKDTree(points[:, :2]).query(xy.reshape(-1, 2))
    return np.asarray(d).reshape(xy.shape[:-1])


def _gutter(
    region: NDArray[np.uint8], cells: tuple[AtlasCell, ...], reach: float = 16.0
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Flat indices ``(src, dst)``: each empty texel near a chart and the nearest chart texel of its cell.

    Only texels within ``reach`` texels of a chart are filled (a mip level of 1/16 size still sees gutter
    colours); the rest keep what the cell was painted with.
    """
    size = region.shape[0]
    srcs, dsts = [], []
    for cell in cells:
        r0, r1, c0, c1 = cell_pixels(cell, size)
        sub = region[r0:r1, c0:c1]
        empty = (sub == Region.EMPTY).astype(np.uint8)
        if not empty.any() or empty.all():
            continue
        dist, labels = cv2.distanceTransformWithLabels(empty, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
        filled = empty == 0
        rows, cols = np.nonzero(filled)
        lut = np.zeros(int(labels.max()) + 1, dtype=np.int64)
        lut[labels[filled]] = (rows + r0) * size + (cols + c0)
        er, ec = np.nonzero(~filled & (dist <= reach))
        srcs.append(lut[labels[er, ec]])
        dsts.append((er + r0) * size + (ec + c0))
    return np.concatenate(srcs), np.concatenate(dsts)


def _grain(size: int, seed: int = 7) -> NDArray[np.float32]:
    """Smooth multi-scale noise, zero mean, unit standard deviation (deterministic)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((size, size), np.float32)
    for cells, amp in ((size // 2, 0.6), (size // 4, 1.0), (size // 12, 0.5)):  # pores to ~1 cm blotches
        small = rng.standard_normal((cells, cells)).astype(np.float32)
        out += amp * cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    out -= out.mean()
    return (out / max(float(out.std()), 1e-6)).astype(np.float32)


def _catchlight_uv(model: LinearHeadModel) -> dict[MaterialRole, NDArray[np.float32]]:
    """Tile UV of a point on each cornea about 12° above and towards +x (viewer's right) from the eye's axis."""
    out: dict[MaterialRole, NDArray[np.float32]] = {}
    for name in _EYE_ROLES:
        if not model.has_material(name):
            continue
        sel = model.material_mask(name)
        corners = model.triangles[sel].ravel()
        uvs = model.uv[model.triangle_uvs[sel].ravel()]
        pts = model.template[corners].astype(np.float64)
        a = np.c_[2.0 * pts, np.ones(len(pts))]
        sol = np.linalg.lstsq(a, np.sum(pts**2, axis=1), rcond=None)[0]
        centre = sol[:3]
        front = corners[np.argmin(np.sum((uvs - 0.5) ** 2, axis=1))]
        axis = model.template[front] - centre
        axis /= np.linalg.norm(axis)
        target = axis + np.array([0.18, 0.22, 0.0])
        target /= np.linalg.norm(target)
        dirs = pts - centre
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        out[name] = uvs[np.argmax(dirs @ target)].astype(np.float32)
    return out
