"""The bundle written in two stages: the viewer's files first, the rest when someone asks for them.

:func:`headcast.export.bundle.write_bundle` writes every file of an avatar at once. The web service's hairstyle and
colour variants are looked at in the page's 3D viewer far more often than they are downloaded, so a variant writes
only what the viewer loads (:func:`write_viewer_files`: ``avatar.glb`` and ``params.json``) and the rest — the OBJ,
texture, pictures, hair files and ``avatar.zip`` — is added by :func:`complete_bundle` when the zip or a picture is
first asked for. The two stages together write the same files as ``write_bundle`` (same names, same zip order,
byte-identical files except the wall-clock ``timings`` of ``params.json``; tests/export/test_staged.py checks it).

Layout of ``out_dir`` after both stages: as :mod:`headcast.export.bundle`.
"""

import time
from collections.abc import Mapping
from pathlib import Path

from headcast.avatar import Avatar
from headcast.export.bundle import (
    CORE_NAMES,
    GLB_NAME,
    OBJ_NAME,
    PARAMS_NAME,
    TEXTURE_NAME,
    ZIP_NAME,
    BundleFile,
    BundleImage,
    BundleManifest,
    write_zip,
)
from headcast.export.glb import write_glb
from headcast.export.images import png_bytes
from headcast.export.obj import write_obj
from headcast.export.params import write_params
from headcast.export.settings import ExportSettings

VIEWER_NAMES = (GLB_NAME, PARAMS_NAME)
"""What :func:`write_viewer_files` writes: the files the web page's viewer reads."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_viewer_files(
    avatar: Avatar, out_dir: Path | str, settings: ExportSettings | None = None
) -> tuple[BundleFile, BundleFile]:
    """Write ``avatar.glb`` and ``params.json`` into ``out_dir`` (first stage).

    ``params.json`` gets ``avatar.timings`` plus ``export``: the seconds spent writing the GLB.

    Args:
        avatar: the finished avatar (hair and emotion applied; for the page's sliders, its emotion state set).
        out_dir: output folder (created; existing files of these names are overwritten).
        settings: export settings; defaults to ``ExportSettings()``.

    Returns:
        The GLB and ``params.json``.

    Raises:
        OptionalComponentError: ``web`` GLB quality without Node.js or the built compressor.
    """
    settings = ExportSettings() if settings is None else settings
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    glb = write_glb(out / GLB_NAME, avatar, settings)
    params = write_params(out / PARAMS_NAME, avatar, {**avatar.timings, "export": time.perf_counter() - start})
    return BundleFile.at(glb), BundleFile.at(params)


def complete_bundle(
    avatar: Avatar,
    out_dir: Path | str,
    settings: ExportSettings | None = None,
    images: Mapping[str, BundleImage] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
) -> BundleManifest:
    """Write the rest of the bundle beside the viewer's files in ``out_dir``, and ``avatar.zip`` (second stage).

    ``out_dir`` must hold the ``avatar.glb`` and ``params.json`` that :func:`write_viewer_files` wrote for the same
    avatar (or copies of them); they go into the zip unchanged.

    Args:
        avatar: the same avatar as in the first stage.
        out_dir: the folder of the first stage.
        settings: export settings; defaults to ``ExportSettings()``.
        images: extra pictures by file name, e.g. ``{"preview.png": ..., "turntable.png": ...}``: ``(H, W, 3|4)``
            uint8 sRGB pixels or PNG bytes.
        extra_files: other files by plain file name and bytes (the hair files), written and zipped like the rest.

    Returns:
        The manifest of the whole bundle, in ``write_bundle``'s order (GLB, OBJ, MTL, texture, params, pictures,
        extra files).

    Raises:
        FileNotFoundError: the first stage's files are not in ``out_dir``.
        ValueError: a picture or extra file has a bad or clashing name, or a picture is neither pixels nor PNG.
    """
    settings = ExportSettings() if settings is None else settings
    out = Path(out_dir)
    glb, params = (BundleFile.at(out / name) for name in VIEWER_NAMES)  # FileNotFoundError without them
    encoded = {name: _png(name, image, settings.png_compress_level) for name, image in (images or {}).items()}
    texture_png = png_bytes(avatar.texture.image, settings.png_compress_level)
    obj = write_obj(out / OBJ_NAME, avatar, settings, texture_name=TEXTURE_NAME, texture_png=texture_png)
    extra = []
    for name, data in (*encoded.items(), *(extra_files or {}).items()):
        if Path(name).name != name or name in CORE_NAMES or name == ZIP_NAME or out / name in extra:
            raise ValueError(f"extra file name '{name}' must be a plain file name that no other bundle file uses")
        (out / name).write_bytes(data)
        extra.append(out / name)
    files = (glb, *(BundleFile.at(p) for p in (obj.obj, obj.mtl, obj.texture)), params,
             *(BundleFile.at(p) for p in extra))
    return BundleManifest(out, files, write_zip(out / ZIP_NAME, files))


def _png(name: str, image: BundleImage, compress_level: int) -> bytes:
    """A picture's PNG bytes (pixels encoded, PNG bytes checked); its name must be a plain ``*.png``."""
    if Path(name).name != name or not name.lower().endswith(".png"):
        raise ValueError(f"extra image name '{name}' must be a plain file name ending in .png")
    if isinstance(image, bytes):
        if not image.startswith(_PNG_SIGNATURE):
            raise ValueError(f"extra image '{name}' is not a PNG")
        return image
    return png_bytes(image, compress_level)
