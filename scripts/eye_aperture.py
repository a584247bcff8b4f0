"""Eye aperture of the photo vs the fitted head, per image and as medians.

Usage (from the repository root)::

    python scripts/eye_aperture.py DIR [DIR ...] [--render] [--assets DIR]
    python scripts/eye_aperture.py DIR [DIR ...] --detect [--assets DIR]

Aperture of an eye = mean distance between three upper/lower lid landmark pairs (MediaPipe 160-144, 159-145,
158-153 and 387-373, 386-374, 385-380) over the distance of the eye's corners (33-133, 263-362). For every image:

* ``photo``: the detector's landmarks;
* ``model``: the fitted head **as drawn** (all expression shapes, the held gaze shapes included; ``head_vertices``)
  at the landmark table's lid points, projected with the fitted camera — the fitted aperture at the same landmarks;
* ``opening`` (``--render``): the height of the fitted head's visible eyeball (sclera and iris triangles of a
  triangle-id render at the photo's camera, 4x supersampled) along the columns of the three pairs, over the photo's
  eye width — what a render shows, independent of where the table puts the lid points.

Prints per image and the median absolute error (and mean signed error) of ``model`` and ``opening`` against
``photo``, and the median landmark NME of the fits.

``--detect`` measures how open the eyes *look* instead: each photo is reconstructed by the pipeline (no hair), the
textured head is rendered at the photo's camera (2 × 2 supersampled) with the lids' shadow on the eyeballs
(``headcast.render.eyes``) and without it, composited over the photo, and the landmark detector is run on the
composite. Per image and eye: the detector's aperture (as above) and ``eyeBlink`` score on the photo and on both
renders; then the medians over all eyes of render − photo and of its absolute value, for each render. (A render
whose white is lit evenly up to the lid line reads as more open than the same geometry with the lid's shadow.)
"""

import argparse
import statistics
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from headcast.assets import AssetSettings
from headcast.errors import HeadcastError
from headcast.fitting.correspondence import load_correspondence
from headcast.fitting.fit import fit_head
from headcast.fitting.settings import FitSettings
from headcast.geometry.camera import camera_from_fov, project, transform_points
from headcast.headmodel.base import head_vertices
from headcast.headmodel.ict import load_ict_facekit
from headcast.landmarks.detector import FaceDetector, detect_landmarks
from headcast.landmarks.image_io import load_photo
from headcast.landmarks.settings import DetectorSettings, PhotoSettings
from headcast.render.eyes import DEFAULT_EYE_OCCLUSION

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
#: (outer corner, inner corner, ((upper, lower) lid pairs)) of the subject's right eye, then the left.
EYES = (
    (33, 133, ((160, 144), (159, 145), (158, 153))),
    (263, 362, ((387, 373), (386, 374), (385, 380))),
)
SUPERSAMPLE = 4


def aperture(points: NDArray[np.floating], eye: tuple, width: float | None = None) -> float:
    """Mean lid-pair distance over the corner distance (``width`` if given, pixels)."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    outer, inner, pairs = eye
    w = float(np.linalg.norm(p[outer] - p[inner])) if width is None else width
    return float(np.mean([np.linalg.norm(p[a] - p[b]) for a, b in pairs])) / w


def opening(eyeball: NDArray[np.bool_], photo_points: NDArray[np.floating], eye: tuple) -> float:
    """Visible eyeball height at the photo's lid-pair columns over the photo's eye width (``eyeball`` supersampled)."""
    q = np.asarray(photo_points, dtype=np.float64)[:, :2] * SUPERSAMPLE
    outer, inner, pairs = eye
    w = float(np.linalg.norm(q[outer] - q[inner]))
    heights = []
    for a, b in pairs:
        x = int(0.5 * (q[a, 0] + q[b, 0]))
        yc = 0.5 * (q[a, 1] + q[b, 1])
        y0 = max(0, int(yc - 0.6 * w))
        rows = np.nonzero(eyeball[y0 : int(yc + 0.6 * w), x])[0]
        heights.append(float(rows.max() - rows.min() + 1) if len(rows) else 0.0)
    return float(np.mean(heights)) / w


def detect_main(files: list[Path], assets: AssetSettings) -> int:
    """``--detect``: the detector's aperture and eyeBlink on the photo and on renders with and without lid shadow."""
    from headcast.options import Options
    from headcast.pipeline import Pipeline, PipelineSettings
    from headcast.render.raster import RenderSettings
    from headcast.render.views import render_avatar

    variants = ("shadow", "plain")
    errors: dict[str, dict[str, list[float]]] = {v: {"aperture": [], "eyeBlink": []} for v in variants}
    with Pipeline.load(PipelineSettings(assets=assets)) as pipe:
        for path in files:
            try:
                avatar = pipe.reconstruct(path, Options(hair="none"))
            except HeadcastError as exc:
                print(f"{path.name:28s} FAILED: {exc}")
                continue
            photo = avatar.photo.pixels.astype(np.float32)
            lm = avatar.landmarks
            blink = [lm.blendshape_names.index(n) for n in ("eyeBlinkLeft", "eyeBlinkRight")]  # MediaPipe's names
            line = f"{path.name:28s}"
            for variant in variants:
                res = render_avatar(avatar, settings=RenderSettings(supersample=2), renderer=pipe.renderer,
                                    eyes=None if variant == "plain" else DEFAULT_EYE_OCCLUSION)
                alpha = res.color[..., 3:4].astype(np.float32) / 255.0
                comp = (res.color[..., :3] * alpha + (1.0 - alpha) * photo).clip(0, 255).astype(np.uint8)
                found = pipe.detector.detect_array(comp)
                if not found:
                    line += f"  {variant}: no face"
                    continue
                det = max(found, key=lambda d: float(np.ptp(d.points[:, 0])))
                line += f"  {variant}:"
                for side, eye in zip("RL", EYES, strict=True):
                    a_photo, a_render = aperture(lm.points, eye), aperture(det.points, eye)
                    errors[variant]["aperture"].append(a_render - a_photo)
                    line += f" {side} aperture {a_photo:.3f}->{a_render:.3f}"
                for name, b in zip(("eyeBlinkLeft", "eyeBlinkRight"), blink, strict=True):
                    errors[variant]["eyeBlink"].append(float(det.blendshapes[b] - lm.blendshapes[b]))
                    line += f" {name} {lm.blendshapes[b]:.3f}->{det.blendshapes[b]:.3f}"
            print(line, flush=True)
    for variant in variants:
        for name, values in errors[variant].items():
            e = np.array(values)
            if len(e):
                print(f"{variant:6s} {name:8s} render - photo: median {np.median(e):+.4f}, "
                      f"median |.| {np.median(np.abs(e)):.4f} ({len(e)} eyes)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--render", action="store_true", help="also measure the rendered eyeball opening")
    parser.add_argument("--detect", action="store_true",
                        help="detector's aperture and eyeBlink on textured renders with and without the lids' shadow")
    parser.add_argument("--assets", type=Path, default=None)
    args = parser.parse_args(argv)
    assets = AssetSettings(assets_dir=args.assets)
    if args.detect:
        return detect_main(sorted(p for d in args.folders for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                           assets)
    settings = FitSettings()
    model = load_ict_facekit(assets, settings.num_identity)
    corr = load_correspondence()
    renderer = None
    if args.render:
        from headcast.render.context import Renderer
        from headcast.texture.atlas import opaque_triangle_mask

        renderer = Renderer()
        keep = opaque_triangle_mask(model)
        triangles = model.triangles[keep]
        is_eyeball = model.material_mask("sclera_left", "sclera_right", "iris_left", "iris_right")[keep]
    files = sorted(p for d in args.folders for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    model_err: list[float] = []
    open_err: list[float] = []
    nmes: list[float] = []
    det = DetectorSettings()
    with FaceDetector(det, assets) as detector:
        for path in files:
            try:
                photo = load_photo(path, PhotoSettings())
                lm = detect_landmarks(photo, detector, det)
            except HeadcastError as exc:
                print(f"{path.name:28s} FAILED: {exc}")
                continue
            camera = camera_from_fov(photo.width, photo.height, settings.fov_deg)
            fit = fit_head(lm, model, camera, settings, corr)
            verts = transform_points(head_vertices(model, fit.params), fit.params.pose)
            tri = model.triangles[corr.face_ids]
            drawn = project(np.einsum("nkc,nk->nc", verts[tri], corr.barycentric), camera)
            eyeball = None
            if renderer is not None:
                from headcast.render.raster import render_triangle_ids

                ids = render_triangle_ids(verts, triangles, camera.scaled(SUPERSAMPLE), renderer=renderer).triangle_id
                eyeball = (ids >= 0) & is_eyeball[np.maximum(ids, 0)]
            line = f"{path.name:28s} NME {fit.nme:.4f}"
            for side, eye in zip("RL", EYES, strict=True):
                a_photo, a_model = aperture(lm.points, eye), aperture(drawn, eye)
                model_err.append(a_model - a_photo)
                line += f"  {side} photo {a_photo:.3f} model {a_model:.3f}"
                if eyeball is not None:
                    a_open = opening(eyeball, lm.points, eye)
                    open_err.append(a_open - a_photo)
                    line += f" opening {a_open:.3f}"
            nmes.append(fit.nme)
            print(line, flush=True)
    if not nmes:
        print("no image fitted")
        return 1
    m = np.array(model_err)
    print(f"model vs photo aperture: median |error| {np.median(np.abs(m)):.4f}, mean {m.mean():+.4f} "
          f"({len(m)} eyes); median NME {statistics.median(nmes):.4f} over {len(nmes)} images")
    if open_err:
        o = np.array(open_err)
        print(f"rendered opening vs photo aperture: median |error| {np.median(np.abs(o)):.4f}, mean {o.mean():+.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
