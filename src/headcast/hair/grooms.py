"""Real grooms (TressFX ponytail, Ratboy mohawk, Sintel short hair) and MakeHuman polygon shells as library styles.

Adapters (the only place their units and axes are converted):

* **TressFX ponytail** (``ponytail.data``, arbitrary units, y-up, face towards −z): rotated 180° about y.
* **Ratboy mohawk** (``ratboy_mohawk.data``, ~metres, y-up, face +z): the groom runs down the character's back; only
  strands rooted within 22 cm of the highest root (the head) are kept.
* **Sintel** (``sintel_guides.data``, Blender units, y-up, face +z — its bust's nose is at +z): as is.
* **MakeHuman shells** (``<name>.obj``, hm08 basemesh space, decimetre-ish, y-up, face +z): hm08's head is mapped
  to ours by a similarity estimated from the bounding box of ``short02`` — a skull cap that hugs hm08's scalp:
  uniform scale = our scalp's x width / the cap's x width, translation matching the top (max y) and the x/z
  centres of the two boxes; each shell is then seated on the scalp (``seat_shell``: the shells were authored on
  bodies of different sizes). The shell is then a **volume target**: strands are grown long with gravity and cut
  where they leave the shell's star-shaped envelope around the skull centre (per direction, the largest radial
  distance of the shell's surface samples + 5 mm); the strands are moved out towards that envelope so that they
  fill it (``shell_strands``), and cut where they leave it.

Grooms are aligned by the default method of ``align.py`` (similarity of roots to the scalp + re-rooting +
push-out), converted to the 32 × 32 guide grid (nearest strand per UV cell) and densified with follow strands
(TressFX style: random offsets within 4 mm at the root, tapering to the tip).
"""

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from headcast.assets import AssetSettings, resolve_asset
from headcast.hair.align import fit_roots_to_scalp, reroot
from headcast.hair.formats import read_data
from headcast.hair.generator import GUIDE_POINTS, GrowSettings, grow_guides, interpolate_strands, resample_polylines
from headcast.hair.head import HairHead
from headcast.hair.scalp import GRID, fit_sphere, scalp_uv
from headcast.hair.sdf import push_out, sample_surface
from headcast.hair.types import HairParams, HairStyle, Strands

GROOMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tressfx_ponytail": ("hair_tressfx_ponytail", ("long", "ponytail", "tied", "groom")),
    "ratboy_mohawk": ("hair_ratboy_mohawk", ("short", "mohawk", "punk", "groom")),
    "sintel_short": ("hair_sintel_guides", ("short", "groom")),
}
SHELLS: dict[str, tuple[str, ...]] = {
    "afro01": ("medium", "afro", "curly", "shell"),
    "bob01": ("medium", "bob", "shell"),
    "bob02": ("medium", "bob", "shell"),
    "braid01": ("long", "braid", "shell"),
    "long01": ("long", "straight", "shell"),
    "ponytail01": ("long", "ponytail", "shell"),
    "short01": ("short", "shell"),
    "short02": ("short", "shell"),
    "short03": ("short", "shell"),
    "short04": ("short", "shell"),
}


def asset_styles() -> tuple[HairStyle, ...]:
    """Library entries of the real grooms (``origin="groom"``) and shells (``origin="shell"``, named ``mh_<name>``)."""
    out = [HairStyle(name, tags, None, "groom", key) for name, (key, tags) in GROOMS.items()]
    out += [HairStyle(f"mh_{name}", tags, None, "shell", f"hair_mh_{name}") for name, tags in SHELLS.items()]
    return tuple(out)


@lru_cache(maxsize=4)
def load_groom(key: str, assets_dir: str | None = None) -> tuple[NDArray[np.float64], ...]:
    """A groom's strands in its adapted frame (see the module docstring), as a tuple of ``(n, 3)`` arrays."""
    strands = [s.astype(np.float64) for s in read_data(resolve_asset(key, AssetSettings(_dir(assets_dir))))]
    if key == "hair_tressfx_ponytail":
        strands = [s * np.array([-1.0, 1.0, -1.0]) for s in strands]
    elif key == "hair_ratboy_mohawk":
        top = max(s[0, 1] for s in strands)
        strands = [s for s in strands if s[0, 1] > top - 0.22]
    return tuple(strands)


def _dir(assets_dir: str | None) -> Path | None:
    return None if assets_dir is None else Path(assets_dir)


def align_groom(strands: tuple[NDArray[np.float64], ...], head: HairHead) -> list[NDArray[np.float64]]:
    """Default alignment: similarity of the roots onto the scalp (sphere-fit initialisation), re-root, push out."""
    if len({len(s) for s in strands}) == 1:  # equal point counts (all three grooms): one stacked array
        stacked = np.stack(strands)
        c, r = fit_sphere(stacked[:, 0])
        stacked = (stacked - c) * (head.scalp.radius / r) + head.scalp.centre
        s2, rot, t = fit_roots_to_scalp(stacked[:, 0], head.scalp, iterations=6)
        return reroot(s2 * stacked @ rot.T + t, head.scalp, head.sdf)
    roots = np.array([s[0] for s in strands])
    c, r = fit_sphere(roots)
    scale = head.scalp.radius / r
    moved = [(s - c) * scale + head.scalp.centre for s in strands]
    s2, rot, t = fit_roots_to_scalp(np.array([m[0] for m in moved]), head.scalp, iterations=6)
    moved = [s2 * m @ rot.T + t for m in moved]
    return reroot(moved, head.scalp, head.sdf)


def strands_from_polylines(
    polys: list[NDArray[np.float64]], head: HairHead, grow: GrowSettings, name: str, seed: int = 0,
) -> Strands:
    """Guide grid (nearest strand per scalp-UV cell) and render strands (the polylines plus follow strands)."""
    scalp = head.scalp
    if len({len(p) for p in polys}) == 1:
        fixed = resample_polylines(np.stack(polys), GUIDE_POINTS)  # (N, 100, 3), one call
    else:
        fixed = np.stack([resample_polylines(p[None], GUIDE_POINTS)[0] for p in polys])
    uv = scalp_uv(fixed[:, 0], scalp.centre)
    cells = (np.arange(GRID) + 0.5) / GRID
    gu, gv = np.meshgrid(cells, cells)
    dist, idx = cKDTree(uv).query(np.stack([gu, gv], -1).reshape(-1, 2), k=1)
    valid = (dist < 0.75 / GRID).reshape(GRID, GRID)
    guides = np.zeros((GRID, GRID, GUIDE_POINTS, 3), np.float32)
    guides[valid] = fixed[idx.reshape(GRID, GRID)[valid]]
    rng = np.random.default_rng(seed)
    per = max(1, int(np.ceil(grow.render_strands / len(polys))))
    base = resample_polylines(fixed, grow.render_points)
    t = np.linspace(0.0, 1.0, grow.render_points)[None, :, None]
    out = [base]
    for _ in range(per - 1):
        offset = rng.normal(size=(len(base), 1, 3)) * 0.004 * (1.0 - 0.6 * t)
        out.append(base + offset)
    pts = np.concatenate(out)[: max(grow.render_strands, len(base))]
    pts = push_out(head.sdf, pts, 0.0008, iterations=2)
    return Strands(guides, valid, pts.astype(np.float32), scalp_uv(pts[:, 0], scalp.centre).astype(np.float32),
                   name=name)


@lru_cache(maxsize=12)
def load_shell(key: str, assets_dir: str | None = None) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """A MakeHuman shell's vertices (hm08 space) and triangles (quads split, 1-based OBJ indices converted)."""
    verts: list[list[float]] = []
    tris: list[list[int]] = []
    path = resolve_asset(key, AssetSettings(_dir(assets_dir)))
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("v "):
            verts.append([float(x) for x in line.split()[1:4]])
        elif line.startswith("f "):
            ids = [int(tok.split("/")[0]) - 1 for tok in line.split()[1:]]
            tris.extend([ids[0], ids[k], ids[k + 1]] for k in range(1, len(ids) - 1))
    return np.asarray(verts, dtype=np.float64), np.asarray(tris, dtype=np.int64)


def hm08_to_head(head: HairHead, assets_dir: str | None = None) -> tuple[float, NDArray[np.float64]]:
    """Similarity (scale, translation) from hm08 space to ``head``'s frame, from ``short02``'s bounding box."""
    cap, _ = load_shell("hair_mh_short02", assets_dir)
    pts = head.scalp.points
    scale = float(np.ptp(pts[:, 0]) / np.ptp(cap[:, 0]))
    lo, hi = cap.min(0), cap.max(0)
    plo, phi = pts.min(0), pts.max(0)
    t = np.array([
        0.5 * (plo[0] + phi[0]) - scale * 0.5 * (lo[0] + hi[0]),
        phi[1] - scale * hi[1],
        0.5 * (plo[2] + phi[2]) - scale * 0.5 * (lo[2] + hi[2]),
    ])
    return scale, t


def _inside_hanging(samples: NDArray[np.float64], centre: NDArray[np.float64], points: NDArray[np.float64],
                    dy: float = 0.01, bins: int = 24) -> NDArray[np.bool_]:
    """Which ``points`` (``(..., 3)``) below the skull centre lie within the shell's hanging part.

    Below the centre the shell is read as a cylinder-like envelope around the vertical axis through the centre:
    per 1 cm height band and 15° azimuth, the largest horizontal distance of the shell's samples (the band's and
    azimuth's neighbours included) + 5 mm; a point is inside when it is not farther out and not below the shell.
    """
    def cell(p: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        rel = p - centre
        yb = np.floor(-rel[..., 1] / dy).astype(np.int64)
        ab = (np.floor((np.arctan2(rel[..., 0], rel[..., 2]) + np.pi) / (2 * np.pi) * bins).astype(np.int64)) % bins
        return yb, ab, np.hypot(rel[..., 0], rel[..., 2])

    yb, ab, hr = cell(samples)
    rows = int(max(yb.max(), 0)) + 2
    grid = np.zeros((rows, bins))
    keep = yb >= 0
    np.maximum.at(grid, (yb[keep], ab[keep]), hr[keep])
    grid = np.maximum.reduce([np.roll(grid, k, axis=1) for k in (-1, 0, 1)])
    grid = np.maximum.reduce([grid, np.vstack([grid[1:], grid[-1:] * 0]), np.vstack([grid[:1] * 0, grid[:-1]])])
    pyb, pab, phr = cell(points)
    inside = (pyb >= 0) & (pyb < rows)
    r = np.where(inside, grid[np.clip(pyb, 0, rows - 1), pab], 0.0)
    return np.asarray(inside & (r > 0) & (phr <= r + 0.005), dtype=bool)


def seat_shell(samples: NDArray[np.float64], head: HairHead) -> NDArray[np.float64]:
    """``(3,)`` shift that seats a MakeHuman shell on ``head``'s scalp.

    The shells were authored on hm08 bodies of different sizes, so the one similarity from ``short02`` leaves most
    of them centimetres too low. The shell is centred in x on the scalp, its top 4 cm are centred in z on the
    scalp's top 4 cm, and its top is put above the scalp's by the shell's hair thickness at the sides (half its
    extra width over the scalp's, 3 mm to 4 cm).
    """
    pts = head.scalp.points
    shift = np.zeros(3)
    shift[0] = 0.5 * (pts[:, 0].min() + pts[:, 0].max()) - 0.5 * (samples[:, 0].min() + samples[:, 0].max())
    band_s = samples[samples[:, 1] > samples[:, 1].max() - 0.04]
    band_p = pts[pts[:, 1] > pts[:, 1].max() - 0.04]
    shift[2] = float(band_p[:, 2].mean() - band_s[:, 2].mean())
    thickness = float(np.clip(0.5 * (np.ptp(samples[:, 0]) - np.ptp(pts[:, 0])), 0.003, 0.04))
    shift[1] = pts[:, 1].max() + thickness - samples[:, 1].max()
    return shift


def shell_strands(key: str, head: HairHead, grow: GrowSettings, name: str, assets_dir: str | None = None) -> Strands:
    """Strands grown into a MakeHuman shell used as a volume target (see the module docstring).

    Loose styles: long strands are grown with gravity, then every point is moved out from the skull centre
    towards the shell's envelope (to a per-guide share in [0.5, 1] of the layer between the scalp and the
    envelope, ramped in over the first 1.5 cm of the strand, never inwards), so the hair fills the shell's volume
    instead of lying flat on the scalp; strands are cut where they leave the envelope. Curly shells get small
    curls. Ponytail and braid shells are grown as gathered styles (tail down to the shell's lowest point).
    """
    from headcast.hair.sdf import sample_sdf

    verts, tris = load_shell(key, assets_dir)
    scale, t = hm08_to_head(head, assets_dir)
    v = verts * scale + t
    samples, _, _ = sample_surface(v, tris, 20000, seed=0)
    samples = samples + seat_shell(samples, head)
    centre = head.scalp.centre
    rel = samples - centre
    radius = np.linalg.norm(rel, axis=1)
    tree = cKDTree(rel / radius[:, None])
    tags = SHELLS.get(key.removeprefix("hair_mh_"), ())
    height, _ = sample_sdf(head.sdf, samples, with_gradient=False)
    volume = float(np.clip(np.median(height[height > 0]) * 0.8, 0.003, 0.04)) if (height > 0).any() else 0.01
    reach = float(np.clip(-(samples[:, 1].min() - centre[1]), 0.05, 0.6))
    params = HairParams(length_top=0.12 + reach, length_front=0.1 + reach, length_sides=0.1 + reach,
                        length_back=0.12 + reach, volume=volume, gravity=1.0, clumping=0.4, parting=0.2)
    if "curly" in tags:
        params = replace(params, curl_radius=0.004, curl_frequency=60.0, frizz=0.002, part_depth=0.0, clumping=0.3)
    if "ponytail" in tags or "braid" in tags:
        params = replace(params, updo="braid" if "braid" in tags else "ponytail", updo_height=0.35,
                         tail_length=float(np.clip(reach - 0.08, 0.1, 0.5)))
    guides, valid = grow_guides(params, head.scalp, head.sdf, grow)
    g = guides[valid].astype(np.float64)
    if params.updo == "none":
        grel = g - centre
        gr = np.linalg.norm(grel, axis=-1)
        _, nn = tree.query((grel / gr[..., None]).reshape(-1, 3), k=8)
        envelope = radius[nn].max(axis=1).reshape(gr.shape) + 0.005
        dist, _ = sample_sdf(head.sdf, g, with_gradient=False)
        scalp_r = gr - np.maximum(dist, 0.0)
        share = np.random.default_rng(grow.seed + 7).uniform(0.5, 1.0, (len(g), 1))
        target = scalp_r + share * (envelope - 0.006 - scalp_r)
        seg = np.linalg.norm(np.diff(g, axis=1), axis=2)
        ramp = np.clip(np.concatenate([np.zeros((len(g), 1)), np.cumsum(seg, axis=1)], axis=1) / 0.015, 0.0, 1.0)
        upper = np.clip((g[..., 1] - centre[1]) / 0.02 + 1.0, 0.0, 1.0)  # the dome; hanging hair is not lifted
        new_r = gr + np.maximum(target - gr, 0.0) * ramp * ramp * (3.0 - 2.0 * ramp) * upper
        g = centre + grel * (new_r / np.maximum(gr, 1e-9))[..., None]
        below = g[..., 1] < centre[1]
        outside = np.where(below, ~_inside_hanging(samples, centre, g), new_r > envelope)
        outside[:, :3] = False
        first = np.where(outside.any(axis=1), outside.argmax(axis=1), g.shape[1])
        frac = np.clip(first / (g.shape[1] - 1), 0.03, 1.0)
        g = resample_polylines(g, GUIDE_POINTS, frac)
    guides = guides.copy()
    guides[valid] = g
    pts, uv = interpolate_strands(guides, valid, head.scalp, head.sdf, params, grow)
    return Strands(guides, valid, pts, uv, name=name, params=params)


def asset_style_strands(style: HairStyle, head: HairHead, grow: GrowSettings | None = None,
                        assets_dir: str | None = None) -> Strands:
    """Strands of a groom or shell style on ``head``.

    Raises:
        headcast.errors.AssetError: the hair sample files are missing.
    """
    g = GrowSettings() if grow is None else grow
    if style.origin == "shell":
        return shell_strands(style.source, head, g, style.name, assets_dir)
    polys = align_groom(load_groom(style.source, assets_dir), head)
    return strands_from_polylines(polys, head, g, style.name)
