"""Settings of the fitting stage."""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

RobustLoss = Literal["linear", "soft_l1", "huber", "cauchy"]
ExpressionInit = Literal["mediapipe", "zero"]
ContourMode = Literal["slide", "fixed"]
NoiseRole = Literal["all", "identity", "depth"]


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
            (:class:`headcast.fitting.fit.LandmarkNoise`, written by ``scripts/synthetic_fit_study.py --learn-noise``):
            ``"packaged"`` (the model shipped for the ICT FaceKit table, learned from 1,500 rendered random heads;
            another table — a FLAME head — then uses the per-landmark terms alone), a file, or None (per-landmark
            terms alone; the default: with the packaged model the fitted shape is closer to the truth on rendered
            heads, but the photo's features sit further from the mesh's, and the baked texture then moves less
            well with expressions — emotion recognisability and smile transfer got worse; docs/results/eval).
            With a model, a first fit's landmark term is the error's Gaussian negative log-likelihood: all modelled
            landmarks are compared as fixed points of the table, the model's mean error is subtracted from the
            detections and the rest is whitened by its covariance (correlated errors count once); there
            ``contour_mode`` and the contour, oval, iris and lid weights are not used, and the loss scale and
            priors are the ``noise_*`` ones below (σ units, natural priors).
        noise_role: with ``landmark_noise``: ``"all"`` takes the whole fit from the learned-noise term;
            ``"identity"`` takes only the identity from it, then fits pose and expression with the per-landmark
            terms above (contour sliding, lid and oval weights) with the identity held at that shape.
            ``"depth"`` holds instead the identity that keeps the per-landmark fit's shape across the view axis and
            the learned-noise fit's depth along it (:func:`headcast.fitting.fit.depth_blended_identity`).
        noise_identity_prior: ``identity_prior`` of the learned-noise fit (natural units: 1 is ``α ~ N(0, I)``).
        noise_expression_prior: ``expression_prior`` of the learned-noise fit.
        noise_loss_scale: ``loss_scale`` of the learned-noise fit, in units of the whitened error (σ).
        held_identity_prior: weight λ of ``λ‖α − α̂‖²`` holding the identity at the learned-noise fit's ``α̂`` in
            the second fit of ``noise_role="identity"`` (large: held).
        held_expression_prior: ``expression_prior`` of that second fit (larger: the expression stays nearer
            MediaPipe's blendshape scores instead of turning the held shape's mismatch into expression).
        held_lid_weight: ``lid_weight`` of that second fit.
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
    landmark_noise: Path | Literal["packaged"] | None = None
    noise_role: NoiseRole = "identity"
    noise_identity_prior: float = 1.0
    noise_expression_prior: float = 1.0
    noise_loss_scale: float = 3.0
    held_identity_prior: float = 10.0
    held_expression_prior: float = 1e-2
    held_lid_weight: float = 3.0
