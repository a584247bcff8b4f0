"""ICT FaceKit adapter: reads ``ict_facekit_model.npz`` (centimetres) into a metre-unit ``LinearHeadModel``.

Source: USC ICT FaceKit (MIT). 26,719 vertices, 100 identity modes, 55 ARKit-named expression shapes plus two
pupil-dilation shapes. Sub-mesh ranges and the Multi-PIE 68 vertex ids are from the ICT FaceKit README.

This module is the one place (with the data files) that spells ICT FaceKit's material names, sub-mesh vertex ranges,
atlas and expression names: the stages ask the model for parts and material roles (``model.part_mask("face")``,
``model.material_mask("overlay")``, ``model.atlas_cell("teeth")``) and for expression shapes by canonical ARKit
name (``model.expression_index("eyeBlinkLeft")``, :func:`ict_expression_arkit`); ``tests/headmodel/test_seam.py``
checks it.

ICT's UVs are multi-tile (UDIM-like): each material owns a unit tile ``u ∈ [k, k + w]`` (the eyes' materials all
overlap in ``[0, 1]``). The atlas packs the tiles into one square image (``texture/DESIGN.md``):

==================  ===============  ==============  =====================================  =====================
material            role             model tile u     atlas cell (u0, v0, u1, v1)            texels at 2048²
==================  ===============  ==============  =====================================  =====================
M_Face              face             [0, 1]           (0,     0.5,   0.5,   1)               1024²
M_BackHead          head             [1, 2]           (0.5,   0.5,   1,     1)               1024²
M_GumsTongue        gums_tongue      [2, 3]           (0,     0.25,  0.25,  0.5)             512²
M_Teeth             teeth            [3, 4]           (0.25,  0.25,  0.5,   0.5)             512²
M_ScleraLeft/Right  sclera_l/r       [0, 1]           (0.5 | 0.75, 0.25, +0.25, 0.5)         512² each
M_IrisLeft/Right    iris_l/r         [0, 1]           (0 | 0.25, 0, +0.25, 0.25)             512² each
M_EyeLashes         lashes           [6, 7]           (0.5,   0,     0.75,  0.25)            512²
M_LacrimalFluid     overlay          [4, 6]           (0.75,  0,     1,     0.125)           512 × 256
M_EyeBlend          overlay          [0, 1]           (0.75,  0.125, 0.875, 0.25)            256²
M_EyeOcclusion      overlay          [0, 1]           (0.875, 0.125, 1,     0.25)            256²
==================  ===============  ==============  =====================================  =====================
"""

from functools import lru_cache
from pathlib import Path

import numpy as np

from headcast.assets import AssetSettings, resolve_asset
from headcast.geometry.mesh import split_quads
from headcast.headmodel.base import AtlasCell, LinearHeadModel, MaterialRole

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

# What each ICT material is for. Left/right are the head's (+x = left): M_IrisLeft is the +x eye.
ICT_MATERIAL_ROLES: dict[MaterialRole, tuple[str, ...]] = {
    "face": ("M_Face",),
    "head": ("M_BackHead",),
    "gums_tongue": ("M_GumsTongue",),
    "teeth": ("M_Teeth",),
    "sclera_left": ("M_ScleraLeft",),
    "sclera_right": ("M_ScleraRight",),
    "iris_left": ("M_IrisLeft",),
    "iris_right": ("M_IrisRight",),
    "lashes": ("M_EyeLashes",),
    # shells ICT renders with transparency (eye occlusion, eye-corner blend, tear film): opaque, they hide the eyes
    "overlay": ("M_EyeOcclusion", "M_EyeBlend", "M_LacrimalFluid"),
}

# The atlas (table in the module docstring); the order is the order cells are visited (gutters).
ICT_ATLAS: dict[str, AtlasCell] = {
    "M_Face": AtlasCell(0.0, 1.0, (0.0, 0.5, 0.5, 1.0)),
    "M_BackHead": AtlasCell(1.0, 1.0, (0.5, 0.5, 1.0, 1.0)),
    "M_GumsTongue": AtlasCell(2.0, 1.0, (0.0, 0.25, 0.25, 0.5)),
    "M_Teeth": AtlasCell(3.0, 1.0, (0.25, 0.25, 0.5, 0.5)),
    "M_ScleraLeft": AtlasCell(0.0, 1.0, (0.5, 0.25, 0.75, 0.5)),
    "M_ScleraRight": AtlasCell(0.0, 1.0, (0.75, 0.25, 1.0, 0.5)),
    "M_IrisLeft": AtlasCell(0.0, 1.0, (0.0, 0.0, 0.25, 0.25)),
    "M_IrisRight": AtlasCell(0.0, 1.0, (0.25, 0.0, 0.5, 0.25)),
    "M_EyeLashes": AtlasCell(6.0, 1.0, (0.5, 0.0, 0.75, 0.25)),
    "M_LacrimalFluid": AtlasCell(4.0, 2.0, (0.75, 0.0, 1.0, 0.125)),
    "M_EyeBlend": AtlasCell(0.0, 1.0, (0.75, 0.125, 0.875, 0.25)),
    "M_EyeOcclusion": AtlasCell(0.0, 1.0, (0.875, 0.125, 1.0, 0.25)),
}

ICT_SIDES = {"_L": "Left", "_R": "Right"}
"""ICT's side suffixes → ARKit's. ICT's ``_L`` is the subject's left (+x, the head's left: ``eyeBlink_L`` moves the
+x eyelid), which is what ARKit/MediaPipe call ``Left`` (MediaPipe's ``eyeBlinkLeft`` rises when the subject's left
eye closes); ``fitting/blendshapes.py`` has always paired them so."""


def ict_expression_arkit(names: tuple[str, ...]) -> dict[str, str]:
    """``{ICT shape name: canonical name}`` (checked against ``CANONICAL_EXPRESSIONS`` when the model is built).

    ``eyeBlink_L`` → ``eyeBlinkLeft``, ``PupilDilate_R`` → ``pupilDilateRight``, ``browInnerUp_L`` →
    ``browInnerUpLeft``, ``jawOpen`` → ``jawOpen``.
    """
    out = {}
    for n in names:
        base, side = (n[:-2], ICT_SIDES[n[-2:]]) if n[-2:] in ICT_SIDES else (n, "")
        out[n] = base[:1].lower() + base[1:] + side
    return out


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
        expression_names = tuple(str(n) for n in data["expression_names"])
        tri_uv, _ = split_quads(data["faces_vt"])
        return LinearHeadModel(
            name="ict-facekit",
            template=(data["v_template"] * CM_TO_M).astype(np.float32),
            identity_basis=(data["identity_deltas"][:num_identity] * CM_TO_M).astype(np.float32),
            expression_basis=(data["expression_deltas"] * CM_TO_M).astype(np.float32),
            expression_names=expression_names,
            triangles=tris,
            triangle_uvs=tri_uv,
            uv=data["uv"].astype(np.float32),
            triangle_material=data["face_material"][source].astype(np.int16),
            material_names=tuple(str(n) for n in data["material_names"]),
            parts={name: np.arange(a, b, dtype=np.int64) for name, (a, b) in ICT_PARTS.items()},
            landmarks68=ICT_LANDMARKS68.copy(),
            face_vertices=np.arange(ICT_NARROW_FACE_STOP, dtype=np.int64),
            material_roles=dict(ICT_MATERIAL_ROLES),
            uv_atlas=dict(ICT_ATLAS),
            expression_arkit=ict_expression_arkit(expression_names),
        )
