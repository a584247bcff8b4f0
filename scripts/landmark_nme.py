"""Detect and fit every image in a folder; print the per-image landmark NME and the median.

Usage (from the repository root)::

    python scripts/landmark_nme.py DIR [--overlays OUT_DIR] [--assets DIR] [--head-model ict|flame]
                                        [--flame-model FILE]

NME = mean distance between the fitted model's projected MediaPipe landmarks and the detector's, divided by the
detector's outer-eye-corner distance (landmarks 33 and 263). ``--overlays`` writes a PNG per image: detector
points in green, fitted points in red, the jaw contour pairs joined in yellow. The head model is loaded as the
pipeline loads it (:func:`headcast.pipeline.load_head_model`), so ``--head-model flame`` measures the FLAME head
(with its jaw joint) on the same photos.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from headcast.assets import AssetSettings
from headcast.errors import HeadcastError
from headcast.fitting.fit import fit_head
from headcast.fitting.settings import FitSettings
from headcast.fitting.types import FitResult
from headcast.geometry.camera import camera_from_fov
from headcast.landmarks.detector import FaceDetector, detect_landmarks
from headcast.landmarks.image_io import load_photo
from headcast.landmarks.settings import DetectorSettings, PhotoSettings
from headcast.landmarks.types import Landmarks, Photo
from headcast.pipeline import HeadModelSettings, PipelineSettings, load_head_model

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def draw_overlay(photo: Photo, landmarks: Landmarks, fit: FitResult, contour: np.ndarray, path: Path) -> None:
    img = Image.fromarray(photo.pixels).convert("RGB")
    draw = ImageDraw.Draw(img)
    r = max(1.0, photo.width / 500)
    det = landmarks.points[:, :2]
    for a, b in zip(det[contour], fit.landmarks_2d[contour], strict=True):
        draw.line([tuple(a), tuple(b)], fill=(255, 255, 0), width=max(1, int(r)))
    for pts, colour in ((det, (0, 255, 0)), (fit.landmarks_2d, (255, 0, 0))):
        for x, y in pts:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    img.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--overlays", type=Path, default=None, help="write overlay PNGs here")
    parser.add_argument("--assets", type=Path, default=None)
    parser.add_argument("--head-model", choices=("ict", "flame"), default="ict")
    parser.add_argument("--flame-model", type=Path, default=None, help="the FLAME file (for --head-model flame)")
    args = parser.parse_args(argv)
    assets = AssetSettings(assets_dir=args.assets)
    head = HeadModelSettings(name=args.head_model, flame_model=args.flame_model if args.head_model == "flame" else None)
    model, corr, _ = load_head_model(PipelineSettings(assets=assets, head=head))
    fit_settings = FitSettings()
    det_settings = DetectorSettings()
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if args.overlays:
        args.overlays.mkdir(parents=True, exist_ok=True)
    scores: list[float] = []
    with FaceDetector(det_settings, assets) as detector:
        for path in files:
            try:
                photo = load_photo(path, PhotoSettings())
                t0 = time.perf_counter()
                landmarks = detect_landmarks(photo, detector, det_settings)
                t1 = time.perf_counter()
                camera = camera_from_fov(photo.width, photo.height, fit_settings.fov_deg)
                fit = fit_head(landmarks, model, camera, fit_settings, corr)
                t2 = time.perf_counter()
            except HeadcastError as exc:
                print(f"{path.name:32s} FAILED: {exc}")
                continue
            scores.append(fit.nme)
            jaw = ""
            if model.skeleton is not None and fit.params.joint_rotations.size:
                angle = np.linalg.norm(fit.params.joint_rotations[model.skeleton.joint_index("jaw")])
                jaw = f"  jaw {np.degrees(angle):4.1f}°"
            print(
                f"{path.name:32s} NME {fit.nme:.4f}  detect {t1 - t0:5.3f}s  fit {t2 - t1:5.3f}s  "
                f"steps {sum(fit.iterations.values())}{jaw}"
            )
            if args.overlays:
                draw_overlay(photo, landmarks, fit, corr.contour, args.overlays / f"{path.stem}.png")
    if not scores:
        print("no image fitted")
        return 1
    print(f"{model.name}: median NME {statistics.median(scores):.4f} over {len(scores)} images "
          f"(mean {statistics.mean(scores):.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
