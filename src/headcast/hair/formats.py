"""Strand file formats: USC-HairSalon ``.data``, Cem Yuksel ``.hair``, OBJ polylines, and TressFX ``.tfx`` (read).

Convention:
    Polylines are root first. headcast writes the model frame in metres (+y up, +z forward); readers return what the
    file holds (no unit or axis change — the adapters in ``grooms.py`` convert).

* ``.data`` (USC-HairSalon / HairNet, little-endian): ``int32 strand_count``; per strand ``int32 n`` then
  ``n × 3 float32`` (x, y, z).
* ``.hair`` (Cem Yuksel, www.cemyuksel.com/research/hairmodels): a 128-byte header — ``"HAIR"``, ``uint32`` hair
  count, ``uint32`` point count, ``uint32`` array flags (bit 0 segments, 1 points, 2 thickness, 3 transparency,
  4 colours), ``uint32`` default segments, ``float32`` default thickness, default transparency, default colour
  ``3 × float32``, 88 bytes of file info — then the arrays present, in that order: ``uint16`` segments per hair,
  ``float32 × 3`` points, ``float32`` thickness, ``float32`` transparency, ``float32 × 3`` colours (per point).
* OBJ: one ``v`` per point; each strand is a run of two-vertex ``l`` elements, one per segment, in order
  (``l 1 2``, ``l 2 3``, ...; 1-based indices). One ``l`` listing a whole strand is valid OBJ, but Blender 3.4's
  default importer (``wm.obj_import``) keeps only the first two vertices of each ``l`` element (a one-segment stub
  per strand); segments sharing vertices import there, in Blender 5 and in the legacy importer as the whole chain of
  edges. :func:`read_obj_polylines` joins an ``l`` element to the one before when it starts at that one's last
  vertex, so it reads both layouts.
* ``.tfx``: TressFX v3 (296-byte header, float3 positions) and v4 (160-byte header, float4 positions).
* USD (``.usda``/``.usdc``): a ``BasisCurves`` prim ``/hair`` (linear, non-periodic, y-up, metres) via Pixar's
  ``usd-core`` wheel, the optional ``usd`` extra (``pip install usd-core==26.11``). Blender 4.2 and 5.0 import it as
  a hair-curves object (``CURVES``), ``primvars:displayColor`` as the point attribute ``displayColor``. Alembic is
  not written: PyPI has no maintained Alembic geometry writer (the PyPI package ``alembic`` is SQLAlchemy's
  migration tool).
"""

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

Polylines = Sequence[NDArray[np.floating]] | NDArray[np.floating]
"""Strands: an ``(N, P, 3)`` array or a sequence of ``(n_i, 3)`` arrays, root first."""

_HAIR_SEGMENTS, _HAIR_POINTS, _HAIR_THICKNESS, _HAIR_TRANSPARENCY, _HAIR_COLORS = 1, 2, 4, 8, 16


def _as_list(strands: Polylines) -> list[NDArray[np.float32]]:
    return [np.asarray(s, dtype=np.float32).reshape(-1, 3) for s in strands]


def _flat(strands: Polylines) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Points per strand ``(N,)`` and all points ``(Σ, 3)`` float32, root first, strand after strand.

    An ``(N, P, 3)`` array is reshaped as a whole (no per-strand arrays: the writers handle 10k+ strands).
    """
    if isinstance(strands, np.ndarray) and strands.ndim == 3:
        n, p = strands.shape[:2]
        return np.full(n, p, dtype=np.int64), np.ascontiguousarray(strands, dtype=np.float32).reshape(-1, 3)
    polys = _as_list(strands)
    counts = np.array([len(s) for s in polys], dtype=np.int64)
    return counts, (np.concatenate(polys, axis=0) if polys else np.zeros((0, 3), np.float32))


def write_data(path: Path | str, strands: Polylines) -> Path:
    """Write USC-HairSalon ``.data`` (see the module docstring); returns the path."""
    path = Path(path)
    counts, points = _flat(strands)
    if len(counts) and (counts == counts[0]).all():  # one record layout for all strands: a structured array
        p = int(counts[0])
        records = np.empty(len(counts), dtype=np.dtype([("n", "<i4"), ("xyz", "<f4", (p, 3))]))
        records["n"] = p
        records["xyz"] = points.reshape(len(counts), p, 3)
        path.write_bytes(struct.pack("<i", len(counts)) + records.tobytes())
        return path
    parts = [struct.pack("<i", len(counts))]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for i, n in enumerate(counts):
        parts.append(struct.pack("<i", int(n)))
        parts.append(np.ascontiguousarray(points[bounds[i] : bounds[i + 1]], dtype="<f4").tobytes())
    path.write_bytes(b"".join(parts))
    return path


def read_data(path: Path | str) -> list[NDArray[np.float32]]:
    """Read USC-HairSalon ``.data``: a list of ``(n_i, 3)`` float32 polylines.

    Raises:
        ValueError: truncated or inconsistent file.
    """
    buf = Path(path).read_bytes()
    if len(buf) < 4:
        raise ValueError(f"{path}: too short for a .data file")
    (count,) = struct.unpack_from("<i", buf, 0)
    off = 4
    out = []
    for _ in range(count):
        if off + 4 > len(buf):
            raise ValueError(f"{path}: truncated")
        (n,) = struct.unpack_from("<i", buf, off)
        off += 4
        end = off + 12 * n
        if n < 0 or end > len(buf):
            raise ValueError(f"{path}: truncated strand")
        out.append(np.frombuffer(buf, dtype="<f4", count=3 * n, offset=off).reshape(n, 3).astype(np.float32))
        off = end
    return out


def write_hair(
    path: Path | str, strands: Polylines, colors: Polylines | None = None, thickness: float = 0.0001,
    info: str = "headcast strands, metres, +y up, +z forward",
) -> Path:
    """Write Cem Yuksel ``.hair`` with segments, points and (optional) per-point colours.

    Args:
        path: output file.
        strands: polylines (≤ 65 536 points each).
        colors: per-point sRGB colours in [0, 1], same shapes as ``strands``; omitted when None.
        thickness: default strand thickness, metres.
        info: file info text (≤ 87 bytes kept).

    Raises:
        ValueError: a strand with no points or more than 65 536, or colours not shaped like the strands.
    """
    path = Path(path)
    counts, points = _flat(strands)
    if len(counts) and (counts.min() < 1 or counts.max() > 65536):
        raise ValueError(".hair strands need 1 to 65 536 points each")
    segs = (counts - 1).astype("<u2")
    flags = _HAIR_SEGMENTS | _HAIR_POINTS | (_HAIR_COLORS if colors is not None else 0)
    header = b"HAIR" + struct.pack(
        "<IIIIff3f", len(counts), len(points), flags, int(segs[0]) if len(segs) else 0, thickness, 1.0, 0.5, 0.5, 0.5
    )
    header += info.encode("utf-8")[:87].ljust(88, b"\0")
    assert len(header) == 128
    parts = [header, segs.tobytes(), np.ascontiguousarray(points, dtype="<f4").tobytes()]
    if colors is not None:
        cols = _flat(colors)[1] if len(counts) else np.zeros((0, 3), np.float32)
        if cols.shape != points.shape:
            raise ValueError(f"colors have shape {cols.shape}, points {points.shape}")
        parts.append(np.ascontiguousarray(cols, dtype="<f4").tobytes())
    path.write_bytes(b"".join(parts))
    return path


def read_hair(path: Path | str) -> tuple[list[NDArray[np.float32]], list[NDArray[np.float32]] | None]:
    """Read Cem Yuksel ``.hair``: polylines and, when present, per-point colours.

    Raises:
        ValueError: not a ``.hair`` file, or truncated.
    """
    buf = Path(path).read_bytes()
    if len(buf) < 128 or buf[:4] != b"HAIR":
        raise ValueError(f"{path}: not a .hair file")
    hairs, npoints, flags, dseg = struct.unpack_from("<IIII", buf, 4)
    off = 128
    if flags & _HAIR_SEGMENTS:
        segs = np.frombuffer(buf, dtype="<u2", count=hairs, offset=off).astype(np.int64)
        off += 2 * hairs
    else:
        segs = np.full(hairs, dseg, dtype=np.int64)
    if not flags & _HAIR_POINTS:
        raise ValueError(f"{path}: no points array")
    need = off + 12 * npoints
    if need > len(buf) or int((segs + 1).sum()) != npoints:
        raise ValueError(f"{path}: truncated or inconsistent counts")
    pts = np.frombuffer(buf, dtype="<f4", count=3 * npoints, offset=off).reshape(npoints, 3).astype(np.float32)
    off = need
    if flags & _HAIR_THICKNESS:
        off += 4 * npoints
    if flags & _HAIR_TRANSPARENCY:
        off += 4 * npoints
    cols = None
    if flags & _HAIR_COLORS:
        cols = np.frombuffer(buf, dtype="<f4", count=3 * npoints, offset=off).reshape(npoints, 3).astype(np.float32)
    bounds = np.concatenate([[0], np.cumsum(segs + 1)])
    polys = [pts[bounds[i] : bounds[i + 1]] for i in range(hairs)]
    colours = None if cols is None else [cols[bounds[i] : bounds[i + 1]] for i in range(hairs)]
    return polys, colours


def write_obj_polylines(path: Path | str, strands: Polylines) -> Path:
    """Write strands as OBJ polylines (one object ``hair``), one two-vertex ``l`` element per segment.

    The layout (see the module docstring) is the one Blender 3.4's default OBJ importer reads whole: it gives a mesh
    whose edges chain each strand's points root to tip, which *Object ▸ Convert ▸ Curve* turns into one poly
    spline per strand (and *Convert ▸ Curves* into hair curves).

    Args:
        path: output ``.obj`` file.
        strands: polylines, root first, at least 2 points each.

    Raises:
        ValueError: a strand with fewer than 2 points (it has no segment to write).
    """
    path = Path(path)
    counts, pts = _flat(strands)
    if len(counts) and counts.min() < 2:
        raise ValueError("OBJ polylines need at least 2 points per strand")
    # segment k joins points k and k + 1 unless k is the last point of its strand (1-based ids); one %-format call
    # for all of them instead of one f-string per line (the same text)
    last = np.cumsum(counts) - 1
    first_ids = np.delete(np.arange(len(pts)), last) + 1
    segments = np.stack([first_ids, first_ids + 1], axis=1)
    parts = ["# headcast strands (metres, +y up, +z forward); one l element per segment\no hair\n"]
    parts.append(("v %.6f %.6f %.6f\n" * len(pts)) % tuple(pts.astype(np.float64).ravel().tolist()))
    parts.append(("l %d %d\n" * len(segments)) % tuple(segments.ravel().tolist()))
    path.write_text("".join(parts), encoding="ascii")
    return path


def read_obj_polylines(path: Path | str) -> list[NDArray[np.float32]]:
    """Read the ``v`` / ``l`` elements of an OBJ file as polylines.

    An ``l`` element that starts at the last vertex of the element before continues that polyline, so a strand
    written one segment per element (:func:`write_obj_polylines`) comes back whole, as does one written as a single
    element. Negative (relative) indices are resolved against the vertices read so far.

    Returns:
        ``(n_i, 3)`` float32 polylines in file order.
    """
    verts: list[list[float]] = []
    polys: list[list[int]] = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("v "):
            verts.append([float(x) for x in line.split()[1:4]])
        elif line.startswith("l "):
            ids = [int(tok.split("/")[0]) for tok in line.split()[1:]]
            ids = [i - 1 if i > 0 else len(verts) + i for i in ids]
            if polys and ids and polys[-1][-1] == ids[0]:
                polys[-1].extend(ids[1:])
            elif ids:
                polys.append(ids)
    v = np.asarray(verts, dtype=np.float32).reshape(-1, 3)
    return [v[np.asarray(p)] for p in polys]


def read_tfx(path: Path | str) -> NDArray[np.float32]:
    """Read TressFX guide strands (v3.0 or v4.0 layouts, see ``assets/hair/tressfx_amd/SOURCE.txt``).

    Returns:
        ``(N, P, 3)`` float32 positions in the file's units and axes.

    Raises:
        ValueError: unknown version or truncated file.
    """
    buf = Path(path).read_bytes()
    (version,) = struct.unpack_from("<f", buf, 0)
    strands, per = struct.unpack_from("<II", buf, 4)
    if abs(version - 3.0) < 1e-3:
        offset, comps = 296, 3
    elif abs(version - 4.0) < 1e-3:
        offset, comps = 160, 4
    else:
        raise ValueError(f"{path}: unsupported TressFX version {version}")
    count = strands * per * comps
    if offset + 4 * count > len(buf):
        raise ValueError(f"{path}: truncated")
    data = np.frombuffer(buf, dtype="<f4", count=count, offset=offset).reshape(strands, per, comps)
    return np.ascontiguousarray(data[..., :3], dtype=np.float32)


def write_usd_curves(
    path: Path | str, strands: Polylines, colors: Polylines | None = None, width: float = 0.0001
) -> Path:
    """Write strands as a USD ``BasisCurves`` prim ``/hair`` (linear; metres, y-up, ``metersPerUnit = 1``).

    Convention:
        USD colour primvars are linear RGB, so ``colors`` (sRGB, like every headcast colour) are converted with the
        IEC 61966-2-1 transfer function before they are written; a DCC tool shows them as the bundle's pictures do.

    Args:
        path: ``.usda`` (text) or ``.usd``/``.usdc`` (binary crate) file.
        strands: polylines, root first.
        colors: per-point sRGB colours in [0, 1], shaped like ``strands``, written as linear
            ``primvars:displayColor`` (vertex interpolation); omitted when None.
        width: curve width (diameter) in metres, one value for every point.

    Raises:
        ImportError: ``usd-core`` (the ``usd`` extra) is not installed.
        ValueError: ``colors`` not shaped like ``strands``.
    """
    from pxr import Sdf, Usd, UsdGeom, Vt

    from headcast.texture.lighting import srgb_to_linear

    path = Path(path)
    counts, pts = _flat(strands)
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    curves = UsdGeom.BasisCurves.Define(stage, Sdf.Path("/hair"))
    curves.CreateTypeAttr(UsdGeom.Tokens.linear)
    curves.CreateWrapAttr(UsdGeom.Tokens.nonperiodic)
    curves.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(pts, dtype=np.float32)))
    curves.CreateCurveVertexCountsAttr(Vt.IntArray(counts.tolist()))
    curves.CreateWidthsAttr(Vt.FloatArray([float(width)]))
    curves.SetWidthsInterpolation(UsdGeom.Tokens.constant)
    if colors is not None:
        cols = srgb_to_linear(_flat(colors)[1])
        if cols.shape != pts.shape:
            raise ValueError(f"colors have shape {cols.shape}, points {pts.shape}")
        primvar = curves.CreateDisplayColorPrimvar(UsdGeom.Tokens.vertex)
        primvar.Set(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(cols, dtype=np.float32)))
    stage.SetDefaultPrim(curves.GetPrim())
    stage.GetRootLayer().Save()
    return path


def read_usd_curves(path: Path | str) -> list[NDArray[np.float32]]:
    """Read the polylines of the ``/hair`` ``BasisCurves`` prim written by :func:`write_usd_curves`.

    Raises:
        ImportError: ``usd-core`` is not installed.
    """
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(path))
    curves = UsdGeom.BasisCurves(stage.GetPrimAtPath("/hair"))
    pts = np.asarray(curves.GetPointsAttr().Get(), dtype=np.float32)
    counts = np.asarray(curves.GetCurveVertexCountsAttr().Get(), dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [pts[bounds[i] : bounds[i + 1]] for i in range(len(counts))]
