"""ICT FaceKit adapter: reads ``ict_facekit_model.npz`` (centimetres) into a metre-unit ``LinearHeadModel``.

Source: USC ICT FaceKit (MIT). 26,719 vertices, 100 identity modes, 55 ARKit-named expression shapes plus two
pupil-dilation shapes. Sub-mesh ranges and the Multi-PIE 68 vertex ids are from the ICT FaceKit README.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np

from headcast.assets import AssetSettings, resolve_asset
from headcast.geometry.mesh import split_quads
from headcast.headmodel.base import LinearHeadModel

CM_TO_M = 0.01

# Inclusive ranges in the README, stored here as [start, stop).
ICT_PARTS: dict[str, tuple[int, int]] = {
    "face": (0, 9409),
    "head_neck": (9409, 11248),
    "mouth_socket": (11248, 13294),
    "eye_sockets": (13294, 14062),
    "gums_tongue": (14062, 17039),
    "teeth": (17039, 21451),
    "eyeballs": (21451, 24591),
    "eye_blend": (24591, 25351),
    "eyelashes": (25351, 26719),
}

# Multi-PIE / iBUG 68 landmark vertex ids (0-based), in iBUG order, from the ICT FaceKit README.
ICT_LANDMARKS68 = np.array(
    [1225, 1888, 1052, 367, 1719, 1722, 2199, 1447, 966, 3661, 4390, 3927, 3924, 2608, 3272, 4088, 3443, 268, 493,
     1914, 2044, 1401, 3615, 4240, 4114, 2734, 2509, 978, 4527, 4942, 4857, 1140, 2075, 1147, 4269, 3360, 1507, 1542,
     1537, 1528, 1518, 1511, 3742, 3751, 3756, 3721, 3725, 3732, 5708, 5695, 2081, 0, 4275, 6200, 6213, 6346, 6461,
     5518, 5957, 5841, 5702, 5711, 5533, 6216, 6207, 6470, 5517, 5966],
    dtype=np.int64,
)  # fmt: skip

# "Narrow face area" of the ICT README: the front of the face, used for geometry evaluation.
ICT_NARROW_FACE_STOP = 6706


def load_ict_facekit(settings: AssetSettings | None = None, num_identity: int = 100) -> LinearHeadModel:
    """Load ICT FaceKit from the asset folder (verified), in metres.

    Args:
        settings: where to find the asset.
        num_identity: keep the first ``num_identity`` identity modes (≤ 100).
    """
    return _load(resolve_asset("ict_model", settings), int(num_identity))


@lru_cache(maxsize=2)
def _load(path: Path, num_identity: int) -> LinearHeadModel:
    with np.load(path) as data:
        tris, source = split_quads(data["faces_v"])
        tri_uv, _ = split_quads(data["faces_vt"])
        return LinearHeadModel(
            name="ict-facekit",
            template=(data["v_template"] * CM_TO_M).astype(np.float32),
            identity_basis=(data["identity_deltas"][:num_identity] * CM_TO_M).astype(np.float32),
            expression_basis=(data["expression_deltas"] * CM_TO_M).astype(np.float32),
            expression_names=tuple(str(n) for n in data["expression_names"]),
            triangles=tris,
            triangle_uvs=tri_uv,
            uv=data["uv"].astype(np.float32),
            triangle_material=data["face_material"][source].astype(np.int16),
            material_names=tuple(str(n) for n in data["material_names"]),
            parts=dict(ICT_PARTS),
            landmarks68=ICT_LANDMARKS68.copy(),
            face_vertices=np.arange(ICT_NARROW_FACE_STOP, dtype=np.int64),
        )
