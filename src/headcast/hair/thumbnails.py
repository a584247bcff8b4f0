"""Thumbnail renders of library styles on the mean ICT head (plain skin, Kajiya-Kay strands, 3/4 view)."""

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from headcast.assets import AssetSettings
from headcast.geometry.camera import HeadPose
from headcast.hair.display import strands_line_set
from headcast.hair.head import prepare_head
from headcast.hair.stage import style_strands
from headcast.hair.types import HairStyle
from headcast.headmodel.base import HeadParams
from headcast.headmodel.ict import load_ict_facekit
from headcast.render.views import TURNTABLE_SETTINGS, turntable_image
from headcast.texture.types import UVTexture

SKIN = (224, 180, 150)
"""sRGB skin colour of the thumbnail head."""


def write_thumbnails(
    styles: tuple[HairStyle, ...], folder: Path | str, assets: AssetSettings | None = None, size: int = 256,
) -> list[Path]:
    """Render ``<folder>/<name>.png`` for each style (front and 3/4 views side by side); returns the paths.

    Styles whose files are missing are skipped with no picture (their error is not raised).
    """
    from headcast.errors import AssetError

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    model = load_ict_facekit(assets)
    pose = HeadPose(np.zeros(3), np.zeros(3))
    params = HeadParams(np.zeros(model.num_identity), np.zeros(model.num_expressions), pose)
    head = prepare_head(model, params)
    texture = UVTexture(np.full((4, 4, 3), SKIN, np.uint8), np.zeros((len(model.uv), 2), np.float32),
                        np.zeros((4, 4), np.float32))
    settings = replace(TURNTABLE_SETTINGS, strand_shading="kajiya_kay")
    paths = []
    for style in styles:
        try:
            strands = style_strands(style.name, head)
        except AssetError:
            continue
        lines = [] if strands is None else [strands_line_set(strands, head.sdf)]
        img = turntable_image(model, params, texture, yaws_deg=(0.0, 40.0), size=size, strands=lines,
                              settings=settings)
        path = out / f"{style.name}.png"
        cv2.imwrite(str(path), np.ascontiguousarray(img[..., ::-1]))
        paths.append(path)
    return paths
