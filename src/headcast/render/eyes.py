"""Eyeball occlusion by the lids: the soft shadow along the lid edges that makes the visible eye white look its size.

A real lid margin stands out of the eyeball by its thickness (~1 mm) and carries the lashes, so the eyeball just
under the upper lid sees only part of the sky and reads darker; the bright, evenly lit white then stops short of the
lid line. ICT FaceKit's lids have no such step: the face mesh's lid margin lies ~1 mm *inside* the eyeball sphere,
the lid surface meets the eyeball at a grazing angle and the renderer (which casts no shadows) draws the white
equally bright right up to the edge — a wide, staring eye even when the aperture is right. Production heads add an
"eye occlusion" shell for this (the head model's own occlusion shell, MetaHuman's eye occlusion mesh: a transparent card
over the eyeball, darkest along the lids); this module computes the same term analytically.

Model: near a lid edge, the eyeball is a floor in front of a wall of height ``h`` (the lid's effective overhang:
its thickness plus the lash roots) at distance ``d`` (along the eyeball). The cosine-weighted fraction of the sky
a point of the floor sees past an infinite wall is one minus the form factor of the wall (a perpendicular strip,
e.g. Howell's catalogue of configuration factors, C-14)::

    V(d, h) = ½ · (1 + d / √(d² + h²))

½ at the foot of the wall, → 1 far from it, → 0 under it (``d < 0``: hidden by the lid, continuing smoothly
across the edge). Upper and lower lid are separate walls (``h`` of each from :class:`EyeOcclusionSettings`); the
visibility is their product. The renderer multiplies both the ambient and the direct light by it (a soft key light
from the front is blocked by the lid for about the same fraction as the sky).

The renderer evaluates ``d`` and ``V`` per fragment (:func:`lid_polylines` hands it each lid's edge as a polyline,
the fragment shader takes the distance to it): the ~1 mm falloff crosses the eyeball's ~2 mm triangles along a
curve, which neither an interpolated ``V`` nor an interpolated per-vertex ``d`` (:func:`lid_distances`, kept as
the reference) follows — the latter left darker slivers where the edge bulges into a triangle whose corners are all
under a lid. The edge is the one seen from the camera (a render shows up to ~1 mm more white at the corners than
the outline along the opening's normal): the shadow stays on the visible lid line in every view.

Geometry (per eye, at the current expression, in any frame): the eyeball is the opaque triangles of its sclera
and iris materials (not a sphere: ICT's sclera spans ±1 mm about its fitted sphere, the iris sits inside the
limbus), its centre and radius those of the sphere fitted to the sclera. The opening's normal ``n`` points from the
centre to the lid margin's centroid (the face mesh's boundary loop around the eye). The lid edge is the outline of
the visible eyeball seen from the camera, or along ``n`` (:func:`lid_edge`: rays cast against the lid triangles in
front of the eyeball), lifted onto the eyeball and split at its two corners (the extreme points along the eye's
width) into the upper and lower lid. ``d`` is the distance to each lid polyline (:func:`lid_distances` per vertex:
positive inside the opening, seen along ``n`` on the eyeball's front half, and 0 under the lids).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.base import LinearHeadModel, MaterialRole
from headcast.render.mouth import boundary_loops, inside_polygon
from headcast.render.shaders import LID_POINTS

_EYES: tuple[tuple[MaterialRole, MaterialRole], ...] = (("sclera_left", "iris_left"), ("sclera_right", "iris_right"))
_LID_REACH = 0.006
"""Face vertices within the eyeball radius + this (metres, template) may carry the visible lid edge."""
_MIN_FACING = 0.2
"""A viewpoint is used by :func:`lid_edge` while its direction's cosine to the opening's normal exceeds this."""
_BINS = 96
"""Rays cast by :func:`lid_edge` (3.75° apart, ~0.4 mm of a 13 mm-wide opening at its corners)."""


@dataclass(frozen=True)
class EyeOcclusionSettings:
    """Effective overhang of each lid over the eyeball (the wall height ``h`` of :func:`lid_visibility`).

    Attributes:
        upper_mm: upper lid: margin thickness and the dense roots of the upper lashes, millimetres.
        lower_mm: lower lid (thinner, sparse short lashes), millimetres.
    """

    upper_mm: float = 1.2
    lower_mm: float = 0.5


DEFAULT_EYE_OCCLUSION = EyeOcclusionSettings()
"""The renderer's default eyeball occlusion."""


@dataclass(frozen=True, eq=False)
class EyeLids:
    """Per-model data of one eye: eyeball vertices and the lid margin, split into upper and lower lid.

    Attributes:
        eyeball: ``(K,)`` vertex ids of the eye's sclera and iris.
        sclera: ``(S,)`` vertex ids of the sclera alone (a closed sphere, :func:`fit_sphere`).
        loop: ``(L,)`` ordered vertex ids of the lid margin (a closed loop).
        upper: ``(U,)`` vertex ids of the upper lid polyline, corner to corner (a run of ``loop``).
        lower: ``(W,)`` vertex ids of the lower lid polyline, corner to corner.
        lid_triangles: ``(T, 3)`` vertex ids of the face triangles around the opening (every vertex within the
            eyeball radius + 6 mm of its centre on the template), where :func:`lid_edge` looks for the visible
            edge.
        ball_triangles: ``(F, 3)`` vertex ids of the eyeball's opaque triangles (sclera and iris), the surface the
            lids are tested against.
    """

    eyeball: NDArray[np.int64]
    sclera: NDArray[np.int64]
    loop: NDArray[np.int64]
    upper: NDArray[np.int64]
    lower: NDArray[np.int64]
    lid_triangles: NDArray[np.int64]
    ball_triangles: NDArray[np.int64]


def eye_lids(model: LinearHeadModel) -> tuple[EyeLids, ...]:
    """Both eyes' :class:`EyeLids` (kept in ``model.memo``); empty for a model without eyeball materials or lids."""
    return model.memo.get(("render.eye_lids",), lambda: _find_lids(model))


def _find_lids(model: LinearHeadModel) -> tuple[EyeLids, ...]:
    if not model.has_part("face") or not all(model.material_ids(r) for pair in _EYES for r in pair):
        return ()
    tris = np.asarray(model.triangles, dtype=np.int64)
    face_tris = tris[np.all(model.part_mask("face")[tris], axis=1)]
    loops = boundary_loops(face_tris)
    if not loops:
        return ()
    t = np.asarray(model.template, np.float64)
    up = np.array([0.0, 1.0, 0.0])  # the model's up (docs/conventions.md)
    out = []
    for roles in _EYES:
        eyeball = np.unique(tris[model.material_mask(*roles)]).astype(np.int64)
        sclera = np.unique(tris[model.material_mask(roles[0])]).astype(np.int64)
        centre, radius = fit_sphere(t[sclera])
        loop = np.asarray(min(loops, key=lambda lp: float(np.linalg.norm(t[lp].mean(axis=0) - centre))), np.int64)
        p = t[loop] - t[loop].mean(axis=0)
        width_axis = np.linalg.svd(p, full_matrices=False)[2][0]
        a, b = int(np.argmin(p @ width_axis)), int(np.argmax(p @ width_axis))
        lo, hi = min(a, b), max(a, b)
        run1 = loop[lo : hi + 1]
        run2 = np.concatenate([loop[hi:], loop[: lo + 1]])
        upper, lower = (run1, run2) if t[run1].mean(axis=0) @ up > t[run2].mean(axis=0) @ up else (run2, run1)
        near = np.linalg.norm(t - centre, axis=1) < radius + _LID_REACH
        lid = face_tris[np.all(near[face_tris], axis=1)]
        ball = tris[model.material_mask(*roles)].astype(np.int64)
        out.append(EyeLids(eyeball, sclera, loop, upper, lower, lid.astype(np.int64), ball))
    return tuple(out)


def lid_visibility(distance: NDArray[np.floating], height: float) -> NDArray[np.float64]:
    """``V = ½ (1 + d / √(d² + h²))``: sky visibility at distance ``d`` from a wall of height ``h`` (module doc).

    Args:
        distance: ``(...)`` signed distances ``d`` from the lid edge (positive on the open side), metres.
        height: the wall's height ``h`` > 0, metres.

    Returns:
        ``(...)`` visibility in (0, 1); ½ at ``d = 0``.

    Example:
        >>> float(lid_visibility(np.array(0.0), 0.001)), round(float(lid_visibility(np.array(0.001), 0.001)), 4)
        (0.5, 0.8536)
    """
    d = np.asarray(distance, np.float64)
    return 0.5 * (1.0 + d / np.sqrt(d * d + height * height))


def _polyline_distance(points: NDArray[np.float64], line: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(N,)`` Euclidean distance of ``points`` ``(N, 3)`` to the open polyline ``line`` ``(M, 3)``."""
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.clip(np.einsum("nmc,mc->nm", points[:, None, :] - a[None], ab) / np.maximum((ab * ab).sum(1), 1e-30),
                0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.asarray(np.linalg.norm(points[:, None, :] - nearest, axis=2).min(axis=1))


def lid_edge(model: LinearHeadModel, vertices: NDArray[np.floating], eye: EyeLids,
             viewpoint: NDArray[np.floating] | None = None,
             ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]:
    """The visible edge of one eye's opening, seen from a viewpoint (or along its normal), lifted onto the eyeball.

    The face mesh's lid margin lies inside the eyeball and the lids leave it standing off its surface, so the edge
    one sees is the lids' inner contour in projection, ~2 mm outside the line where they cross the eyeball. It is
    found in a frame ``(e₁, e₂, n)``, ``n`` the direction it is seen along (to ``viewpoint``, else the opening's
    normal: from the eyeball's centre to the margin's centroid):

    1. each lid vertex (:attr:`EyeLids.lid_triangles`) gets its height in front of the eyeball along ``n``: over
       the front-most eyeball triangle at its ``(x, y)``, beside the eyeball's outline over the fitted sphere's
       front (beyond the sphere's outline, its centre plane);
    2. every lid triangle is clipped to its part in front (heights linear along its sides);
    3. from the opening's centre (the centroid of the clip points) :data:`_BINS` rays are cast in the ``(e₁, e₂)``
       plane; the nearest clipped side each ray crosses is the edge; rays that hit nothing are interpolated from
       their neighbours.

    This is exact for the union of the projected triangles (to the linear clipping), unlike the nearest of sampled
    points per angular sector, which left notches where a sector caught no sample of the nearest side, and unlike a
    sphere for the eyeball, which put the corners ~0.9 mm out (ICT's sclera is ±1 mm off its fitted sphere). Each
    contour point is lifted onto the eyeball's front (``c + x e₁ + y e₂ + z(x, y) n``; the fitted sphere where
    rounding puts it just off the outline).

    Args:
        model: the head model.
        vertices: ``(V, 3)`` posed vertices, metres.
        eye: the eye's :class:`EyeLids`.
        viewpoint: ``(3,)`` a camera's centre in the frame of ``vertices`` (the origin of a camera frame): ``n`` is
            then the direction from the eyeball's centre to it, and the edge is the outline a render from there
            shows (the eye seen obliquely shows ~1 mm more white at the corners than seen along its normal). None,
            or a viewpoint more than ~78° off the opening's normal: the normal.

    Returns:
        ``(B, 3)`` closed polygon of the edge on the eyeball (``B = _BINS``, or 0 when the lids do not cross the
        eyeball: closed), ``(3,)`` eyeball centre ``c``, ``(3,)`` the unit direction ``n`` it is seen along, and
        the eyeball radius ``r`` in metres.
    """
    v = np.asarray(vertices, np.float64)
    centre, radius = fit_sphere(v[eye.sclera])
    normal = v[eye.loop].mean(axis=0) - centre
    normal /= np.linalg.norm(normal)
    if viewpoint is not None:
        towards = np.asarray(viewpoint, np.float64) - centre
        towards /= max(float(np.linalg.norm(towards)), 1e-12)
        if towards @ normal > _MIN_FACING:
            normal = towards
    basis = _plane_basis(normal)
    frame = np.concatenate([basis, normal[:, None]], axis=1)  # (3, 3): columns e₁, e₂, n
    ball = (v[eye.ball_triangles] - centre) @ frame  # (F, 3, 3) in (x, y, depth along n)
    ball = ball[ball[..., 2].mean(axis=1) > 0.0]  # the front half: the surface seen along n
    tris = eye.lid_triangles
    lid = np.unique(tris)
    local = np.zeros((len(v), 3))
    local[lid] = (v[lid] - centre) @ frame
    # height of a lid vertex in front of the eyeball's surface along n (the eyeball is not a sphere: ICT's sclera
    # spans ±1 mm about the fit, and its iris sits inside the limbus); beside the eyeball's outline: in front of the
    # fitted sphere (its front, or beyond its outline the plane through its centre) — a constant there would cut
    # the triangles of the socket behind the eyeball at a spurious crossing
    xy = local[lid, :2]
    depth = _front_depth(xy, ball)
    sphere = np.sqrt(np.maximum(radius * radius - (xy * xy).sum(axis=1), 0.0))
    height = np.zeros(len(v))  # only the lid vertices are used
    height[lid] = local[lid, 2] - np.where(np.isnan(depth), sphere, depth)
    segments, crossings = _clipped_sides(local[:, :2][tris], height[tris])
    if len(crossings) < 3 or len(segments) == 0:
        return np.zeros((0, 3)), centre, normal, radius
    origin = crossings.mean(axis=0)
    angles = (np.arange(_BINS) + 0.5) / _BINS * 2.0 * np.pi - np.pi
    reach = _ray_hits(origin, np.stack([np.cos(angles), np.sin(angles)], axis=1), segments)
    seen = np.isfinite(reach)
    if seen.sum() < 3:
        return np.zeros((0, 3)), centre, normal, radius
    reach = np.interp(angles, angles[seen], reach[seen], period=2.0 * np.pi)
    xy = origin + reach[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    lift = _front_depth(xy, ball)
    sphere = np.sqrt(np.maximum(radius * radius - (xy * xy).sum(axis=1), 0.0))
    lift = np.where(np.isnan(lift), sphere, lift)  # off the eyeball's outline (by rounding): its sphere
    return centre + xy @ basis.T + lift[:, None] * normal, centre, normal, radius


def _front_depth(points: NDArray[np.float64], triangles: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(N,)`` depth of the front-most triangle at each point; NaN where no triangle covers it.

    Args:
        points: ``(N, 2)`` ``(x, y)``.
        triangles: ``(F, 3, 3)`` corners ``(x, y, depth)``; depth is linear in each triangle.
    """
    a = triangles[:, 0]
    e1, e2 = triangles[:, 1] - a, triangles[:, 2] - a  # (F, 3)
    den = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    den = np.where(np.abs(den) > 1e-18, den, np.inf)  # edge-on triangles cover nothing
    out = np.full(len(points), -np.inf)
    for lo in range(0, len(points), 256):  # (256, F) at a time
        q = points[lo : lo + 256, None, :] - a[None, :, :2]
        s = (q[..., 0] * e2[:, 1] - q[..., 1] * e2[:, 0]) / den
        t = (e1[:, 0] * q[..., 1] - e1[:, 1] * q[..., 0]) / den
        inside = (s >= -1e-9) & (t >= -1e-9) & (s + t <= 1.0 + 1e-9)
        depth = a[:, 2] + s * e1[:, 2] + t * e2[:, 2]
        out[lo : lo + 256] = np.where(inside, depth, -np.inf).max(axis=1)
    return np.where(np.isfinite(out), out, np.nan)


def _clipped_sides(corners: NDArray[np.float64], height: NDArray[np.float64]
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sides of triangles clipped to ``height >= 0`` (linear along each side).

    Args:
        corners: ``(T, 3, 2)`` projected triangle corners.
        height: ``(T, 3)`` a field per corner (the radial height above the eyeball), clipped at its zero level.

    Returns:
        ``(S, 2, 2)`` segments (start, end) bounding the clipped polygons, and ``(C, 2)`` the points where the
        triangles' sides cross the zero level (each crossing counted once per triangle side).
    """
    a, b = corners, np.roll(corners, -1, axis=1)  # (T, 3, 2): side k from corner k to k + 1
    ha, hb = height, np.roll(height, -1, axis=1)
    cross = (ha >= 0.0) != (hb >= 0.0)
    t = np.where(cross, ha / np.where(cross, ha - hb, 1.0), 0.0)[..., None]
    point = a + t * (b - a)  # (T, 3, 2): the crossing on each side (meaningful where ``cross``)
    both = (ha >= 0.0) & (hb >= 0.0)
    start = np.where((ha >= 0.0)[..., None], a, point)
    end = np.where((hb >= 0.0)[..., None], b, point)
    keep = both | cross
    sides = np.stack([start[keep], end[keep]], axis=1)
    # a triangle that crosses the level is cut along the line through its two crossings
    cut = cross.sum(axis=1) == 2
    pair = point[cut][cross[cut]].reshape(-1, 2, 2)
    return np.concatenate([sides, pair]), point[cross]


def _ray_hits(origin: NDArray[np.float64], directions: NDArray[np.float64], segments: NDArray[np.float64]
              ) -> NDArray[np.float64]:
    """``(B,)`` distance ``t`` along each ray ``origin + t · u`` to the nearest segment it crosses; ``inf`` if none.

    Args:
        origin: ``(2,)`` the rays' common start.
        directions: ``(B, 2)`` unit directions ``u``.
        segments: ``(S, 2, 2)`` (start, end) points.
    """
    p, e = segments[:, 0] - origin, segments[:, 1] - segments[:, 0]  # (S, 2)
    u = directions[:, None, :]  # (B, 1, 2)
    den = u[..., 0] * e[None, :, 1] - u[..., 1] * e[None, :, 0]  # cross(u, e): (B, S)
    safe = np.where(np.abs(den) > 1e-18, den, np.inf)
    t = (p[None, :, 0] * e[None, :, 1] - p[None, :, 1] * e[None, :, 0]) / safe  # cross(p, e) / cross(u, e)
    s = (p[None, :, 0] * u[..., 1] - p[None, :, 1] * u[..., 0]) / safe  # cross(p, u) / cross(u, e)
    hit = (t > 0.0) & (s >= 0.0) & (s <= 1.0)
    return np.asarray(np.where(hit, t, np.inf).min(axis=1))


def fit_sphere(points: NDArray[np.floating]) -> tuple[NDArray[np.float64], float]:
    """Least-squares sphere through ``points`` ``(N, 3)`` (algebraic fit: ``|p|² = 2 c·p + (r² − |c|²)``).

    Returns:
        ``(3,)`` centre and the radius, in the points' units. (The mean of a mesh's vertices is not its centre
        when they are denser on one side, as ICT's sclera is at the cornea.)
    """
    p = np.asarray(points, np.float64)
    a = np.concatenate([2.0 * p, np.ones((len(p), 1))], axis=1)
    x = np.linalg.lstsq(a, (p * p).sum(axis=1), rcond=None)[0]
    centre = x[:3]
    return centre, float(np.sqrt(max(x[3] + centre @ centre, 0.0)))


def _plane_basis(normal: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(3, 2)`` orthonormal basis of the plane perpendicular to the unit ``normal``."""
    e1 = np.cross(normal, [0.0, 1.0, 0.0] if abs(normal[1]) < 0.9 else [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(normal, e1)], axis=1)


def lid_distances(model: LinearHeadModel, vertices: NDArray[np.floating],
                  viewpoint: NDArray[np.floating] | None = None) -> NDArray[np.float32] | None:
    """``(V, 2)`` signed distance (metres) of every eyeball vertex to its upper and lower lid edge (module doc).

    The edge is :func:`lid_edge`, split at its two corners (its extreme points along the eye's width, the first
    principal axis of the edge) into the upper lid (on the side of the margin's upper run) and the lower lid.
    Distances are positive inside the opening (seen along its normal, on the eyeball's front half) and 0 under the
    lids (the visibility there is that of the edge, ½); vertices that are not eyeball get 1 m (fully open).

    Args:
        model: the head model (eyeball materials, lids).
        vertices: ``(V, 3)`` posed vertices, metres.
        viewpoint: ``(3,)`` the camera's centre in the frame of ``vertices`` (:func:`lid_edge`); None: the edge
            seen along the opening's normal, whatever the frame.

    Returns:
        ``(V, 2)`` float32 ``(d_upper, d_lower)``, or None for a model without eyeballs and lids.
    """
    lids = eye_lids(model)
    if not lids:
        return None
    v = np.asarray(vertices, np.float64)
    out = np.full((len(v), 2), 1.0, np.float32)  # 1 m: V = 1 to float precision
    for eye in lids:
        rim, centre, normal, _ = lid_edge(model, v, eye, viewpoint)
        ball = v[eye.eyeball]
        if len(rim) < 3:  # closed lids: the whole eyeball is under them
            out[eye.eyeball] = -0.01
            continue
        basis = _plane_basis(normal)
        inside = inside_polygon(ball @ basis, rim @ basis) & ((ball - centre) @ normal > 0.0)
        upper, lower = _split_rim(rim, v[eye.upper].mean(axis=0))
        out[eye.eyeball, 0] = np.where(inside, _polyline_distance(ball, upper), 0.0)
        out[eye.eyeball, 1] = np.where(inside, _polyline_distance(ball, lower), 0.0)
    return out


def _split_rim(rim: NDArray[np.float64], upper_mid: NDArray[np.float64]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The closed edge ``rim`` ``(B, 3)`` split at its corners into the upper and the lower lid, corner to corner.

    The corners are the extreme points along the first principal axis of ``rim``; the upper lid is the run whose
    mean is nearer ``upper_mid`` ``(3,)`` (the margin's upper run's mean).
    """
    width = rim - rim.mean(axis=0)
    axis = np.linalg.svd(width, full_matrices=False)[2][0]
    a, b = sorted((int(np.argmin(width @ axis)), int(np.argmax(width @ axis))))
    run1, run2 = rim[a : b + 1], np.concatenate([rim[b:], rim[: a + 1]])
    if np.linalg.norm(run1.mean(axis=0) - upper_mid) > np.linalg.norm(run2.mean(axis=0) - upper_mid):
        run1, run2 = run2, run1
    return run1, run2


def _resample(line: NDArray[np.float64], count: int) -> NDArray[np.float64]:
    """``(count, 3)`` points evenly spaced by arc length along the open polyline ``line`` ``(M, 3)``."""
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(line, axis=0), axis=1))])
    t = np.linspace(0.0, s[-1], count)
    return np.stack([np.interp(t, s, line[:, c]) for c in range(3)], axis=1)


def lid_polylines(model: LinearHeadModel, vertices: NDArray[np.floating],
                  viewpoint: NDArray[np.floating] | None = None,
                  ) -> tuple[NDArray[np.float32], NDArray[np.int32]] | None:
    """Both eyes' lid edges for the renderer, which evaluates :func:`lid_visibility` per fragment from them.

    The per-fragment distance (:class:`headcast.render.raster.MeshDraw` ``lid_edges``) is exact where the
    interpolated per-vertex distance (:func:`lid_distances`) is not: the edge crosses the eyeball's ~2 mm triangles
    along a curve, and a sliver of a triangle whose corners are all under a lid would get their distance.

    Args:
        model: the head model (eyeball materials, lids).
        vertices: ``(V, 3)`` posed vertices, metres (the camera frame, for the renderer).
        viewpoint: ``(3,)`` the camera's centre in that frame (:func:`lid_edge`); None: along each opening's normal.

    Returns:
        ``(2, 2, P, 3)`` float32 polylines (eye, upper/lower lid, ``P = shaders.LID_POINTS`` points evenly spaced
        by arc length) and ``(V,)`` int32 the eye of each vertex (-1: not an eyeball, or an eye whose lids are
        closed), or None for a model without eyeballs and lids.
    """
    lids = eye_lids(model)
    if len(lids) != 2:
        return None
    v = np.asarray(vertices, np.float64)
    edges = np.zeros((2, 2, LID_POINTS, 3), np.float32)
    owner = np.full(len(v), -1, np.int32)
    for e, eye in enumerate(lids):
        rim = lid_edge(model, v, eye, viewpoint)[0]
        if len(rim) < 3:  # closed: the eyeball is hidden, left unshaded
            continue
        upper, lower = _split_rim(rim, v[eye.upper].mean(axis=0))
        edges[e, 0], edges[e, 1] = _resample(upper, LID_POINTS), _resample(lower, LID_POINTS)
        owner[eye.eyeball] = e
    return edges, owner
