"""Writers (and the params.json reader) of the avatar bundle: GLB, OBJ/MTL/PNG, params.json, zip.

Design: each format has one module with a pure builder and a thin ``write_*`` over it; ``mesh.py`` holds the
topology helpers they share (overlay-material filter, UV-seam split); ``bundle.py`` composes them into the
output folder and zip. This package is the only place that converts to a file format's conventions
(glTF's top-left UV origin, OBJ's 1-based indices, pixels of the input photo in params.json).
"""

from headcast.export.bundle import BundleFile, BundleManifest, write_bundle
from headcast.export.glb import build_gltf, write_glb
from headcast.export.obj import ObjFiles, write_obj
from headcast.export.params import (
    AvatarParams,
    ParamsFileError,
    load_params_document,
    read_params,
    write_params,
)
from headcast.export.settings import ExportSettings

__all__ = [
    "AvatarParams",
    "BundleFile",
    "BundleManifest",
    "ExportSettings",
    "ObjFiles",
    "ParamsFileError",
    "build_gltf",
    "load_params_document",
    "read_params",
    "write_bundle",
    "write_glb",
    "write_obj",
    "write_params",
]
