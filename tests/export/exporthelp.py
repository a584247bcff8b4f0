"""Helpers of the export tests: a tiny synthetic avatar, the Khronos glTF validator, an accessor reader.

The tiny model is a 10 cm cube (8 vertices, every face with its own 4 UVs, so each corner splits into 3 glTF
vertices), plus one overlay triangle (``M_EyeOcclusion``, must be left out) and one lash triangle
(``M_EyeLashes``, double-sided primitive). Expressions: ``jawOpen`` lowers the bottom face, ``mouthSmile_L``
moves corner 1 by 5 mm and corner 0 by 0.1 µm (below the sparse cut-off), ``eyeBlink_R`` moves only the lash.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pygltflib

from headcast.avatar import Avatar
from headcast.fitting.types import FitResult
from headcast.geometry.camera import HeadPose, camera_from_fov
from headcast.headmodel.base import HeadParams, LinearHeadModel
from headcast.landmarks.types import Landmarks, Photo
from headcast.texture.types import UVTexture

REPO = Path(__file__).resolve().parents[2]
VALIDATOR_DIR = REPO / "tools" / "node"
REQUIRE_VALIDATOR = os.environ.get("HEADCAST_REQUIRE_GLTF_VALIDATOR") == "1"

CUBE_QUADS = [  # counter-clockwise seen from outside
    (0, 3, 2, 1),  # bottom (y = -)
    (4, 5, 6, 7),  # top
    (0, 1, 5, 4),  # front (z = +)
    (2, 3, 7, 6),  # back
    (1, 2, 6, 5),  # right (x = +)
    (3, 0, 4, 7),  # left
]


def tiny_model() -> LinearHeadModel:
    s = 0.05
    cube = np.array(
        [[-s, -s, s], [s, -s, s], [s, -s, -s], [-s, -s, -s], [-s, s, s], [s, s, s], [s, s, -s], [-s, s, -s]]
    )
    overlay = np.array([[0.0, 0.0, 0.06], [0.01, 0.0, 0.06], [0.0, 0.01, 0.06]])
    lash = np.array([[0.0, 0.02, 0.07], [0.02, 0.02, 0.07], [0.0, 0.03, 0.07]])
    template = np.concatenate([cube, overlay, lash]).astype(np.float32)
    tris, tri_uvs = [], []
    for f, (a, b, c, d) in enumerate(CUBE_QUADS):
        u = 4 * f
        tris += [(a, b, c), (a, c, d)]
        tri_uvs += [(u, u + 1, u + 2), (u, u + 2, u + 3)]
    tris += [(8, 9, 10), (11, 12, 13)]
    tri_uvs += [(24, 25, 26), (27, 28, 29)]
    rng = np.random.default_rng(0)
    uv = rng.uniform(0.0, 6.0, size=(30, 2)).astype(np.float32)  # multi-tile like ICT; the atlas replaces it

    expr = np.zeros((3, 14, 3), np.float32)
    expr[0, [0, 1, 2, 3], 1] = -0.01  # jawOpen
    expr[1, 1] = (0.005, 0.0, 0.0)  # mouthSmile_L
    expr[1, 0] = (1e-7, 0.0, 0.0)  # below ExportSettings.morph_epsilon_m: dropped
    expr[2, 11:14, 2] = 0.004  # eyeBlink_R: the lash only
    ident = (rng.normal(size=(2, 14, 3)) * 0.003).astype(np.float32)
    return LinearHeadModel(
        name="tiny-test",
        template=template,
        identity_basis=ident,
        expression_basis=expr,
        expression_names=("jawOpen", "mouthSmile_L", "eyeBlink_R"),
        triangles=np.array(tris, np.int32),
        triangle_uvs=np.array(tri_uvs, np.int32),
        uv=uv,
        triangle_material=np.array([0] * 12 + [1, 2], np.int16),
        material_names=("M_Face", "M_EyeOcclusion", "M_EyeLashes"),
        parts={"face": np.arange(0, 8), "eye_blend": np.arange(8, 11), "eyelashes": np.arange(11, 14)},
        landmarks68=np.zeros(68, np.int64),
        face_vertices=np.arange(8, dtype=np.int64),
        material_roles={"face": ("M_Face",), "overlay": ("M_EyeOcclusion",), "lashes": ("M_EyeLashes",)},
    )


def make_avatar(
    model: LinearHeadModel,
    identity: np.ndarray,
    expression: np.ndarray,
    texture: UVTexture,
    scale: float = 1.0,
) -> Avatar:
    rng = np.random.default_rng(1)
    w, h = 64, 48
    photo = Photo(
        pixels=np.zeros((h, w, 3), np.uint8),
        source=Path("/photos/someone.jpg"),
        original_size=(round(w / scale), round(h / scale)),
        scale=scale,
    )
    landmarks = Landmarks(
        points=np.zeros((478, 3)),
        blendshapes=np.zeros(52),
        blendshape_names=tuple(f"b{i}" for i in range(52)),
        transform=np.eye(4),
        image_size=(w, h),
        num_faces=1,
        box=np.array([0.0, 0.0, w, h]),
    )
    pose = HeadPose(np.array([0.1, -0.2, 0.05]), np.array([0.01, -0.02, -0.6]))
    fit = FitResult(
        params=HeadParams(np.asarray(identity, float), np.asarray(expression, float), pose),
        camera=camera_from_fov(w, h, 40.0),
        landmarks_2d=rng.uniform(0, w, size=(478, 2)),
        landmarks68_2d=rng.uniform(0, h, size=(68, 2)),
        nme=0.031,
        iterations={"rigid": 5, "full": 12},
    )
    return Avatar(
        photo=photo,
        landmarks=landmarks,
        fit=fit,
        texture=texture,
        model=model,
        timings={"detect": 0.01, "fit": 0.2},
        warnings=("image downscaled",) if scale != 1.0 else (),
    )


def random_texture(num_uv: int, size: int = 16, seed: int = 2) -> UVTexture:
    rng = np.random.default_rng(seed)
    return UVTexture(
        image=rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8),
        uv=rng.uniform(0.0, 1.0, size=(num_uv, 2)).astype(np.float32),
        coverage=np.ones((size, size), np.float32),
    )


def validate(script: Path, path: Path) -> dict:
    """Run the Khronos validator on ``path``; returns its report (dict)."""
    proc = subprocess.run(
        ["node", str(script), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode in (0, 1), f"validator could not run: {proc.stderr}"
    return json.loads(proc.stdout)


def read_accessor(gltf: pygltflib.GLTF2, index: int) -> np.ndarray:
    """Decode accessor ``index`` of a loaded GLB (dense or sparse) into an ``(count, components)`` array."""
    blob = gltf.binary_blob()
    acc = gltf.accessors[index]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc.type]
    dtype = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}

    def view(view_index: int, offset: int, count: int, dt: type) -> np.ndarray:
        bv = gltf.bufferViews[view_index]
        start = (bv.byteOffset or 0) + (offset or 0)
        return np.frombuffer(blob, dtype=dt, count=count, offset=start)

    if acc.bufferView is None:
        out = np.zeros((acc.count, width), dtype[acc.componentType])
    else:
        out = view(acc.bufferView, acc.byteOffset, acc.count * width, dtype[acc.componentType])
        out = out.reshape(acc.count, width).copy()
    if acc.sparse is not None:
        sp = acc.sparse
        idx = view(sp.indices.bufferView, sp.indices.byteOffset, sp.count, dtype[sp.indices.componentType])
        vals = view(sp.values.bufferView, sp.values.byteOffset, sp.count * width, dtype[acc.componentType])
        out[idx.astype(np.int64)] = vals.reshape(sp.count, width)
    return out
