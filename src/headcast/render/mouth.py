"""Mouth-cavity occlusion: how much ambient light reaches the inside of the mouth through the lips' opening.

The inside of the mouth (the model's parts ``mouth_socket``, ``gums_tongue``, ``teeth``) is lit only through the opening
between the lips. A point inside sees the sky through that opening alone, so its ambient visibility is the solid
angle Ω the opening subtends at the point over the 2π of an open hemisphere. The opening is the loop where the
face mesh meets the mouth socket (the inner lip line, 74 vertices on ICT FaceKit), taken at the current
expression, so the cavity darkens as the lips close and with depth behind them: a tooth edge just behind the lips
sees almost half the sky, the back of the tongue a few per cent.

Ω of the (non-planar) loop is the sum of the signed solid angles of a triangle fan from the loop's centroid
(Van Oosterom & Strackee, "The solid angle of a plane triangle", IEEE Trans. Biomed. Eng. 30(2), 1983); for a
closed loop it does not depend on the spanning surface. The shader multiplies the lit colour by

    occlusion = floor + (1 − floor) · min(1, gain · Ω / 2π) ** power

(1 everywhere outside the mouth) for the ambient light. The direct light reaches a point inside only if the ray
towards the light leaves through the opening: the point, projected along the light direction, must fall inside
the loop's projection. Averaged over 7 directions in a cone (a soft light), this gives the soft shadow the upper lip
casts into the mouth and a direct light that fades with depth. Both factors are per vertex; the shader interpolates
them.
"""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.headmodel.base import LinearHeadModel

INTERIOR_PARTS = ("mouth_socket", "gums_tongue", "teeth")
"""Model parts inside the mouth (darkened by the cavity occlusion)."""


@dataclass(frozen=True)
class CavitySettings:
    """Mapping of the opening's visibility ``Ω / 2π`` to a light factor.

    Attributes:
        gain: visibility is multiplied by this before clipping at 1 (a point seeing ``1 / gain`` of the
            hemisphere through the opening counts as fully lit).
        power: exponent of the clipped visibility (> 1 darkens the depth faster).
        floor: light factor of a point that sees nothing (light scattered inside the mouth).
        shadow_cone_deg: half-angle of the (soft, studio-like) light seen from the mouth: the direct light is
            averaged over 7 directions in this cone.
    """

    gain: float = 1.2
    power: float = 1.5
    floor: float = 0.03
    shadow_cone_deg: float = 25.0


DEFAULT_CAVITY = CavitySettings()
"""The renderer's default cavity shading."""


@dataclass(frozen=True, eq=False)
class MouthCavity:
    """Per-model data: the interior vertices and the ordered inner lip loop.

    Attributes:
        interior: ``(K,)`` vertex ids of the mouth's inside.
        loop: ``(L,)`` ordered vertex ids of the opening (a closed loop; every other vertex of the mesh boundary).
    """

    interior: NDArray[np.int64]
    loop: NDArray[np.int64]


def mouth_cavity(model: LinearHeadModel) -> MouthCavity | None:
    """The model's interior vertices and lip loop (kept in ``model.memo``); None when it has no mouth socket."""
    return model.memo.get(("render.mouth_cavity",), lambda: _find_cavity(model))


def _find_cavity(model: LinearHeadModel) -> MouthCavity | None:
    if not model.has_part("face", *INTERIOR_PARTS):
        return None
    interior = np.flatnonzero(model.part_mask(*INTERIOR_PARTS)).astype(np.int64)
    tris = np.asarray(model.triangles, dtype=np.int64)
    face_tris = tris[np.all(model.part_mask("face")[tris], axis=1)]
    loops = boundary_loops(face_tris)
    if not loops or len(model.landmarks68) < 68:
        return None
    lips = model.template[model.landmarks68[60:68]].mean(axis=0)  # iBUG inner lip points
    loop = min(loops, key=lambda lp: float(np.linalg.norm(model.template[lp].mean(axis=0) - lips)))
    # every other vertex (~4 mm steps on ICT) is smooth enough for the solid angle and halves the cost
    return MouthCavity(interior, np.asarray(loop[::2] if len(loop) >= 40 else loop, dtype=np.int64))


def boundary_loops(triangles: NDArray[np.int64]) -> list[list[int]]:
    """Ordered closed loops of the edges used by exactly one triangle."""
    edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    adjacent: dict[int, list[int]] = defaultdict(list)
    for x, y in unique[counts == 1].tolist():
        adjacent[x].append(y)
        adjacent[y].append(x)
    seen: set[int] = set()
    loops = []
    for start in adjacent:
        if start in seen:
            continue
        loop, prev, cur = [start], -1, start
        seen.add(start)
        while True:
            nxt = [n for n in adjacent[cur] if n != prev and n not in seen]
            if not nxt:
                break
            prev, cur = cur, nxt[0]
            loop.append(cur)
            seen.add(cur)
        if len(loop) >= 3:
            loops.append(loop)
    return loops


def loop_solid_angle(points: NDArray[np.floating], loop: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(N,)`` unsigned solid angle (steradians) of the closed polyline ``loop`` ``(L, 3)`` seen from ``points``.

    ``points`` is ``(N, 3)``; the loop is spanned by a triangle fan from its centroid, each triangle's solid angle by
    Van Oosterom & Strackee.
    """
    q = np.asarray(loop, np.float64)
    pts = np.asarray(points, np.float64)
    r1 = (q.mean(axis=0)[None, :] - pts).astype(np.float32)  # (N, 3) to the fan's centre
    r2 = [(q[None, :, k] - pts[:, k : k + 1]).astype(np.float32) for k in range(3)]  # (N, L): to loop vertex i
    r3 = [np.roll(c, -1, axis=1) for c in r2]  # to loop vertex i + 1
    n1 = np.linalg.norm(r1, axis=1)[:, None]
    n2 = np.sqrt(r2[0] ** 2 + r2[1] ** 2 + r2[2] ** 2)
    n3 = np.roll(n2, -1, axis=1)
    num = (r1[:, 0:1] * (r2[1] * r3[2] - r2[2] * r3[1]) + r1[:, 1:2] * (r2[2] * r3[0] - r2[0] * r3[2])
           + r1[:, 2:3] * (r2[0] * r3[1] - r2[1] * r3[0]))
    d12 = r1[:, 0:1] * r2[0] + r1[:, 1:2] * r2[1] + r1[:, 2:3] * r2[2]
    d23 = r2[0] * r3[0] + r2[1] * r3[1] + r2[2] * r3[2]
    den = n1 * n2 * n3 + d12 * n3 + np.roll(d12, -1, axis=1) * n2 + d23 * n1
    return np.abs(2.0 * np.arctan2(num, den).sum(axis=1, dtype=np.float64))


def inside_polygon(points: NDArray[np.float64], polygon: NDArray[np.float64]) -> NDArray[np.bool_]:
    """``(N,)`` even-odd test of 2D ``points`` ``(N, 2)`` against the closed ``polygon`` ``(L, 2)``."""
    x, y = points[:, :1], points[:, 1:]
    a, b = polygon, np.roll(polygon, -1, axis=0)
    crosses = (a[:, 1] > y) != (b[:, 1] > y)  # (N, L)
    dy = np.where(b[:, 1] == a[:, 1], 1e-30, b[:, 1] - a[:, 1])
    x_at = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / dy
    return np.asarray(np.sum(crosses & (x < x_at), axis=1) % 2 == 1)


def light_through_loop(points: NDArray[np.floating], loop: NDArray[np.floating], light_dir: NDArray[np.floating],
                       cone_deg: float = 25.0) -> NDArray[np.float64]:
    """``(N,)`` fraction of light directions for which the ray from each point leaves through the opening.

    ``loop`` ``(L, 3)`` is the opening; the directions sample a disc-shaped light of half-angle ``cone_deg`` around
    ``light_dir`` (centre and a ring of 6 at 0.7 of the radius). Points in front of the opening's mean plane count
    as lit.
    """
    p, q = np.asarray(points, np.float64), np.asarray(loop, np.float64)
    l0 = np.asarray(light_dir, np.float64)
    l0 = l0 / np.linalg.norm(l0)
    u = np.cross(l0, [0.0, 1.0, 0.0] if abs(l0[1]) < 0.9 else [1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    w = np.cross(l0, u)
    t = np.tan(np.deg2rad(cone_deg))
    dirs = [l0] + [l0 + 0.7 * t * (np.cos(a) * u + np.sin(a) * w)
                   for a in np.linspace(0.0, 2.0 * np.pi, 6, endpoint=False)]
    centre = q.mean(axis=0)
    area = 0.5 * np.cross(q - centre, np.roll(q, -1, axis=0) - centre).sum(axis=0)  # the opening's area vector
    normal = area / np.linalg.norm(area) if np.linalg.norm(area) > 1e-12 else l0
    normal = normal if normal @ l0 >= 0.0 else -normal  # towards the light
    behind = (p - centre) @ normal < 0.0  # inside the mouth: light must come through the opening
    lit = np.zeros(len(p))
    for d in dirs:
        d = d / np.linalg.norm(d)
        e1 = np.cross(d, [0.0, 1.0, 0.0] if abs(d[1]) < 0.9 else [1.0, 0.0, 0.0])
        e1 /= np.linalg.norm(e1)
        basis = np.stack([e1, np.cross(d, e1)], axis=1)  # (3, 2): projection along d
        lit += np.where(behind, inside_polygon(p @ basis, q @ basis), True)
    return lit / len(dirs)


def cavity_occlusion(
    model: LinearHeadModel,
    vertices: NDArray[np.floating],
    light_dir: NDArray[np.floating] | tuple[float, float, float] = (0.3, 0.4, 1.0),
    settings: CavitySettings | None = None,
) -> NDArray[np.float32] | None:
    """``(V, 2)`` per-vertex light factors (ambient, direct), 1 outside the mouth; None for a model without one.

    Args:
        model: the head model (parts, lip loop).
        vertices: ``(V, 3)`` posed vertices in the frame of ``light_dir`` (the camera frame for rendering), metres.
        light_dir: direction towards the light.
        settings: visibility → light mapping.
    """
    cavity = mouth_cavity(model)
    if cavity is None:
        return None
    s = CavitySettings() if settings is None else settings
    v = np.asarray(vertices, np.float64)
    inner, loop = v[cavity.interior], v[cavity.loop]
    visibility = np.minimum(loop_solid_angle(inner, loop) / (2.0 * np.pi), 1.0)
    out = np.ones((len(v), 2), np.float32)
    out[cavity.interior, 0] = s.floor + (1.0 - s.floor) * np.minimum(1.0, s.gain * visibility) ** s.power
    # a point that sees less than 0.2 % of its sky through the opening gets at most ~2 % of a 25° light: skip the
    # ray test there (all of the inside when the lips are closed)
    seen = visibility >= 0.002
    direct = np.zeros(len(inner))
    if seen.any():
        direct[seen] = light_through_loop(inner[seen], loop, np.asarray(light_dir, np.float64), s.shadow_cone_deg)
    out[cavity.interior, 1] = direct
    return out
