"""Settings of the bundle writers (GLB, OBJ, params.json, zip)."""

from dataclasses import dataclass
from typing import Literal

from headcast.headmodel.base import MaterialRole

GlbQuality = Literal["full", "web"]
"""How ``avatar.glb`` is written (:attr:`ExportSettings.quality`)."""
HairPrimitive = Literal["lines", "ribbons"]
"""The GLB's hair geometry (:attr:`ExportSettings.hair_primitive`; ``headcast.hair.gltf.StrandMode``)."""


@dataclass(frozen=True)
class ExportSettings:
    """How the avatar is written.

    Attributes:
        exclude_roles: material roles whose triangles are left out of every mesh export (the transparent
            ``overlay`` shells: exported opaque they would hide the eyes).
        double_sided_roles: material roles exported as a separate double-sided glTF primitive (thin shells).
        morph_epsilon_m: a morph-target position delta shorter than this (metres) is dropped from the sparse
            accessor; the error this adds to a posed vertex is at most ``morph_epsilon_m · Σ|w|``.
        max_coefficient_targets: for a model whose expression parameters are unbounded coefficients
            (``expression_kind="coefficients"``, FLAME's ψ): the GLB gets morph targets for at most this many of
            them, the first (largest-variance) components; the fitted values of the others are baked into the
            positions. Blend-shape weights (``"weights"``, ICT FaceKit) always get one target each.
        normal_targets: also write per-target normal deltas (right shading of expressions; ~35 % larger GLB).
        normal_epsilon: normal deltas shorter than this (unit-vector units; 0.01 ≈ 0.6°) are dropped.
        roughness: glTF PBR roughness factor of the skin material (metallic is 0).
        lash_texture_size: side in pixels of the lash cards' own RGBA texture (alpha-blended ``lashes``
            material; :mod:`headcast.texture.lashes`).
        web_lash_texture_size: the same for the ``web`` GLB (256²: ~34 KB at PNG level 9, against ~113 KB for 512²
            at level 1, which kept the head-only ``web`` GLB above 2.5 MB).
        hair_primitive: the GLB's hair as ``"ribbons"`` (flat tapering quad strips, :mod:`headcast.hair.gltf`:
            triangles every glTF viewer and Blender draw) or ``"lines"`` (a LINES primitive of up to
            ``GLB_LINE_STRANDS`` strands: 1 px wide in three.js, not rendered by Blender).
        hair_ribbon_strands: ribbons in the GLB (every k-th render strand; all of them are in ``hair.data``):
            5000 of 2.5 mm look as dense as 8000 lines did in the viewer (4000 of 2 mm showed gaps) and keep the
            ``web`` GLB with hair under 5 MB (~4.4 MB).
        hair_ribbon_width: ribbon width at the root in metres (tapering to 30 % at the tip).
        head_rig: give a model without a skeleton (ICT FaceKit) the Neck/Head/LeftEye/RightEye joints and skin of
            :mod:`headcast.export.rig` in the GLB (False: an unskinned head, as before).
        png_compress_level: zlib level 0–9 for the written PNGs (1: a 2048² texture encodes ~4× faster than
            at 6 for a ~15 % larger file).
        quality: ``avatar.glb`` as ``"full"`` (float attributes, PNG texture at the atlas' size: every glTF
            importer reads it, Blender's included) or ``"web"`` (for viewers and engines: the texture as a JPEG of
            ``web_texture_size``², attributes quantised (KHR_mesh_quantization) and buffers meshopt-compressed
            (EXT_meshopt_compression) by glTF-Transform under Node.js (:mod:`headcast.export.compress`); the hair's
            ``_STRAND_T`` attribute is left out). Other bundle files are the same either way.
        web_texture_size: side of the ``web`` GLB's texture in pixels.
        web_jpeg_quality: JPEG quality (1–95) of the ``web`` GLB's texture.
        web_position_bits: bits per quantised position (and morph-target position delta) component in the ``web``
            GLB: 11 bits over the head mesh's ~0.32 m extent is a ~0.16 mm step (12 bits: ~0.2 MB more).
        web_normal_bits: bits per quantised normal component in the ``web`` GLB.
        web_normal_epsilon: ``normal_epsilon`` of the ``web`` GLB: normal deltas under 0.02 (≈ 1.1°, about two steps
            of its 8-bit normals) are dropped, ~30 KB less.
    """

    exclude_roles: tuple[MaterialRole, ...] = ("overlay",)
    double_sided_roles: tuple[MaterialRole, ...] = ("lashes",)
    morph_epsilon_m: float = 1e-5
    max_coefficient_targets: int = 50
    normal_targets: bool = True
    normal_epsilon: float = 1e-2
    roughness: float = 0.7
    head_rig: bool = True
    hair_primitive: HairPrimitive = "ribbons"
    hair_ribbon_strands: int = 5000
    hair_ribbon_width: float = 0.0025
    lash_texture_size: int = 512
    web_lash_texture_size: int = 256
    png_compress_level: int = 1
    quality: GlbQuality = "full"
    web_texture_size: int = 1024
    web_jpeg_quality: int = 85
    web_position_bits: int = 11
    web_normal_bits: int = 8
    web_normal_epsilon: float = 0.02
