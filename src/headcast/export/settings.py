"""Settings of the bundle writers (GLB, OBJ, params.json, zip)."""

from dataclasses import dataclass

from headcast.headmodel.base import MaterialRole


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
        png_compress_level: zlib level 0–9 for the written PNGs (1: a 2048² texture encodes ~4× faster than
            at 6 for a ~15 % larger file).
    """

    exclude_roles: tuple[MaterialRole, ...] = ("overlay",)
    double_sided_roles: tuple[MaterialRole, ...] = ("lashes",)
    morph_epsilon_m: float = 1e-5
    max_coefficient_targets: int = 50
    normal_targets: bool = True
    normal_epsilon: float = 1e-2
    roughness: float = 0.7
    png_compress_level: int = 1
