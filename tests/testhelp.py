"""Helpers shared by the test folders: fixture-photo loading and skips for files outside the base install."""

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from headcast.fitting.correspondence import landmark_points
from headcast.fitting.types import FitResult
from headcast.geometry.camera import HeadPose, camera_from_fov, project, transform_points
from headcast.geometry.rotation import euler_yxz_to_matrix, matrix_to_axis_angle
from headcast.headmodel.base import HeadParams, LinearHeadModel, head_vertices
from headcast.parsing.face import FaceClass

if TYPE_CHECKING:
    from headcast.fitting.correspondence import Correspondence
    from headcast.landmarks.types import Landmarks, Photo
    from headcast.render.context import Renderer
    from headcast.texture.types import UVTexture


def load_rgb(path: Path, size: tuple[int, int] | None = None) -> NDArray[np.uint8]:
    """A fixture photo as ``(H, W, 3)`` uint8 RGB, optionally resized (PIL bilinear) to ``size = (W, H)``."""
    im = Image.open(path).convert("RGB")
    if size is not None:
        im = im.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.uint8).copy()


def require_weights(key: str) -> None:
    """Skip unless the weight file ``key`` is in the weights folder (``headcast assets weights``)."""
    from headcast.assets.weights import weight_status

    status = weight_status(key)
    if status != "ok":
        pytest.skip(f"weights '{key}' {status} (run: headcast assets weights --only {key})")


def ict_with_jaw(model: LinearHeadModel, seed: int = 5) -> LinearHeadModel:
    """ICT FaceKit with a made-up two-joint skeleton (root, jaw): a skinned model for tests of the skinned paths.

    The jaw hinges about a point between the ears, ~3 cm behind and 2 cm below the eye line; skin below the mouth
    and in front of the ears follows it (a smooth weight), the teeth and gums of the lower jaw rigidly. Pose
    correctives are small random offsets (0.2 mm per unit of the pose feature). Same name and topology as ICT, so
    ICT's landmark table applies.
    """
    from dataclasses import replace

    from headcast.headmodel.base import Skeleton

    rng = np.random.default_rng(seed)
    v = model.template.astype(np.float64)
    n = len(v)
    lm = v[model.landmarks68]
    mouth_y = float(lm[[48, 54, 62, 66], 1].mean())
    hinge = np.array([0.0, float(lm[[36, 45], 1].mean()) - 0.045, float(lm[[0, 16], 2].mean()) + 0.005])

    def step(x: NDArray[np.float64], lo: float, hi: float) -> NDArray[np.float64]:
        t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
        return t * t * (3.0 - 2.0 * t)

    jaw = step(v[:, 1], mouth_y + 0.002, mouth_y - 0.012) * step(v[:, 2], hinge[2] - 0.01, hinge[2] + 0.02)
    jaw *= step(v[:, 1], mouth_y - 0.12, mouth_y - 0.07)  # not the neck
    weights = np.stack([1.0 - jaw, jaw], axis=1)
    regressor = np.zeros((2, n))
    regressor[0, np.argsort(np.linalg.norm(v - np.array([0.0, mouth_y - 0.1, 0.0]), axis=1))[:10]] = 0.1
    near = np.argsort(np.linalg.norm(v - hinge, axis=1))[:8]
    regressor[1, near] = 1.0 / len(near)
    skel = Skeleton(("global", "jaw"), np.array([-1, 0]), regressor, weights,
                    rng.normal(scale=2e-4, size=(n, 3, 9)).astype(np.float32))
    return replace(model, skeleton=skel)


def synthetic_landmarks(model: LinearHeadModel, corr: "Correspondence", params: HeadParams, size: int = 1000
                        ) -> tuple["Landmarks", NDArray[np.float64]]:
    """Detector-like landmarks of a known head and their exact pixels.

    The table's 478 points on ``head_vertices(model, params)``, projected by ``camera_from_fov(size, size, 40°)``;
    ``z`` is MediaPipe-style relative depth (pixels, relative to the mesh points' mean); no blendshape scores.
    """
    from headcast.fitting.correspondence import landmark_points
    from headcast.geometry.camera import camera_from_fov, project, transform_points
    from headcast.headmodel.base import head_vertices
    from headcast.landmarks.types import Landmarks

    camera = camera_from_fov(size, size, 40.0)
    cam_pts = transform_points(landmark_points(head_vertices(model, params), model.triangles, corr), params.pose)
    uv = project(cam_pts, camera)
    depth = -cam_pts[:, 2]
    z = camera.fx * (depth - depth[:468].mean()) / depth[:468].mean()
    lm = Landmarks(
        points=np.column_stack([uv, z]),
        blendshapes=np.zeros(2),
        blendshape_names=("_neutral", "jawOpen"),
        transform=np.eye(4),
        image_size=(size, size),
        num_faces=1,
        box=np.r_[uv.min(axis=0), uv.max(axis=0)],
    )
    return lm, uv


SCENE_SIZE = 800
"""Side of :class:`OutlineScene`'s square image, pixels."""


class OutlineScene:
    """A true head and a fit whose cranium is wrong, seen by an 800 × 800 camera."""

    def __init__(self, model: LinearHeadModel, corr: "Correspondence", seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.model, self.corr = model, corr
        self.camera = camera_from_fov(SCENE_SIZE, SCENE_SIZE, 40.0)
        rot = euler_yxz_to_matrix(0.2, -0.05, 0.0)
        self.pose = HeadPose(matrix_to_axis_angle(rot), np.array([0.0, 0.0, -0.75]))
        self.true_identity = rng.normal(0.0, 1.0, 60)
        self.true = HeadParams(self.true_identity, np.zeros(model.num_expressions), self.pose)
        self.start = HeadParams(np.zeros(60), np.zeros(model.num_expressions), self.pose)

    def classes(self, params: HeadParams) -> np.ndarray:
        """Skin where the head projects, background elsewhere (a perfect parsing of a bald head)."""
        verts = transform_points(head_vertices(self.model, params), params.pose)
        uv = project(verts, self.camera)
        out = np.zeros((SCENE_SIZE, SCENE_SIZE), np.uint8)
        for tri in np.asarray(self.model.triangles):
            cv2.fillConvexPoly(out, np.round(uv[tri]).astype(np.int32), int(FaceClass.SKIN))
        return out

    def fit(self, params: HeadParams) -> FitResult:
        """A fit at ``params``: its landmarks are the head's own projections."""
        verts = head_vertices(self.model, params)
        lm = project(
            transform_points(landmark_points(verts, self.model.triangles, self.corr), params.pose), self.camera
        )
        lm68 = project(transform_points(verts[self.model.landmarks68], params.pose), self.camera)
        return FitResult(params, self.camera, lm, lm68, 0.0)


def photo_of_known_head(
    model: LinearHeadModel, known: "UVTexture", expression: NDArray[np.float64], offset: tuple[float, float, float],
    size: int, fov_deg: float, renderer: "Renderer",
) -> tuple["Photo", FitResult]:
    """An unlit render of the mean head wearing ``known`` as a photo, and the exact fit of it.

    The head faces the camera, its face's bounding-box centre moved to ``offset`` (metres, camera frame); the fit's
    landmarks are the table's points on the rendered head, projected.
    """
    from headcast.fitting.correspondence import load_correspondence
    from headcast.landmarks.types import Photo
    from headcast.render.raster import RenderSettings
    from headcast.render.views import render_head

    face = model.template[model.face_vertices]
    centre = 0.5 * (face.min(axis=0) + face.max(axis=0))
    pose = HeadPose(np.zeros(3), -centre + np.asarray(offset, dtype=np.float64))
    params = HeadParams(np.zeros(0), expression, pose)
    camera = camera_from_fov(size, size, fov_deg)
    shot = render_head(model, params, known, camera, settings=RenderSettings(shading="unlit"), renderer=renderer)
    points = project(transform_points(landmark_points(head_vertices(model, params), model.triangles,
                                                      load_correspondence()), pose), camera)
    return Photo(np.ascontiguousarray(shot.color[..., :3])), FitResult(params, camera, points, np.zeros((68, 2)), 0.0)
