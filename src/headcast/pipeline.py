"""The face-avatar pipeline: photo → landmarks → fit → texture → avatar → files.

Everything is configured by one :class:`PipelineSettings` passed in; :func:`load_pipeline` loads the model files
once (reused across a batch) and :func:`make_avatar` runs the stages, timing each.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from headcast.assets import AssetSettings
from headcast.avatar import Avatar
from headcast.emotion import load_packaged_model, with_emotion_state
from headcast.errors import OptionalComponentError
from headcast.export.bundle import BundleManifest, write_bundle
from headcast.export.glb import prepare_glb_export
from headcast.export.obj import prepare_obj_export
from headcast.export.settings import ExportSettings
from headcast.fitting.correspondence import Correspondence, load_correspondence
from headcast.fitting.fit import fit_head
from headcast.fitting.settings import FitSettings
from headcast.geometry.camera import camera_from_fov
from headcast.hair.display import strands_line_set
from headcast.hair.stage import HairSettings, hair_files, make_hair, settings_without_parsing
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.ict import load_ict_facekit
from headcast.landmarks.detector import FaceDetector, detect_landmarks
from headcast.landmarks.image_io import load_photo
from headcast.landmarks.settings import DetectorSettings, PhotoSettings
from headcast.landmarks.types import Photo
from headcast.render.context import Renderer
from headcast.render.raster import RenderSettings
from headcast.render.views import TURNTABLE_SETTINGS, preview_image, render_avatar, turntable_image
from headcast.texture.bake import bake_texture
from headcast.texture.maps import atlas_maps
from headcast.texture.settings import TextureSettings


@dataclass(frozen=True)
class ViewSettings:
    """Pictures written beside the 3D files.

    Attributes:
        preview_max_side: the preview render's longer side, pixels (the photo's camera, scaled).
        turntable_yaws_deg: yaw angles of the turntable views, degrees.
        turntable_size: side of each turntable view, pixels.
    """

    preview_max_side: int = 640
    turntable_yaws_deg: tuple[float, ...] = (-90.0, -60.0, -30.0, 0.0, 30.0, 60.0, 90.0)
    turntable_size: int = 320


@dataclass(frozen=True)
class PipelineSettings:
    """All settings of one run, per stage.

    ``blas_threads`` caps BLAS threads while a photo is processed: the fit's matrices are small, and several BLAS
    threads fighting over two cores made it 5-25x slower.
    """

    assets: AssetSettings = field(default_factory=AssetSettings)
    photo: PhotoSettings = field(default_factory=PhotoSettings)
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    fit: FitSettings = field(default_factory=FitSettings)
    texture: TextureSettings = field(default_factory=TextureSettings)
    views: ViewSettings = field(default_factory=ViewSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    hair: HairSettings = field(default_factory=HairSettings)
    blas_threads: int = 1


@dataclass(eq=False)
class Pipeline:
    """Loaded resources reused across photos: the head model, its landmark embedding, detector and renderer."""

    settings: PipelineSettings
    model: LinearHeadModel
    correspondence: Correspondence
    detector: FaceDetector
    renderer: Renderer
    face_parser: Any = None  # BiSeNet for the hair stage, created on first use (torch loads then)
    parsing_unavailable: str | None = None  # why face parsing cannot run here (set by the first failed attempt)

    def parse_face(self, pixels: Any) -> Any:
        """Face-parsing classes of a photo for the hair stage; None when torch / BiSeNet are not installed.

        The reason is kept in ``parsing_unavailable`` (and parsing is not tried again in this process).
        """
        if self.parsing_unavailable is not None:
            return None
        try:
            if self.face_parser is None:
                from headcast.eval.parsing import BiSeNetFaceParser

                self.face_parser = BiSeNetFaceParser()
            return self.face_parser.parse_face(pixels)
        except (ImportError, OptionalComponentError) as err:
            self.parsing_unavailable = str(err).splitlines()[0]
            return None

    def close(self) -> None:
        """Release the detector (MediaPipe graph)."""
        self.detector.close()


def load_pipeline(settings: PipelineSettings | None = None) -> Pipeline:
    """Load and verify the model files named by ``settings.assets``, and do the per-model work once.

    Raises:
        headcast.errors.AssetError: a model file is missing or corrupt (the message says where to get it).
    """
    settings = PipelineSettings() if settings is None else settings
    model = load_ict_facekit(settings.assets, settings.fit.num_identity)
    detector = FaceDetector(settings.detector, settings.assets)
    renderer = Renderer()
    # Per-model work that every photo would otherwise repeat: texel maps of the atlas, morph-target data.
    atlas_maps(model, settings.texture.atlas_size, renderer)
    prepare_glb_export(model, settings.export)
    prepare_obj_export(model, settings.export)
    return Pipeline(settings, model, load_correspondence(), detector, renderer)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def make_avatar(pipeline: Pipeline, photo: Path | bytes | Photo) -> Avatar:
    """Run detection, fitting and texturing on one photo.

    Raises:
        headcast.errors.InputImageError: not a readable image.
        headcast.errors.NoFaceError: no face in the photo.
        headcast.errors.MultipleFacesError: several faces and ``detector.faces == "error"``.
    """
    with threadpool_limits(limits=pipeline.settings.blas_threads, user_api="blas"):
        return _make_avatar(pipeline, photo)


def _make_avatar(pipeline: Pipeline, photo: Path | bytes | Photo) -> Avatar:
    s = pipeline.settings
    timings: dict[str, float] = {}
    warnings: list[str] = []
    with _timed(timings, "load"):
        img = photo if isinstance(photo, Photo) else load_photo(photo, s.photo)
    warnings.extend(img.notes)
    with _timed(timings, "detect"):
        landmarks = detect_landmarks(img, pipeline.detector, s.detector)
    if landmarks.num_faces > 1:
        warnings.append(f"{landmarks.num_faces} faces found; the largest was used")
    with _timed(timings, "fit"):
        camera = camera_from_fov(img.width, img.height, s.fit.fov_deg)
        fit = fit_head(landmarks, pipeline.model, camera, s.fit, pipeline.correspondence)
    with _timed(timings, "texture"):
        texture = bake_texture(img, fit, pipeline.model, s.texture, landmarks=landmarks, renderer=pipeline.renderer)
    hair = None
    if s.hair.mode != "none":
        with _timed(timings, "hair"):
            classes = pipeline.parse_face(img.pixels)
            hair_settings = s.hair
            if classes is None:
                hair_settings, warning = settings_without_parsing(s.hair, pipeline.parsing_unavailable or "?")
                warnings.append(warning)
            hair = make_hair(img.pixels, fit, pipeline.model, hair_settings, classes, pipeline.renderer)
            warnings.extend(f"hair: {n}" for n in hair.notes)
    return Avatar(img, landmarks, fit, texture, pipeline.model, timings, tuple(warnings),
                  hair=None if hair is None else hair.strands, hair_report=hair)


def write_outputs(pipeline: Pipeline, avatar: Avatar, out_dir: Path | str) -> BundleManifest:
    """Render the preview and turntable and write the bundle (GLB, OBJ/MTL/PNG, params.json, pictures, zip)."""
    views = pipeline.settings.views
    timings = dict(avatar.timings)
    with _timed(timings, "render"):
        cam = avatar.fit.camera
        scale = min(1.0, views.preview_max_side / max(cam.width, cam.height))
        strands = [] if avatar.hair is None else [strands_line_set(avatar.hair)]
        rendered = render_avatar(avatar, camera=cam.scaled(scale), renderer=pipeline.renderer,
                                 settings=RenderSettings(supersample=2, strand_shading="kajiya_kay"), strands=strands)
        preview = preview_image(avatar.photo, rendered)
        turntable = turntable_image(
            avatar.model, avatar.fit.params, avatar.texture, yaws_deg=views.turntable_yaws_deg,
            size=views.turntable_size, renderer=pipeline.renderer,
            strands=[] if avatar.hair is None else [strands_line_set(avatar.hair, max_strands=5000)],
            settings=replace(TURNTABLE_SETTINGS, strand_shading="kajiya_kay") if strands else None,
        )
    # params.json carries the detected emotion and resting face, so the page's sliders match apply_emotion
    timed = replace(with_emotion_state(avatar, load_packaged_model()), timings=timings)
    extra = {} if avatar.hair_report is None else hair_files(avatar.hair_report, pipeline.settings.hair)
    return write_bundle(timed, out_dir, pipeline.settings.export, {"preview.png": preview, "turntable.png": turntable},
                        extra_files=extra)
