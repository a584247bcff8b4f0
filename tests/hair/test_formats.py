import struct
from pathlib import Path

import numpy as np
import pytest

from headcast.hair.formats import (
    read_data,
    read_hair,
    read_obj_polylines,
    read_tfx,
    read_usd_curves,
    write_data,
    write_hair,
    write_obj_polylines,
    write_usd_curves,
)


def _strands() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.normal(size=(n, 3)).astype(np.float32) for n in (2, 5, 100, 7)]


def test_data_round_trip(tmp_path: Path) -> None:
    s = _strands()
    back = read_data(write_data(tmp_path / "a.data", s))
    assert [len(b) for b in back] == [len(x) for x in s]
    for a, b in zip(s, back, strict=True):
        np.testing.assert_array_equal(a, b)


def test_data_layout_is_usc(tmp_path: Path) -> None:
    buf = write_data(tmp_path / "a.data", [np.array([[1, 2, 3]], np.float32)]).read_bytes()
    assert buf == struct.pack("<ii3f", 1, 1, 1.0, 2.0, 3.0)


def test_data_truncated_raises(tmp_path: Path) -> None:
    p = write_data(tmp_path / "a.data", _strands())
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(ValueError, match="truncated"):
        read_data(p)


def test_hair_round_trip_with_colours(tmp_path: Path) -> None:
    s = _strands()
    cols = [np.clip(np.abs(x), 0, 1) for x in s]
    polys, colours = read_hair(write_hair(tmp_path / "a.hair", s, cols))
    assert colours is not None
    for a, b, ca, cb in zip(s, polys, cols, colours, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ca.astype(np.float32), cb)
    assert (tmp_path / "a.hair").read_bytes()[:4] == b"HAIR"


def test_hair_without_colours_and_bad_magic(tmp_path: Path) -> None:
    polys, colours = read_hair(write_hair(tmp_path / "a.hair", _strands()))
    assert colours is None and len(polys) == 4
    (tmp_path / "b.hair").write_bytes(b"NOPE" + bytes(200))
    with pytest.raises(ValueError):
        read_hair(tmp_path / "b.hair")


def test_obj_polylines_round_trip(tmp_path: Path) -> None:
    s = _strands()
    back = read_obj_polylines(write_obj_polylines(tmp_path / "a.obj", s))
    for a, b in zip(s, back, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_obj_polylines_are_one_l_element_per_segment(tmp_path: Path) -> None:
    # Blender 3.4's default OBJ importer keeps the first two vertices of an `l` element: one per segment reads whole
    s = _strands()
    lines = write_obj_polylines(tmp_path / "a.obj", s).read_text().splitlines()
    elements = [[int(t) for t in line.split()[1:]] for line in lines if line.startswith("l ")]
    assert len(elements) == sum(len(x) - 1 for x in s)
    assert all(len(e) == 2 and e[1] == e[0] + 1 for e in elements)
    assert sum(line.startswith("v ") for line in lines) == sum(len(x) for x in s)
    with pytest.raises(ValueError, match="at least 2 points"):
        write_obj_polylines(tmp_path / "b.obj", [np.zeros((1, 3), np.float32)])


def test_obj_reader_takes_whole_polyline_elements_too(tmp_path: Path) -> None:
    text = "v 0 0 0\nv 1 0 0\nv 2 0 0\nv 0 1 0\nv 0 2 0\nl 1 2 3\nl 4 5\nl -2 -1\n"
    (tmp_path / "a.obj").write_text(text)
    back = read_obj_polylines(tmp_path / "a.obj")
    assert [b[:, :2].tolist() for b in back] == [[[0, 0], [1, 0], [2, 0]], [[0, 1], [0, 2]], [[0, 1], [0, 2]]]


@pytest.mark.parametrize("version", [3.0, 4.0])
def test_tfx_reader(tmp_path: Path, version: float) -> None:
    pts = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    if version == 3.0:
        header = struct.pack("<fII", 3.0, 2, 3).ljust(296, b"\0")
        body = pts.tobytes()
    else:
        header = struct.pack("<fII", 4.0, 2, 3).ljust(160, b"\0")
        body = np.concatenate([pts, np.ones((2, 3, 1), np.float32)], -1).tobytes()
    (tmp_path / "a.tfx").write_bytes(header + body)
    np.testing.assert_array_equal(read_tfx(tmp_path / "a.tfx"), pts)


def test_usd_curves_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("pxr", reason="usd-core (optional) is not installed")
    s = _strands()
    colors = [np.clip(np.abs(x), 0, 1) for x in s]
    path = write_usd_curves(tmp_path / "a.usda", s, colors)
    back = read_usd_curves(path)
    for a, b in zip(s, back, strict=True):
        np.testing.assert_array_equal(a, b)
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(path))  # held: a prim of a released stage is invalid
    curves = UsdGeom.BasisCurves(stage.GetPrimAtPath("/hair"))
    written = np.asarray(curves.GetDisplayColorPrimvar().Get())
    srgb = np.concatenate(colors)  # USD colour primvars are linear: sRGB 0.5 → 0.214, float32 rounding only
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    np.testing.assert_allclose(written, linear, rtol=1e-6, atol=1e-7)
    assert curves.GetDisplayColorPrimvar().GetInterpolation() == UsdGeom.Tokens.vertex
    with pytest.raises(ValueError, match="colors have shape"):
        write_usd_curves(tmp_path / "b.usda", s, colors[:2])
