"""The fitting stage's output."""

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from headcast.geometry.camera import Camera
from headcast.headmodel.base import HeadParams


@dataclass(frozen=True, eq=False)
class FitResult:
    """A head fitted to one photo.

    Attributes:
        params: identity, expression and pose.
        camera: intrinsics for the photo (``Photo.pixels`` size).
        landmarks_2d: ``(478, 2)`` the fitted model's MediaPipe-landmark points projected into the photo, pixels.
        landmarks68_2d: ``(68, 2)`` the fitted model's iBUG-68 points projected into the photo, pixels.
        nme: normalised mean error of ``landmarks_2d`` vs the detector (outer-eye-corner distance).
        iterations: solver iterations used, per stage.
    """

    params: HeadParams
    camera: Camera
    landmarks_2d: NDArray[np.float64]
    landmarks68_2d: NDArray[np.float64]
    nme: float
    iterations: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RefineReport:
    """What the refinement did (params.json ``refine``).

    Attributes:
        rays_used: rays whose photo boundary is bare skin (0: nothing was refined).
        rays: rays cast.
        outline_before: median |model − photo| outline offset on the used rays before, eye distances.
        outline_after: the same after.
        identity_change: ``‖α − α̂‖`` (σ units).
        seconds: wall time.
        reason: why nothing was refined, else ``""``.
    """

    rays_used: int
    rays: int
    outline_before: float
    outline_after: float
    identity_change: float
    seconds: float
    reason: str = ""


@dataclass(frozen=True)
class OutlineReport:
    """What the outline warp did (params.json ``outline``).

    Attributes:
        rays_used: rays whose photo boundary is skin or ear.
        rays: rays cast.
        offset_before: median |model − photo| outline offset on the used rays before, eye distances.
        offset_after: the same after.
        max_shift_mm: the largest shift of the warp, millimetres.
        seconds: wall time.
        reason: why nothing was warped, else ``""``.
        ear_rays_used: rays ending in the model's +x and −x ear.
        ear_shift_mm: the +x and −x ear's shift, millimetres.
    """

    rays_used: int
    rays: int
    offset_before: float
    offset_after: float
    max_shift_mm: float
    seconds: float
    reason: str = ""
    ear_rays_used: tuple[int, int] = (0, 0)
    ear_shift_mm: tuple[float, float] = (0.0, 0.0)
