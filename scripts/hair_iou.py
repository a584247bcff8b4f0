"""Hair-mask IoU of ``--hair auto`` over a folder of portraits, measured as ``headcast eval``'s hair section does.

For each photo: detection, fit and BiSeNet face parsing (cached in ``--cache`` so that hair changes can be
re-measured in seconds), then the hair stage (analysis, head, reconstruction) and the eval metric
(``eval.hair_metrics.silhouette_iou``: the strands splatted at the photo's camera and full resolution behind the
head's depth map, against BiSeNet's hair mask) and the bald band at the hairline (``hair.hairline.hairline_fit``).
Prints one line per photo and the median over the photos with hair.

``--overlays DIR`` writes ``<stem>.png`` per photo: the photo, dimmed, with the parsed hair in green, the splatted
strands in red (both: yellow), to see where the two disagree.

Usage: python scripts/hair_iou.py PORTRAITS_DIR [--cache DIR] [--json OUT.json] [--only STEM ...] [--overlays DIR]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from fit_cache import cached_fit
from headcast.cli.main import find_photos
from headcast.eval.hair_metrics import silhouette_iou
from headcast.hair.hairline import hairline_fit
from headcast.hair.silhouette import head_depth, splat_strands
from headcast.hair.stage import HairSettings, make_hair
from headcast.headmodel.base import head_vertices
from headcast.parsing import hair_mask, skin_mask
from headcast.pipeline import Pipeline, PipelineSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("portraits", type=Path)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--overlays", type=Path, default=None)
    args = parser.parse_args()
    settings = HairSettings(mode="auto")
    pipe = Pipeline.load(PipelineSettings())
    rows = []
    for photo in find_photos(args.portraits):
        if args.only and not any(o in photo.stem for o in args.only):
            continue
        pixels, fit, classes = cached_fit(pipe, photo, None if args.cache is None else args.cache / f"{photo.stem}.pkl",
                                          parse=True)
        t = time.perf_counter()
        hr = make_hair(pixels, fit, pipe.model, settings, classes, pipe.renderer)
        sec = time.perf_counter() - t
        if hr.strands is None:
            print(f"{photo.stem:28s} {hr.style:18s} no hair", flush=True)
            rows.append({"photo": photo.stem, "style": hr.style, "iou": None})
            continue
        iou = silhouette_iou(hr.strands, fit, pipe.model, hair_mask(classes), pipe.renderer)
        verts = head_vertices(pipe.model, fit.params)
        depth = head_depth(pipe.model, verts, fit.params.pose, fit.camera, pipe.renderer)
        splat = splat_strands(hr.strands.points, fit.params.pose, fit.camera, depth)[0]
        line = hairline_fit(splat, hair_mask(classes), skin_mask(classes), fit.landmarks68_2d)
        if args.overlays is not None:
            write_overlay(args.overlays / f"{photo.stem}.png", pixels, hair_mask(classes), splat)
        p = hr.strands.params
        print(f"{photo.stem:28s} {hr.style:18s} IoU {iou:.3f} (fit {hr.iou:.3f}) orientation "
              f"{hr.orientation_error_deg:5.1f}° hairline gap p90 "
              f"{float('nan') if line is None else line.gap_p90:.3f} fh {sec:.2f} s", flush=True)
        rows.append({"photo": photo.stem, "style": hr.style, "iou": round(iou, 4), "fit_iou": round(hr.iou, 4),
                     "orientation_error_deg": round(hr.orientation_error_deg, 2), "seconds": round(sec, 3),
                     "hairline": None if line is None else {"gap_px": round(line.gap_px, 2), "gap": round(line.gap, 4),
                                                            "gap_p90": round(line.gap_p90, 4),
                                                            "cover": round(line.cover, 3)},
                     "params": None if p is None else p.to_json()})
    pipe.close()
    ious = [r["iou"] for r in rows if r["iou"] is not None]
    if ious:
        errs = [r["orientation_error_deg"] for r in rows if r["iou"] is not None]
        print(f"median IoU {np.median(ious):.3f} over {len(ious)} photos with hair; "
              f"median orientation error {np.median(errs):.1f}°")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))


def write_overlay(path: Path, pixels: np.ndarray, photo_hair: np.ndarray, strands: np.ndarray) -> None:
    """The photo at half brightness; parsed hair adds green, the strands' splat adds red."""
    from PIL import Image

    img = pixels.astype(np.float32) * 0.5
    img[..., 1] += 110.0 * photo_hair
    img[..., 0] += 110.0 * strands
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)


if __name__ == "__main__":
    main()
