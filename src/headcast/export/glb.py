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
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from headcast.hair.gltf import StrandGeometry

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

    def scalar(self, values: NDArray[np.float32]) -> int:
        """Add a dense float SCALAR vertex attribute ``(N,)`` (custom ``_`` attributes)."""
        v = np.ascontiguousarray(values, dtype=np.float32)
        view = self.chunk.add(v.tobytes(), gl.ARRAY_BUFFER)
        return self._push(gl.Accessor(bufferView=view, componentType=gl.FLOAT, count=len(v), type=gl.SCALAR))

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

    def delta(self, target: "_SparseTarget") -> int:
        """Add a morph-target VEC3 accessor for a thresholded ``_SparseTarget``.

        Stored sparse (no base buffer view: zeros plus the moving rows) unless dense is smaller.
        """
        n, keep, values = target.count, target.rows, target.values
        bounds = {"min": target.low, "max": target.high}
        small = n < _USHORT_LIMIT
        if len(keep) == 0:
            return self._push(
                gl.Accessor(byteOffset=None, componentType=gl.FLOAT, count=n, type=gl.VEC3, **bounds)
            )
        if len(keep) * (12 + (2 if small else 4)) >= 12 * n:
            effective = np.zeros((n, 3), dtype=np.float32)
            effective[keep] = values
            view = self.chunk.add(effective.tobytes(), gl.ARRAY_BUFFER)
            return self._push(
                gl.Accessor(bufferView=view, componentType=gl.FLOAT, count=n, type=gl.VEC3, **bounds)
            )
        index_view = self.chunk.add(keep.astype(np.uint16 if small else np.uint32).tobytes())
        value_view = self.chunk.add(values.tobytes())
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


@dataclass(frozen=True, eq=False)
class _SparseTarget:
    """One morph-target attribute after thresholding: ``count`` rows, of which ``rows`` are non-zero."""

    count: int
    rows: NDArray[np.int64]
    values: NDArray[np.float32]
    low: list[float]
    high: list[float]

    @classmethod
    def from_deltas(cls, deltas: NDArray[np.floating], epsilon: float) -> "_SparseTarget":
        """Rows of ``(N, 3)`` deltas shorter than ``epsilon`` become zero."""
        d = np.ascontiguousarray(deltas, dtype=np.float32)
        keep = np.flatnonzero(np.linalg.norm(d, axis=1) >= epsilon)
        values = d[keep]
        zero = np.zeros((1, 3), dtype=np.float32)
        low = np.concatenate([values, zero]).min(axis=0) if len(keep) < len(d) else values.min(axis=0)
        high = np.concatenate([values, zero]).max(axis=0) if len(keep) < len(d) else values.max(axis=0)
        return cls(len(d), keep, values, _bounds(low), _bounds(high))


_GroupsAndTargets = tuple[list[_Group], list[list[tuple[_SparseTarget, _SparseTarget | None]]]]


def _groups_and_targets(model: LinearHeadModel, settings: ExportSettings) -> _GroupsAndTargets:
    """Primitives and their morph targets, kept in ``model.memo`` per settings (see :func:`_build_groups`)."""
    return model.memo.get(("export.glb", settings), lambda: _build_groups(model, settings))


def _build_groups(model: LinearHeadModel, settings: ExportSettings) -> _GroupsAndTargets:
    """Primitives and their morph targets; identity-independent, so computed once per model and settings.

    Position deltas are the model's expression basis (exact for every identity). Normal deltas are computed on the
    mean head: the change of a vertex normal under an expression barely depends on the identity, and computing
    it per avatar cost ~0.8 s.
    """
    groups = _groups(model, settings)
    keep_tris = model.triangles[~material_mask(model, settings.exclude_roles)]
    template = model.template.astype(np.float64)
    sums = normal_sums(template, keep_tris)
    base_normals = vertex_normals(template, keep_tris)
    per_group: list[list[tuple[_SparseTarget, _SparseTarget | None]]] = [[] for _ in groups]
    for delta in model.expression_basis:
        normals = morphed_normals(template, keep_tris, delta, sums) if settings.normal_targets else None
        for g, group in enumerate(groups):
            vid = group.split.vertex_ids
            pos = _SparseTarget.from_deltas(delta[vid], settings.morph_epsilon_m)
            nrm = (
                None
                if normals is None
                else _SparseTarget.from_deltas(normals[vid] - base_normals[vid], settings.normal_epsilon)
            )
            per_group[g].append((pos, nrm))
    return groups, per_group


def prepare_glb_export(model: LinearHeadModel, settings: ExportSettings) -> None:
    """Compute the identity-independent morph-target data now (start-up) instead of in the first export."""
    _groups_and_targets(model, settings)


def _bounds(values: NDArray[np.float32]) -> list[float]:
    """Exact float32 bounds as JSON numbers (the validator compares them bit for bit)."""
    return [float(x) for x in np.asarray(values, dtype=np.float32)]


def _groups(model: LinearHeadModel, settings: ExportSettings) -> list[_Group]:
    keep = ~material_mask(model, settings.exclude_roles)
    double = keep & material_mask(model, settings.double_sided_roles)
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
    strands: "StrandGeometry | None" = None,
) -> gl.GLTF2:
    """Build the glTF document (binary blob set) of one head; see the module docstring for the frame.

    Args:
        model: head model (topology, UVs, bases, materials).
        identity: ``(K',)`` identity coefficients (σ units), K' ≤ K.
        expression: ``(E,)`` fitted expression weights, written as ``mesh.weights``.
        texture: atlas image and per-model-UV atlas coordinates (bottom-left origin).
        settings: export settings; defaults to ``ExportSettings()``.
        texture_png: ``texture.image`` already encoded as PNG (saves encoding it twice in a bundle).
        strands: hair geometry (``headcast.hair.gltf.strand_geometry``), added as a second node and mesh ``hair``
            with its own material (base colour from ``COLOR_0``); None writes the head alone.

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
    keep_tris = model.triangles[~material_mask(model, settings.exclude_roles)]
    base_normals = vertex_normals(base, keep_tris)
    groups, targets_per_group = _groups_and_targets(model, settings)

    builder = _Builder()
    materials: list[gl.Material] = []
    primitives: list[gl.Primitive] = []
    for group, group_targets in zip(groups, targets_per_group, strict=True):
        vid, split = group.split.vertex_ids, group.split
        atlas_uv = texture.uv[split.uv_ids].astype(np.float32)
        gltf_uv = np.stack([atlas_uv[:, 0], 1.0 - atlas_uv[:, 1]], axis=1)
        attributes = gl.Attributes(
            POSITION=builder.vec(base[vid].astype(np.float32), with_bounds=True),
            NORMAL=builder.vec(safe_normals(base_normals[vid]), with_bounds=False),
            TEXCOORD_0=builder.vec(gltf_uv, with_bounds=False),
        )
        targets = []
        for pos, nrm in group_targets:
            target = gl.Attributes(POSITION=builder.delta(pos))
            if nrm is not None:
                target.NORMAL = builder.delta(nrm)
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

    extra_meshes, extra_nodes = [], []
    if strands is not None:
        materials.append(
            gl.Material(
                name="hair",
                pbrMetallicRoughness=gl.PbrMetallicRoughness(metallicFactor=0.0, roughnessFactor=0.6),
                doubleSided=True,
            )
        )
        hair_attrs = gl.Attributes(
            POSITION=builder.vec(strands.positions, with_bounds=True),
            COLOR_0=builder.vec(strands.colors, with_bounds=False),
            NORMAL=None if strands.normals is None else builder.vec(strands.normals, with_bounds=False),
            **{name: builder.scalar(values) for name, values in strands.custom.items()},
        )
        hair_indices = builder.indices(strands.indices.reshape(-1, 1), len(strands.positions))
        extra_meshes.append(
            gl.Mesh(name="hair", primitives=[
                gl.Primitive(attributes=hair_attrs, indices=hair_indices, material=len(materials) - 1,
                             mode=strands.mode)
            ])
        )
        extra_nodes.append(gl.Node(name="hair", mesh=1))

    png = png_bytes(texture.image, settings.png_compress_level) if texture_png is None else texture_png
    image_view = builder.chunk.add(png)
    blob = builder.chunk.blob()
    gltf = gl.GLTF2(
        asset=gl.Asset(
            version="2.0", generator=f"headcast {headcast.__version__}", extras={"model": model.name}
        ),
        scene=0,
        scenes=[gl.Scene(nodes=list(range(1 + len(extra_nodes))))],
        nodes=[gl.Node(name="head", mesh=0), *extra_nodes],
        meshes=[
            gl.Mesh(
                name="head",
                primitives=primitives,
                weights=[float(w) for w in weights],
                extras={"targetNames": list(model.expression_names)},
            ),
            *extra_meshes,
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
    hair = None
    if avatar.hair is not None and avatar.hair.num_strands:
        from headcast.hair.gltf import GLB_LINE_STRANDS, strand_geometry

        hair = strand_geometry(avatar.hair, "lines", max_strands=GLB_LINE_STRANDS)
    gltf = build_gltf(
        avatar.model, params.identity, params.expression, avatar.texture, settings, texture_png, strands=hair
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    gltf.save_binary(str(path))
    return path
