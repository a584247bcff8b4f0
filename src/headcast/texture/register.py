"""Register the photo's features to the mesh's before baking: a smooth image-plane shift per vertex.

The fit leaves a residual between where the detector found a feature (``q_i``) and where the fitted mesh's landmark
point projects (``π(X_i)``): small with the per-landmark fit, larger when the shape is held at another estimate
(e.g. the learned detector-noise identity, :class:`headcast.fitting.settings.FitSettings`). Baked as is, the photo's
lid or lip pixels land beside the mesh's lids and lips, and they move wrongly when an expression is applied. So the
bake samples the photo not at ``π(X)`` but at ``π(X) + s(π(X))``, where ``s`` is a thin-plate-spline field through
the residuals ``s(π(X_i)) = q_i − π(X_i)`` of the face-mesh landmarks inside the outline. The face-oval landmarks
are anchors with ``s = 0`` (the outline is the geometry's business: the fit slides the jaw line to the silhouette),
and the field fades out with the distance to the nearest landmark (no linear extrapolation over the scalp).
The iris landmarks are left out (the eyeballs are another material).
"""

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import RBFInterpolator
from scipy.spatial import cKDTree

from headcast.fitting.mediapipe_embedding import NUM_MESH_LANDMARKS
from headcast.texture.project import FACE_OVAL

LANDMARK_SPACING = 0.03
"""Face widths from the nearest landmark within which a point counts as among the landmarks (no fading)."""


def feature_shifts(
    detected: NDArray[np.floating],
    fitted: NDArray[np.floating],
    vertices_px: NDArray[np.floating],
    smoothing: float,
    fade: float,
    max_shift: float,
) -> NDArray[np.float32]:
    """Per-vertex photo sampling shift that carries the detected features onto the fitted mesh's.

    Args:
        detected: ``(L, 2)`` detected landmark pixels (``L ≥ 468``, MediaPipe order).
        fitted: ``(L, 2)`` the fitted model's landmark points projected into the photo.
        vertices_px: ``(V, 2)`` the fitted mesh's vertices projected into the photo.
        smoothing: thin-plate-spline smoothing, in units of the face width squared (0 interpolates exactly).
        fade: the field falls off as ``exp(−(d / (fade · width))²)`` with the distance ``d`` beyond the nearest
            landmark beyond :data:`LANDMARK_SPACING`, ``width`` the face's width across the outline.
        max_shift: shifts longer than this fraction of the face width are shortened to it (a bad fit must not
            smear the photo).

    Returns:
        ``(V, 2)`` float32 shifts in pixels (add them to the projected position before sampling the photo).
    """
    q = np.asarray(detected, np.float64)[:NUM_MESH_LANDMARKS, :2]
    p = np.asarray(fitted, np.float64)[:NUM_MESH_LANDMARKS, :2]
    width = float(np.ptp(q[list(FACE_OVAL), 0])) or 1.0
    residual = q - p
    residual[list(FACE_OVAL)] = 0.0
    # the field in face-width units: a well-conditioned spline whatever the photo's resolution
    centre = p.mean(axis=0)
    sites = (p - centre) / width
    field = RBFInterpolator(sites, residual / width, kernel="thin_plate_spline", smoothing=smoothing)
    at = (np.asarray(vertices_px, np.float64) - centre) / width
    shift = field(at) * width
    nearest, _ = cKDTree(sites).query(at)  # face widths from each vertex to its nearest landmark
    beyond = np.maximum(nearest - LANDMARK_SPACING, 0.0)
    shift *= np.exp(-((beyond / max(fade, 1e-6)) ** 2))[:, None]
    length = np.linalg.norm(shift, axis=1, keepdims=True)
    limit = max_shift * width
    shift *= np.minimum(1.0, limit / np.maximum(length, 1e-12))
    return shift.astype(np.float32)
