"""Helpers of the export tests: a tiny synthetic avatar, the Khronos glTF validator, an accessor reader.

The tiny model is a 10 cm cube (8 vertices, every face with its own 4 UVs, so each corner splits into 3 glTF
vertices), plus one overlay triangle (``M_EyeOcclusion``, must be left out) and one lash triangle
(``M_EyeLashes``, double-sided primitive). Expressions: ``jawOpen`` lowers the bottom face, ``mouthSmile_L``
moves corner 1 by 5 mm and corner 0 by 0.1 µm (below the sparse cut-off), ``eyeBlink_R`` moves only the lash.

``tiny_skinned_model`` adds a made-up skeleton (FLAME's five joints by default) to it; ``tiny_eye_model`` gives its
triangles only the roles a FLAME head has (face, head, sclera, iris: no teeth, gums, lashes or overlay).
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
from headcast.headmodel.base import HeadParams, LinearHeadModel, Skeleton
from headcast.headmodel.flame import FLAME_JOINT_NAMES
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


FLAME_PARENTS = (-1, 0, 1, 1, 1)


def tiny_skinned_model(
    joint_names: tuple[str, ...] = FLAME_JOINT_NAMES,
    parents: tuple[int, ...] = FLAME_PARENTS,
    name: str = "tiny-skinned",
    seed: int = 3,
) -> LinearHeadModel:
    """The tiny model with a skeleton: joints regressed from a few vertices each (so identity and expression move
    them), random skinning weights with at most four joints per vertex (glTF's limit: the GLB skin is then
    exact), random pose correctives of ~1 mm per unit of the pose feature."""
    from dataclasses import replace

    base = tiny_model()
    rng = np.random.default_rng(seed)
    n, j = base.num_vertices, len(joint_names)
    regressor = np.zeros((j, n))
    for row in range(j):
        ids = rng.choice(8, size=3, replace=False)
        regressor[row, ids] = rng.dirichlet(np.ones(3))
    weights = rng.dirichlet(np.ones(j), size=n)
    if j > 4:
        weights[np.arange(n), rng.integers(0, j, size=n)] = 0.0
        weights /= weights.sum(axis=1, keepdims=True)
    posedirs = rng.normal(scale=1e-3, size=(n, 3, 9 * (j - 1))).astype(np.float32)
    skel = Skeleton(joint_names, np.array(parents, np.int64), regressor, weights, posedirs)
    return replace(base, name=name, skeleton=skel)


def tiny_eye_model() -> LinearHeadModel:
    """The tiny model with only a FLAME head's material roles: face, head, sclera and iris (no lashes, overlay,
    teeth or gums)."""
    from dataclasses import replace

    return replace(
        tiny_model(),
        triangle_material=np.array([0] * 6 + [1] * 4 + [2] * 2 + [3, 4], np.int16),
        material_names=("skin", "scalp", "sclera_l", "iris_l", "sclera_r"),
        material_roles={"face": ("skin",), "head": ("scalp",), "sclera_left": ("sclera_l",),
                        "iris_left": ("iris_l",), "sclera_right": ("sclera_r",)},
    )


def make_avatar(
    model: LinearHeadModel,
    identity: np.ndarray,
    expression: np.ndarray,
    texture: UVTexture,
    scale: float = 1.0,
    joint_rotations: np.ndarray | None = None,
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
        params=HeadParams(np.asarray(identity, float), np.asarray(expression, float), pose,
                          np.zeros((0, 3)) if joint_rotations is None else np.asarray(joint_rotations, float)),
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
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc.type]
    dtype = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}

    def view(view_index: int, offset: int, count: int, dt: type) -> np.ndarray:
        bv = gltf.bufferViews[view_index]
        start = (bv.byteOffset or 0) + (offset or 0)
        return np.frombuffer(blob, dtype=dt, count=count, offset=start)

    def strided(view_index: int, offset: int, dt: type) -> np.ndarray:
        """The accessor's elements where the buffer view interleaves or pads them (``byteStride``)."""
        bv = gltf.bufferViews[view_index]
        item = np.dtype(dt).itemsize
        stride = bv.byteStride or width * item
        start = (bv.byteOffset or 0) + (offset or 0)
        rows = np.frombuffer(blob, np.uint8, count=(acc.count - 1) * stride + width * item, offset=start)
        picked = np.lib.stride_tricks.as_strided(rows, (acc.count, width * item), (stride, 1))
        return np.ascontiguousarray(picked).view(dt).reshape(acc.count, width)

    if acc.bufferView is None:
        out = np.zeros((acc.count, width), dtype[acc.componentType])
    else:
        out = strided(acc.bufferView, acc.byteOffset, dtype[acc.componentType]).copy()
    if acc.sparse is not None:
        sp = acc.sparse
        idx = view(sp.indices.bufferView, sp.indices.byteOffset, sp.count, dtype[sp.indices.componentType])
        vals = view(sp.values.bufferView, sp.values.byteOffset, sp.count * width, dtype[acc.componentType])
        out[idx.astype(np.int64)] = vals.reshape(sp.count, width)
    return out


def node_world_matrices(gltf: pygltflib.GLTF2) -> dict[int, np.ndarray]:
    """``{node: (4, 4) world matrix}`` of every node in the scene, from its TRS (scipy's quaternion → matrix)."""
    from scipy.spatial.transform import Rotation

    out: dict[int, np.ndarray] = {}

    def visit(index: int, parent: np.ndarray) -> None:
        node = gltf.nodes[index]
        local = np.eye(4)
        if node.matrix is not None:
            local = np.array(node.matrix, float).reshape(4, 4).T
        else:
            if node.rotation is not None:
                local[:3, :3] = Rotation.from_quat(node.rotation).as_matrix()
            if node.scale is not None:
                local[:3, :3] = local[:3, :3] * np.array(node.scale)
            if node.translation is not None:
                local[:3, 3] = node.translation
        out[index] = parent @ local
        for child in node.children:
            visit(child, out[index])

    for root in gltf.scenes[gltf.scene].nodes:
        visit(root, np.eye(4))
    return out


def posed_primitive(gltf: pygltflib.GLTF2, primitive: pygltflib.Primitive, weights: list[float]) -> np.ndarray:
    """``(N, 3)`` positions a glTF viewer shows for a primitive of the skinned head: morph targets at ``weights``,
    then linear blend skinning with the joints' world matrices times the inverse bind matrices (glTF 2.0 §3.7.3)."""
    base = read_accessor(gltf, primitive.attributes.POSITION).astype(np.float64)
    for w, target in zip(weights, primitive.targets, strict=True):
        base = base + w * read_accessor(gltf, target["POSITION"])
    skin = gltf.skins[0]
    world = node_world_matrices(gltf)
    ibm = read_accessor(gltf, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1).astype(np.float64)
    joint_mats = np.stack([world[node] @ ibm[k] for k, node in enumerate(skin.joints)])
    joints = read_accessor(gltf, primitive.attributes.JOINTS_0).astype(np.int64)
    jw = read_accessor(gltf, primitive.attributes.WEIGHTS_0).astype(np.float64)
    blended = np.einsum("nk,nkrc->nrc", jw, joint_mats[joints])
    return np.einsum("nrc,nc->nr", blended[:, :3, :3], base) + blended[:, :3, 3]
