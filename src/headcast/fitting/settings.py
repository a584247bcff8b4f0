"""Settings of the fitting stage."""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

RobustLoss = Literal["linear", "soft_l1", "huber", "cauchy"]
ExpressionInit = Literal["mediapipe", "zero"]
ContourMode = Literal["slide", "fixed"]


@dataclass(frozen=True)
class FitSettings:
    """How the head model is fitted to the landmarks.

    Residuals are image distances divided by the detected outer-eye-corner distance, so weights and the loss scale
    do not depend on the photo's resolution.

    Attributes:
        fov_deg: assumed field of view across the longer image side (fixes the focal length).
        num_identity: identity modes fitted (the first ones; ≤ the model's).
        identity_prior: weight λ of the Gaussian prior ``λ‖α‖²`` (α in σ units).
        expression_prior: weight λ of ``λ‖w − w₀‖²`` pulling expression weights towards their initial values
            (``expression_kind="weights"`` models).
        coefficient_prior: weight λ of the Gaussian prior ``λ‖ψ‖²`` on unbounded expression coefficients
            (``expression_kind="coefficients"`` models, ψ in σ units, started at 0).
        joint_prior: weight λ of ``λ‖θ‖²`` on the axis-angle vectors of a skinned model's fitted joints (radians;
            the rest pose is 0).
        expression_init: ``"mediapipe"`` starts from the detector's blendshape scores, ``"zero"`` from neutral
            (weights only: coefficients always start at 0).
        loss: robust loss on the landmark residuals (definitions as in ``scipy.optimize.least_squares``).
        loss_scale: where the robust loss turns from quadratic to linear, in outer-eye-distance units.
        contour_mode: ``"slide"`` re-assigns the jaw-contour landmarks to the model's silhouette before every round;
            ``"fixed"`` keeps them at their embedded skin points like the other landmarks.
        contour_rounds: fitting rounds (silhouette re-assignment, then a joint solve).
        contour_weight: weight of a contour landmark's offset across the contour.
        contour_tangent_weight: weight of its offset along the contour (small: contour points slide).
        oval_weight: weight of the upper face-oval landmarks (forehead, often under hair).
        iris_weight: weight of the 10 iris landmarks (the model has no eye rotation, so gaze is not fitted).
        lid_weight: weight of the 28 lid-margin landmarks (how open the eyes look depends on them).
        unfitted_expression_prefixes: expression shapes whose canonical (ARKit) names start with one of these are
            held at their initial values (weights only; every coefficient is fitted). Gaze
            (``eyeLook*``, which turns ICT's eyeballs) is not fitted: landmarks barely constrain it, and fitted
            gaze drifted outwards (wall-eyed avatars).
        depth_weight: weight of MediaPipe's relative depth (z) as a weak extra term.
        max_iterations: solver steps in the first round.
        refine_iterations: solver steps in each later round.
        landmark_noise: a learned model of the detector's landmark error
            (:class:`headcast.fitting.fit.LandmarkNoise`, written by ``scripts/synthetic_fit_study.py --learn-noise``),
            or None. When given, the landmark term is the error's Gaussian negative log-likelihood under the model:
            all 478 landmarks are compared as fixed points of the table, the model's mean error is subtracted from
            the detections and the rest is whitened by its covariance (correlated errors count once). Then
            ``contour_mode``, the contour, oval, iris and lid weights are not used, ``loss_scale`` is in units of
            the whitened error (σ), and the priors are in their natural units: ``identity_prior = 1`` is the
            model's own ``α ~ N(0, I)``.
    """

    fov_deg: float = 40.0
    num_identity: int = 60
    identity_prior: float = 2e-3
    expression_prior: float = 1e-2
    coefficient_prior: float = 2e-3
    joint_prior: float = 1e-2
    expression_init: ExpressionInit = "mediapipe"
    loss: RobustLoss = "soft_l1"
    loss_scale: float = 0.02
    contour_mode: ContourMode = "slide"
    contour_rounds: int = 3
    contour_weight: float = 1.0
    contour_tangent_weight: float = 0.3
    oval_weight: float = 0.5
    iris_weight: float = 0.3
    lid_weight: float = 3.0
    unfitted_expression_prefixes: tuple[str, ...] = ("pupilDilate", "eyeLook")
    depth_weight: float = 0.05
    max_iterations: int = 25
    refine_iterations: int = 10
    landmark_noise: Path | None = None
