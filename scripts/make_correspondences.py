"""Regenerate ``src/headcast/fitting/data/ict_mediapipe_correspondence.npz`` (MediaPipe 478 → ICT FaceKit).

Usage (from the repository root)::

    python scripts/make_correspondences.py [--out PATH] [--assets DIR]

Reads the ICT FaceKit model and MediaPipe's ``face_model_with_iris.obj`` from the asset folder and writes a small,
byte-reproducible table. The method is described in :mod:`headcast.fitting.mediapipe_embedding`.
"""

import argparse
from pathlib import Path

import numpy as np

from headcast.assets import AssetSettings, resolve_asset
from headcast.fitting.correspondence import CORRESPONDENCE_FILE, save_correspondence
from headcast.fitting.mediapipe_embedding import EmbeddingSettings, build_embedding, read_obj
from headcast.headmodel.ict import CM_TO_M, load_ict_facekit

DEFAULT_OUT = Path("src/headcast/fitting/data") / CORRESPONDENCE_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .npz (default {DEFAULT_OUT})")
    parser.add_argument("--assets", type=Path, default=None, help="asset folder (default: the usual search)")
    args = parser.parse_args(argv)
    assets = AssetSettings(assets_dir=args.assets)
    model = load_ict_facekit(assets)
    text = resolve_asset("mediapipe_canonical_face", assets).read_text()
    canonical_cm, triangles = read_obj(text)
    report = build_embedding(model, canonical_cm * CM_TO_M, triangles, EmbeddingSettings())
    save_correspondence(report.correspondence, args.out)
    mm = report.distances * 1000.0
    corr = report.correspondence
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    print(f"canonical→ICT scale {report.scale:.4f}; |identity| {np.linalg.norm(report.identity):.2f}σ")
    print(f"fitted expressions {np.round(report.expression, 3).tolist()}")
    print(f"embedding distance mm: median {np.median(mm):.2f}, p95 {np.percentile(mm, 95):.2f}, max {mm.max():.2f}")
    print(f"face oval {len(corr.face_oval)} points, sliding contour {len(corr.contour)} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
