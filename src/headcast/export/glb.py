"""Binary glTF 2.0 (GLB) writer: a textured head with ARKit-named morph targets, fitted expression baked in.

Convention:
    Positions in metres in the neutral **model frame** (+y up, +z forward — glTF's own frame), identity
    applied and expression zero; one morph target per expression shape (``model.expression_basis[j]``), named
    in ``mesh.extras.targetNames`` (read by three.js, Blender and Unity) and weighted by the fitted expression
    in ``mesh.weights``, so a viewer shows ``template + Σ α_i·identity_i + Σ w_j·expression_j``: the fitted
    head. UVs are the texture atlas coordinates flipped to glTF's top-left origin (``v' = 1 − v``); vertices
    are split at UV seams. Targets are sparse accessors holding only the vertices that move.

Layout: one node, one mesh, one primitive per material group (single-sided skin, eyes, teeth, mouth;
double-sided lashes), all sharing one embedded PNG texture.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygltflib as gl
from numpy.typing import NDArray

import headcast
from headcast.avatar import Avatar
from headcast.export.images import png_bytes
from headcast.export.mesh import SeamSplit, material_mask, safe_normals, split_uv_seams
from headcast.export.settings import ExportSettings
from headcast.geometry.mesh import morphed_normals, normal_sums, vertex_normals
from headcast.headmodel.base import LinearHeadModel, blend_vertices
from headcast.texture.types import UVTexture

_USHORT_LIMIT = 65535  # 65535 itself is the primitive-restart value: keep ushort indices below it


@dataclass(frozen=True, eq=False)
class _Group:
    """Triangles exported as one primitive."""

    material: str
    double_sided: bool
    split: SeamSplit


class _BinaryChunk:
    """Accumulates the GLB binary chunk; each buffer view starts on a 4-byte boundary."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.length = 0
        self.views: list[gl.BufferView] = []

    def add(self, data: bytes, target: int | None = None) -> int:
        pad = (-self.length) % 4
        if pad:
            self.parts.append(b"\0" * pad)
            self.length += pad
        self.views.append(
            gl.BufferView(buffer=0, byteOffset=self.length, byteLength=len(data), target=target)
        )
        self.parts.append(data)
        self.length += len(data)
        return len(self.views) - 1

    def blob(self) -> bytes:
        data = b"".join(self.parts)
        return data + b"\0" * ((-len(data)) % 4)


class _Builder:
    """Appends accessors to a glTF document whose binary data goes into one ``_BinaryChunk``."""

    def __init__(self) -> None:
        self.chunk = _BinaryChunk()
        self.accessors: list[gl.Accessor] = []

    def _push(self, accessor: gl.Accessor) -> int:
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def vec(self, values: NDArray[np.float32], with_bounds: bool) -> int:
        """Add a dense float VEC2/VEC3 vertex attribute ``(N, C)``."""
        v = np.ascontiguousarray(values, dtype=np.float32)
        view = self.chunk.add(v.tobytes(), gl.ARRAY_BUFFER)
        return self._push(
            gl.Accessor(
                bufferView=view,
                componentType=gl.FLOAT,
                count=len(v),
                type=gl.VEC3 if v.shape[1] == 3 else gl.VEC2,
                min=_bounds(v.min(axis=0)) if with_bounds else None,
                max=_bounds(v.max(axis=0)) if with_bounds else None,
            )
        )

    def indices(self, triangles: NDArray[np.integer], num_vertices: int) -> int:
        """Add triangle indices ``(T, 3)`` as UNSIGNED_SHORT when they fit, else UNSIGNED_INT."""
        small = num_vertices < _USHORT_LIMIT
        flat = np.ascontiguousarray(triangles, dtype=np.uint16 if small else np.uint32).ravel()
        view = self.chunk.add(flat.tobytes(), gl.ELEMENT_ARRAY_BUFFER)
        return self._push(
            gl.Accessor(
                bufferView=view,
                componentType=gl.UNSIGNED_SHORT if small else gl.UNSIGNED_INT,
                count=len(flat),
                type=gl.SCALAR,
            )
        )

    def delta(self, deltas: NDArray[np.float32], epsilon: float) -> int:
        """Add a morph-target VEC3 accessor for ``(N, 3)`` deltas; rows shorter than ``epsilon`` become zero.

        Stored sparse (no base buffer view: zeros plus the moving rows) unless dense is smaller.
        """
        d = np.ascontiguousarray(deltas, dtype=np.float32)
        n = len(d)
        keep = np.flatnonzero(np.linalg.norm(d, axis=1) >= epsilon)
        effective = np.zeros_like(d)
        effective[keep] = d[keep]
        bounds = {"min": _bounds(effective.min(axis=0)), "max": _bounds(effective.max(axis=0))}
        small = n < _USHORT_LIMIT
        if len(keep) == 0:
            return self._push(
                gl.Accessor(byteOffset=None, componentType=gl.FLOAT, count=n, type=gl.VEC3, **bounds)
            )
        if len(keep) * (12 + (2 if small else 4)) >= 12 * n:
            view = self.chunk.add(effective.tobytes(), gl.ARRAY_BUFFER)
            return self._push(
                gl.Accessor(bufferView=view, componentType=gl.FLOAT, count=n, type=gl.VEC3, **bounds)
            )
        index_view = self.chunk.add(keep.astype(np.uint16 if small else np.uint32).tobytes())
        value_view = self.chunk.add(d[keep].tobytes())
        sparse = gl.Sparse(
            count=len(keep),
            indices=gl.AccessorSparseIndices(
                bufferView=index_view, componentType=gl.UNSIGNED_SHORT if small else gl.UNSIGNED_INT
            ),
            values=gl.AccessorSparseValues(bufferView=value_view),
        )
        accessor = gl.Accessor(
            byteOffset=None, componentType=gl.FLOAT, count=n, type=gl.VEC3, sparse=sparse, **bounds
        )
        return self._push(accessor)


def _bounds(values: NDArray[np.float32]) -> list[float]:
    """Exact float32 bounds as JSON numbers (the validator compares them bit for bit)."""
    return [float(x) for x in np.asarray(values, dtype=np.float32)]


def _groups(model: LinearHeadModel, settings: ExportSettings) -> list[_Group]:
    keep = ~material_mask(model, settings.exclude_materials)
    double = keep & material_mask(model, settings.double_sided_materials)
    groups = []
    for name, mask, two_sided in (("head", keep & ~double, False), ("double_sided", double, True)):
        if mask.any():
            split = split_uv_seams(model.triangles[mask], model.triangle_uvs[mask])
            groups.append(_Group(name, two_sided, split))
    return groups


def build_gltf(
    model: LinearHeadModel,
    identity: NDArray[np.floating],
    expression: NDArray[np.floating],
    texture: UVTexture,
    settings: ExportSettings | None = None,
    texture_png: bytes | None = None,
) -> gl.GLTF2:
    """Build the glTF document (binary blob set) of one head; see the module docstring for the frame.

    Args:
        model: head model (topology, UVs, bases, materials).
        identity: ``(K',)`` identity coefficients (σ units), K' ≤ K.
        expression: ``(E,)`` fitted expression weights, written as ``mesh.weights``.
        texture: atlas image and per-model-UV atlas coordinates (bottom-left origin).
        settings: export settings; defaults to ``ExportSettings()``.
        texture_png: ``texture.image`` already encoded as PNG (saves encoding it twice in a bundle).

    Returns:
        A ``pygltflib.GLTF2`` ready for ``save_binary``.
    """
    settings = ExportSettings() if settings is None else settings
    weights = np.asarray(expression, dtype=np.float64)
    if weights.shape != (model.num_expressions,):
        raise ValueError(f"expression has shape {weights.shape}, expected ({model.num_expressions},)")
    if texture.uv.shape[0] != model.uv.shape[0]:
        raise ValueError(f"texture has {texture.uv.shape[0]} UVs, the model {model.uv.shape[0]}")

    base = blend_vertices(model, identity, np.zeros(model.num_expressions))  # (V, 3) float64, metres
    keep_tris = model.triangles[~material_mask(model, settings.exclude_materials)]
    sums = normal_sums(base, keep_tris)
    base_normals = vertex_normals(base, keep_tris)
    target_normals = (
        [morphed_normals(base, keep_tris, delta, sums) for delta in model.expression_basis]
        if settings.normal_targets
        else []
    )

    builder = _Builder()
    materials: list[gl.Material] = []
    primitives: list[gl.Primitive] = []
    for group in _groups(model, settings):
        vid, split = group.split.vertex_ids, group.split
        atlas_uv = texture.uv[split.uv_ids].astype(np.float32)
        gltf_uv = np.stack([atlas_uv[:, 0], 1.0 - atlas_uv[:, 1]], axis=1)
        attributes = gl.Attributes(
            POSITION=builder.vec(base[vid].astype(np.float32), with_bounds=True),
            NORMAL=builder.vec(safe_normals(base_normals[vid]), with_bounds=False),
            TEXCOORD_0=builder.vec(gltf_uv, with_bounds=False),
        )
        targets = []
        for j, delta in enumerate(model.expression_basis):
            target = gl.Attributes(POSITION=builder.delta(delta[vid], settings.morph_epsilon_m))
            if settings.normal_targets:
                normal_delta = target_normals[j][vid] - base_normals[vid]
                target.NORMAL = builder.delta(normal_delta, settings.normal_epsilon)
            targets.append(target)
        materials.append(
            gl.Material(
                name=group.material,
                pbrMetallicRoughness=gl.PbrMetallicRoughness(
                    baseColorTexture=gl.TextureInfo(index=0),
                    metallicFactor=0.0,
                    roughnessFactor=settings.roughness,
                ),
                doubleSided=group.double_sided,
            )
        )
        primitives.append(
            gl.Primitive(
                attributes=attributes,
                indices=builder.indices(split.triangles, len(vid)),
                material=len(materials) - 1,
                targets=targets,
                mode=gl.TRIANGLES,
            )
        )

    png = png_bytes(texture.image, settings.png_compress_level) if texture_png is None else texture_png
    image_view = builder.chunk.add(png)
    blob = builder.chunk.blob()
    gltf = gl.GLTF2(
        asset=gl.Asset(
            version="2.0", generator=f"headcast {headcast.__version__}", extras={"model": model.name}
        ),
        scene=0,
        scenes=[gl.Scene(nodes=[0])],
        nodes=[gl.Node(name="head", mesh=0)],
        meshes=[
            gl.Mesh(
                name="head",
                primitives=primitives,
                weights=[float(w) for w in weights],
                extras={"targetNames": list(model.expression_names)},
            )
        ],
        materials=materials,
        textures=[gl.Texture(source=0, sampler=0)],
        samplers=[
            gl.Sampler(
                magFilter=gl.LINEAR,
                minFilter=gl.LINEAR_MIPMAP_LINEAR,
                wrapS=gl.CLAMP_TO_EDGE,
                wrapT=gl.CLAMP_TO_EDGE,
            )
        ],
        images=[gl.Image(bufferView=image_view, mimeType="image/png", name="texture")],
        accessors=builder.accessors,
        bufferViews=builder.chunk.views,
        buffers=[gl.Buffer(byteLength=len(blob))],
    )
    gltf.set_binary_blob(blob)
    return gltf


def write_glb(
    path: Path | str, avatar: Avatar, settings: ExportSettings | None = None, texture_png: bytes | None = None
) -> Path:
    """Write the avatar's head as a GLB (see the module docstring); returns the path written."""
    path = Path(path)
    params = avatar.fit.params
    gltf = build_gltf(avatar.model, params.identity, params.expression, avatar.texture, settings, texture_png)
    path.parent.mkdir(parents=True, exist_ok=True)
    gltf.save_binary(str(path))
    return path
