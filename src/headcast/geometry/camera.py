"""Pinhole camera and head pose (docs/conventions.md: OpenGL camera axes, top-left pixel origin).

Pure functions do the maths; the dataclasses only hold numbers.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from headcast.geometry.rotation import axis_angle_to_matrix


@dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics in pixels for an image of ``width`` × ``height`` pixels."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @property
    def matrix(self) -> NDArray[np.float64]:
        """``(3, 3)`` OpenCV-style K (for reference; projection here uses the OpenGL axes)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, factor: float) -> "Camera":
        """The same camera for the image resized by ``factor`` (pixel units scale, the view does not)."""
        return Camera(
            self.fx * factor,
            self.fy * factor,
            self.cx * factor,
            self.cy * factor,
            max(1, round(self.width * factor)),
            max(1, round(self.height * factor)),
        )


@dataclass(frozen=True)
class HeadPose:
    """Model-to-camera rigid transform ``X_cam = R · X_model + t``.

    Attributes:
        rotation: ``(3,)`` axis-angle, radians.
        translation: ``(3,)`` metres, camera frame (the head is at negative z).
    """

    rotation: NDArray[np.float64]
    translation: NDArray[np.float64]

    @property
    def matrix(self) -> NDArray[np.float64]:
        """``(4, 4)`` homogeneous model-to-camera matrix."""
        return pose_matrix(self.rotation, self.translation)


def camera_from_fov(width: int, height: int, fov_deg: float) -> Camera:
    """Camera whose field of view across the longer image side is ``fov_deg``; principal point at the centre."""
    f = 0.5 * max(width, height) / np.tan(np.deg2rad(fov_deg) / 2.0)
    return Camera(float(f), float(f), width / 2.0, height / 2.0, int(width), int(height))


def pose_matrix(rotation: NDArray[np.floating], translation: NDArray[np.floating]) -> NDArray[np.float64]:
    """``(4, 4)`` matrix from axis-angle ``rotation`` (3,) and ``translation`` (3,)."""
    m = np.eye(4)
    m[:3, :3] = axis_angle_to_matrix(rotation)
    m[:3, 3] = np.asarray(translation, dtype=np.float64)
    return m


def turn_from_camera_deg(pose: NDArray[np.floating]) -> float:
    """Degrees between the head's forward axis (model ``+z``) and the direction from the head to the camera.

    ``pose`` is the ``(4, 4)`` model-to-camera matrix (:attr:`HeadPose.matrix`); 0 for a head facing the camera.
    """
    m = np.asarray(pose, np.float64)
    to_camera = -m[:3, 3] / max(float(np.linalg.norm(m[:3, 3])), 1e-9)
    forward = m[:3, 2] / max(float(np.linalg.norm(m[:3, 2])), 1e-9)
    return float(np.degrees(np.arccos(np.clip(forward @ to_camera, -1.0, 1.0))))


def transform_points(points: NDArray[np.floating], pose: HeadPose) -> NDArray[np.float64]:
    """Model-frame ``(..., N, 3)`` points to the camera frame."""
    r = axis_angle_to_matrix(pose.rotation)
    return np.asarray(points, dtype=np.float64) @ r.T + np.asarray(pose.translation, dtype=np.float64)


def project(points_cam: NDArray[np.floating], camera: Camera) -> NDArray[np.float64]:
    """Project camera-frame points to pixels.

    ``u = cx + fx · X / (−Z)``, ``v = cy − fy · Y / (−Z)``.

    Args:
        points_cam: ``(..., 3)`` camera-frame points, metres, with Z < 0.
        camera: intrinsics.

    Returns:
        ``(..., 2)`` pixel coordinates (u right, v down; top-left corner origin).

    Example:
        >>> cam = Camera(100.0, 100.0, 50.0, 50.0, 100, 100)
        >>> project(np.array([0.1, 0.1, -1.0]), cam)
        array([60., 40.])
    """
    p = np.asarray(points_cam, dtype=np.float64)
    depth = -p[..., 2]
    u = camera.cx + camera.fx * p[..., 0] / depth
    v = camera.cy - camera.fy * p[..., 1] / depth
    return np.stack([u, v], axis=-1)


def opengl_projection(camera: Camera, near: float, far: float) -> NDArray[np.float64]:
    """``(4, 4)`` OpenGL clip matrix equivalent to :func:`project` (NDC y up, image row 0 at the top).

    A camera-frame point maps to NDC ``x = 2u/W − 1``, ``y = 1 − 2v/H``.
    """
    w, h = camera.width, camera.height
    m = np.zeros((4, 4))
    m[0, 0] = 2.0 * camera.fx / w
    m[0, 2] = 1.0 - 2.0 * camera.cx / w
    m[1, 1] = 2.0 * camera.fy / h
    m[1, 2] = 2.0 * camera.cy / h - 1.0
    m[2, 2] = -(far + near) / (far - near)
    m[2, 3] = -2.0 * far * near / (far - near)
    m[3, 2] = -1.0
    return m
