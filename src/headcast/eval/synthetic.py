"""Synthetic ground truth (NoW-like): heads sampled from the model, rendered, reconstructed, measured in mm.

For head ``i`` (random generator seeded with ``(seed, i)``, so each head is the same whatever ``count`` is):

* identity ``α ~ N(0, I)`` on every fitted mode (``model.num_identity``; σ units);
* a mild expression: ``expression_shapes`` distinct shapes, each ``U(0, expression_max)``;
* pose: yaw ``U(−yaw_max, yaw_max)``, pitch ``U(−pitch_max, pitch_max)`` (yaw then pitch), the face-region box
  centre ``distance_m`` in front of a camera with the pipeline's own field of view (the focal length the
  pipeline assumes is therefore the true one: this measures shape, not focal-length ambiguity);
* a real skin texture: the atlases baked from the evaluated portraits, used in turn.

The render (lambert shading, neutral grey background, 2 × 2 supersampling) goes through the full pipeline
(detection, fit, texture), and :func:`headcast.eval.now.face_geometry_error` compares the fitted neutral-pose mesh
with the ground truth. The same error of the mean head (identity 0, expression 0) is the baseline.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.errors import HeadcastError
from headcast.eval.now import face_geometry_error
from headcast.geometry.camera import HeadPose, camera_from_fov
from headcast.geometry.rotation import euler_yxz_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import HeadParams, LinearHeadModel, blend_vertices
from headcast.landmarks.types import Photo
from headcast.pipeline import Pipeline
from headcast.render.raster import RenderSettings
from headcast.render.views import GREY, render_head
from headcast.texture.types import UVTexture


@dataclass(frozen=True)
class SyntheticSettings:
    """The synthetic experiment.

    Attributes:
        count: number of heads (0 skips the experiment).
        seed: base seed; head ``i`` uses ``numpy.random.default_rng((seed, i))``.
        image_size: side of the square render, pixels.
        distance_m: camera-to-face distance, metres.
        yaw_max_deg: yaw drawn uniformly in ±this, degrees.
        pitch_max_deg: pitch drawn uniformly in ±this, degrees.
        expression_shapes: how many expression shapes are active.
        expression_max: the largest weight of an active shape.
    """

    count: int = 10
    seed: int = 0
    image_size: int = 768
    distance_m: float = 0.6
    yaw_max_deg: float = 30.0
    pitch_max_deg: float = 5.0
    expression_shapes: int = 3
    expression_max: float = 0.3


@dataclass(frozen=True)
class SyntheticHead:
    """One synthetic head's outcome.

    Attributes:
        index: head number.
        yaw_deg: its yaw, degrees.
        pitch_deg: its pitch, degrees.
        texture_index: which baked texture it wore.
        error: why it could not be reconstructed (e.g. no face detected), else None.
        median_mm: median face-vertex error of the reconstruction, mm.
        mean_mm: mean error, mm.
        std_mm: standard deviation, mm.
        mean_head_median_mm: median error of the mean head (baseline), mm.
        mean_head_mean_mm: mean error of the mean head, mm.
    """

    index: int
    yaw_deg: float
    pitch_deg: float
    texture_index: int
    error: str | None = None
    median_mm: float | None = None
    mean_mm: float | None = None
    std_mm: float | None = None
    mean_head_median_mm: float | None = None
    mean_head_mean_mm: float | None = None


@dataclass(frozen=True, eq=False)
class SyntheticResult:
    """All synthetic heads.

    Attributes:
        settings: what was run.
        heads: per head.
        distances_mm: ``(sum of N_i,)`` every face-vertex error of every reconstructed head, mm.
        mean_head_distances_mm: the same for the mean head, mm.
        example: ``(S, S, 3)`` uint8 render of the first head (for the report), or None.
    """

    settings: SyntheticSettings
    heads: tuple[SyntheticHead, ...]
    distances_mm: NDArray[np.float64]
    mean_head_distances_mm: NDArray[np.float64]
    example: NDArray[np.uint8] | None = None


@dataclass(frozen=True, eq=False)
class SampledHead:
    """A sampled ground-truth head.

    Attributes:
        params: identity ``(K,)``, expression ``(E,)`` and pose (model → camera).
        yaw_deg: yaw, degrees.
        pitch_deg: pitch, degrees.
    """

    params: HeadParams
    yaw_deg: float
    pitch_deg: float


def sample_head(model: LinearHeadModel, settings: SyntheticSettings, index: int) -> SampledHead:
    """Head ``index`` of the experiment (module docstring); deterministic in ``(settings.seed, index)``."""
    rng = np.random.default_rng((settings.seed, index))
    identity = rng.standard_normal(model.num_identity)
    expression = np.zeros(model.num_expressions)
    n_active = min(settings.expression_shapes, model.num_expressions)
    active = rng.choice(model.num_expressions, size=n_active, replace=False)
    expression[active] = rng.uniform(0.0, settings.expression_max, size=active.size)
    yaw = float(rng.uniform(-settings.yaw_max_deg, settings.yaw_max_deg))
    pitch = float(rng.uniform(-settings.pitch_max_deg, settings.pitch_max_deg))
    rot = euler_yxz_to_matrix(np.deg2rad(yaw), np.deg2rad(pitch), 0.0)
    face = blend_vertices(model, identity, expression)[model.face_vertices]
    centre = 0.5 * (face.min(axis=0) + face.max(axis=0))
    pose = HeadPose(matrix_to_axis_angle(rot), -rot @ centre + np.array([0.0, 0.0, -settings.distance_m]))
    return SampledHead(HeadParams(identity, expression, pose), yaw, pitch)


def run_synthetic(
    pipeline: Pipeline,
    textures: Sequence[UVTexture],
    settings: SyntheticSettings,
    progress: Callable[[str], None] | None = None,
) -> SyntheticResult:
    """Sample, render and reconstruct ``settings.count`` heads; measure the face error (module docstring).

    Args:
        pipeline: the loaded pipeline (its fit settings are evaluated; its field of view sets the camera).
        textures: real skin atlases; head ``i`` wears ``textures[i % len(textures)]``.
        settings: the experiment.
        progress: called with one line per head.
    """
    if not textures:
        raise ValueError("run_synthetic needs at least one texture")
    model = pipeline.model
    size = settings.image_size
    camera = camera_from_fov(size, size, pipeline.settings.fit.fov_deg)
    rs = RenderSettings(background=GREY, supersample=2)
    mean_head = blend_vertices(model, np.zeros(model.num_identity), np.zeros(model.num_expressions))
    heads: list[SyntheticHead] = []
    dists: list[NDArray[np.float64]] = []
    base: list[NDArray[np.float64]] = []
    example: NDArray[np.uint8] | None = None
    for i in range(settings.count):
        head = sample_head(model, settings, i)
        tex_i = i % len(textures)
        rgb = np.ascontiguousarray(
            render_head(model, head.params, textures[tex_i], camera, settings=rs, renderer=pipeline.renderer).color[
                ..., :3
            ]
        )
        if example is None:
            example = rgb
        if progress is not None:
            progress(f"synthetic head {i + 1}/{settings.count}: yaw {head.yaw_deg:+.1f}°")
        gt = blend_vertices(model, head.params.identity, head.params.expression)
        baseline = face_geometry_error(model, gt, mean_head).distances_mm
        try:
            avatar = pipeline.reconstruct(Photo(rgb, None, (size, size)))  # geometry only: no hair, no emotion
        except HeadcastError as err:
            heads.append(SyntheticHead(i, head.yaw_deg, head.pitch_deg, tex_i, error=f"{type(err).__name__}: {err}"))
            continue
        fitted = avatar.fit.params
        rec = blend_vertices(model, fitted.identity, fitted.expression)
        d = face_geometry_error(model, gt, rec).distances_mm
        dists.append(d)
        base.append(baseline)
        heads.append(
            SyntheticHead(
                i,
                head.yaw_deg,
                head.pitch_deg,
                tex_i,
                median_mm=float(np.median(d)),
                mean_mm=float(d.mean()),
                std_mm=float(d.std()),
                mean_head_median_mm=float(np.median(baseline)),
                mean_head_mean_mm=float(baseline.mean()),
            )
        )
    empty = np.zeros(0)
    return SyntheticResult(
        settings,
        tuple(heads),
        np.concatenate(dists) if dists else empty,
        np.concatenate(base) if base else empty,
        example,
    )
