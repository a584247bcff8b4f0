"""Which head pixels does the same-view render miss, and what does the photo show there (the outline band)?

``headcast eval`` compares the photo and the avatar rendered at the photo's camera inside the photo's head mask
``M`` (face parsing: skin, brows, eyes, nose, lips, ears, hair). Head pixels the render does not cover show the
black background there and carry most of the same-view error (EVALUATION.md, "Error split": the outline band).
This script renders each avatar exactly as the evaluation does (head and strands, black background, 2 × 2
supersampling, covered = alpha ≥ 0.5) and splits the missed pixels ``M ∖ A`` by what the photo shows there:

* ``ear``: the parsed ears;
* ``skull``: skin above the eyes (the forehead and a bare cranium);
* ``cheek/jaw``: other skin (the face's sides and the jaw line);
* ``hair``: the parsed hair;
* ``other``: brows, eyes, nose, lips.

Prints, per photo, the missed share of ``M`` and the split of the missed pixels; then the medians. ``--overlays DIR``
writes ``<stem>.png``: the photo dimmed with the missed pixels red, beside the render.

Usage (from the repository root)::

    python scripts/outline_miss.py PORTRAITS_DIR [--overlays DIR] [--only STEM ...]
"""

import argparse
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from headcast.cli.main import find_photos
from headcast.hair.display import strands_line_set
from headcast.parsing.face import FaceClass, class_mask, head_mask
from headcast.pipeline import Pipeline
from headcast.render.raster import RenderSettings
from headcast.render.views import render_head

GROUPS = ("ear", "skull", "cheek/jaw", "hair", "other")


def miss_groups(classes: NDArray[np.uint8], missed: NDArray[np.bool_], eye_row: float) -> dict[str, int]:
    """Missed pixels per group of the module docstring (``eye_row``: the image row of the eyes)."""
    rows = np.arange(classes.shape[0])[:, None]
    skin = class_mask(classes, (FaceClass.SKIN,))
    groups = {
        "ear": class_mask(classes, (FaceClass.L_EAR, FaceClass.R_EAR)),
        "skull": skin & (rows < eye_row),
        "cheek/jaw": skin & (rows >= eye_row),
        "hair": class_mask(classes, (FaceClass.HAIR,)),
    }
    out = {name: int((missed & m).sum()) for name, m in groups.items()}
    out["other"] = int(missed.sum()) - sum(out.values())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("portraits", type=Path)
    parser.add_argument("--overlays", type=Path, default=None)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    pipe = Pipeline.load()
    look = RenderSettings(background=(0.0, 0.0, 0.0), supersample=2)
    shares: list[float] = []
    splits: dict[str, list[float]] = {g: [] for g in GROUPS}
    for photo in find_photos(args.portraits):
        if args.only and not any(o in photo.stem for o in args.only):
            continue
        avatar = pipe.make(photo)
        if avatar.parsing is None:
            print(f"{photo.stem:28s} no face parsing")
            continue
        lines = [] if avatar.hair is None else [strands_line_set(avatar.hair)]
        color = render_head(avatar.model, avatar.fit.params, avatar.texture, avatar.fit.camera, settings=look,
                            strands=lines, renderer=pipe.renderer).color
        m = head_mask(avatar.parsing)
        missed = m & (color[..., 3] < 128)
        eye_row = float(np.mean(avatar.fit.landmarks68_2d[36:48, 1]))
        counts = miss_groups(avatar.parsing, missed, eye_row)
        total = max(1, int(missed.sum()))
        share = float(missed.sum() / max(1, m.sum()))
        shares.append(share)
        for g in GROUPS:
            splits[g].append(counts[g] / total)
        print(f"{photo.stem:28s} missed {share:6.1%} of the head:  "
              + "  ".join(f"{g} {counts[g] / total:4.0%}" for g in GROUPS), flush=True)
        if args.overlays is not None:
            from PIL import Image

            img = avatar.photo.pixels.astype(np.float32) * 0.4
            img[missed] = (255.0, 0.0, 0.0)
            args.overlays.mkdir(parents=True, exist_ok=True)
            side = np.concatenate([img.astype(np.uint8), color[..., :3]], axis=1)
            Image.fromarray(side).save(args.overlays / f"{photo.stem}.png")
    if shares:
        print(f"median over {len(shares)} photos: missed {np.median(shares):.1%} of the head;  "
              + "  ".join(f"{g} {np.median(v):.0%}" for g, v in splits.items()))
    pipe.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
