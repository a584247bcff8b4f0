"""Wavefront OBJ + MTL + PNG writer: the fitted head as a static textured mesh.

Convention:
    Vertices in metres in the **model frame** (+x the head's left, +y up, +z forward) with identity, the
    fitted expression and, for a skinned model, the fitted joint rotations applied
    (:func:`headcast.headmodel.base.head_vertices`; no head pose). Triangles of the excluded material roles are
    left out; a role the model has no material for is simply absent. UVs are texture atlas coordinates with OBJ's
    bottom-left origin, exactly as ``UVTexture.uv``; faces are counter-clockwise from outside, 1-based
    ``v/vt/vn``. The material is a white diffuse (``Kd 1 1 1``) modulated by ``map_Kd``, so the texture shows at
    its own brightness.
"""

from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import headcast
from headcast.avatar import Avatar
from headcast.export.images import png_bytes
from headcast.export.mesh import material_mask, safe_normals
from headcast.export.settings import ExportSettings
from headcast.geometry.mesh import vertex_normals
from headcast.headmodel.base import LinearHeadModel, MaterialRole, pose_head

MATERIAL_NAME = "head"


@dataclass(frozen=True)
class ObjFiles:
    """Paths written by :func:`write_obj`."""

    obj: Path
    mtl: Path
    texture: Path


def mtl_text(texture_name: str) -> str:
    """MTL source of the single white-diffuse material that maps ``texture_name``."""
    return (
        f"# headcast {headcast.__version__}\n"
        f"newmtl {MATERIAL_NAME}\n"
        "Ka 0.000000 0.000000 0.000000\n"
        "Kd 1.000000 1.000000 1.000000\n"
        "Ks 0.000000 0.000000 0.000000\n"
        "Ns 10.000000\n"
        "d 1.000000\n"
        "illum 1\n"
        f"map_Kd {texture_name}\n"
    )


def write_obj(
    obj_path: Path | str,
    avatar: Avatar,
    settings: ExportSettings | None = None,
    texture_name: str = "texture.png",
    texture_png: bytes | None = None,
) -> ObjFiles:
    """Write ``<stem>.obj``, ``<stem>.mtl`` and the texture PNG side by side.

    Args:
        obj_path: the OBJ file to write; the MTL gets the same stem, the PNG ``texture_name``, same folder.
        avatar: the avatar (model, fitted identity, expression and joint rotations, texture).
        settings: export settings (excluded material roles, PNG compression).
        texture_name: file name of the texture PNG, referenced by ``map_Kd``.
        texture_png: the texture already encoded as PNG (encoded here when None).

    Returns:
        The three paths written.
    """
    settings = ExportSettings() if settings is None else settings
    obj_path = Path(obj_path)
    folder = obj_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    mtl_path = obj_path.with_suffix(".mtl")
    texture_path = folder / texture_name

    model = avatar.model
    topo = _topology(model, settings.exclude_roles)
    tris, used_v, used_uv = topo.triangles, topo.used_vertices, topo.used_uvs

    vertices = pose_head(model, avatar.fit.params, frame="model").vertices.astype(np.float64)
    normals = safe_normals(vertex_normals(vertices, tris)[used_v])

    out = StringIO()
    out.write(
        f"# headcast {headcast.__version__}: {model.name} head, model frame, metres, +y up, +z forward\n"
        f"mtllib {mtl_path.name}\no head\n"
    )
    out.write(_rows("v %.6f %.6f %.6f\n", vertices[used_v]))
    out.write(_rows("vt %.6f %.6f\n", avatar.texture.uv[used_uv]))
    out.write(_rows("vn %.4f %.4f %.4f\n", normals))
    out.write(f"usemtl {MATERIAL_NAME}\ns 1\n")
    out.write(topo.face_lines)

    obj_path.write_text(out.getvalue(), encoding="utf-8")
    mtl_path.write_text(mtl_text(texture_name), encoding="utf-8")
    if texture_png is None:
        texture_png = png_bytes(avatar.texture.image, settings.png_compress_level)
    texture_path.write_bytes(texture_png)
    return ObjFiles(obj_path, mtl_path, texture_path)


def prepare_obj_export(model: LinearHeadModel, settings: ExportSettings) -> None:
    """Format the model's face block now (start-up) instead of in the first export."""
    _topology(model, settings.exclude_roles)


@dataclass(frozen=True, eq=False)
class _Topology:
    """What an OBJ of one model shares across avatars: kept triangles, used vertex/UV ids and the ``f`` lines."""

    triangles: NDArray[np.int32]
    used_vertices: NDArray[np.integer]
    used_uvs: NDArray[np.integer]
    face_lines: str


def _topology(model: LinearHeadModel, exclude_roles: tuple[MaterialRole, ...]) -> _Topology:
    """The OBJ topology without the excluded shells, kept in ``model.memo`` (the face block is formatted once)."""
    return model.memo.get(("export.obj", exclude_roles), lambda: _build_topology(model, exclude_roles))


def _build_topology(model: LinearHeadModel, exclude_roles: tuple[MaterialRole, ...]) -> _Topology:
    """Compact vertex and UV numbering without the excluded shells."""
    keep = ~material_mask(model, exclude_roles)
    tris, tri_uvs = model.triangles[keep], model.triangle_uvs[keep]
    used_v, v_index = np.unique(tris, return_inverse=True)
    used_uv, uv_index = np.unique(tri_uvs, return_inverse=True)
    v_index, uv_index = v_index.reshape(tris.shape) + 1, uv_index.reshape(tris.shape) + 1
    corners = np.stack([v_index, uv_index, v_index], axis=2).reshape(len(tris), 9)
    return _Topology(tris, used_v, used_uv, _rows("f %d/%d/%d %d/%d/%d %d/%d/%d\n", corners))


def _rows(line_format: str, values: NDArray[np.number]) -> str:
    """Format each row of ``values`` (N, C) with ``line_format`` (C conversions and a newline), in one C-level pass."""
    flat = values.tolist() if values.dtype.kind == "f" else values.astype(np.int64).tolist()
    return (line_format * len(flat)) % tuple(x for row in flat for x in row)
