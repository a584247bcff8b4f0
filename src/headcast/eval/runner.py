"""The evaluation run behind ``headcast eval``: every metric of ``../shared/docs/EVALUATION.md`` over a photo folder.

Flow (:func:`run_evaluation`):

1. **Pipeline** on every photo (or, with ``reuse_dir``, the fitted parameters and texture of a bundle written by
   ``headcast make``), timing each stage and reading the process peak memory after each photo. This runs before the
   metric networks load, so the peak memory is the pipeline's (plus the avatars held for step 2).
2. **Metrics** per photo (:func:`evaluate_avatar`): face parsing of the photo; the same-view render (fitted camera,
   photo resolution, black background, 2×2 supersampling) compared on the head crop (PSNR, SSIM, ST-LPIPS) and by
   identity (FaceNet DIFD, dlib distance); the same-view squared error split into skin, hair and outline band
   (:mod:`headcast.eval.error_split`); novel views at ``novel_yaws_deg`` (profiles ±90° included) on neutral grey
   (detection rate and identity distances to the photo); the seam score of the photo projection's boundary at
   ``seam_yaws_deg`` (:mod:`headcast.eval.seams`); the front / 45° / 90° views of the contact sheet; landmark NME
   against the detector and, where a ``.tem`` file sits beside the photo, against the manual annotation.
3. **Baselines**, by re-rendering, never re-detecting: ``mean_head`` (identity 0 and expression 0 at the fitted
   pose, the fitted texture) and ``flat_texture`` (the fitted head painted with one skin colour: the median of
   the photo-derived face texels). The fit is the pipeline's (landmarks, then the parsed-outline refinement of
   :mod:`headcast.fitting.refine`; ``headcast eval --refine off`` measures it without); there is no photometric
   refinement stage.
4. **Hair** (:mod:`headcast.eval.hair_metrics`, photos whose avatar has strands): silhouette IoU against the
   photo's hair mask, CIEDE2000 of the median hair colours (render with strands, Kajiya-Kay, fitted camera),
   penetration and root gap of the groom re-aligned by the thesis' anchor method and by the default method.
   Photos with no hair (bald, shaved, no parsing) are counted, not measured. A reused bundle's strands are read
   back from its hair files (:mod:`headcast.eval.bundle_hair`); a bundle without them is rendered bald and its
   hair is reported missing, with a note.
5. **Synthetic ground truth** (:mod:`headcast.eval.synthetic`) with textures baked in step 1.

Nothing here writes files; :mod:`headcast.eval.report` and :mod:`headcast.eval.plots` do.
"""

import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from headcast.avatar import Avatar
from headcast.errors import HeadcastError
from headcast.eval.bundle_hair import BundleHair, read_bundle_hair
from headcast.eval.crops import PixelBox, crop_padded, resize_square, square_box
from headcast.eval.error_split import REGIONS, ErrorSplit, error_split
from headcast.eval.hair_metrics import (
    HairMetrics,
    alignment_metrics,
    eroded,
    hair_delta_e,
    silhouette_iou,
)
from headcast.eval.identity import DlibEmbedder, DlibHogDetector, FaceEmbedder, FaceEmbedding, FaceNetEmbedder
from headcast.eval.image_metrics import STLPIPS, HeadCrops, head_crop, psnr, ssim
from headcast.eval.seams import BACKGROUND_LABEL, HAIR_LABEL, SeamScore, SeamSettings, decode_labels, label_texture
from headcast.eval.seams import seam_score as measure_seam
from headcast.eval.synthetic import SyntheticResult, SyntheticSettings, run_synthetic
from headcast.eval.tem import mediapipe_tem_points, nme_vs_tem, read_tem, tem_for_photo, tem_reference_points
from headcast.fitting.correspondence import landmark_points
from headcast.fitting.metrics import nme
from headcast.fitting.types import FitResult
from headcast.geometry.camera import Camera, project, transform_points
from headcast.hair.display import strands_line_set
from headcast.headmodel.base import HeadParams, head_vertices
from headcast.landmarks.detector import detect_landmarks
from headcast.landmarks.image_io import load_photo
from headcast.options import Options
from headcast.parsing.face import BiSeNetFaceParser, hair_mask, head_mask
from headcast.pipeline import Pipeline
from headcast.render.raster import LineSet, RenderSettings
from headcast.render.views import GREY, render_head, turntable_image
from headcast.texture.atlas import atlas_uv
from headcast.texture.types import UVTexture

MP_OUTER_EYE = (263, 33)
"""MediaPipe outer eye corners (image right, image left): the inter-ocular normaliser of the detector NME."""

BASELINES: tuple[str, ...] = ("mean_head", "flat_texture")
"""Baseline variants rendered beside the full avatar (module docstring, step 3)."""


@dataclass(frozen=True)
class EvalSettings:
    """How the evaluation is run.

    Attributes:
        crop_size: side of the head crops compared by PSNR / SSIM / ST-LPIPS, pixels (EVALUATION.md: 256).
        crop_dilate: relative growth of the head-mask square (EVALUATION.md: 5 %).
        render_supersample: supersampling of the same-view render (2 = 2 × 2 samples per pixel).
        novel_yaws_deg: yaw of the novel views, degrees (pitch 0); ±90 are the profiles.
        novel_size: side of each novel view, pixels (the whole head fits, 20° field of view).
        seam_yaws_deg: yaws of the seam-score views (:mod:`headcast.eval.seams`), rendered like the novel views.
        seam: band and margins of the seam score.
        sheet_yaws_deg: the rendered columns of the front / 45° / 90° contact sheet (``views.png``).
        sheet_size: side of each contact-sheet picture, pixels.
        synthetic: the synthetic ground-truth experiment.
        export: also time ``Pipeline.write`` (GLB, OBJ, previews, zip) into a temporary folder per photo.
        emotion: also evaluate the emotion sliders on the run's avatars (recognisability; smile transfer where
            ``<id>_neutral`` / ``<id>_smiling`` pairs are among the photos), :mod:`headcast.eval.emotion`.
    """

    crop_size: int = 256
    crop_dilate: float = 0.05
    render_supersample: int = 2
    novel_yaws_deg: tuple[float, ...] = (-90.0, -60.0, -30.0, 30.0, 60.0, 90.0)
    novel_size: int = 512
    seam_yaws_deg: tuple[float, ...] = (-90.0, -45.0, 45.0, 90.0)
    seam: SeamSettings = field(default_factory=SeamSettings)
    sheet_yaws_deg: tuple[float, ...] = (0.0, 45.0, 90.0)
    sheet_size: int = 256
    synthetic: SyntheticSettings = field(default_factory=SyntheticSettings)
    export: bool = True
    emotion: bool = True


@dataclass(frozen=True)
class ViewMetrics:
    """Fidelity of one render at the photo's view.

    Attributes:
        psnr: dB on the masked 256² head crops.
        ssim: mean SSIM on the same crops, in [-1, 1].
        st_lpips: shift-tolerant LPIPS (AlexNet) on the same crops, ≥ 0.
        difd: FaceNet DIFD (L2 of unit embeddings, [0, 2]); None when no face was detected in the render/photo.
        dlib: dlib 128-d L2 distance; None when no face was detected.
    """

    psnr: float
    ssim: float
    st_lpips: float
    difd: float | None
    dlib: float | None


@dataclass(frozen=True)
class NovelView:
    """Identity at one novel view.

    Attributes:
        yaw_deg: head yaw, degrees.
        detected: whether the face detector found a face in the render.
        difd: FaceNet DIFD to the photo; None when not detected.
        dlib: dlib distance to the photo; None when not detected.
    """

    yaw_deg: float
    detected: bool
    difd: float | None
    dlib: float | None


@dataclass(frozen=True)
class SeamView:
    """The seam scores at one turned view (:mod:`headcast.eval.seams`).

    Attributes:
        yaw_deg: head yaw, degrees.
        outer: the projection's outline (enclosed eye, nostril and mouth holes counted as photo); None when the
            view shows no such boundary (or too little skin on either side).
        all: every 0.5 crossing of the coverage, the holes' rims included; None likewise.
    """

    yaw_deg: float
    outer: SeamScore | None
    all: SeamScore | None

    @property
    def score(self) -> float | None:
        """The outer seam score, or None."""
        return None if self.outer is None else self.outer.score

    @property
    def score_all(self) -> float | None:
        """The all-crossings seam score, or None."""
        return None if self.all is None else self.all.score


@dataclass(frozen=True, eq=False)
class SheetImages:
    """Small pictures kept for the contact sheets.

    Attributes:
        photo: ``(S, S, 3)`` uint8 masked head crop of the photo.
        render: ``(S, S, 3)`` uint8 masked head crop of the render.
        error: ``(S, S)`` float32 mean absolute RGB difference in [0, 255], NaN outside the head mask.
        novel: ``(n, s, s, 3)`` uint8 novel views.
        photo_head: ``(t, t, 3)`` uint8 the photo's head box (the crop's square, unmasked).
        turns: ``(k, t, t, 3)`` uint8 the views at ``EvalSettings.sheet_yaws_deg`` (grey background, with hair).
        turn_yaws_deg: the yaws of ``turns``.
    """

    photo: NDArray[np.uint8]
    render: NDArray[np.uint8]
    error: NDArray[np.float32]
    novel: NDArray[np.uint8]
    photo_head: NDArray[np.uint8] | None = None
    turns: NDArray[np.uint8] | None = None
    turn_yaws_deg: tuple[float, ...] = ()


@dataclass(frozen=True, eq=False)
class ImageResult:
    """Everything measured on one photo.

    Attributes:
        photo: the photo's file name.
        error: why the photo could not be evaluated (then every metric field is None / empty).
        fidelity: the avatar at the photo's view.
        baselines: ``{name: metrics}`` for :data:`BASELINES`.
        novel: per novel view.
        nme_detector: fitted landmarks vs the detector's (all 478), outer-eye normalised.
        nme_mean_head: the mean head at the fitted pose vs the detector (baseline).
        nme_tem: fitted points vs the manual ``.tem`` annotation (9 points, inter-pupil normalised).
        nme_tem_detector: the detector's points vs the ``.tem`` annotation (the detector's own error, a floor).
        timings: wall seconds per pipeline stage (``load``, ``detect``, ``fit``, ``texture``, ``export``) and per
            evaluation step (``eval_*``).
        peak_rss_mib: process peak resident memory after this photo's pipeline run, MiB.
        sheet: pictures for the contact sheets.
        hair: the hair metrics (None when the avatar has no strands).
        hair_status: ``"hair"`` (measured), ``"bald"`` (the hair stage found no hair: excluded, counted) or
            ``"off"`` (no hair stage: hair off, face parsing unavailable, or a reused bundle without hair files).
        error_split: the same-view squared error by region (skin, hair, outline band).
        seams: the seam score per view of ``EvalSettings.seam_yaws_deg``.
    """

    photo: str
    error: str | None = None
    fidelity: ViewMetrics | None = None
    baselines: dict[str, ViewMetrics] = field(default_factory=dict)
    novel: tuple[NovelView, ...] = ()
    nme_detector: float | None = None
    nme_mean_head: float | None = None
    nme_tem: float | None = None
    nme_tem_detector: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss_mib: float | None = None
    sheet: SheetImages | None = None
    hair: HairMetrics | None = None
    hair_status: str = "off"
    error_split: ErrorSplit | None = None
    seams: tuple[SeamView, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the photo was evaluated."""
        return self.error is None

    def novel_detection_rate(self, profiles_only: bool = False) -> float | None:
        """Share of novel views (or of the ±90° profiles only) with a detected face, in [0, 1]; None without any."""
        views = [v for v in self.novel if not profiles_only or is_profile(v.yaw_deg)]
        return None if not views else sum(v.detected for v in views) / len(views)

    def metrics(self) -> dict[str, float | None]:
        """The scalar metrics of this photo, keyed as in the report (see :data:`METRIC_INFO`)."""
        f = self.fidelity

        def mean_of(values: Sequence[float | None]) -> float | None:
            got = [v for v in values if v is not None]
            return float(np.mean(got)) if got else None

        out: dict[str, float | None] = {
            "psnr": f.psnr if f else None,
            "ssim": f.ssim if f else None,
            "st_lpips": f.st_lpips if f else None,
            "difd": f.difd if f else None,
            "dlib": f.dlib if f else None,
            "novel_detection_rate": self.novel_detection_rate(),
            "novel_difd": mean_of([v.difd for v in self.novel]),
            "novel_dlib": mean_of([v.dlib for v in self.novel]),
            "profile_detection_rate": self.novel_detection_rate(profiles_only=True),
            "profile_difd": mean_of([v.difd for v in self.novel if is_profile(v.yaw_deg)]),
            "profile_dlib": mean_of([v.dlib for v in self.novel if is_profile(v.yaw_deg)]),
            "seam_score": mean_of([v.score for v in self.seams]),
            "seam_score_all": mean_of([v.score_all for v in self.seams]),
            "nme_detector": self.nme_detector,
            "nme_tem": self.nme_tem,
            "nme_tem_detector": self.nme_tem_detector,
            "nme_mean_head": self.nme_mean_head,
        }
        for region in REGIONS:
            r = None if self.error_split is None else self.error_split.region(region)
            out[f"error_share_{region}"] = None if r is None else r.error_share
            out[f"pixel_share_{region}"] = None if r is None else r.pixel_share
            out[f"psnr_{region}"] = None if r is None else r.psnr
        out.update({f"hair_{k}": None for k in HAIR_KEYS} if self.hair is None else
                   {f"hair_{k}": getattr(self.hair, k) for k in HAIR_KEYS})
        for name, m in self.baselines.items():
            out.update({f"{name}.{k}": v for k, v in vars(m).items()})
        return out


def is_profile(yaw_deg: float) -> bool:
    """Whether a view is a profile (|yaw| = 90°)."""
    return abs(abs(yaw_deg) - 90.0) < 1e-6


HAIR_KEYS: tuple[str, ...] = (
    "iou", "delta_e", "penetration_anchor", "root_gap_mm_anchor", "penetration_default", "root_gap_mm_default",
)
"""Fields of :class:`HairMetrics`, reported as ``hair_<field>``."""

METRIC_INFO: dict[str, tuple[str, str]] = {
    "psnr": ("dB", "db"),
    "ssim": ("", "ssim"),
    "st_lpips": ("", "nonneg"),
    "difd": ("", "distance"),
    "dlib": ("", "distance"),
    "novel_detection_rate": ("", "rate"),
    "novel_difd": ("", "distance"),
    "novel_dlib": ("", "distance"),
    "profile_detection_rate": ("", "rate"),
    "profile_difd": ("", "distance"),
    "profile_dlib": ("", "distance"),
    "seam_score": ("", "nonneg"),
    "seam_score_all": ("", "nonneg"),
    "error_share_skin": ("", "rate"),
    "error_share_hair": ("", "rate"),
    "error_share_outline": ("", "rate"),
    "pixel_share_skin": ("", "rate"),
    "pixel_share_hair": ("", "rate"),
    "pixel_share_outline": ("", "rate"),
    "psnr_skin": ("dB", "db"),
    "psnr_hair": ("dB", "db"),
    "psnr_outline": ("dB", "db"),
    "nme_detector": ("", "nonneg"),
    "nme_tem": ("", "nonneg"),
    "nme_tem_detector": ("", "nonneg"),
    "nme_mean_head": ("", "nonneg"),
    "hair_iou": ("", "rate"),
    "hair_delta_e": ("", "nonneg"),
    "hair_penetration_anchor": ("", "rate"),
    "hair_root_gap_mm_anchor": ("mm", "nonneg"),
    "hair_penetration_default": ("", "rate"),
    "hair_root_gap_mm_default": ("mm", "nonneg"),
}
"""``{metric key: (unit, range kind)}``; kinds: ``db`` > 0, ``ssim`` in [-1, 1], ``nonneg`` ≥ 0, ``distance`` ≥ 0,
``rate`` in [0, 1]. Baseline keys ``"<baseline>.<metric>"`` take the kind of ``<metric>``."""


def metric_kind(key: str) -> str:
    """The range kind of a metric key (:data:`METRIC_INFO`), baseline prefixes removed."""
    return METRIC_INFO[key.rsplit(".", 1)[-1]][1]


@dataclass(eq=False)
class MetricModels:
    """The networks the metrics run (each loads lazily; :meth:`load` loads all)."""

    parser: BiSeNetFaceParser
    lpips: STLPIPS
    facenet: FaceNetEmbedder
    dlib: DlibEmbedder

    @classmethod
    def create(cls) -> "MetricModels":
        """One shared dlib HOG detector for both embedders (the same detector for photo and render)."""
        detector = DlibHogDetector()
        return cls(BiSeNetFaceParser(), STLPIPS(), FaceNetEmbedder(detector), DlibEmbedder(detector))

    def load(self) -> None:
        """Load every network now (raises :class:`headcast.eval.MissingEvalDependencyError` if one is missing)."""
        self.parser.load()
        self.lpips.load()
        self.facenet.load()
        self.dlib.load()


@dataclass(frozen=True, eq=False)
class EvalRun:
    """The outcome of :func:`run_evaluation`.

    Attributes:
        images: one result per photo, in input order.
        synthetic: the synthetic ground-truth experiment (None when it could not run).
        pipeline_peak_rss_mib: process peak memory after the pipeline stage of all photos, before the metric
            networks loaded, MiB.
        total_seconds: wall time of the whole evaluation.
        notes: remarks for the report (reused bundles, skipped synthetic heads, ...).
        emotion: the emotion section (:func:`headcast.eval.emotion.emotion_report`), None when not run.
    """

    images: tuple[ImageResult, ...]
    synthetic: SyntheticResult | None
    pipeline_peak_rss_mib: float
    total_seconds: float
    notes: tuple[str, ...] = ()
    emotion: dict[str, Any] | None = None


def peak_rss_mib() -> float:
    """The process' peak resident set size so far, MiB (``getrusage``; Linux reports KiB, macOS bytes)."""
    peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


# ------------------------------------------------------------------------------------------------- avatars


def fitted_landmarks(pipeline: Pipeline, params: HeadParams, camera: Camera) -> tuple[NDArray[np.float64], ...]:
    """``(478, 2)`` MediaPipe and ``(68, 2)`` iBUG-68 points of a head, projected into the photo, pixels."""
    model = pipeline.model
    verts_cam = transform_points(head_vertices(model, params), params.pose)
    mp = project(landmark_points(verts_cam, model.triangles, pipeline.correspondence), camera)
    ibug = project(verts_cam[np.asarray(model.landmarks68)], camera)
    return mp, ibug


def avatar_from_bundle(pipeline: Pipeline, photo_path: Path, bundle_dir: Path) -> tuple[Avatar, BundleHair]:
    """Rebuild an :class:`Avatar` from a ``headcast make`` bundle (``params.json``, ``texture.png``, hair files).

    The photo is reloaded and re-detected (the detector's landmarks are a metric's reference); fitting, texturing
    and the hair stage are not re-run: the strands come back from ``hair.data`` + ``hair.json``
    (:func:`headcast.eval.bundle_hair.read_bundle_hair`; the returned :class:`BundleHair` says what was found).
    The bundle does not store the texture's photo coverage, so the ``flat_texture`` baseline of a reused avatar
    takes the median over the whole atlas and its seam score is missing. A de-lit texture gets its lighting back
    from ``params.json`` (``lighting``), so its renders are relit as the pipeline's are.

    Raises:
        headcast.export.params.ParamsFileError: ``params.json`` is missing or invalid.
        headcast.errors.InputImageError: the photo or texture cannot be read.
    """
    from headcast.export.params import load_params_document
    from headcast.texture.albedo import delight_map, face_strength
    from headcast.texture.maps import atlas_maps

    s = pipeline.settings
    timings: dict[str, float] = {}
    start = time.perf_counter()
    photo = load_photo(photo_path, s.photo)
    timings["load"] = time.perf_counter() - start
    start = time.perf_counter()
    landmarks = detect_landmarks(photo, pipeline.detector, s.detector)
    timings["detect"] = time.perf_counter() - start
    doc = load_params_document(bundle_dir / "params.json")
    params, camera = doc.head_params(pipeline.model), doc.camera_model()
    camera = camera.scaled(photo.scale) if photo.scale != 1.0 else camera
    mp, ibug = fitted_landmarks(pipeline, params, camera)
    fit = FitResult(params, camera, mp, ibug, nme(mp, landmarks.points[:, :2], *MP_OUTER_EYE))
    tex = load_photo(bundle_dir / "texture.png", s.photo).pixels
    # an albedo texture is relit by the renders with the lighting its bake divided out (params.json "lighting"),
    # per texel as the bake did it, taking the face as fully seen (the bundle holds no coverage; the nose's unseen
    # texels, kept as photographed by the bake, are relit too)
    light, strength, strength_map = None, 0.0, None
    if doc.lighting is not None:
        light, strength = doc.lighting.estimate(), doc.lighting.delight_strength
        maps = atlas_maps(pipeline.model, tex.shape[0], pipeline.renderer)
        face = face_strength(maps, s.texture, strength)
        strength_map = delight_map(maps, face, np.ones_like(face), strength)
    texture = UVTexture(tex, atlas_uv(pipeline.model, tex.shape[0]), np.zeros(tex.shape[:2], np.float32), light,
                        strength, strength_map)
    hair = read_bundle_hair(bundle_dir)
    avatar = Avatar(photo, landmarks, fit, texture, pipeline.model, timings, ("reused bundle " + str(bundle_dir),),
                    hair=hair.strands, hair_report=hair.report)
    return avatar, hair


# ------------------------------------------------------------------------------------------------- metrics


def flat_skin_texture(texture: UVTexture, min_coverage: float = 0.5) -> UVTexture:
    """The same atlas painted with one colour: the per-channel median of the photo-derived texels.

    Args:
        texture: a baked atlas; texels with ``coverage ≥ min_coverage`` count as the photo's face.
        min_coverage: threshold on ``texture.coverage``; when no texel passes, all texels are used.
    """
    mask = texture.coverage >= min_coverage
    pixels = texture.image[mask] if mask.any() else texture.image.reshape(-1, 3)
    colour = np.median(pixels.reshape(-1, 3), axis=0).round().astype(np.uint8)
    image = np.broadcast_to(colour, texture.image.shape).copy()
    return UVTexture(image, texture.uv, texture.coverage)


def error_map(crops: HeadCrops) -> NDArray[np.float32]:
    """``(S, S)`` mean absolute RGB difference of the crops in [0, 255], NaN outside the head mask."""
    diff = np.abs(crops.photo.astype(np.float32) - crops.render.astype(np.float32)).mean(axis=2)
    return np.where(crops.mask, diff, np.nan).astype(np.float32)


def _embedding_distance(embedder: FaceEmbedder, ref: FaceEmbedding | None, image: NDArray[np.uint8]) -> float | None:
    if ref is None:
        return None
    emb = embedder.embed_face(image)
    return None if emb is None else embedder.distance(ref, emb)


def view_metrics(
    photo: NDArray[np.uint8],
    render_rgb: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    models: MetricModels,
    refs: tuple[FaceEmbedding | None, FaceEmbedding | None],
    settings: EvalSettings,
) -> tuple[ViewMetrics, HeadCrops]:
    """PSNR / SSIM / ST-LPIPS on the masked head crops and identity distances on the full images.

    Args:
        photo: ``(H, W, 3)`` uint8 RGB.
        render_rgb: ``(H, W, 3)`` uint8 RGB render at the photo's camera, black background.
        mask: ``(H, W)`` bool, the photo's head mask.
        models: the metric networks.
        refs: the photo's FaceNet and dlib embeddings (None when no face was detected in the photo).
        settings: crop size and dilation.
    """
    crops = head_crop(photo, render_rgb, mask, settings.crop_size, settings.crop_dilate)
    metrics = ViewMetrics(
        psnr=psnr(crops.photo, crops.render),
        ssim=ssim(crops.photo, crops.render),
        st_lpips=models.lpips.distance(crops.photo, crops.render),
        difd=_embedding_distance(models.facenet, refs[0], render_rgb),
        dlib=_embedding_distance(models.dlib, refs[1], render_rgb),
    )
    return metrics, crops


def crop_mask(mask: NDArray[np.bool_], crops: HeadCrops) -> NDArray[np.bool_]:
    """An ``(H, W)`` photo-sized mask cut and resized like the head crops (as a fraction, kept where ≥ 0.5)."""
    frac = resize_square(crop_padded(np.asarray(mask, np.float32), crops.box), crops.mask.shape[0])
    return np.asarray(frac >= 0.5)


def content_box(images: Sequence[NDArray[np.uint8]], background: int, margin: float = 0.04) -> PixelBox:
    """The square around what is drawn in any of ``images`` (same size), grown by ``margin`` of its side.

    Drawn: a pixel that differs from the flat ``background`` level in a channel. The whole image when nothing is.
    """
    h, w = images[0].shape[:2]
    drawn = np.zeros((h, w), bool)
    for img in images:
        drawn |= np.any(img != background, axis=2)
    if not drawn.any():
        return PixelBox(0, 0, w, h)
    ys, xs = np.nonzero(drawn)
    side = (1.0 + margin) * max(xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min())
    return square_box(0.5 * (xs.min() + xs.max() + 1), 0.5 * (ys.min() + ys.max() + 1), side)


def turned_views(
    pipeline: Pipeline, avatar: Avatar, yaws_deg: Sequence[float], size: int, strands: Sequence[LineSet]
) -> dict[float, NDArray[np.uint8]]:
    """``{yaw: (size, size, 3) uint8}``: the avatar turned to each yaw on neutral grey (2 × 2 samples).

    Lambert under the renderer's light, or, for a de-lit texture, its estimated light fixed in the room while the
    head turns (:mod:`headcast.render.views`).
    """
    yaws = [float(y) for y in yaws_deg]
    strip = turntable_image(avatar.model, avatar.fit.params, avatar.texture, yaws_deg=yaws, size=size,
                            strands=strands, renderer=pipeline.renderer)
    return {y: np.ascontiguousarray(strip[:, i * size : (i + 1) * size]) for i, y in enumerate(yaws)}


def seam_views(
    pipeline: Pipeline, avatar: Avatar, colour: dict[float, NDArray[np.uint8]], strands: Sequence[LineSet],
    settings: EvalSettings,
) -> tuple[SeamView, ...]:
    """The seam score at every ``settings.seam_yaws_deg`` (:mod:`headcast.eval.seams`).

    The coverage and skin labels are rendered with the colour views' poses (:func:`turned_views`, same size),
    unlit and with one sample per pixel, from :func:`headcast.eval.seams.label_texture`; the strands are drawn in
    :data:`~headcast.eval.seams.HAIR_LABEL` so that they hide the skin behind them as in the colour render. Each
    view gets the outer and the all-crossings score.
    """
    yaws = [float(y) for y in settings.seam_yaws_deg]
    labels = label_texture(avatar.texture, avatar.model)
    lines = [LineSet(s.vertices, s.segments, np.broadcast_to(np.asarray(HAIR_LABEL, np.float32), s.colors.shape).copy())
             for s in strands]
    rs = RenderSettings(shading="unlit", background=BACKGROUND_LABEL, supersample=1, strand_shading="flat")
    n = settings.novel_size
    strip = turntable_image(avatar.model, avatar.fit.params, labels, yaws_deg=yaws, size=n, settings=rs,
                            strands=lines, renderer=pipeline.renderer)
    out = []
    for i, yaw in enumerate(yaws):
        coverage, outer, skin = decode_labels(strip[:, i * n : (i + 1) * n])
        out.append(SeamView(yaw, measure_seam(colour[yaw], outer, skin, settings.seam),
                            measure_seam(colour[yaw], coverage, skin, settings.seam)))
    return tuple(out)


def evaluate_avatar(
    pipeline: Pipeline,
    avatar: Avatar,
    models: MetricModels,
    settings: EvalSettings,
    tem_path: Path | None,
    hair_from_bundle: bool = False,
) -> ImageResult:
    """Every per-photo metric of the module docstring for one avatar (timings added under ``eval_*``).

    ``hair_from_bundle``: the strands were read back from a bundle (:func:`avatar_from_bundle`), so the hair
    stage's photo analysis is recomputed for the hair metrics (:func:`evaluate_hair`).
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[f"eval_{name}"] = now - clock
        clock = now

    photo = avatar.photo.pixels
    classes = models.parser.parse_face(photo)
    mask = head_mask(classes)
    refs = (models.facenet.embed_face(photo), models.dlib.embed_face(photo))
    lap("parse_embed")

    rs = RenderSettings(background=(0.0, 0.0, 0.0), supersample=2 if settings.render_supersample == 2 else 1)
    model, fit, camera = avatar.model, avatar.fit, avatar.fit.camera

    # EVALUATION.md: head + hair. The baselines wear the same strands (rooted on the fitted head).
    hair_lines = [] if avatar.hair is None else [strands_line_set(avatar.hair)]

    def render_rgba(params: HeadParams, texture: UVTexture) -> NDArray[np.uint8]:
        out = render_head(model, params, texture, camera, settings=rs, strands=hair_lines, renderer=pipeline.renderer)
        return np.ascontiguousarray(out.color)

    def render(params: HeadParams, texture: UVTexture) -> NDArray[np.uint8]:
        return np.ascontiguousarray(render_rgba(params, texture)[..., :3])

    full = render_rgba(fit.params, avatar.texture)
    fidelity, crops = view_metrics(photo, np.ascontiguousarray(full[..., :3]), mask, models, refs, settings)
    photo_hair = hair_mask(classes)
    split = error_split(crops.photo, crops.render, crops.mask, crop_mask(photo_hair, crops),
                        crop_mask(full[..., 3] >= 128, crops))
    lap("same_view")

    mean_params = replace(
        fit.params, identity=np.zeros_like(fit.params.identity), expression=np.zeros_like(fit.params.expression),
        warp=None,
    )
    baselines = {
        "mean_head": view_metrics(photo, render(mean_params, avatar.texture), mask, models, refs, settings)[0],
        "flat_texture": view_metrics(
            photo, render(fit.params, flat_skin_texture(avatar.texture)), mask, models, refs, settings
        )[0],
    }
    lap("baselines")

    wanted = (*settings.novel_yaws_deg, *settings.seam_yaws_deg, *settings.sheet_yaws_deg)
    views = turned_views(pipeline, avatar, sorted({float(y) for y in wanted}), settings.novel_size, hair_lines)
    novel_imgs = [views[float(y)] for y in settings.novel_yaws_deg]
    novel = []
    for yaw, img in zip(settings.novel_yaws_deg, novel_imgs, strict=True):
        fn = models.facenet.embed_face(img)
        dl = models.dlib.embed_face(img)
        novel.append(
            NovelView(
                yaw_deg=float(yaw),
                detected=fn is not None,
                difd=None if fn is None or refs[0] is None else models.facenet.distance(refs[0], fn),
                dlib=None if dl is None or refs[1] is None else models.dlib.distance(refs[1], dl),
            )
        )
    lap("novel_views")
    seams = seam_views(pipeline, avatar, views, hair_lines, settings)
    lap("seams")

    detected = avatar.landmarks.points[:, :2]
    nme_det = nme(fit.landmarks_2d, detected, *MP_OUTER_EYE)
    mean_mp, _ = fitted_landmarks(pipeline, mean_params, camera)
    nme_mean = nme(mean_mp, detected, *MP_OUTER_EYE)
    nme_tem = nme_tem_det = None
    if tem_path is not None:
        ref = tem_reference_points(read_tem(tem_path)) * avatar.photo.scale
        nme_tem = nme_vs_tem(mediapipe_tem_points(fit.landmarks_2d), ref)
        nme_tem_det = nme_vs_tem(mediapipe_tem_points(detected), ref)
    lap("landmarks")

    thumb = 160
    import cv2

    small = np.stack([cv2.resize(v, (thumb, thumb), interpolation=cv2.INTER_AREA) for v in novel_imgs]).astype(np.uint8)
    t = settings.sheet_size
    shown = [views[float(y)] for y in settings.sheet_yaws_deg]
    box = content_box(shown, round(255 * GREY[0]))
    turns = np.stack([resize_square(crop_padded(v, box, "edge"), t) for v in shown]).astype(np.uint8)
    sheet = SheetImages(crops.photo, crops.render, error_map(crops), small,
                        photo_head=resize_square(crop_padded(photo, crops.box), t), turns=turns,
                        turn_yaws_deg=tuple(float(y) for y in settings.sheet_yaws_deg))
    hair, hair_status = evaluate_hair(pipeline, avatar, photo_hair, settings,
                                      classes=classes if hair_from_bundle else None)
    lap("hair")
    return ImageResult(
        photo=avatar.photo.source.name if avatar.photo.source is not None else "",
        fidelity=fidelity,
        baselines=baselines,
        novel=tuple(novel),
        nme_detector=nme_det,
        nme_mean_head=nme_mean,
        nme_tem=nme_tem,
        nme_tem_detector=nme_tem_det,
        timings={**avatar.timings, **timings},
        sheet=sheet,
        hair=hair,
        hair_status=hair_status,
        error_split=split,
        seams=seams,
    )


def evaluate_hair(
    pipeline: Pipeline,
    avatar: Avatar,
    photo_hair: NDArray[np.bool_],
    settings: EvalSettings,
    classes: NDArray[np.uint8] | None = None,
) -> tuple[HairMetrics | None, str]:
    """The hair metrics of one avatar and its status (:attr:`ImageResult.hair_status`).

    Args:
        pipeline: the loaded pipeline (renderer).
        avatar: the avatar; its ``hair_report`` tells whether the hair stage ran and found hair.
        photo_hair: ``(H, W)`` bool, the photo's BiSeNet hair mask.
        settings: supersampling of the render.
        classes: ``(H, W)`` face-parsing classes of the photo; when given and the report carries no photo
            analysis (strands read back from a bundle), the analysis is made again as the hair stage makes it
            (same settings), for the hairline height of the re-aligned head.
    """
    report = avatar.hair_report
    if report is None:
        return None, "off"
    strands = avatar.hair
    if strands is None or strands.num_strands == 0:
        return None, "bald"
    from headcast.hair.head import hairline_height, prepare_head
    from headcast.render.views import render_avatar

    model, fit = avatar.model, avatar.fit
    iou = silhouette_iou(strands, fit, model, photo_hair, pipeline.renderer)
    rs = RenderSettings(background=(0.0, 0.0, 0.0), supersample=2 if settings.render_supersample == 2 else 1,
                        strand_shading="kajiya_kay")
    bare = render_avatar(avatar, settings=rs, renderer=pipeline.renderer)
    full = render_avatar(avatar, settings=rs, renderer=pipeline.renderer, strands=[strands_line_set(strands)])
    drawn = np.isfinite(full.depth) & ~(full.depth >= bare.depth - 1e-4)  # hair in front of the head or off it
    delta_e = hair_delta_e(avatar.photo.pixels, eroded(photo_hair), np.ascontiguousarray(full.color[..., :3]),
                           eroded(drawn))
    a = report.analysis
    if a is None and classes is not None:
        from headcast.hair.analysis import analyse_hair

        a = analyse_hair(avatar.photo.pixels, classes, fit.landmarks68_2d, pipeline.settings.hair.analysis)
    front = 1.0 if a is None else hairline_height(a.hairline_y, fit.landmarks68_2d, a.fringe)
    head = prepare_head(model, fit.params, front_height=front)
    pen_a, gap_a, pen_d, gap_d = alignment_metrics(strands, head)
    return HairMetrics(iou, delta_e, pen_a, gap_a, pen_d, gap_d), "hair"


# ---------------------------------------------------------------------------------------------------- run


def _run_pipeline(
    pipeline: Pipeline, photo: Path, options: Options, reuse_dir: Path | None, export: bool
) -> tuple[Avatar, dict[str, float], BundleHair | None]:
    if reuse_dir is not None:
        avatar, hair = avatar_from_bundle(pipeline, photo, reuse_dir / photo.stem)
        return avatar, {}, hair
    avatar = pipeline.make(photo, options)
    extra: dict[str, float] = {}
    if export:
        with tempfile.TemporaryDirectory(prefix="headcast-eval-") as tmp:
            start = time.perf_counter()
            pipeline.write(avatar, Path(tmp))
            extra["export"] = time.perf_counter() - start
    return avatar, extra, None


def reuse_notes(hair: Sequence[BundleHair]) -> list[str]:
    """The report's notes on the hair of reused bundles: how many were restored, and every bundle rendered bald."""
    if not hair:
        return []
    restored = [h for h in hair if h.status == "restored"]
    notes = [f"hair of reused bundles: strands restored from hair.data/hair.hair + hair.json for {len(restored)} "
             f"of {len(hair)} (render strands and colours; guides and root UVs are not restored and not used); "
             f"{sum(h.status == 'bald' for h in hair)} bald by the hair stage"]
    notes += [f"rendered without hair, hair metrics missing: {h.note}" for h in hair
              if h.status in ("absent", "unreadable")]
    return notes


def run_evaluation(
    pipeline: Pipeline,
    photos: Sequence[Path],
    settings: EvalSettings,
    options: Options,
    models: MetricModels | None = None,
    reuse_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvalRun:
    """Evaluate the avatars of ``photos`` (module docstring).

    Args:
        pipeline: the loaded pipeline (its settings are the ones evaluated).
        photos: the portraits.
        settings: the evaluation settings.
        options: the avatars' options (``headcast eval``: the defaults, as EVALUATION.md asks).
        models: the metric networks; created when None.
        reuse_dir: a folder of ``headcast make`` bundles (``<reuse_dir>/<photo stem>/params.json``) whose fits are
            evaluated instead of running the pipeline.
        progress: called with one line per step (e.g. ``print`` to stderr).

    Returns:
        The per-photo results, the synthetic experiment and memory/time totals.
    """
    say = progress if progress is not None else (lambda _msg: None)
    start = time.perf_counter()
    notes: list[str] = []
    if reuse_dir is not None:
        notes.append(f"fits reused from bundles in {reuse_dir} (fitting, texturing and the hair stage were not "
                     "re-run); the bundles hold no texture coverage, so seam scores are missing")
    avatars: dict[int, Avatar] = {}
    bundle_hair: list[BundleHair] = []
    failures: dict[int, ImageResult] = {}
    extras: dict[int, dict[str, float]] = {}
    peaks: dict[int, float] = {}
    for i, photo in enumerate(photos):
        say(f"[{i + 1}/{len(photos)}] pipeline: {photo.name}")
        try:
            avatar, extra, hair = _run_pipeline(pipeline, photo, options, reuse_dir, settings.export)
        except HeadcastError as err:
            failures[i] = ImageResult(photo.name, error=f"{type(err).__name__}: {err}")
            continue
        avatars[i], extras[i], peaks[i] = avatar, extra, peak_rss_mib()
        bundle_hair += [] if hair is None else [hair]
    pipeline_peak = peak_rss_mib()
    notes += reuse_notes(bundle_hair)

    models = MetricModels.create() if models is None else models
    models.load()
    results: list[ImageResult] = []
    for i, photo in enumerate(photos):
        if i in failures:
            results.append(failures[i])
            continue
        say(f"[{i + 1}/{len(photos)}] metrics: {photo.name}")
        res = evaluate_avatar(pipeline, avatars[i], models, settings, tem_for_photo(photo),
                              hair_from_bundle=reuse_dir is not None)
        results.append(
            replace(res, photo=photo.name, timings={**res.timings, **extras[i]}, peak_rss_mib=peaks[i])
        )

    synthetic = None
    textures = [avatars[i].texture for i in sorted(avatars)]
    if settings.synthetic.count > 0 and textures:
        say(f"synthetic: {settings.synthetic.count} heads")
        synthetic = run_synthetic(pipeline, textures, settings.synthetic, progress=say)
    elif settings.synthetic.count > 0:
        notes.append("synthetic heads skipped: no photo gave a texture")
    emotion = None
    if settings.emotion and avatars:
        say("emotion: recognisability and smile transfer")
        from headcast.eval.emotion import emotion_report

        emotion = emotion_report({photos[i].stem: avatars[i] for i in sorted(avatars)},
                                 {photos[i].stem: photos[i] for i in sorted(avatars)}, pipeline.emotion_model,
                                 pipeline.detector, pipeline.renderer, pipeline.settings.photo)
    return EvalRun(tuple(results), synthetic, pipeline_peak, time.perf_counter() - start, tuple(notes), emotion)


FAST_PHOTOS = 3
"""Photos evaluated by ``--fast``."""
FAST_SYNTHETIC = 2
"""Synthetic heads in ``--fast``."""


def choose_photos(photos: Sequence[Path], fast: bool, limit: int | None) -> list[Path]:
    """The photos to evaluate, sorted; at most ``limit``.

    With ``fast``: :data:`FAST_PHOTOS` evenly spread over the sorted list (one with a ``.tem`` annotation among
    them when the folder has any).

    Example:
        >>> [p.name for p in choose_photos([Path(f"{i}.jpg") for i in range(7)], fast=True, limit=None)]
        ['0.jpg', '3.jpg', '6.jpg']
    """
    chosen = sorted(photos)
    if fast and len(chosen) > FAST_PHOTOS:
        idx = np.linspace(0, len(chosen) - 1, FAST_PHOTOS).round().astype(int)
        picked = [chosen[i] for i in idx]
        annotated = [p for p in chosen if tem_for_photo(p) is not None]
        if annotated and not any(tem_for_photo(p) is not None for p in picked):
            picked[len(picked) // 2] = annotated[len(annotated) // 2]
        chosen = picked
    return chosen if limit is None else chosen[: max(0, limit)]
