"""The output bundle: every file of one avatar in one folder, plus ``avatar.zip`` holding all of them.

Layout of ``out_dir``::

    avatar.glb     textured head, expression morph targets with the fitted weights; a skinned model's joints
                   as a glTF skin at the fitted pose (glb.py)
    head.obj       static mesh with the fitted expression and joint pose, model frame (obj.py)
    head.mtl       white diffuse + map_Kd texture.png
    texture.png    UV texture atlas (sRGB)
    params.json    identity, expression, pose, joint rotations, camera, landmarks, timings (params.py)
    *.png          caller's pictures, e.g. preview.png, turntable.png
    hair*          the caller's other files, e.g. the hair stage's (``headcast.hair.stage.hair_files``: hair.json,
                   hair.data, hair.hair, hair.usdc, hair_guides.obj; each representation once)
    avatar.zip     all of the above
"""

import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from headcast.avatar import Avatar
from headcast.export.glb import write_glb
from headcast.export.images import png_bytes
from headcast.export.obj import write_obj
from headcast.export.params import write_params
from headcast.export.settings import ExportSettings

GLB_NAME = "avatar.glb"
OBJ_NAME = "head.obj"
MTL_NAME = "head.mtl"
TEXTURE_NAME = "texture.png"
PARAMS_NAME = "params.json"
ZIP_NAME = "avatar.zip"
CORE_NAMES = (GLB_NAME, OBJ_NAME, MTL_NAME, TEXTURE_NAME, PARAMS_NAME)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

BundleImage = NDArray[np.uint8] | bytes
"""An extra picture: ``(H, W, 3|4)`` uint8 sRGB pixels (row 0 = top) or already-encoded PNG bytes."""


@dataclass(frozen=True)
class BundleFile:
    """One written file: its name in the folder and the zip, its path and size in bytes."""

    name: str
    path: Path
    size_bytes: int

    @classmethod
    def at(cls, path: Path) -> "BundleFile":
        """Describe an existing file."""
        return cls(path.name, path, path.stat().st_size)


@dataclass(frozen=True)
class BundleManifest:
    """What :func:`write_bundle` wrote.

    Attributes:
        directory: the output folder.
        files: every file of the bundle except the zip, in the zip's order.
        archive: ``avatar.zip``.
    """

    directory: Path
    files: tuple[BundleFile, ...]
    archive: BundleFile

    def path(self, name: str) -> Path:
        """Path of a bundle file by name (``"avatar.glb"``, ``"preview.png"``, ``"avatar.zip"``, ...)."""
        for f in (*self.files, self.archive):
            if f.name == name:
                return f.path
        raise KeyError(f"no '{name}' in the bundle; it has {', '.join(f.name for f in self.files)}")

    def to_json(self) -> dict[str, object]:
        """JSON-ready description (paths as strings) for machine-readable summaries."""
        return {
            "directory": str(self.directory),
            "files": [{"name": f.name, "path": str(f.path), "bytes": f.size_bytes} for f in self.files],
            "archive": str(self.archive.path),
            "archive_bytes": self.archive.size_bytes,
        }


def _check_image_names(images: Mapping[str, BundleImage]) -> None:
    for name in images:
        if Path(name).name != name or not name.lower().endswith(".png"):
            raise ValueError(f"extra image name '{name}' must be a plain file name ending in .png")
        if name in CORE_NAMES:
            raise ValueError(f"extra image name '{name}' clashes with a bundle file")


def _encode(image: BundleImage, compress_level: int) -> bytes:
    if isinstance(image, bytes):
        if not image.startswith(_PNG_SIGNATURE):
            raise ValueError("extra image bytes are not a PNG")
        return image
    return png_bytes(image, compress_level)


def write_zip(path: Path, files: tuple[BundleFile, ...]) -> BundleFile:
    """Write ``files`` flat into a zip at ``path`` (via a temporary file, then renamed).

    PNGs (already deflated) and the GLB (float arrays, ~10 % smaller deflated) are stored; text is deflated
    at level 1 (fast).
    """
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for f in files:
            stored = f.name.endswith((".png", ".glb"))
            archive.write(f.path, arcname=f.name, compress_type=zipfile.ZIP_STORED if stored else None)
    tmp.replace(path)
    return BundleFile.at(path)


def write_bundle(
    avatar: Avatar,
    out_dir: Path | str,
    settings: ExportSettings | None = None,
    images: Mapping[str, BundleImage] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
) -> BundleManifest:
    """Write the avatar's files and ``avatar.zip`` into ``out_dir`` (layout: the module docstring).

    ``params.json`` gets ``avatar.timings`` plus ``export``: seconds spent writing the GLB, OBJ and images.

    Args:
        avatar: the finished avatar.
        out_dir: output folder; existing bundle files in it are overwritten, other files are left alone.
        settings: export settings; defaults to ``ExportSettings()``.
        images: extra pictures by file name, e.g. ``{"preview.png": ..., "turntable.png": ...}``.
        extra_files: other files by plain file name and bytes (e.g. the hair files ``hair.data``, ``hair.json``),
            written and zipped like the rest.

    Returns:
        The manifest of the files written.

    Raises:
        ValueError: an extra image has a bad name or is neither uint8 pixels nor PNG bytes.
    """
    settings = ExportSettings() if settings is None else settings
    images = {} if images is None else images
    _check_image_names(images)
    encoded = {name: _encode(image, settings.png_compress_level) for name, image in images.items()}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    texture_png = png_bytes(avatar.texture.image, settings.png_compress_level)
    glb = write_glb(out / GLB_NAME, avatar, settings, texture_png)
    obj = write_obj(out / OBJ_NAME, avatar, settings, texture_name=TEXTURE_NAME, texture_png=texture_png)
    extra = [out / name for name in encoded]
    for path, data in zip(extra, encoded.values(), strict=True):
        path.write_bytes(data)
    for name, data in (extra_files or {}).items():
        if Path(name).name != name or name in CORE_NAMES or name in encoded:
            raise ValueError(f"extra file name '{name}' must be a plain file name that no other bundle file uses")
        (out / name).write_bytes(data)
        extra.append(out / name)
    timings = {**avatar.timings, "export": time.perf_counter() - start}
    params = write_params(out / PARAMS_NAME, avatar, timings)

    files = tuple(BundleFile.at(p) for p in (glb, obj.obj, obj.mtl, obj.texture, params, *extra))
    return BundleManifest(out, files, write_zip(out / ZIP_NAME, files))
