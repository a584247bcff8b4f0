"""Axis-angle (Rodrigues) rotations.

Convention:
    A rotation vector ``r`` (3,) in radians: axis ``r / |r|``, angle ``|r|``; matrices act on column vectors.
    Batched inputs put the batch first: ``(..., 3)`` -> ``(..., 3, 3)``.
"""

import numpy as np
from numpy.typing import NDArray


def axis_angle_to_matrix(rotvec: NDArray[np.floating]) -> NDArray[np.float64]:
    """Rodrigues' formula ``R = I + sin(θ) K + (1 - cos(θ)) K²``.

    Args:
        rotvec: ``(..., 3)`` rotation vectors in radians.

    Returns:
        ``(..., 3, 3)`` rotation matrices (float64).

    Example:
        >>> np.round(axis_angle_to_matrix(np.array([0.0, np.pi / 2, 0.0])) @ [0, 0, 1], 6)
        array([1., 0., 0.])
    """
    r = np.asarray(rotvec, dtype=np.float64)
    theta = np.linalg.norm(r, axis=-1, keepdims=True)
    safe = np.where(theta < 1e-12, 1.0, theta)
    k = r / safe
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    kmat = np.stack(
        [
            np.stack([zero, -kz, ky], axis=-1),
            np.stack([kz, zero, -kx], axis=-1),
            np.stack([-ky, kx, zero], axis=-1),
        ],
        axis=-2,
    )
    s = np.sin(theta)[..., None]
    c = np.cos(theta)[..., None]
    eye = np.broadcast_to(np.eye(3), kmat.shape)
    return eye + s * kmat + (1.0 - c) * (kmat @ kmat)


def matrix_to_axis_angle(matrix: NDArray[np.floating]) -> NDArray[np.float64]:
    """Inverse of :func:`axis_angle_to_matrix` (angle in [0, π]).

    Args:
        matrix: ``(..., 3, 3)`` rotation matrices.

    Returns:
        ``(..., 3)`` rotation vectors in radians.
    """
    m = np.asarray(matrix, dtype=np.float64)
    cos = np.clip((np.trace(m, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    theta = np.arccos(cos)
    vee = np.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], axis=-1)
    sin = np.sin(theta)
    small = sin < 1e-6
    out = np.where(small[..., None], vee / 2.0, vee * (theta / np.where(small, 1.0, 2.0 * sin))[..., None])
    # Angles near π: sin ~ 0 but theta ~ π; recover the axis from the symmetric part.
    near_pi = small & (theta > 3.0)
    if np.any(near_pi):
        sym = (m + np.eye(3)) / 2.0
        diag = np.clip(np.diagonal(sym, axis1=-2, axis2=-1), 0.0, None)
        axis = np.sqrt(diag)
        # fix signs relative to the largest component
        idx = np.argmax(axis, axis=-1)
        ref = np.take_along_axis(sym, idx[..., None, None].repeat(3, axis=-1), axis=-2)[..., 0, :]
        axis = ref / np.sqrt(np.clip(np.take_along_axis(diag, idx[..., None], axis=-1), 1e-12, None))
        axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
        out = np.where(near_pi[..., None], axis * theta[..., None], out)
    return out


def euler_yxz_to_matrix(yaw: float, pitch: float, roll: float) -> NDArray[np.float64]:
    """``R = R_y(yaw) · R_x(pitch) · R_z(roll)`` (radians); yaw about +y, pitch about +x, roll about +z."""
    ry = axis_angle_to_matrix(np.array([0.0, yaw, 0.0]))
    rx = axis_angle_to_matrix(np.array([pitch, 0.0, 0.0]))
    rz = axis_angle_to_matrix(np.array([0.0, 0.0, roll]))
    return ry @ rx @ rz
