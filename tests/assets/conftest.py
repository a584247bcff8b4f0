"""A miniature upstream for ``headcast assets fetch``: a local HTTP server serving the upstream paths.

``miniature`` makes tiny stand-ins for every file ``fetch`` downloads in the core set (an ICT-FaceKit-like zip with
a 4-vertex head, a fake ``face_landmarker.task``, two small OBJs and a licence) plus one hair shell and a two-part
TressFX groom, and points the registry's checksums at them (monkeypatched), so the real code paths run offline.
"""

import hashlib
import http.server
import io
import json
import struct
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pytest
from numpy.typing import NDArray

from headcast.assets import fetch
from headcast.assets.build import ICT_NPZ_KEYS
from headcast.assets.registry import (
    ASSETS,
    COMPANION_FILES,
    FACE_LANDMARKER_URL_PATH,
    ICT_FACEKIT,
    MAKEHUMAN_ASSETS,
    MEDIAPIPE,
    MEDIAPIPE_GEOMETRY_DIR,
    TRESSFX_3_1_1,
)


@dataclass
class Mirror:
    """The test server: ``routes`` maps a path to its body; ``requests`` lists the paths asked for."""

    url: str
    routes: dict[str, bytes] = field(default_factory=dict)
    truncated: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    state = Mirror("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            body = state.routes.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + (1000 if self.path in state.truncated else 0)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass(frozen=True)
class Miniature:
    """What the mirror serves and what ``fetch`` must write: ``files`` maps an asset relpath to its bytes."""

    files: dict[str, bytes]
    arrays: dict[str, NDArray[np.generic]]
    task_path: str
    obj_path: str


def _obj(vertices: NDArray[np.float64], faces: str = "") -> bytes:
    return ("".join(f"v {x!r} {y!r} {z!r}\n" for x, y, z in vertices.tolist()) + faces).encode()


def _tfx_v3(positions: NDArray[np.float32]) -> bytes:
    header = bytearray(296)
    struct.pack_into("<fII", header, 0, 3.0, positions.shape[0], positions.shape[1])
    struct.pack_into("<I", header, 144, 296)
    return bytes(header) + positions.astype("<f4").tobytes()


def _pin(monkeypatch: pytest.MonkeyPatch, key: str, data: bytes) -> None:
    table = ASSETS if key in ASSETS else COMPANION_FILES
    spec = replace(table[key], sha256=hashlib.sha256(data).hexdigest(), content_sha256=None)
    monkeypatch.setitem(table, key, spec)


@pytest.fixture
def miniature(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> Miniature:
    neutral = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0.5]], dtype=np.float64)
    faces = "vt 0 0\nvt 1 0\nvt 1 1\nusemtl M_Face\nf 1/1 2/2 3/3 4/1\nusemtl M_BackHead\nf 1/1 3/3 4/2\n"
    rng = np.random.default_rng(0)
    deltas = (rng.integers(-64, 64, size=(4, 4, 3)) / 32).astype(np.float64)  # exact in float32 and float64
    shapes = ("identity000", "identity001", "PupilDilate_L", "jawOpen")
    root = f"ICT-FaceKit-{ICT_FACEKIT.commit}/"
    neutral_obj = _obj(neutral, faces)
    members = {
        f"{root}LICENSE": b"MIT licence of the miniature\n",
        f"{root}README.md": b"# not needed\n",
        f"{root}FaceXModel/generic_neutral_mesh.obj": neutral_obj,
        f"{root}FaceXModel/ICTFaceModelMaterial.mtl": b"newmtl M_Face\nnewmtl M_BackHead\n",
        f"{root}FaceXModel/vertex_indices.json": json.dumps({"face": [0, 3]}).encode(),
        **{f"{root}FaceXModel/{name}.obj": _obj(neutral + d) for name, d in zip(shapes, deltas, strict=True)},
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(root, b"")  # a folder entry, as GitHub's archives have
        for name, data in members.items():
            zf.writestr(name, data)
    arrays: dict[str, NDArray[np.generic]] = {
        "v_template": neutral.astype(np.float32),
        "faces_v": np.array([[0, 1, 2, 3], [0, 2, 3, -1]], np.int32),
        "faces_vt": np.array([[0, 1, 2, 0], [0, 2, 1, -1]], np.int32),
        "uv": np.array([[0, 0], [1, 0], [1, 1]], np.float32),
        "face_material": np.array([1, 0], np.int16),  # sorted names: M_BackHead, M_Face
        "material_names": np.array(["M_BackHead", "M_Face"]),
        "identity_deltas": deltas[:2].astype(np.float32),
        "identity_names": np.array(["identity000", "identity001"]),
        "expression_deltas": deltas[2:].astype(np.float32),
        "expression_names": np.array(["PupilDilate_L", "jawOpen"]),
    }
    assert tuple(arrays) == ICT_NPZ_KEYS
    npz = io.BytesIO()
    np.savez_compressed(npz, **arrays)

    groom_parts = [rng.normal(size=(n, 4, 3)).astype(np.float32) for n in (2, 3)]
    groom = struct.pack("<i", 5) + b"".join(struct.pack("<i", 4) + s.astype("<f4").tobytes()
                                             for part in groom_parts for s in part)
    files = {
        ASSETS["ict_model"].relpath: npz.getvalue(),
        ASSETS["ict_neutral_obj"].relpath: neutral_obj,
        COMPANION_FILES["ict_licence"].relpath: members[f"{root}LICENSE"],
        COMPANION_FILES["ict_material"].relpath: members[f"{root}FaceXModel/ICTFaceModelMaterial.mtl"],
        COMPANION_FILES["ict_vertex_indices"].relpath: members[f"{root}FaceXModel/vertex_indices.json"],
        ASSETS["face_landmarker"].relpath: b"PK fake task bundle",
        ASSETS["mediapipe_canonical_face"].relpath: b"v 0 0 0\n# with iris\n",
        ASSETS["mediapipe_canonical_face_468"].relpath: b"v 0 0 0\n# 468\n",
        COMPANION_FILES["mediapipe_licence"].relpath: b"Apache licence of the miniature\n",
        ASSETS["hair_mh_bob01"].relpath: b"v 0 1 0\n# bob\n",
        ASSETS["hair_tressfx_ponytail"].relpath: groom,
    }
    keys = ("ict_model", "ict_neutral_obj", "ict_licence", "ict_material", "ict_vertex_indices", "face_landmarker",
            "mediapipe_canonical_face", "mediapipe_canonical_face_468", "mediapipe_licence", "hair_mh_bob01",
            "hair_tressfx_ponytail")
    for key in keys:
        spec = ASSETS[key] if key in ASSETS else COMPANION_FILES[key]
        _pin(monkeypatch, key, files[spec.relpath])

    geometry = MEDIAPIPE_GEOMETRY_DIR
    mirror.routes.update({
        ICT_FACEKIT.archive_path(): archive.getvalue(),
        FACE_LANDMARKER_URL_PATH: files[ASSETS["face_landmarker"].relpath],
        MEDIAPIPE.raw_path(f"{geometry}/face_model_with_iris.obj"): files[ASSETS["mediapipe_canonical_face"].relpath],
        MEDIAPIPE.raw_path(f"{geometry}/canonical_face_model.obj"): files[
            ASSETS["mediapipe_canonical_face_468"].relpath],
        MEDIAPIPE.raw_path("LICENSE"): files[COMPANION_FILES["mediapipe_licence"].relpath],
        MAKEHUMAN_ASSETS.raw_path("base/hair/bob01/bob01.obj"): files[ASSETS["hair_mh_bob01"].relpath],
        TRESSFX_3_1_1.raw_path("media/a.tfx"): _tfx_v3(groom_parts[0]),
        TRESSFX_3_1_1.raw_path("media/b.tfx"): _tfx_v3(groom_parts[1]),
    })
    # the hair set cut down to one shell and one two-part groom
    monkeypatch.setattr(fetch, "HAIR_FILES", (fetch.RawFile("hair_mh_bob01", MAKEHUMAN_ASSETS,
                                                            "base/hair/bob01/bob01.obj"),))
    monkeypatch.setattr(fetch, "HAIR_GROOMS", (fetch.ConvertedGroom("hair_tressfx_ponytail", TRESSFX_3_1_1,
                                                                    ("media/a.tfx", "media/b.tfx")),))
    return Miniature(files, arrays, FACE_LANDMARKER_URL_PATH,
                     MEDIAPIPE.raw_path(f"{geometry}/canonical_face_model.obj"))
