"""Study the landmark fit on synthetic heads with known geometry (the synthetic experiment of ``headcast eval``).

Usage (from the repository root)::

    python scripts/synthetic_fit_study.py [--seed 0[,1,...]] [--count 10] [--textures 0-9]
        [--variant NAME:key=value,key=value ...] [--no-base] [--per-head] [--errors]
        [--landmarks detector|exact] [--exact-contour table|silhouette] [--noise-px 0]
        [--fixtures DIR] [--full] [--table FILE]
        [--learn-noise OUT.npz [--train-seed 100] [--train-count 1500] [--train-textures 10-16]
                               [--train-expression-shapes 3] [--train-expression-max 0.3]
                               [--noise-landmarks 0-477] [--shrinkage 0.003]]
        [--photos DIR] [--cache DIR] [--assets DIR]

Heads, renders and the error measure are those of :mod:`headcast.eval.synthetic` (``sample_head``: identity
``α ~ N(0, I)`` on the pipeline model's modes, a mild expression, yaw ±30°; rendered on grey with a real skin
texture; NoW-style face error after the 7-landmark similarity alignment, :func:`headcast.eval.now.face_geometry_error`).
Head ``i`` wears the texture baked from photo ``i % n`` of the sorted fixture portraits (``--textures`` picks which;
by default all, as ``headcast eval`` does on that folder, so 10 heads wear photos 0-9).

To make many fitter variants cheap, the textures and the detector's landmarks on every render are cached
(``--cache``, keyed by photo name, the synthetic settings and the head index; delete the folder to start afresh).
Then each variant only re-runs :func:`headcast.fitting.fit.fit_head`. A variant is a name and ``FitSettings``
overrides, e.g. ``--variant prior:identity_prior=0.05,depth_weight=0``; the defaults (``base``) come first. The
ground-truth model is the pipeline's default (its ``num_identity`` modes) whatever a variant fits. Printed per
variant and seed: the pooled median / mean face error (mm) of the fit and of the mean head on the same heads (the
numbers ``headcast eval`` reports), their ratio, on how many heads the fit beat the mean head, the mean |α| and the
median NME against the detector.

Diagnostics:

* ``--landmarks exact`` fits the **true** landmark projections instead of the detector's: the table's points on the
  true head (``--exact-contour silhouette``: the jaw line moved to the silhouette as the fitter's sliding rule
  defines it), MediaPipe-style relative depth, the detector's own blendshape scores (so the expression start is the
  same), optionally with i.i.d. Gaussian pixel noise (``--noise-px``). This is the model/embedding/prior error
  alone; the difference to ``--landmarks detector`` is the detector's share.
* ``--errors`` prints the detector's landmark error (detected − exact, eye-line frame, units of the outer-eye
  distance) per landmark group: its mean over heads (a bias the fit reads as shape) and the spread.
* ``--fixtures DIR`` also reports, per variant, the median landmark NME on real photos against the detector (the
  number of ``scripts/landmark_nme.py``) and against the manual ``.tem`` annotations beside them.
* ``--full`` also runs :func:`headcast.eval.synthetic.run_synthetic` itself (render, detect, fit, texture) for each
  variant, as a check that the cached path measures the same thing (slow: a texture bake per head).
* ``--table FILE`` evaluates another landmark table (e.g. a fresh ``scripts/make_correspondences.py --out``).

``--learn-noise OUT.npz`` first learns a :class:`headcast.fitting.fit.LandmarkNoise` model — the mean and the
(shrunk) covariance of the detector's errors against the table's points — from ``--train-count`` random heads of
``--train-seed`` wearing the skins ``--train-textures`` (default photos 10-16, which the 10-head experiment never
wears, so neither the test identities nor the test skins are seen), and writes it. Use it with
``--variant noise:landmark_noise=OUT.npz`` (identity from it, the rest per landmark; add ``noise_role=all`` for the
whole fit from it). The packaged model (``--variant held:landmark_noise=packaged``) is made with ``--learn-noise
src/headcast/fitting/data/mediapipe_landmark_noise.npz`` (defaults otherwise). Measured on seeds 0 / 1 / 2 (10 heads
each: median mm, ratio to the mean head) and the 17 fixtures (NME against the detector / the ``.tem`` annotations):

* per-landmark (the default): 1.165 / 1.130 / 1.158 mm, 1.05 / 0.90 / 0.78; NME 0.0119 / 0.0217;
* noise model, identity held: 0.962 / 0.964 / 0.981 mm, 0.87 / 0.77 / 0.66; NME 0.0154 / 0.0206;
* noise model only (``noise_role=all``): 0.903 / 0.886 / 0.901 mm, 0.82 / 0.71 / 0.61; NME 0.0179 / 0.0231.
* image-plane shape per landmark, depth from the noise model (``noise_role=depth``), seed 0: 1.068 mm, 0.97; NME
  0.0125 / 0.0216.

Those figures were measured on renders wearing the skins of their day (the cache keeps them). With the skins that
``headcast.pipeline`` bakes at commit ``2bffa66`` (a fresh ``--cache``; the cached renders, detections and skins
are what the experiment sees): per-landmark 1.164 / 1.159 / 1.224 mm, the packaged model ``noise_role=all`` 0.946 /
0.960 / 0.995, a model relearned on those skins 0.893 / 0.900 / 0.982 (fixtures: NME 0.0177 / 0.0246) — the
detector's error depends on how the skin looks, so a noise model goes stale when the bake changes.
``--train-expression-shapes`` / ``--train-expression-max`` draw the training heads' expressions from a wider range
than the test heads' (6 shapes up to 0.8: seeds 0 / 1 / 2 0.944 / 0.978 / 0.994 mm, fixtures' ``.tem`` NME 0.0264 —
worse on both).
"""

import argparse
import dataclasses
import hashlib
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from headcast.assets import AssetSettings
from headcast.cli.overrides import parse_overrides as cli_overrides
from headcast.errors import HeadcastError
from headcast.eval.now import face_geometry_error
from headcast.eval.synthetic import SampledHead, SyntheticSettings, run_synthetic, sample_head
from headcast.eval.tem import mediapipe_tem_points, nme_vs_tem, read_tem, tem_for_photo, tem_reference_points
from headcast.fitting.correspondence import (
    MP_LEFT_EYE_OUTER,
    MP_RIGHT_EYE_OUTER,
    Correspondence,
    landmark_points,
    load_correspondence,
)
from headcast.fitting.fit import (
    contour_directions,
    eye_line_rotation,
    fit_head,
    learn_landmark_noise,
    save_landmark_noise,
    silhouette_vertices,
)
from headcast.fitting.mediapipe_embedding import LOWER_LID, LOWER_LIP, UPPER_LID, UPPER_LIP
from headcast.fitting.settings import FitSettings
from headcast.geometry.camera import Camera, camera_from_fov, project, transform_points
from headcast.headmodel.base import LinearHeadModel, blend_vertices, head_vertices
from headcast.landmarks.detector import detect_landmarks
from headcast.landmarks.image_io import load_photo
from headcast.landmarks.types import Landmarks, Photo
from headcast.options import Options
from headcast.pipeline import Pipeline, PipelineSettings
from headcast.render.raster import RenderSettings
from headcast.render.views import GREY, render_head
from headcast.texture.types import UVTexture

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True, eq=False)
class StudyHead:
    """One rendered synthetic head and what the detector found on it.

    Attributes:
        index: head number (``sample_head`` index).
        head: the sampled ground truth.
        texture: name of the photo whose baked skin it wears.
        landmarks: the detector's landmarks on the render, or None when it found no face.
    """

    index: int
    head: SampledHead
    texture: str
    landmarks: Landmarks | None


@dataclass(frozen=True)
class HeadOutcome:
    """The face error of one fit and of the mean head, mm (pooled distances kept for the aggregate)."""

    index: int
    fit_mm: NDArray[np.float64]
    mean_head_mm: NDArray[np.float64]
    alpha_norm: float
    nme: float


# ------------------------------------------------------------------------------------------------ settings


def parse_overrides(text: str, settings_type: type = FitSettings) -> dict[str, Any]:
    """:func:`headcast.cli.overrides.parse_overrides`, a bad item ending the script with its message."""
    try:
        return cli_overrides(text, settings_type)
    except ValueError as err:
        raise SystemExit(str(err)) from None


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``"name:key=value,..."`` → (name, overrides)."""
    name, _, rest = text.partition(":")
    return name, parse_overrides(rest)


def parse_indices(text: str) -> list[int]:
    """``"0-9"`` or ``"10,12,14-16"`` → indices."""
    out: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


# ------------------------------------------------------------------------------------------------ data


def bake_textures(pipeline: Pipeline, photos: list[Path], cache: Path) -> list[UVTexture]:
    """The skin atlas of each photo (``Pipeline.reconstruct``), cached as ``texture_<name>.npz``."""
    out = []
    for path in photos:
        file = cache / f"texture_{path.stem}.npz"
        if not file.exists():
            print(f"baking texture from {path.name}", flush=True)
            tex = pipeline.reconstruct(path).texture
            np.savez_compressed(file, image=tex.image, uv=tex.uv, coverage=tex.coverage)
        with np.load(file) as z:
            out.append(UVTexture(z["image"], z["uv"], z["coverage"]))
    return out


def _landmarks_to_npz(lm: Landmarks) -> dict[str, Any]:
    return {
        "points": lm.points, "blendshapes": lm.blendshapes, "names": np.array(lm.blendshape_names),
        "transform": lm.transform, "image_size": np.array(lm.image_size), "num_faces": lm.num_faces, "box": lm.box,
    }  # fmt: skip


def _landmarks_from_npz(z: Any) -> Landmarks:
    return Landmarks(
        points=z["points"], blendshapes=z["blendshapes"], blendshape_names=tuple(str(n) for n in z["names"]),
        transform=z["transform"], image_size=(int(z["image_size"][0]), int(z["image_size"][1])),
        num_faces=int(z["num_faces"]), box=z["box"],
    )  # fmt: skip


def render_camera(pipeline: Pipeline, settings: SyntheticSettings) -> Camera:
    """The synthetic experiment's camera (the pipeline's field of view, square image)."""
    return camera_from_fov(settings.image_size, settings.image_size, pipeline.settings.fit.fov_deg)


def detect_heads(
    pipeline: Pipeline, textures: list[UVTexture], names: list[str], settings: SyntheticSettings, cache: Path
) -> list[StudyHead]:
    """Sample, render (exactly as :func:`headcast.eval.synthetic.run_synthetic`) and detect each head, cached."""
    model = pipeline.model
    camera = render_camera(pipeline, settings)
    rs = RenderSettings(background=GREY, supersample=2)
    det = replace(pipeline.settings.detector, faces=Options().faces)
    tag = hashlib.sha1(repr(dataclasses.astuple(replace(settings, count=0))).encode()).hexdigest()[:8]
    heads = []
    for i in range(settings.count):
        head = sample_head(model, settings, i)
        tex_i = i % len(textures)
        file = cache / f"landmarks_{tag}_{i}_{names[tex_i]}.npz"
        if not file.exists():
            rgb = render_head(model, head.params, textures[tex_i], camera, settings=rs, renderer=pipeline.renderer)
            photo = Photo(np.ascontiguousarray(rgb.color[..., :3]), None, (settings.image_size,) * 2)
            try:
                lm = detect_landmarks(photo, pipeline.detector, det)
                np.savez_compressed(file, found=True, **_landmarks_to_npz(lm))
            except HeadcastError:
                np.savez_compressed(file, found=False)
        with np.load(file) as z:
            heads.append(StudyHead(i, head, names[tex_i], _landmarks_from_npz(z) if bool(z["found"]) else None))
    return heads


def exact_landmarks(
    model: LinearHeadModel,
    corr: Correspondence,
    head: SampledHead,
    camera: Camera,
    like: Landmarks | None,
    rounds: int = 3,
) -> Landmarks:
    """The true landmark projections of ``head`` (module docstring), detector-like.

    Mesh and iris points are the table's points on the true head; with ``rounds > 0`` the jaw-contour points are
    moved to the true silhouette as the fitter's sliding rule defines it (the slice vertex outermost along the
    contour normal, iterated ``rounds`` times with the normals of the moved points); ``rounds = 0`` keeps the
    table's points. ``z`` is relative depth ``f (d − mean d) / mean d`` (pixels). Blendshape scores are taken from
    ``like`` (the detector on the render) when given.
    """
    params = head.params
    cam_pts = transform_points(landmark_points(head_vertices(model, params), model.triangles, corr), params.pose)
    uv = project(cam_pts, camera)
    verts = blend_vertices(model, params.identity, params.expression)
    for _ in range(rounds):
        normals, _ = contour_directions(uv, corr.face_oval, corr.contour)
        ids = silhouette_vertices(
            model, corr.contour_candidates, normals, params.identity, params.expression, params.pose, camera
        )
        uv[corr.contour] = project(transform_points(verts[ids], params.pose), camera)
    depth = -cam_pts[:, 2]
    z = camera.fx * (depth - depth[:468].mean()) / depth[:468].mean()
    names, scores = (("_neutral",), np.zeros(1)) if like is None else (like.blendshape_names, like.blendshapes)
    return Landmarks(
        points=np.column_stack([uv, z]),
        blendshapes=np.asarray(scores, dtype=np.float64),
        blendshape_names=tuple(names),
        transform=np.eye(4),
        image_size=(camera.width, camera.height),
        num_faces=1,
        box=np.r_[uv.min(axis=0), uv.max(axis=0)],
    )


def with_noise(lm: Landmarks, sigma_px: float, rng: np.random.Generator) -> Landmarks:
    """``lm`` with i.i.d. Gaussian noise of ``sigma_px`` pixels on x and y."""
    if sigma_px <= 0:
        return lm
    pts = lm.points.copy()
    pts[:, :2] += rng.normal(scale=sigma_px, size=(len(pts), 2))
    return replace(lm, points=pts)


# ------------------------------------------------------------------------------------------------ measuring


def fit_heads(
    pipeline: Pipeline,
    heads: list[StudyHead],
    settings: FitSettings,
    synthetic: SyntheticSettings,
    source: str,
    noise_px: float,
    exact_rounds: int,
) -> list[HeadOutcome]:
    """Fit every detected head with ``settings``; face errors of the fit and of the mean head."""
    model, corr = pipeline.model, pipeline.correspondence
    camera = render_camera(pipeline, synthetic)  # the truth's camera
    size = synthetic.image_size
    fit_camera = camera_from_fov(size, size, settings.fov_deg)  # what the pipeline would assume
    mean_head = blend_vertices(model, np.zeros(model.num_identity), np.zeros(model.num_expressions))
    out = []
    for h in heads:
        if h.landmarks is None:
            continue
        lm = h.landmarks
        if source == "exact":
            rng = np.random.default_rng((synthetic.seed, h.index, 7))
            lm = with_noise(exact_landmarks(model, corr, h.head, camera, h.landmarks, exact_rounds), noise_px, rng)
        fit = fit_head(lm, model, fit_camera, settings, corr)
        gt = blend_vertices(model, h.head.params.identity, h.head.params.expression)
        rec = blend_vertices(model, fit.params.identity, fit.params.expression)
        out.append(
            HeadOutcome(
                h.index,
                face_geometry_error(model, gt, rec).distances_mm,
                face_geometry_error(model, gt, mean_head).distances_mm,
                float(np.linalg.norm(fit.params.identity)),
                fit.nme,
            )
        )
    return out


def summary(outcomes: list[HeadOutcome]) -> dict[str, float]:
    """Pooled median / mean of the fit and the mean head, ratio of the medians, heads won."""
    fit = np.concatenate([o.fit_mm for o in outcomes])
    base = np.concatenate([o.mean_head_mm for o in outcomes])
    won = sum(np.median(o.fit_mm) < np.median(o.mean_head_mm) for o in outcomes)
    return {
        "fit_median": float(np.median(fit)),
        "fit_mean": float(fit.mean()),
        "mean_head_median": float(np.median(base)),
        "mean_head_mean": float(base.mean()),
        "ratio": float(np.median(fit) / np.median(base)),
        "won": float(won),
        "n": float(len(outcomes)),
        "alpha_norm": float(np.mean([o.alpha_norm for o in outcomes])),
        "nme": float(np.median([o.nme for o in outcomes])),
    }


def landmark_groups(corr: Correspondence) -> dict[str, NDArray[np.int64]]:
    """Landmark ids by group: contour, upper oval, lids, lips, iris, the rest of the mesh."""
    n = corr.num_landmarks
    group = np.array(["mesh"] * n, dtype=object)
    group[np.asarray(corr.face_oval)] = "upper_oval"
    group[np.asarray(corr.contour)] = "contour"
    group[list(UPPER_LID + LOWER_LID)] = "lids"
    group[list(UPPER_LIP + LOWER_LIP)] = "lip_contours"
    group[468:] = "iris"
    return {g: np.nonzero(group == g)[0] for g in ("mesh", "lids", "lip_contours", "upper_oval", "contour", "iris")}


def detector_error_vectors(
    pipeline: Pipeline, heads: list[StudyHead], synthetic: SyntheticSettings, exact_rounds: int = 0
) -> NDArray[np.float64]:
    """``(H, 478, 2)`` detected − exact landmarks per detected head, in the eye-line frame over the eye distance.

    The :class:`headcast.fitting.fit.LandmarkNoise` convention: ``Rᵀ (q − π(X)) / s`` with R and s from the
    detected outer eye corners; the exact points are the table's (``exact_rounds = 0``) or the contour slid to
    the silhouette.
    """
    model, corr = pipeline.model, pipeline.correspondence
    camera = render_camera(pipeline, synthetic)
    out = []
    for h in heads:
        if h.landmarks is None:
            continue
        q = h.landmarks.points[:, :2]
        exact = exact_landmarks(model, corr, h.head, camera, h.landmarks, exact_rounds).points[:, :2]
        iod = float(np.linalg.norm(q[MP_RIGHT_EYE_OUTER] - q[MP_LEFT_EYE_OUTER]))
        out.append((q - exact) @ eye_line_rotation(q) / iod)
    return np.stack(out)


def print_detector_errors(errors: NDArray[np.float64], corr: Correspondence) -> None:
    """Per group: the mean error's length (a bias the fit reads as shape), the rms, the rms about the mean."""
    bias = errors.mean(axis=0)
    spread = errors - bias
    print(f"detector − exact over {len(errors)} heads (outer-eye-distance units ×1000):")
    print(f"{'group':14s} {'n':>4s} {'|mean|':>8s} {'rms':>8s} {'rms about mean':>15s}")
    for name, ids in landmark_groups(corr).items():
        print(
            f"{name:14s} {len(ids):4d} {1e3 * np.linalg.norm(bias[ids], axis=1).mean():8.2f} "
            f"{1e3 * np.sqrt((errors[:, ids] ** 2).sum(-1).mean()):8.2f} "
            f"{1e3 * np.sqrt((spread[:, ids] ** 2).sum(-1).mean()):15.2f}"
        )


@dataclass(frozen=True, eq=False)
class FixturePhoto:
    """A fixture portrait's detection (for the landmark NME) and its manual annotation, if any."""

    name: str
    landmarks: Landmarks
    tem: NDArray[np.float64] | None


def detect_fixtures(pipeline: Pipeline, folder: Path) -> list[FixturePhoto]:
    """Detect every portrait in ``folder`` once (photos without a face are skipped)."""
    out = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        try:
            photo = load_photo(path, pipeline.settings.photo)
            lm = detect_landmarks(photo, pipeline.detector, pipeline.settings.detector)
        except HeadcastError as exc:
            print(f"{path.name}: skipped ({exc})")
            continue
        tem_path = tem_for_photo(path)
        tem = None if tem_path is None else tem_reference_points(read_tem(tem_path)) * photo.scale
        out.append(FixturePhoto(path.name, lm, tem))
    return out


def fixture_nme(pipeline: Pipeline, photos: list[FixturePhoto], settings: FitSettings) -> tuple[float, float | None]:
    """Median landmark NME vs the detector (``scripts/landmark_nme.py``'s number) and vs the ``.tem`` annotations."""
    det, tem = [], []
    for ph in photos:
        w, h = ph.landmarks.image_size
        fit = fit_head(ph.landmarks, pipeline.model, camera_from_fov(w, h, settings.fov_deg), settings,
                       pipeline.correspondence)  # fmt: skip
        det.append(fit.nme)
        if ph.tem is not None:
            tem.append(nme_vs_tem(mediapipe_tem_points(fit.landmarks_2d), ph.tem))
    return float(np.median(det)), (float(np.median(tem)) if tem else None)


def print_row(name: str, s: dict[str, float]) -> None:
    print(
        f"{name:30s} fit {s['fit_median']:.3f} (mean {s['fit_mean']:.3f})  mean head {s['mean_head_median']:.3f} "
        f"(mean {s['mean_head_mean']:.3f})  ratio {s['ratio']:.3f}  won {int(s['won'])}/{int(s['n'])}  "
        f"|α| {s['alpha_norm']:.1f}  NME {s['nme']:.4f}",
        flush=True,
    )


def load_skins(pipeline: Pipeline, photos_dir: Path, indices: str | None, count: int, cache: Path
               ) -> tuple[list[UVTexture], list[str]]:  # fmt: skip
    """Baked skins of the sorted portraits ``indices`` (all by default), as many as ``count`` heads can wear."""
    photos = sorted(p for p in photos_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if indices is not None:
        photos = [photos[i] for i in parse_indices(indices)]
    photos = photos[: max(1, count)]  # head i wears photos[i % len]: later ones are never used
    return bake_textures(pipeline, photos, cache), [p.stem for p in photos]


def learn_noise(pipeline: Pipeline, args: argparse.Namespace) -> None:
    """Render random heads with the training skins, measure the detector's errors, write the noise model."""
    textures, names = load_skins(pipeline, args.photos, args.train_textures, args.train_count, args.cache)
    synthetic = SyntheticSettings(count=args.train_count, seed=args.train_seed,
                                  expression_shapes=args.train_expression_shapes,
                                  expression_max=args.train_expression_max)
    t0 = time.perf_counter()
    heads = detect_heads(pipeline, textures, names, synthetic, args.cache)
    errors = detector_error_vectors(pipeline, heads, synthetic)
    print(f"training: seed {args.train_seed}, {len(errors)} of {len(heads)} heads detected, skins {', '.join(names)}"
          f" ({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    print_detector_errors(errors, pipeline.correspondence)
    ids = None if args.noise_landmarks is None else np.array(parse_indices(args.noise_landmarks))
    noise = learn_landmark_noise(errors, pipeline.correspondence, ids, shrinkage=args.shrinkage)
    save_landmark_noise(noise, args.learn_noise)
    print(f"wrote {args.learn_noise}: {len(noise.landmark_ids)} landmarks, {noise.factors.shape[0]} factors, "
          f"shrinkage {args.shrinkage}, "
          f"table {noise.table_digest}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="0", help="seed(s) of the test heads, e.g. 0 or 0,1")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--landmarks", choices=("detector", "exact"), default="detector")
    parser.add_argument("--exact-contour", choices=("table", "silhouette"), default="table",
                        help="exact jaw-line points: the table's, or slid to the silhouette as the fitter slides")
    parser.add_argument("--noise-px", type=float, default=0.0, help="i.i.d. pixel noise on exact landmarks")
    parser.add_argument("--variant", action="append", default=[], help="NAME:key=value,key=value (FitSettings)")
    parser.add_argument("--no-base", action="store_true", help="leave out the defaults' row")
    parser.add_argument("--full", action="store_true", help="also run run_synthetic itself per variant (slow)")
    parser.add_argument("--errors", action="store_true", help="print the detector's landmark error per group")
    parser.add_argument("--per-head", action="store_true", help="print each head's medians")
    parser.add_argument("--fixtures", type=Path, default=None, help="also report the landmark NME on these photos")
    parser.add_argument("--textures", default=None, help="photo indices (sorted folder) for the skins, e.g. 0-9")
    parser.add_argument("--learn-noise", type=Path, default=None, help="learn a LandmarkNoise model, write it here")
    parser.add_argument("--train-seed", type=int, default=100)
    parser.add_argument("--train-count", type=int, default=1500)
    parser.add_argument("--train-expression-shapes", type=int, default=SyntheticSettings.expression_shapes,
                        help="active expression shapes per training head (default: as the test heads)")
    parser.add_argument("--train-expression-max", type=float, default=SyntheticSettings.expression_max,
                        help="largest weight of a training head's active shape (default: as the test heads)")
    parser.add_argument("--train-textures", default="10-16", help="skins of the training heads (default: photos "
                        "10-16, which the 10-head experiment never wears)")
    parser.add_argument("--shrinkage", type=float, default=0.003, help="covariance shrinkage of the noise model")
    parser.add_argument("--noise-landmarks", default="0-477", help="landmarks the noise model covers (default all; "
                        "0-467 leaves out the irises, whose gaze the head model does not have)")
    parser.add_argument("--photos", type=Path, default=Path("../shared/fixtures/portraits"))
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "headcast-synthetic-study")
    parser.add_argument("--table", type=Path, default=None, help="a landmark table to use instead of the packaged one")
    parser.add_argument("--assets", type=Path, default=None)
    args = parser.parse_args(argv)

    args.cache.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline.load(PipelineSettings(assets=AssetSettings(assets_dir=args.assets)))
    if args.table is not None:
        pipeline.correspondence = load_correspondence(args.table)
    try:
        if args.learn_noise is not None:
            learn_noise(pipeline, args)
        textures, names = load_skins(pipeline, args.photos, args.textures, args.count, args.cache)
        base = pipeline.settings.fit
        variants = ([] if args.no_base else [("base", {})]) + [parse_variant(v) for v in args.variant]
        fixtures = [] if args.fixtures is None else detect_fixtures(pipeline, args.fixtures)
        exact_rounds = 3 if args.exact_contour == "silhouette" else 0
        seeds = [int(x) for x in args.seed.split(",")]
        data = {}
        for seed in seeds:
            synthetic = SyntheticSettings(count=args.count, seed=seed)
            t0 = time.perf_counter()
            heads = detect_heads(pipeline, textures, names, synthetic, args.cache)
            missed = sum(h.landmarks is None for h in heads)
            print(f"seed {seed}: {len(heads)} heads, {missed} without a detection, landmarks {args.landmarks}"
                  f"{f' + {args.noise_px} px noise' if args.noise_px else ''} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)  # fmt: skip
            if args.errors:
                print_detector_errors(detector_error_vectors(pipeline, heads, synthetic), pipeline.correspondence)
            data[seed] = (synthetic, heads)
        for name, overrides in variants:
            settings = replace(base, **overrides)
            for seed in seeds:
                synthetic, heads = data[seed]
                t0 = time.perf_counter()
                outcomes = fit_heads(pipeline, heads, settings, synthetic, args.landmarks, args.noise_px, exact_rounds)
                print_row(f"{name} s{seed} ({time.perf_counter() - t0:.0f} s)", summary(outcomes))
                if args.per_head:
                    for o in outcomes:
                        print(f"    head {o.index}: fit {np.median(o.fit_mm):.3f}  mean head "
                              f"{np.median(o.mean_head_mm):.3f}  |α| {o.alpha_norm:.1f}  NME {o.nme:.4f}")  # fmt: skip
                if args.full:
                    pipeline.settings = replace(pipeline.settings, fit=settings)
                    res = run_synthetic(pipeline, textures, synthetic)
                    pipeline.settings = replace(pipeline.settings, fit=base)
                    print(f"{'  run_synthetic':30s} fit {np.median(res.distances_mm):.3f}  "
                          f"mean head {np.median(res.mean_head_distances_mm):.3f}", flush=True)  # fmt: skip
            if fixtures:
                det, tem = fixture_nme(pipeline, fixtures, settings)
                tem_text = "n/a" if tem is None else f"{tem:.4f}"
                print(f"{name:30s} fixtures ({len(fixtures)}): NME vs detector {det:.4f}, vs .tem {tem_text}",
                      flush=True)  # fmt: skip
    finally:
        pipeline.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
