"""The composition: photo → landmarks → parsing → fit → texture (reconstruct) → hair → emotion → files (write).

Every entry point — ``headcast make``, the web service's workers, ``headcast eval`` and the scripts — loads one
:class:`Pipeline` (the model files, detector, renderer, emotion network and, on first use, the face parser) and
calls its steps with the user's :class:`headcast.options.Options`:

* :meth:`Pipeline.reconstruct` — detection, face parsing, fit (landmarks, then the parsed skull and ear outlines)
  and texture: the person's head as photographed, without hair;
* :meth:`Pipeline.dress` — the hair the options ask for (from the photo, a library style, or none);
* :meth:`Pipeline.pose` — the emotion the options ask for (or the photo's own, recorded);
* :meth:`Pipeline.make` — the three in order;
* :meth:`Pipeline.write` — previews and the bundle (GLB, OBJ, params.json, hair files, zip); or in two
  stages, :meth:`Pipeline.write_viewer` (GLB and params.json) then :meth:`Pipeline.write_rest`.

How the stages run is configured by one :class:`PipelineSettings` passed in (numbers, sizes, sub-settings); what
the user chose is the :class:`Options` of each call.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from headcast.assets import AssetSettings
from headcast.avatar import Avatar
from headcast.emotion import (
    EmotionIntensities,
    EmotionMLP,
    avatar_with_emotion,
    load_packaged_model,
    with_emotion_state,
)
from headcast.errors import OptionalComponentError
from headcast.export.bundle import BundleManifest, write_bundle
from headcast.export.glb import prepare_glb_export
from headcast.export.obj import prepare_obj_export
from headcast.export.settings import ExportSettings
from headcast.export.staged import complete_bundle, write_viewer_files
from headcast.fitting.correspondence import Correspondence, load_correspondence
from headcast.fitting.fit import fit_head
from headcast.fitting.outline import OutlineSettings, fit_outline_warp
from headcast.fitting.refine import RefineSettings, refine_identity
from headcast.fitting.settings import FitSettings
from headcast.geometry.camera import camera_from_fov
from headcast.hair.display import strands_line_set
from headcast.hair.library import library_styles
from headcast.hair.stage import HairSettings, hair_files, make_hair, settings_without_parsing
from headcast.headmodel.base import LinearHeadModel
from headcast.headmodel.ict import load_ict_facekit
from headcast.landmarks.detector import FaceDetector, detect_landmarks
from headcast.landmarks.image_io import load_photo
from headcast.landmarks.settings import DetectorSettings, PhotoSettings
from headcast.landmarks.types import Photo
from headcast.options import HAIR_AUTO, HAIR_NONE, Emotion, OptionError, Options
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


HeadModelName = Literal["ict", "flame"]
"""The head models a pipeline can reconstruct with: ICT FaceKit (default) or the user's FLAME file."""


@dataclass(frozen=True)
class HeadModelSettings:
    """Which head model the avatar is made of.

    Attributes:
        name: ``"ict"`` (ICT FaceKit, from the asset folder) or ``"flame"`` (the user's FLAME file, prepared by
            :func:`headcast.fitting.flame_head.flame_head_model`).
        flame_model: the user's FLAME file; None looks in the asset folder (``flame/generic_model.pkl``). With
            ``name="ict"`` and a file given, ``flame_params.json`` (FLAME fitted to the ICT head) is written too.
        flame_expressions: FLAME expression components ψ fitted and exported (the thesis' 50).
    """

    name: HeadModelName = "ict"
    flame_model: Path | None = None
    flame_expressions: int = 50

    @property
    def uses_flame(self) -> bool:
        """Whether a FLAME file is needed (a FLAME head, or flame_params.json beside an ICT head)."""
        return self.name == "flame" or self.flame_model is not None


@dataclass(frozen=True)
class PipelineSettings:
    """All settings of one run, per stage.

    ``blas_threads`` caps BLAS threads while a photo is processed: the fit's matrices are small, and several BLAS
    threads fighting over two cores made it 5-25x slower.
    """

    assets: AssetSettings = field(default_factory=AssetSettings)
    head: HeadModelSettings = field(default_factory=HeadModelSettings)
    photo: PhotoSettings = field(default_factory=PhotoSettings)
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    fit: FitSettings = field(default_factory=FitSettings)
    refine: RefineSettings = field(default_factory=RefineSettings)
    outline: OutlineSettings = field(default_factory=OutlineSettings)
    texture: TextureSettings = field(default_factory=TextureSettings)
    views: ViewSettings = field(default_factory=ViewSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    hair: HairSettings = field(default_factory=HairSettings)
    blas_threads: int = 1

    def __post_init__(self) -> None:
        # The hair mode and colour are the user's choice (Options), not a setting: a mode here would be ignored.
        if self.hair.mode != HAIR_NONE or self.hair.color is not None:
            raise ValueError("PipelineSettings.hair sets how hair is made; choose it with Options(hair=, hair_color=)")

if TYPE_CHECKING:
    from headcast.export.flame_params import FlameExport
    from headcast.parsing.face import BiSeNetFaceParser


FaceClasses = NDArray[np.uint8]
"""``(H, W)`` face-parsing classes of a photo (:class:`headcast.parsing.FaceClass` values)."""


def check_options(options: Options) -> None:
    """Fail on a hairstyle the library does not have (the other options were checked when they were made).

    Raises:
        OptionError: an unknown hairstyle (the message says how to list them).
    """
    style = options.style
    if style is not None and style not in [s.name for s in library_styles()]:
        raise OptionError(f"unknown hairstyle '{style}'; run `headcast hairstyles` to list them")


def needs_parsing(options: Options) -> bool:
    """Whether dressing the avatar reads the photo's face-parsing classes.

    Hair from the photo needs its hair mask; a library style without a colour takes the photo's hair colour.
    """
    return options.hair == HAIR_AUTO or (options.style is not None and options.hair_color is None)


@dataclass(eq=False)
class Pipeline:
    """Every loaded resource, reused across photos, and the steps that turn a photo into an avatar.

    Attributes:
        settings: how the stages run.
        model: the head model.
        correspondence: MediaPipe landmarks on the head model.
        detector: the MediaPipe face landmarker.
        renderer: the offscreen OpenGL renderer (texture baking, previews, hair depth maps).
        emotion_model: the emotion network (emotion sliders, the photo's detected emotion).
        face_parser: BiSeNet, created on first use (torch loads then); None until then.
        parsing_unavailable: why face parsing cannot run here, once a first attempt failed (then not retried).
        flame: the user's FLAME file and the ICT↔FLAME table, when ``settings.head`` uses FLAME (then every
            bundle gets ``flame_params.json``).
        flame_emotion_model: the emotion network's FLAME output layer for that file (ψ 50 + global 3 + jaw 3),
            read from its cache or trained on first use (about 25 s, once per FLAME file); None until then.
    """

    settings: PipelineSettings
    model: LinearHeadModel
    correspondence: Correspondence
    detector: FaceDetector
    renderer: Renderer
    emotion_model: EmotionMLP
    face_parser: "BiSeNetFaceParser | None" = None
    parsing_unavailable: str | None = None
    flame: "FlameExport | None" = None
    flame_emotion_model: EmotionMLP | None = None

    @classmethod
    def load(cls, settings: PipelineSettings | None = None) -> "Pipeline":
        """Load and verify the model files named by ``settings.assets``, and do the per-model work once.

        Raises:
            headcast.errors.AssetError: a model file is missing or corrupt (the message says where to get it; for
                FLAME: the MPI-IS site and its licence).
        """
        settings = PipelineSettings() if settings is None else settings
        model, correspondence, flame = load_head_model(settings)
        detector = FaceDetector(settings.detector, settings.assets)
        renderer = Renderer()
        # Per-model work that every photo would otherwise repeat (texel maps of the atlas, morph-target data, the
        # OBJ face block), done now and kept in the model's memo (model.memo): the pipeline owns it with the model.
        atlas_maps(model, settings.texture.atlas_size, renderer)
        prepare_glb_export(model, settings.export)
        prepare_obj_export(model, settings.export)
        return cls(settings, model, correspondence, detector, renderer, load_packaged_model(), flame=flame)

    # ------------------------------------------------------------------------------------------------ steps

    def reconstruct(self, photo: Path | bytes | Photo, options: Options | None = None) -> Avatar:
        """Detection, face parsing, fitting and texturing: the person's head as photographed, without hair.

        Face parsing (BiSeNet; skipped when torch or its weights are not installed) keeps hair, glasses and hands
        out of the skin texture, and where it shows bare skin up to the head's outline the fitted cranium follows
        that outline (:mod:`headcast.fitting.refine`); its classes travel in ``Avatar.parsing`` to the hair step.

        Raises:
            headcast.errors.InputImageError: not a readable image.
            headcast.errors.NoFaceError: no face in the photo.
            headcast.errors.MultipleFacesError: several faces and ``options.faces == "error"``.
        """
        options = Options() if options is None else options
        with threadpool_limits(limits=self.settings.blas_threads, user_api="blas"):
            return self._reconstruct(photo, options)

    def dress(self, avatar: Avatar, options: Options, classes: FaceClasses | None = None) -> Avatar:
        """The avatar with the hair ``options`` ask for (replacing any it had).

        Args:
            avatar: a reconstructed avatar.
            options: ``hair`` and ``hair_color``.
            classes: the photo's face-parsing classes when the caller has them stored; else the avatar's own
                (``avatar.parsing``), else computed, when needed. Without face parsing (torch or the BiSeNet
                weights missing) ``"auto"`` falls back to a library style, with a warning
                (:func:`headcast.hair.stage.settings_without_parsing`).
        """
        if options.hair == HAIR_NONE:
            return replace(avatar, hair=None, hair_report=None)
        timings = dict(avatar.timings)
        warnings = list(avatar.warnings)
        with threadpool_limits(limits=self.settings.blas_threads, user_api="blas"), _timed(timings, "hair"):
            if classes is None and needs_parsing(options):
                classes = avatar.parsing if avatar.parsing is not None else self.parse_face(avatar.photo.pixels)
            hair_settings = replace(self.settings.hair, mode=options.hair, color=options.hair_rgb())
            if classes is None and needs_parsing(options):
                hair_settings, warning = settings_without_parsing(hair_settings, self.parsing_unavailable or "?")
                warnings.append(warning)
            hair = make_hair(avatar.photo.pixels, avatar.fit, avatar.model, hair_settings, classes, self.renderer)
            warnings.extend(f"hair: {n}" for n in hair.notes)
        return replace(avatar, timings=timings, warnings=tuple(warnings), hair=hair.strands, hair_report=hair)

    def pose(self, avatar: Avatar, options: Options) -> Avatar:
        """The avatar showing the emotion ``options`` ask for; with ``emotion=None`` the photo's own, recorded.

        Either way the avatar carries its :class:`headcast.emotion.EmotionState` (detected, shown, resting face),
        which params.json passes to the web page's sliders.
        """
        values = options.emotion_values()
        if avatar.model.expression_kind != "weights":
            return self._pose_flame(avatar, values)
        if values is None:
            return with_emotion_state(avatar, self.emotion_model)
        return avatar_with_emotion(avatar, EmotionIntensities(**values), self.emotion_model)

    def make(self, photo: Path | bytes | Photo, options: Options | None = None) -> Avatar:
        """The whole avatar: :meth:`reconstruct`, then :meth:`dress`, then :meth:`pose`."""
        options = Options() if options is None else options
        return self.pose(self.dress(self.reconstruct(photo, options), options), options)

    def write(self, avatar: Avatar, out_dir: Path | str) -> BundleManifest:
        """Render the preview and turntable and write the bundle (GLB, OBJ/MTL/PNG, params.json, pictures, zip)."""
        timings = dict(avatar.timings)
        with _timed(timings, "render"):
            pictures = self.pictures(avatar)
        timed = replace(self._with_emotion_state(avatar), timings=timings)
        extra = {} if avatar.hair_report is None else hair_files(avatar.hair_report, self.settings.hair)
        manifest = write_bundle(timed, out_dir, self.settings.export, pictures, extra_files=extra)
        if self.flame is not None:
            from headcast.export.flame_params import write_flame_bundle_file

            manifest = write_flame_bundle_file(avatar, self.flame, manifest)
        return manifest

    def write_viewer(self, avatar: Avatar, out_dir: Path | str) -> tuple[Path, Path]:
        """The first stage of :meth:`write`: only ``avatar.glb`` and ``params.json``, what the web viewer loads.

        :meth:`write_rest` adds the other files later (the web service's variants,
        :mod:`headcast.export.staged`). Returns the two paths.
        """
        glb, params = write_viewer_files(self._with_emotion_state(avatar), out_dir, self.settings.export)
        return glb.path, params.path

    def write_rest(self, avatar: Avatar, out_dir: Path | str) -> BundleManifest:
        """The second stage: pictures, OBJ, hair files (and ``flame_params.json``) and the zip.

        ``out_dir`` holds the files :meth:`write_viewer` wrote for the same avatar; the two stages together write
        :meth:`write`'s bundle.
        """
        extra = {} if avatar.hair_report is None else hair_files(avatar.hair_report, self.settings.hair)
        manifest = complete_bundle(self._with_emotion_state(avatar), out_dir, self.settings.export,
                                   self.pictures(avatar), extra_files=extra)
        if self.flame is not None:
            from headcast.export.flame_params import write_flame_bundle_file

            manifest = write_flame_bundle_file(avatar, self.flame, manifest)
        return manifest

    def pictures(self, avatar: Avatar) -> dict[str, NDArray[np.uint8]]:
        """``preview.png`` (the avatar over its photo) and ``turntable.png`` (the head from several sides).

        Returns:
            ``(H, W, 3)`` uint8 sRGB pixels by file name.
        """
        views = self.settings.views
        cam = avatar.fit.camera
        scale = min(1.0, views.preview_max_side / max(cam.width, cam.height))
        strands = [] if avatar.hair is None else [strands_line_set(avatar.hair)]
        rendered = render_avatar(avatar, camera=cam.scaled(scale), renderer=self.renderer,
                                 settings=RenderSettings(supersample=2, strand_shading="kajiya_kay"),
                                 strands=strands)
        preview = preview_image(avatar.photo, rendered)
        turntable = turntable_image(
            avatar.model, avatar.fit.params, avatar.texture, yaws_deg=views.turntable_yaws_deg,
            size=views.turntable_size, renderer=self.renderer,
            strands=[] if avatar.hair is None else [strands_line_set(avatar.hair, max_strands=5000)],
            settings=replace(TURNTABLE_SETTINGS, strand_shading="kajiya_kay") if strands else None,
        )
        return {"preview.png": preview, "turntable.png": turntable}

    def _with_emotion_state(self, avatar: Avatar) -> Avatar:
        """params.json carries the detected emotion and resting face, so the page's sliders match apply_emotion."""
        return with_emotion_state(avatar, self.emotion_model) if avatar.model.expression_kind == "weights" else avatar

    # ------------------------------------------------------------------------------------------- resources

    def parse_face(self, pixels: NDArray[np.uint8]) -> FaceClasses | None:
        """Face-parsing classes of a photo; None when torch or the BiSeNet weights are not installed.

        The reason is kept in ``parsing_unavailable`` (and parsing is not tried again in this process).
        """
        if self.parsing_unavailable is not None:
            return None
        try:
            if self.face_parser is None:
                from headcast.parsing.face import BiSeNetFaceParser

                self.face_parser = BiSeNetFaceParser()
            return self.face_parser.parse_face(pixels)
        except (ImportError, OptionalComponentError) as err:
            self.parsing_unavailable = str(err).splitlines()[0]
            return None

    def flame_emotion(self) -> EmotionMLP:
        """The FLAME emotion network of the loaded FLAME file (cached per file; trained on first use).

        Raises:
            OptionError: the pipeline has no FLAME file.
            headcast.errors.OptionalComponentError: first-time training needs torch, which is not installed.
        """
        if self.flame is None:
            raise OptionError("no FLAME file is loaded (use --head-model flame --flame-model PATH)")
        if self.flame_emotion_model is None:
            from headcast.emotion.flame_net import load_or_train_flame_emotion

            ict = load_ict_facekit(self.settings.assets, 100)
            self.flame_emotion_model = load_or_train_flame_emotion(self.flame.model, self.flame.sha256, ict,
                                                                   self.flame.correspondence)
        return self.flame_emotion_model

    def _pose_flame(self, avatar: Avatar, values: dict[Emotion, float] | None) -> Avatar:
        """A FLAME head showing ``values`` (None: its own expression), by the FLAME output layer.

        The photo's expression is replaced, not added to: from the person's neutral face (ψ = 0, every joint at
        rest) the network's ψ change, jaw and global turns are applied (``emotion.flame_apply``); ``{}`` (neutral)
        is that neutral face. (ICT heads keep a faded resting face instead, ``emotion.apply``; nothing estimates
        the emotion a FLAME fit shows yet.)
        """
        if values is None:
            return avatar
        from headcast.emotion.apply import with_params
        from headcast.emotion.flame_apply import flame_params_with_emotion

        p = avatar.fit.params
        skel = avatar.model.skeleton
        rest = replace(p, expression=np.zeros_like(p.expression),
                       joint_rotations=np.zeros((0 if skel is None else skel.num_joints, 3)))
        if not any(values.values()):
            return with_params(avatar, rest)
        return with_params(avatar, flame_params_with_emotion(rest, EmotionIntensities(**values), self.flame_emotion()))

    def close(self) -> None:
        """Release the detector (MediaPipe graph)."""
        self.detector.close()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reconstruct(self, photo: Path | bytes | Photo, options: Options) -> Avatar:
        s = self.settings
        timings: dict[str, float] = {}
        warnings: list[str] = []
        with _timed(timings, "load"):
            img = photo if isinstance(photo, Photo) else load_photo(photo, s.photo)
        warnings.extend(img.notes)
        with _timed(timings, "detect"):
            landmarks = detect_landmarks(img, self.detector, replace(s.detector, faces=options.faces))
        if landmarks.num_faces > 1:
            warnings.append(f"{landmarks.num_faces} faces found; the largest was used")
        with _timed(timings, "parse"):
            # what occludes the face (hair, glasses, hands) is not baked onto skin, bare skull outlines refine the
            # fit, and the hair step reuses the classes
            classes = self.parse_face(img.pixels)
        with _timed(timings, "fit"):
            camera = camera_from_fov(img.width, img.height, s.fit.fov_deg)
            fit = fit_head(landmarks, self.model, camera, s.fit, self.correspondence)
        with _timed(timings, "refine"):
            fit, refined = refine_identity(fit, self.model, self.correspondence, classes, landmarks.points, s.refine)
        with _timed(timings, "outline"):
            fit, outlined = fit_outline_warp(fit, self.model, classes, s.outline)
        with _timed(timings, "texture"):
            texture = bake_texture(img, fit, self.model, s.texture, landmarks=landmarks, renderer=self.renderer,
                                   classes=classes)
        return Avatar(img, landmarks, fit, texture, self.model, timings, tuple(warnings), parsing=classes,
                      refine=refined, outline=outlined)


def load_head_model(settings: PipelineSettings) -> tuple[LinearHeadModel, Correspondence, "FlameExport | None"]:
    """The head model ``settings.head`` names, its landmark table, and the user's FLAME file when one is used.

    Raises:
        headcast.errors.AssetError: a model file is missing or corrupt, or the FLAME file is missing or not FLAME.
    """
    head = settings.head
    ict = load_ict_facekit(settings.assets, settings.fit.num_identity if head.name == "ict" else 100)
    if not head.uses_flame:
        return ict, load_correspondence(), None
    from headcast.export.flame_params import load_flame_export
    from headcast.fitting.flame_head import flame_head_model

    flame = load_flame_export(head.flame_model, settings.assets)
    if head.name == "ict":
        return ict, load_correspondence(), flame
    prepared = flame_head_model(flame.model, ict, flame.correspondence, load_correspondence(),
                                num_identity=min(100, flame.model.num_shape), num_expression=head.flame_expressions)
    return prepared.model, prepared.correspondence, flame


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start
