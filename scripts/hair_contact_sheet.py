"""Contact sheet of the hair reconstruction: photo | avatar at the photo's camera | avatar at 45°, per portrait.

Usage: python scripts/hair_contact_sheet.py PORTRAITS_DIR OUT.png [--hair auto|STYLE] [--json OUT.json]
       [--only STEM ...]

The label under each row gives the retrieved style and the photo-view hair-mask IoU as ``headcast eval`` measures it
(``eval.hair_metrics.silhouette_iou``: the strands splatted at the photo's full resolution against BiSeNet's mask).
"""

import argparse
import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from headcast.cli.main import find_photos
from headcast.eval.hair_metrics import silhouette_iou
from headcast.hair.display import strands_line_set
from headcast.options import Options
from headcast.parsing import hair_mask
from headcast.pipeline import Pipeline, PipelineSettings
from headcast.render.raster import RenderSettings
from headcast.render.views import TURNTABLE_SETTINGS, render_avatar, turntable_image

TILE = 320


def _fit(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = TILE / max(h, w)
    small = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.full((TILE, TILE, 3), 128, np.uint8)
    y, x = (TILE - small.shape[0]) // 2, (TILE - small.shape[1]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small[..., :3]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("portraits", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--hair", default="auto")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--only", nargs="*", default=None, help="only photos whose name contains one of these")
    args = parser.parse_args()
    pipe = Pipeline.load(PipelineSettings())
    options = Options(hair=args.hair)
    rows, report = [], []
    for photo in find_photos(args.portraits):
        if args.only and not any(o in photo.stem for o in args.only):
            continue
        av = pipe.make(photo, options)
        lines = [] if av.hair is None else [strands_line_set(av.hair)]
        cam = av.fit.camera.scaled(TILE / max(av.fit.camera.width, av.fit.camera.height))
        kk = RenderSettings(supersample=2, strand_shading="kajiya_kay", background=(0.5, 0.5, 0.5))
        front = render_avatar(av, camera=cam, settings=kk, renderer=pipe.renderer, strands=lines).color
        side = turntable_image(av.model, av.fit.params, av.texture, yaws_deg=(45.0,), size=TILE, strands=lines,
                               settings=replace(TURNTABLE_SETTINGS, strand_shading="kajiya_kay"),
                               renderer=pipe.renderer)
        hr = av.hair_report
        iou = float("nan")
        if av.hair is not None:
            iou = silhouette_iou(av.hair, av.fit, av.model, hair_mask(pipe.parse_face(av.photo.pixels)), pipe.renderer)
        label = f"{photo.stem[:20]} {hr.style if hr else '-'} IoU {iou:.2f}" if hr else photo.stem
        tile = np.concatenate([_fit(av.photo.pixels), _fit(front), _fit(side)], axis=1)
        cv2.putText(tile, label, (4, TILE - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(tile)
        if hr is not None:
            report.append({"photo": photo.name, "eval_iou": None if np.isnan(iou) else round(iou, 4), **hr.to_json()})
            print(f"{photo.name:28s} style {hr.style:18s} IoU {iou:.3f} orientation {hr.orientation_error_deg:.1f} "
                  f"hair s {av.timings.get('hair', 0):.2f} {hr.seconds}", flush=True)
    pipe.close()
    pairs = [np.concatenate(rows[i : i + 2], axis=1) if i + 1 < len(rows) else
             np.concatenate([rows[i], np.full_like(rows[i], 128)], axis=1) for i in range(0, len(rows), 2)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet = Image.fromarray(np.ascontiguousarray(np.concatenate(pairs, axis=0)))
    # 256 colours with dithering: a quarter of the size in the repository, no visible change at this scale.
    sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(
        args.out, optimize=True)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
