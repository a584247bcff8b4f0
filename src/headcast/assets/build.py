"""Build the asset folder's derived files from their upstream sources (format conversions, nothing else).

* ``ict_facekit_mit/ict_facekit_model.npz`` from the 158 OBJs of ICT FaceKit's ``FaceXModel/`` folder
  (:func:`ict_model_arrays`); ``generic_neutral_mesh.obj``, ``ICTFaceModelMaterial.mtl``, ``vertex_indices.json``
  and ``LICENSE`` are copied byte for byte (:func:`install_ict_facekit`).
* the hair ``.data`` files (USC-HairSalon layout) from TressFX ``.tfx`` guide files (:func:`tfx_strands`,
  :func:`usc_data_bytes`).

The ``.npz`` layout (the arrays ``headcast.headmodel.ict`` reads), reproduced array for array from the OBJs:

* ``v_template`` float32 (V, 3): the neutral mesh's ``v`` lines, parsed as float64, rounded once to float32;
* ``faces_v``, ``faces_vt`` int32 (F, 4): the ``f`` lines' 0-based vertex / texture indices, ``-1`` in the fourth
  column of a triangle;
* ``uv`` float32 (T, 2): the ``vt`` lines;
* ``face_material`` int16 (F,): index into ``material_names`` of the ``usemtl`` in force at each face;
* ``material_names`` str (M,): the materials used, sorted by code point;
* ``identity_deltas`` float32 (100, V, 3), ``identity_names`` str (100,): ``identityNNN.obj`` in name order, each
  ``float32(shape_float64 - neutral_float64)`` (the difference is taken in float64, then rounded once);
* ``expression_deltas`` float32 (57, V, 3), ``expression_names`` str (57,): every other OBJ, sorted by code point
  (capitalised names first: the pupil shapes before the brows), deltas as for identities.

Written with ``numpy.savez_compressed`` in that key order; with the zlib CPython ships, the file is byte-identical
to the pinned one. Units stay those of the OBJs (centimetres).
"""

import os
import re
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np
from numpy.typing import NDArray

from headcast.assets.registry import ASSETS, AssetSpec, find_spec
from headcast.assets.resolver import file_matches, sha256_file
from headcast.errors import AssetError

ICT_NEUTRAL = "generic_neutral_mesh.obj"
ICT_COPIED = {  # file in FaceXModel/ (or the repository root) -> key of its spec
    ICT_NEUTRAL: "ict_neutral_obj",
    "ICTFaceModelMaterial.mtl": "ict_material",
    "vertex_indices.json": "ict_vertex_indices",
    "LICENSE": "ict_licence",
}
ICT_NPZ_KEYS = ("v_template", "faces_v", "faces_vt", "uv", "face_material", "material_names", "identity_deltas",
                "identity_names", "expression_deltas", "expression_names")
"""The ``.npz`` members, in the order they are written."""
_IDENTITY = re.compile(r"identity\d+\.obj")
_V_LINE = re.compile(rb"^v[ \t]+(.*)$", re.MULTILINE)


class SourceFiles(Protocol):
    """Read access to the files of ICT FaceKit's ``FaceXModel/`` folder, wherever they are."""

    def names(self) -> list[str]:
        """The file names in ``FaceXModel/`` (no folders)."""
        ...

    def read(self, name: str) -> bytes:
        """The bytes of ``FaceXModel/<name>``; ``"LICENSE"`` may also come from the repository root.

        Raises:
            FileNotFoundError: no such file.
        """
        ...


@dataclass(frozen=True)
class FolderFiles:
    """``FaceXModel/`` on disk: ``folder`` is that folder or a checkout holding it."""

    folder: Path

    @property
    def model_dir(self) -> Path:
        """The ``FaceXModel`` folder itself."""
        inner = self.folder / "FaceXModel"
        return inner if inner.is_dir() else self.folder

    def names(self) -> list[str]:
        """File names in the folder."""
        return sorted(p.name for p in self.model_dir.iterdir() if p.is_file())

    def read(self, name: str) -> bytes:
        """A file's bytes (``LICENSE`` also from the parent folder)."""
        path = self.model_dir / name
        if not path.is_file() and name == "LICENSE":
            path = self.model_dir.parent / name
        return path.read_bytes()


class ZipFiles:
    """``FaceXModel/`` inside a repository zip archive (e.g. GitHub's ``<repo>-<commit>/FaceXModel/...``)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        anchor = f"FaceXModel/{ICT_NEUTRAL}"
        found = [n for n in archive.namelist() if n == anchor or n.endswith("/" + anchor)]
        if not found:
            raise AssetError(f"the archive {archive.filename} has no FaceXModel/{ICT_NEUTRAL}: not ICT FaceKit")
        self.prefix = found[0][: -len(ICT_NEUTRAL)]
        self.root = self.prefix[: -len("FaceXModel/")]

    def names(self) -> list[str]:
        """File names directly inside ``FaceXModel/``."""
        tail = [n[len(self.prefix):] for n in self.archive.namelist() if n.startswith(self.prefix)]
        return sorted(n for n in tail if n and "/" not in n)

    def read(self, name: str) -> bytes:
        """A member's bytes (``LICENSE`` also from the repository root)."""
        for member in (self.prefix + name, *((self.root + name,) if name == "LICENSE" else ())):
            try:
                return self.archive.read(member)
            except KeyError:
                continue
        raise FileNotFoundError(f"{self.prefix}{name} in {self.archive.filename}")


@dataclass(frozen=True)
class ObjMesh:
    """The parts of an OBJ file the ICT model keeps.

    Attributes:
        vertices: ``(V, 3)`` float64, file units.
        uv: ``(T, 2)`` float64.
        faces_v: ``(F, 4)`` int32, 0-based vertex indices, ``-1`` pads triangles.
        faces_vt: ``(F, 4)`` int32, 0-based texture-coordinate indices, ``-1`` pads triangles.
        face_material: the ``usemtl`` name in force at each face (``""`` before any).
    """

    vertices: NDArray[np.float64]
    uv: NDArray[np.float64]
    faces_v: NDArray[np.int32]
    faces_vt: NDArray[np.int32]
    face_material: tuple[str, ...]


def _floats(fields: Sequence[bytes], width: int, what: str) -> NDArray[np.float64]:
    rows = [f.split() for f in fields]
    if any(len(r) < width for r in rows):
        raise AssetError(f"{what}: a line has fewer than {width} numbers")
    values = np.array([x for r in rows for x in r[:width]], dtype=np.float64) if rows else np.zeros(0)
    return values.reshape(-1, width)


def obj_vertices(data: bytes, what: str = "OBJ") -> NDArray[np.float64]:
    """The ``v`` lines of an OBJ as ``(V, 3)`` float64 (extra components such as vertex colours are dropped)."""
    return _floats(_V_LINE.findall(data), 3, what)


def read_obj(data: bytes, what: str = "OBJ") -> ObjMesh:
    """Vertices, texture coordinates, triangle/quad faces (``v/vt`` or ``v/vt/vn``) and their materials.

    Raises:
        AssetError: a face without texture indices, with negative indices or with more than 4 corners.
    """
    verts: list[bytes] = []
    uvs: list[bytes] = []
    faces_v: list[list[int]] = []
    faces_vt: list[list[int]] = []
    materials: list[str] = []
    current = ""
    for line in data.splitlines():
        if line.startswith(b"v "):
            verts.append(line[2:])
        elif line.startswith(b"vt "):
            uvs.append(line[3:])
        elif line.startswith(b"usemtl "):
            current = line[7:].strip().decode("utf-8")
        elif line.startswith(b"f "):
            corners = [c.split(b"/") for c in line[2:].split()]
            if not 3 <= len(corners) <= 4 or any(len(c) < 2 or not c[1] for c in corners):
                raise AssetError(f"{what}: unsupported face line {line[:80]!r} (need 3 or 4 corners as v/vt)")
            v = [int(c[0]) - 1 for c in corners]
            t = [int(c[1]) - 1 for c in corners]
            if min(v) < 0 or min(t) < 0:
                raise AssetError(f"{what}: negative (relative) face indices are not supported")
            pad = [-1] * (4 - len(corners))
            faces_v.append(v + pad)
            faces_vt.append(t + pad)
            materials.append(current)
    return ObjMesh(
        _floats(verts, 3, what),
        _floats(uvs, 2, what),
        np.array(faces_v, dtype=np.int32).reshape(-1, 4),
        np.array(faces_vt, dtype=np.int32).reshape(-1, 4),
        tuple(materials),
    )


def ict_shape_names(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split ``FaceXModel/`` file names into identity and expression shape names (stems, each list sorted)."""
    objs = sorted(n for n in names if n.endswith(".obj") and n != ICT_NEUTRAL)
    identities = [n[:-4] for n in objs if _IDENTITY.fullmatch(n)]
    expressions = [n[:-4] for n in objs if not _IDENTITY.fullmatch(n)]
    return identities, expressions


def ict_model_arrays(
    files: SourceFiles, log: Callable[[str], None] = lambda _: None
) -> dict[str, NDArray[np.generic]]:
    """The arrays of ``ict_facekit_model.npz`` from ICT FaceKit's OBJs (layout in the module docstring).

    Every OBJ found is used: the full ``FaceXModel/`` (100 identities, 57 expressions) gives the pinned file; a
    folder with fewer OBJs gives the same layout with fewer shapes.

    Raises:
        AssetError: the neutral mesh is missing, or a shape OBJ has a different vertex count.
    """
    names = files.names()
    if ICT_NEUTRAL not in names:
        raise AssetError(f"{ICT_NEUTRAL} is missing: give ICT FaceKit's FaceXModel folder (or a checkout holding it)")
    neutral = read_obj(files.read(ICT_NEUTRAL), ICT_NEUTRAL)
    material_names = sorted(set(neutral.face_material))
    index = {name: i for i, name in enumerate(material_names)}
    identities, expressions = ict_shape_names(names)
    log(f"{ICT_NEUTRAL}: {len(neutral.vertices)} vertices, {len(neutral.faces_v)} faces; "
        f"{len(identities)} identity and {len(expressions)} expression OBJs")

    def deltas(stems: list[str]) -> NDArray[np.float32]:
        out = np.empty((len(stems), *neutral.vertices.shape), dtype=np.float32)
        for i, stem in enumerate(stems):
            shape = obj_vertices(files.read(stem + ".obj"), stem + ".obj")
            if shape.shape != neutral.vertices.shape:
                raise AssetError(f"{stem}.obj has {len(shape)} vertices, {ICT_NEUTRAL} {len(neutral.vertices)}")
            out[i] = shape - neutral.vertices  # float64 difference, rounded once on assignment
        return out

    return {
        "v_template": neutral.vertices.astype(np.float32),
        "faces_v": neutral.faces_v,
        "faces_vt": neutral.faces_vt,
        "uv": neutral.uv.astype(np.float32),
        "face_material": np.array([index[m] for m in neutral.face_material], dtype=np.int16),
        "material_names": np.array(material_names),
        "identity_deltas": deltas(identities),
        "identity_names": np.array(identities),
        "expression_deltas": deltas(expressions),
        "expression_names": np.array(expressions),
    }


def write_atomic(dest: Path, write: Callable[[BinaryIO], object], spec: AssetSpec | None = None) -> Path:
    """Write ``dest`` under a temporary name in its folder and rename it into place.

    Args:
        dest: the final path (its folder is created).
        write: writes the content to the open temporary file.
        spec: when given, the temporary file must match it (:func:`headcast.assets.resolver.file_matches`) or
            it is deleted and nothing is renamed.

    Raises:
        AssetError: the content does not match ``spec``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        if spec is not None and not file_matches(tmp, spec):
            raise AssetError(
                f"{dest.name} ({spec.key}): sha256 {sha256_file(tmp)} differs from the pinned {spec.sha256}; "
                f"not written. Is the source the pinned version? ({spec.source})"
            )
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def write_npz(arrays: dict[str, NDArray[np.generic]], dest: Path, spec: AssetSpec | None = None) -> Path:
    """``numpy.savez_compressed`` of ``arrays`` (in their order) to ``dest``, atomically (see :func:`write_atomic`)."""
    # numpy's stub types **kwds against its allow_pickle keyword; the arrays are plain (no object dtype).
    return write_atomic(dest, lambda fh: np.savez_compressed(fh, **arrays), spec)  # type: ignore[arg-type]


def install_ict_facekit(
    files: SourceFiles, assets_dir: Path, verify: bool = True, log: Callable[[str], None] = print
) -> list[Path]:
    """Build ``ict_facekit_model.npz`` and copy the byte-identical files into ``<assets_dir>/ict_facekit_mit/``.

    Args:
        files: ICT FaceKit's ``FaceXModel/`` files.
        assets_dir: the asset folder.
        verify: refuse (and do not write) a file whose checksum differs from the registry's.
        log: progress messages.

    Returns:
        The files written.

    Raises:
        AssetError: a required source file is missing, or (``verify``) a result differs from the pinned one.
    """
    model = ASSETS["ict_model"]
    arrays = ict_model_arrays(files, log)
    written = [write_npz(arrays, assets_dir / model.relpath, model if verify else None)]
    log(f"{model.relpath}: built" + (", checksum ok" if verify else ""))
    for name, key in ICT_COPIED.items():
        spec = find_spec(key)
        try:
            data = files.read(name)
        except FileNotFoundError:
            if spec.required:
                raise AssetError(f"{name} is missing from the ICT FaceKit source") from None
            log(f"{spec.relpath}: not in the source, skipped")
            continue
        written.append(write_atomic(assets_dir / spec.relpath, partial(_write_bytes, data), spec if verify else None))
        log(f"{spec.relpath}: copied" + (", checksum ok" if verify else ""))
    return written


def _write_bytes(data: bytes, fh: BinaryIO) -> None:
    fh.write(data)


def tfx_strands(data: bytes, what: str = "tfx") -> NDArray[np.float32]:
    """Guide-strand positions of a TressFX ``.tfx`` file, ``(strands, points, 3)`` float32, root first.

    Version 3.0: a 296-byte header (``float version, uint strands, uint points per strand, ...``; the position
    offset is the uint at byte 144), positions as float3. Version 4.0: ``float version, uint strands, uint points,
    uint position offset``, positions as float4 (``w`` dropped).

    Raises:
        AssetError: an unknown version or a file shorter than its header says.
    """
    if len(data) < 160:
        raise AssetError(f"{what}: too short for a TressFX header")
    version, strands, points = struct.unpack_from("<fII", data, 0)
    if version == 3.0:
        offset, width = struct.unpack_from("<I", data, 144)[0], 3
    elif version == 4.0:
        offset, width = struct.unpack_from("<I", data, 12)[0], 4
    else:
        raise AssetError(f"{what}: TressFX version {version} is not supported (3.0 and 4.0 are)")
    count = strands * points * width
    if offset + 4 * count > len(data):
        raise AssetError(f"{what}: {strands} x {points} positions do not fit in {len(data)} bytes")
    positions = np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(strands, points, width)
    return np.ascontiguousarray(positions[..., :3])


def usc_data_bytes(strands: Iterable[NDArray[np.float32]]) -> bytes:
    """Strands in the USC-HairSalon ``.data`` layout, each strand an ``(n, 3)`` array.

    Layout (little-endian): ``int32`` strand count; per strand ``int32 n`` then ``n × 3`` float32, root first.
    """
    items = [np.ascontiguousarray(s, dtype="<f4").reshape(-1, 3) for s in strands]
    parts = [struct.pack("<i", len(items))]
    for s in items:
        parts += [struct.pack("<i", len(s)), s.tobytes()]
    return b"".join(parts)
