"""Regenerate ``src/headcast/fitting/data/ict_mediapipe_correspondence.npz`` (MediaPipe 478 → ICT FaceKit).

Usage (from the repository root)::

    python scripts/make_correspondences.py [--out PATH] [--assets DIR]

Reads the ICT FaceKit model and MediaPipe's ``face_model_with_iris.obj`` from the asset folder, embeds the canonical
face on the model, then calibrates the embedding against the detector on renders of the mean head wearing skin
baked from a few fixture portraits (``--photos``), and writes a small, byte-reproducible table. The method is
described in :mod:`headcast.fitting.mediapipe_embedding`.

The calibration renders use the pipeline's default fit and texture settings, so a change of those defaults changes
the table: rerun this script then (tests/fitting/test_correspondence.py checks the file matches a fresh run).
"""

import argparse
from pathlib import Path

import numpy as np

from headcast.assets import AssetSettings, resolve_asset
from headcast.errors import HeadcastError
from headcast.fitting.correspondence import CORRESPONDENCE_FILE, Correspondence, save_correspondence
from headcast.fitting.mediapipe_embedding import EmbeddingSettings, build_embedding, calibrate_embedding, read_obj
from headcast.geometry.camera import HeadPose, camera_from_fov, transform_points
from headcast.geometry.rotation import euler_yxz_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import HeadParams
from headcast.headmodel.ict import CM_TO_M, load_ict_facekit
from headcast.landmarks.detector import detect_landmarks
from headcast.landmarks.types import Photo
from headcast.pipeline import Pipeline, PipelineSettings
from headcast.render.raster import RenderSettings, render_triangle_ids
from headcast.render.views import render_head
from headcast.texture.atlas import opaque_triangle_mask
from headcast.texture.settings import CALIBRATION_TEXTURE

DEFAULT_OUT = Path("src/headcast/fitting/data") / CORRESPONDENCE_FILE
CALIBRATION_PHOTOS = (
    "london_003_neutral.jpg",
    "london_096_neutral.jpg",
    "london_107_neutral.jpg",
    "london_119_neutral.jpg",
)
CALIBRATION_YAWS_DEG = (-12.0, 0.0, 12.0)
RENDER_SIZE = 768
RENDER_DISTANCE_M = 0.6


def detector_hits(
    corr: Correspondence, photos_dir: Path, assets: AssetSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Where the detector's landmarks land on the mean head in renders: ``(R, 478, 3)`` points and validity."""
    pipeline = Pipeline.load(PipelineSettings(assets=assets, texture=CALIBRATION_TEXTURE))
    pipeline.correspondence = corr  # bake with the uncalibrated table, so the output does not feed on itself
    pipeline.parsing_unavailable = "the calibration bakes without face parsing (CALIBRATION_TEXTURE)"
    model = pipeline.model
    camera = camera_from_fov(RENDER_SIZE, RENDER_SIZE, pipeline.settings.fit.fov_deg)
    template = model.template.astype(np.float64)
    face = template[model.face_vertices]
    centre = 0.5 * (face.min(axis=0) + face.max(axis=0))
    keep = opaque_triangle_mask(model)
    tris = model.triangles[keep]
    hits, valid = [], []
    try:
        for name in CALIBRATION_PHOTOS:
            texture = pipeline.reconstruct(photos_dir / name).texture
            for yaw in CALIBRATION_YAWS_DEG:
                rot = euler_yxz_to_matrix(np.deg2rad(yaw), 0.0, 0.0)
                pose = HeadPose(matrix_to_axis_angle(rot), -rot @ centre + np.array([0.0, 0.0, -RENDER_DISTANCE_M]))
                params = HeadParams(np.zeros(model.num_identity), np.zeros(model.num_expressions), pose)
                rgb = render_head(
                    model, params, texture, camera, settings=RenderSettings(background=(0.5, 0.5, 0.5), supersample=2),
                    renderer=pipeline.renderer, eyes=None,  # calibrated on renders without the lids' shadow
                ).color[..., :3]
                try:
                    photo = Photo(np.ascontiguousarray(rgb))
                    lm = detect_landmarks(photo, pipeline.detector, pipeline.settings.detector)
                except HeadcastError:
                    continue
                ids = render_triangle_ids(transform_points(template, pose), tris, camera, renderer=pipeline.renderer)
                px = np.clip(np.floor(lm.points[:, :2]).astype(np.int64), 0, RENDER_SIZE - 1)
                tid = ids.triangle_id[px[:, 1], px[:, 0]]
                bary = ids.barycentric[px[:, 1], px[:, 0]].astype(np.float64)
                ok = tid >= 0
                points = np.einsum("nkc,nk->nc", template[tris[np.maximum(tid, 0)]], bary)
                hits.append(points)
                valid.append(ok)
    finally:
        pipeline.close()
    return np.stack(hits), np.stack(valid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .npz (default {DEFAULT_OUT})")
    parser.add_argument("--assets", type=Path, default=None, help="asset folder (default: the usual search)")
    parser.add_argument(
        "--photos", type=Path, default=Path("../shared/fixtures/portraits"), help="folder with the calibration photos"
    )
    args = parser.parse_args(argv)
    assets = AssetSettings(assets_dir=args.assets)
    model = load_ict_facekit(assets)
    text = resolve_asset("mediapipe_canonical_face", assets).read_text()
    canonical_cm, triangles = read_obj(text)
    report = build_embedding(model, canonical_cm * CM_TO_M, triangles, EmbeddingSettings())
    hits, valid = detector_hits(report.correspondence, args.photos, assets)
    corr = calibrate_embedding(report.correspondence, model, hits, valid)
    save_correspondence(corr, args.out)
    mm = report.distances * 1000.0
    moved = np.linalg.norm(
        np.einsum("nkc,nk->nc", model.template[model.triangles[corr.face_ids]], corr.barycentric)
        - np.einsum("nkc,nk->nc", model.template[model.triangles[report.correspondence.face_ids]],
                    report.correspondence.barycentric),
        axis=1,
    ) * 1000.0
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    print(f"canonical→ICT scale {report.scale:.4f}; |identity| {np.linalg.norm(report.identity):.2f}σ")
    print(f"fitted expressions {np.round(report.expression, 3).tolist()}")
    print(f"embedding distance mm: median {np.median(mm):.2f}, p95 {np.percentile(mm, 95):.2f}, max {mm.max():.2f}")
    print(f"face oval {len(corr.face_oval)} points, sliding contour {len(corr.contour)} points")
    print(
        f"calibration: {len(hits)} renders; landmarks moved by median {np.median(moved):.2f} mm, "
        f"max {moved.max():.2f} mm"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
