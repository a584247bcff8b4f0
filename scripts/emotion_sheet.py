"""Contact sheet of the emotion sliders: identities (columns) × neutral, the 7 emotions at 1.0 and mixtures (rows).

Usage: python scripts/emotion_sheet.py [--out /tmp/emotion/sheet.png] [PHOTO ...]
"""

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from headcast.emotion import EMOTIONS, NEUTRAL, EmotionIntensities, load_packaged_model, parse_emotion
from headcast.eval.emotion import render_emotion
from headcast.pipeline import Pipeline, PipelineSettings

DEFAULT_PHOTOS = ("london_003_neutral.jpg", "london_062_neutral.jpg", "azure_Family2-Lady1.jpg")
MIXTURES = ("happiness=0.6,surprise=0.6", "sadness=0.6,anger=0.5", "fear=0.5,disgust=0.5", "happiness=0.5")
CROP = (0.2, 0.72, 0.24, 0.76)
"""Face crop of the frontal render (top, bottom, left, right as fractions of the side)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp/emotion/sheet.png"))
    parser.add_argument("--size", type=int, default=200, help="side of each face cell, pixels")
    parser.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures/portraits"))
    args = parser.parse_args()
    photos = args.photos or [args.fixtures / p for p in DEFAULT_PHOTOS]
    rows: list[tuple[str, EmotionIntensities]] = [("neutral", NEUTRAL)]
    rows += [(e, EmotionIntensities(**{e: 1.0})) for e in EMOTIONS]
    rows += [(m, parse_emotion(m)) for m in MIXTURES]
    model = load_packaged_model()
    pipeline = Pipeline.load(PipelineSettings())
    columns = []
    try:
        for photo in photos:
            avatar = pipeline.reconstruct(photo)
            full = round(args.size / (CROP[3] - CROP[2]))
            cells = []
            for _, emotion in rows:
                img = render_emotion(avatar, emotion, model, full, pipeline.renderer)
                t, b, lft = round(CROP[0] * full), round(CROP[1] * full), round(CROP[2] * full)
                cells.append(cv2.resize(img[t:b, lft : lft + args.size], (args.size, args.size)))
            columns.append(np.concatenate(cells, axis=0))
    finally:
        pipeline.close()
    label_w = 170
    labels = np.full((args.size * len(rows), label_w, 3), 255, np.uint8)
    for i, (name, _) in enumerate(rows):
        for j, part in enumerate(name.split(",")):
            cv2.putText(labels, part, (6, i * args.size + 24 + 20 * j), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                        cv2.LINE_AA)
    sheet = np.concatenate([labels, *columns], axis=1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).quantize(256, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)  # ≤ 1 MB
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
