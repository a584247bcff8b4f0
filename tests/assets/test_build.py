"""``headcast assets build``: ICT FaceKit OBJs -> ``ict_facekit_model.npz`` and TressFX ``.tfx`` -> ``.data``.

The round trip writes OBJs from the shipped ``.npz`` (the neutral mesh and a few shapes, as ICT's files are laid
out: ``v``, ``vt``, ``usemtl`` runs, ``f v/vt``) and requires the built arrays to equal the shipped ones exactly
(dtype, shape, every value). The real 158 OBJs are not in the test data; the full build was checked against them
once (see the report of the change that added ``build.py``).
"""

import hashlib
import io
import struct
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from headcast.assets import ASSETS, AssetSettings, resolve_asset
from headcast.assets.build import (
    ICT_NPZ_KEYS,
    FolderFiles,
    ict_model_arrays,
    install_ict_facekit,
    read_obj,
    tfx_strands,
    usc_data_bytes,
    write_npz,
)
from headcast.assets.resolver import sha256_file
from headcast.cli.main import main
from headcast.errors import AssetError

IDENTITIES = ("identity000", "identity042")
EXPRESSIONS = ("PupilDilate_L", "jawOpen", "mouthLowerDown_L")  # code-point order; the longest name (<U16)


def _numbers(rows: NDArray[np.float64], tag: str) -> list[str]:
    # repr() is the shortest string that parses back to the same float64
    return [f"{tag} " + " ".join(map(repr, row)) for row in rows.tolist()]


def obj_bytes(vertices: NDArray[np.float64], model: dict[str, NDArray[np.generic]] | None = None) -> bytes:
    """An OBJ with ``vertices``; with ``model``, also its ``vt`` lines and faces grouped in ``usemtl`` runs."""
    lines = ["# written by the headcast tests", "mtllib ICTFaceModelMaterial.mtl", *_numbers(vertices, "v")]
    if model is not None:
        lines += _numbers(model["uv"].astype(np.float64), "vt")
        current = -1
        for fv, ft, mat in zip(model["faces_v"], model["faces_vt"], model["face_material"], strict=True):
            if mat != current:
                lines.append(f"usemtl {model['material_names'][mat]}")
                current = int(mat)
            lines.append("f " + " ".join(f"{v + 1}/{t + 1}" for v, t in zip(fv, ft, strict=True) if v >= 0))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def shipped(asset_settings: AssetSettings) -> dict[str, NDArray[np.generic]]:
    with np.load(resolve_asset("ict_model", asset_settings), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def facekit_subset(shipped: dict[str, NDArray[np.generic]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout-like folder: ``FaceXModel/`` with the neutral mesh, 2 identities and 3 expressions."""
    root = tmp_path_factory.mktemp("ict") / "ICT-FaceKit"
    folder = root / "FaceXModel"
    folder.mkdir(parents=True)
    neutral = shipped["v_template"].astype(np.float64)
    (folder / "generic_neutral_mesh.obj").write_bytes(obj_bytes(neutral, shipped))
    for group, names in (("identity", IDENTITIES), ("expression", EXPRESSIONS)):
        listed = [str(n) for n in shipped[f"{group}_names"]]
        for name in names:
            shape = neutral + shipped[f"{group}_deltas"][listed.index(name)].astype(np.float64)
            (folder / f"{name}.obj").write_bytes(obj_bytes(shape))
    (folder / "README.txt").write_text("not an OBJ: ignored")
    return root


def test_round_trip_reproduces_the_shipped_arrays(
    facekit_subset: Path, shipped: dict[str, NDArray[np.generic]]
) -> None:
    built = ict_model_arrays(FolderFiles(facekit_subset))
    assert tuple(built) == ICT_NPZ_KEYS == tuple(shipped)
    ids = [[str(n) for n in shipped[f"{g}_names"]].index(name) for g, names in
           (("identity", IDENTITIES), ("expression", EXPRESSIONS)) for name in names]
    expected = dict(shipped)
    expected["identity_deltas"] = shipped["identity_deltas"][ids[:2]]
    expected["identity_names"] = shipped["identity_names"][ids[:2]]
    expected["expression_deltas"] = shipped["expression_deltas"][ids[2:]]
    expected["expression_names"] = shipped["expression_names"][ids[2:]]
    for key in ICT_NPZ_KEYS:
        assert built[key].dtype == shipped[key].dtype, key  # also the string widths (<U15, ...)
        assert built[key].shape == expected[key].shape, key
        assert np.array_equal(built[key], expected[key]), key
    assert list(built["expression_names"]) == list(EXPRESSIONS)
    assert (built["faces_v"][:, 3] == -1).sum() == 548  # ICT's triangles


def test_writer_reproduces_the_shipped_bytes(shipped: dict[str, NDArray[np.generic]], tmp_path: Path) -> None:
    """Same arrays, same key order, numpy's savez_compressed: the pinned file, byte for byte (CPython's zlib)."""
    path = write_npz(shipped, tmp_path / "m.npz", ASSETS["ict_model"])
    assert sha256_file(path) == ASSETS["ict_model"].sha256


def test_build_refuses_a_result_that_differs_from_the_pin(facekit_subset: Path, tmp_path: Path, capsys) -> None:
    """The subset is not the pinned model: nothing is written, no temporary file is left; --no-verify writes it."""
    out = tmp_path / "assets"
    assert main(["assets", "build", "--ict-facekit", str(facekit_subset), "--out", str(out)]) == 5
    assert "differs from the pinned" in capsys.readouterr().err
    assert [p for p in out.rglob("*") if p.is_file()] == []
    assert main(["assets", "build", "--ict-facekit", str(facekit_subset / "FaceXModel"), "--out", str(out),
                 "--no-verify"]) == 0
    with np.load(out / ASSETS["ict_model"].relpath) as data:
        assert data["identity_deltas"].shape == (2, 26719, 3)
    copied = out / ASSETS["ict_neutral_obj"].relpath
    assert copied.read_bytes() == (facekit_subset / "FaceXModel" / "generic_neutral_mesh.obj").read_bytes()
    assert sorted(p.name for p in (out / "ict_facekit_mit").iterdir()) == [
        "generic_neutral_mesh.obj", "ict_facekit_model.npz"]  # the subset has no mtl/json/LICENSE: skipped


def test_build_needs_the_neutral_mesh(tmp_path: Path) -> None:
    (tmp_path / "identity000.obj").write_bytes(b"v 0 0 0\n")
    with pytest.raises(AssetError, match=r"generic_neutral_mesh\.obj is missing"):
        install_ict_facekit(FolderFiles(tmp_path), tmp_path / "out", log=lambda _: None)
    assert main(["assets", "build", "--ict-facekit", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 5


def test_mismatched_vertex_count_is_refused(tmp_path: Path) -> None:
    (tmp_path / "generic_neutral_mesh.obj").write_bytes(b"v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/1 2/1 3/1\n")
    (tmp_path / "jawOpen.obj").write_bytes(b"v 0 0 0\nv 1 0 0\n")
    with pytest.raises(AssetError, match=r"jawOpen\.obj has 2 vertices"):
        ict_model_arrays(FolderFiles(tmp_path))


def test_read_obj_faces_and_materials() -> None:
    mesh = read_obj(b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 1\nusemtl B\n"
                    b"f 1/1/1 2/2/1 3/1/1 4/2/1\nusemtl A\nf 1/2 2/1 3/2\n")
    assert mesh.faces_v.tolist() == [[0, 1, 2, 3], [0, 1, 2, -1]]
    assert mesh.faces_vt.tolist() == [[0, 1, 0, 1], [1, 0, 1, -1]]
    assert mesh.face_material == ("B", "A") and mesh.uv.shape == (2, 2)
    with pytest.raises(AssetError, match="unsupported face"):
        read_obj(b"v 0 0 0\nf 1 1 1\n")


def _tfx(version: float, positions: NDArray[np.float32]) -> bytes:
    strands, points = positions.shape[:2]
    if version == 3.0:  # 296-byte header, position offset at byte 144, float3
        header = bytearray(296)
        struct.pack_into("<fII", header, 0, 3.0, strands, points)
        struct.pack_into("<I", header, 144, 296)
        return bytes(header) + positions.astype("<f4").tobytes()
    header = bytearray(160)  # 4.0: offset right after the counts, float4 with w
    struct.pack_into("<fIII", header, 0, 4.0, strands, points, 160)
    w = np.ones((strands, points, 1), np.float32)
    return bytes(header) + np.concatenate([positions, w], -1).astype("<f4").tobytes()


def test_tfx_versions_and_data_layout() -> None:
    pos = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3) / 7
    for version in (3.0, 4.0):
        assert np.array_equal(tfx_strands(_tfx(version, pos)), pos)
    data = usc_data_bytes([pos[0], pos[1][:2]])
    assert struct.unpack_from("<ii", data, 0) == (2, 3)
    assert np.array_equal(np.frombuffer(data, "<f4", 9, 8).reshape(3, 3), pos[0])
    assert struct.unpack_from("<i", data, 8 + 36)[0] == 2 and len(data) == 4 + 4 + 36 + 4 + 24
    with pytest.raises(AssetError, match=r"version 2\.0"):
        tfx_strands(struct.pack("<fII", 2.0, 1, 1) + bytes(200))
    with pytest.raises(AssetError, match="do not fit"):
        tfx_strands(_tfx(4.0, pos)[:-4])


def test_tfx_conversion_reproduces_the_shipped_grooms(asset_settings: AssetSettings) -> None:
    """The .tfx originals kept beside the shipped .data files convert to them byte for byte."""
    parts = {
        "hair_tressfx_ponytail": [f"ponytail_{p}.tfx" for p in ("front_top", "side", "back", "tail")],
        "hair_ratboy_mohawk": ["Ratboy_mohawk.tfx"],
        "hair_sintel_guides": ["sintel_hair.tfx"],
    }
    for key, names in parts.items():
        folder = resolve_asset(key, asset_settings).parent
        if not all((folder / n).is_file() for n in names):
            pytest.skip(f"the .tfx originals are not beside {folder}")
        strands = [s for n in names for s in tfx_strands((folder / n).read_bytes(), n)]
        assert hashlib.sha256(usc_data_bytes(strands)).hexdigest() == ASSETS[key].sha256, key


def test_npz_writer_is_atomic_on_refusal(tmp_path: Path) -> None:
    dest = tmp_path / "m.npz"
    dest.write_bytes(b"old")
    with pytest.raises(AssetError):
        write_npz({"a": np.zeros(3)}, dest, ASSETS["ict_model"])
    assert dest.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, a=np.zeros(3))
    assert write_npz({"a": np.zeros(3)}, dest).read_bytes() == buffer.getvalue()
