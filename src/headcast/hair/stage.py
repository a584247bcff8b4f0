"""The hair stage of the pipeline: photo + fitted head → strands, and the bundle's hair files.

Strands are reconstructed from the photo, grown from a library style, or none.

``HairSettings.mode`` is ``"auto"`` (reconstruct from the photo), ``"none"`` or a library style name (try-on:
the style grows on this head; the photo's hair colour is used unless ``color`` is given). With a parsed photo the
scalp meets the photo's hairline (``hairline.photo_scalp``, for library styles too), and ``"auto"`` strands take the
photo's hair colour where they lie over its visible hair (``colour.photo_strand_colors``).
"""

import hashlib
import json
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from headcast.fitting.types import FitResult
from headcast.hair.analysis import AnalysisSettings, analyse_hair
from headcast.hair.colour import ColourSettings, photo_strand_colors
from headcast.hair.display import gradient_colors
from headcast.hair.generator import GrowSettings, make_strands
from headcast.hair.hairline import HairlineSettings, photo_scalp, with_photo_scalp
from headcast.hair.head import HairHead, hairline_height, prepare_head
from headcast.hair.reconstruct import ReconstructSettings, hair_colors, reconstruct_hair
from headcast.hair.types import HairAnalysis, Strands
from headcast.headmodel.base import LinearHeadModel
from headcast.options import Color
from headcast.render.context import Renderer


@dataclass(frozen=True)
class HairSettings:
    """Settings of the hair stage.

    Attributes:
        mode: ``"auto"``, ``"none"`` or a library style name (``headcast hairstyles`` lists them).
        color: sRGB colour in [0, 1] overriding the photo's hair colour (root and tip).
        analysis: photo analysis thresholds.
        reconstruct: fitting settings for ``"auto"``.
        grow: strand counts and seed for library styles.
        warn_iou: ``"auto"`` hair whose silhouette overlaps the photo's hair mask less than this (IoU at the fitted
            camera) gets a warning: the groom is not the photo's hair and a library style may serve better.
        photo_hairline: delimit the scalp by the photo's hairline where the photo shows it (``hair.hairline``;
            library styles too, when the photo is parsed) instead of the default curve alone.
        hairline: how the scalp is read off the photo.
        photo_colors: ``"auto"`` strands take the photo's hair colour where they lie over its visible hair
            (``hair.colour``), the root-to-tip gradient elsewhere; off: the gradient everywhere.
        colour: how the photo's colours are sampled.
    """

    mode: str = "none"
    color: Color | None = None
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    reconstruct: ReconstructSettings = field(default_factory=ReconstructSettings)
    grow: GrowSettings = field(default_factory=GrowSettings)
    warn_iou: float = 0.6
    photo_hairline: bool = True
    hairline: HairlineSettings = field(default_factory=HairlineSettings)
    photo_colors: bool = True
    colour: ColourSettings = field(default_factory=ColourSettings)


@dataclass(frozen=True, eq=False)
class HairResult:
    """Outcome of the hair stage.

    Attributes:
        strands: the groom (None: no hair).
        style: ``"none"``, the reconstructed style's library name, or the chosen style.
        iou: hair-mask IoU at the fitted camera (NaN when not measured).
        orientation_error_deg: orientation error, degrees (NaN when not measured).
        analysis: the photo analysis, when one was made.
        seconds: wall time per step (``analyse``, ``head``, ``reconstruct``/``grow``).
        notes: remarks for the user.
    """

    strands: Strands | None
    style: str
    iou: float = float("nan")
    orientation_error_deg: float = float("nan")
    analysis: HairAnalysis | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary (``hair.json`` in the bundle)."""
        s = self.strands
        return {
            "style": self.style,
            "strands": 0 if s is None else s.num_strands,
            "guides": 0 if s is None else int(s.valid.sum()),
            "root_color": None if s is None else [round(c, 4) for c in s.root_color],
            "tip_color": None if s is None else [round(c, 4) for c in s.tip_color],
            "params": None if s is None or s.params is None else s.params.to_json(),
            "hair_iou": None if np.isnan(self.iou) else round(self.iou, 4),
            "orientation_error_deg": None if np.isnan(self.orientation_error_deg) else round(
                self.orientation_error_deg, 2),
            "bald": None if self.analysis is None else self.analysis.bald,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "notes": list(self.notes),
            "frame": "model frame, metres, +y up, +z forward (same as avatar.glb)",
        }


FALLBACK_STYLE = "short"
"""The library style ``--hair auto`` falls back to when the photo cannot be parsed (torch or the BiSeNet weights are
not installed): an authored style, so it needs no hair asset file."""


def settings_without_parsing(settings: HairSettings, reason: str) -> tuple[HairSettings, str]:
    """Hair settings for a photo whose face-parsing classes are unavailable, and the warning that says so.

    ``"auto"`` reconstructs strands from the photo's hair mask, which face parsing provides; without it the avatar
    gets :data:`FALLBACK_STYLE` instead of failing. Other modes are returned unchanged (a library style only
    loses the photo's hair colour).

    Args:
        settings: the requested hair settings.
        reason: why parsing is unavailable (quoted in the warning).
    """
    if settings.mode != "auto":
        return settings, f"hair: face parsing unavailable ({reason}); default hair colour used"
    return replace(settings, mode=FALLBACK_STYLE), (
        f"hair: face parsing unavailable ({reason}); library style '{FALLBACK_STYLE}' used instead of hair from "
        "the photo (bash scripts/install.sh installs torch and the BiSeNet weights; `headcast doctor` checks)"
    )


def make_hair(
    pixels: np.ndarray,
    fit: FitResult,
    model: LinearHeadModel,
    settings: HairSettings,
    classes: np.ndarray | None = None,
    renderer: Renderer | None = None,
) -> HairResult:
    """Run the hair stage.

    Args:
        pixels: ``(H, W, 3)`` uint8 sRGB photo (``Photo.pixels``).
        fit: the fitted head.
        model: the head model.
        settings: mode, colour and sub-settings.
        classes: ``(H, W)`` face-parsing classes of the photo (BiSeNet); required for ``"auto"``; for a library
            style it only provides the default colour.
        renderer: GL owner for depth maps.

    Raises:
        ValueError: ``"auto"`` without ``classes``.
        KeyError: unknown style name.
    """
    if settings.mode == "none":
        return HairResult(None, "none")
    seconds: dict[str, float] = {}
    notes: list[str] = []
    t = time.perf_counter()
    analysis = None
    if classes is not None:
        analysis = _analyse(pixels, classes, fit.landmarks68_2d, settings.analysis)
    seconds["analyse"] = time.perf_counter() - t
    t = time.perf_counter()
    front = 1.0 if analysis is None else hairline_height(analysis.hairline_y, fit.landmarks68_2d, analysis.fringe)
    head = prepare_head(model, fit.params, front_height=front)
    if settings.photo_hairline and analysis is not None and not analysis.bald:
        head = _photo_head(head, fit, analysis, settings.hairline)
    seconds["head"] = time.perf_counter() - t
    t = time.perf_counter()
    if settings.mode == "auto":
        if analysis is None:
            raise ValueError("hair mode 'auto' needs the photo's face-parsing classes")
        rec = reconstruct_hair(analysis, fit, head, settings.reconstruct, renderer=renderer)
        seconds["reconstruct"] = time.perf_counter() - t
        strands = rec.strands
        if strands is not None and settings.color is not None:
            strands = strands.recoloured(settings.color)
        elif strands is not None and settings.photo_colors:
            t = time.perf_counter()
            colors = photo_strand_colors(strands.points, gradient_colors(strands), pixels, analysis.hair, fit, head,
                                         settings.colour, renderer)
            strands = replace(strands, colors=colors)
            seconds["colour"] = time.perf_counter() - t
        if rec.strands is None:
            notes.append("bald or shaved head: no hair")
        elif rec.iou < settings.warn_iou:
            notes.append(f"the reconstructed hair matches the photo's hair poorly (silhouette IoU {rec.iou:.2f}); "
                         f"a library style may look closer (`headcast hairstyles`, --hair STYLE)")
        return HairResult(strands, rec.style if strands is not None else "bald", rec.iou,
                          rec.orientation_error_deg, analysis, seconds, tuple(notes))
    strands = style_strands(settings.mode, head, settings.grow)
    if strands is not None:
        colour = settings.color
        if colour is not None:
            strands = strands.recoloured(colour)
        elif analysis is not None and not analysis.bald:
            root, tip = hair_colors(analysis)
            strands = strands.recoloured(root, tip)
    seconds["grow"] = time.perf_counter() - t
    return HairResult(strands, settings.mode, analysis=analysis, seconds=seconds, notes=tuple(notes))


_ANALYSES: "OrderedDict[bytes, HairAnalysis]" = OrderedDict()
_LOCK = threading.Lock()


def _analyse(
    pixels: np.ndarray, classes: np.ndarray, landmarks: np.ndarray, settings: AnalysisSettings
) -> HairAnalysis:
    """``analyse_hair``, remembered for the last two photos (by content).

    Trying styles one after another on the same photo (the web service's hair variants) needs the same analysis
    (colour, hairline) each time; hashing the photo costs a few milliseconds, the analysis a few hundred.
    """
    h = hashlib.blake2b(digest_size=20)
    for a in (pixels, classes, landmarks):
        arr = np.ascontiguousarray(a)
        h.update(repr((arr.shape, arr.dtype.str)).encode())
        h.update(arr.data)  # the buffer itself, no copy
    h.update(repr(settings).encode())
    key = h.digest()
    with _LOCK:
        hit = _ANALYSES.get(key)
        if hit is not None:
            _ANALYSES.move_to_end(key)
            return hit
    analysis = analyse_hair(pixels, classes, landmarks, settings)
    with _LOCK:
        _ANALYSES[key] = analysis
        while len(_ANALYSES) > 2:
            _ANALYSES.popitem(last=False)
    return analysis


_PHOTO_HEADS: list[tuple[HairHead, HairAnalysis, bytes, HairlineSettings, HairHead]] = []


def _photo_head(head: HairHead, fit: FitResult, analysis: HairAnalysis, settings: HairlineSettings) -> HairHead:
    """``with_photo_scalp(head, photo_scalp(...))``, remembered for the last two (head, analysis, view) triples.

    Trying styles one after another on the same photo gets the same prepared head and the same (remembered)
    analysis objects; rebuilding the scalp and its sampling tables each time doubled a try-on's time.
    """
    cam, pose = fit.camera, fit.params.pose
    view = np.concatenate([np.ravel(pose.rotation), np.ravel(pose.translation),
                           [cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height]]).astype(np.float64).tobytes()
    with _LOCK:
        for h, a, v, s, out in _PHOTO_HEADS:
            if h is head and a is analysis and v == view and s == settings:
                return out
    out = with_photo_scalp(head, photo_scalp(head, fit, analysis, settings))
    with _LOCK:
        _PHOTO_HEADS.append((head, analysis, view, settings, out))
        del _PHOTO_HEADS[:-2]
    return out


def clear_caches(model: LinearHeadModel | None = None) -> None:
    """Forget the remembered photo analyses and the heads prepared from ``model`` (benchmarks time cold runs)."""
    from headcast.hair.head import prepared_heads

    with _LOCK:
        _ANALYSES.clear()
        _PHOTO_HEADS.clear()
    if model is not None:
        prepared_heads(model).clear()


def style_strands(name: str, head: HairHead, grow: GrowSettings | None = None) -> Strands | None:
    """Strands of library style ``name`` on ``head`` (None for ``bald``).

    Raises:
        KeyError: unknown style.
    """
    from headcast.hair.library import find_style

    style = find_style(name)
    if style.origin != "generated":
        from headcast.hair.grooms import asset_style_strands

        return asset_style_strands(style, head, grow)
    if style.params is None:
        return None
    return make_strands(style.params, head.scalp, head.sdf, grow, name=style.name)


HAIR_USD_NAME = "hair.usdc"
"""The bundle's USD curves file: written only when ``usd-core`` (the ``usd`` extra) is installed."""


def hair_files(result: HairResult, settings: HairSettings) -> dict[str, bytes]:
    """The bundle's hair files by name: each representation of the groom once, in one format each.

    ``hair.json`` always (style, colours, the stage's report). With strands:

    * ``hair.data`` — the render strands in the USC-HairSalon layout: HairNet-style research code, and what
      ``headcast eval`` restores a bundle's strands from.
    * ``hair.hair`` — the render strands with per-point colours in Cem Yuksel's format: hair renderers and
      research tools.
    * ``hair.usdc`` — the render strands with per-point colours as a USD ``BasisCurves`` prim: the curves file
      for DCC tools (Blender 4.2+ imports it as hair curves; Houdini, Maya and Unreal read USD). Only when
      ``usd-core`` is installed.
    * ``hair_guides.obj`` — the valid 32 × 32 guides as OBJ polylines (one ``l`` per segment, which Blender 3.4's
      default importer reads whole): any tool with an OBJ importer, including Blender builds without USD; the render
      strands as OBJ text would be ~17 MB (the guides: ~2 MB).

    The three render-strand files differ in audience, not content. The ribbon mesh for engines and viewers is the
    hair of ``avatar.glb`` (``headcast.export.glb``: every k-th render strand as ribbons, hanging from the head
    rig's Head joint), not a file of its own. Colours are :func:`~headcast.hair.display.strand_colors` everywhere.
    """
    from headcast.hair.display import strand_colors
    from headcast.hair.formats import write_data, write_hair, write_obj_polylines, write_usd_curves

    files = {"hair.json": json.dumps(result.to_json(), indent=2).encode("utf-8")}
    s = result.strands
    if s is None or s.num_strands == 0:
        return files
    colors = strand_colors(s)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_data(folder / "hair.data", s.points)
        write_hair(folder / "hair.hair", s.points, colors)
        write_obj_polylines(folder / "hair_guides.obj", s.guide_polylines)
        names = ["hair.data", "hair.hair", "hair_guides.obj"]
        try:  # optional: USD BasisCurves when usd-core is installed
            write_usd_curves(folder / HAIR_USD_NAME, s.points, colors)
            names.append(HAIR_USD_NAME)
        except ImportError:
            pass
        for name in names:
            files[name] = (folder / name).read_bytes()
    return files
