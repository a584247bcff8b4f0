"""The photo's lighting as second-order spherical harmonics: estimate it on visible skin, divide it out, put it back.

Model (Ramamoorthi & Hanrahan 2001, "An efficient representation for irradiance environment maps"): under distant
lighting of radiance ``L(ω) = Σ L_lm Y_lm(ω)``, a convex Lambertian surface of normal ``n`` receives the
irradiance ``E(n) = Σ_{l ≤ 2} Â_l Σ_m L_lm Y_lm(n)``, ``Â_0 = π``, ``Â_1 = 2π/3``, ``Â_2 = π/4`` (the clamped
cosine's band gains; higher bands carry only a few percent of it). A pixel of albedo ``ρ`` then reads
``ρ · E(n) / π``. Here the colour of a visible skin point is modelled as ``albedo_c · s(n)`` with one achromatic
shading ``s(n) = E(n) / π`` shared by the three channels and one albedo per channel.

Why one light for all channels (9 coefficients) and a per-channel albedo (3 gains) rather than 27 coefficients:
from one photo of a face of (nearly) one skin colour only the product ``albedo_c · light_c`` is observed, so the
colour of the light cannot be told from the colour of the skin; any split would be arbitrary and de-lighting
would white-balance the skin. The channels' directional shading differs mostly through subsurface scattering
(red is softer), a second-order effect; 12 unknowns instead of 27 keep the robust fit stable, and an achromatic
shading cannot explain hue changes (lips, beard, redness), so those stay in the albedo or fall out as outliers.
The photo's colour cast therefore stays in the albedo (white balance is a separate question).

That second-order effect is visible once the shading is divided out, though: skin's lit side reads cooler and
paler than its shadow side (red light scatters further under the skin, so red shading is softer; a sheen whitens
the lit side), and an achromatic de-light turns that into a grey-blue lit cheek beside an orange shadow side.
:func:`fit_channel_exponents` therefore measures, after the fit, how each channel follows the shading —
``colour_c ∝ s(n) ** k_c`` (a log-log regression, normalised so that the luminance follows ``s`` itself) —
and :func:`delight` / :func:`relight` divide / multiply channel ``c`` by ``s ** k_c``. Skin photos give
``k_red`` 0.6–1.0 and ``k_blue`` 1.0–1.4; ``k = (1, 1, 1)`` (the default) is the achromatic model.

Convention:
    * Normals are unit vectors in the frame the lighting is expressed in. The texture stage uses the **camera
      frame** (docs/conventions.md: +x right, +y up, the camera looks down −z, so normals facing the camera have
      z > 0); :func:`rotate_lighting` re-expresses a lighting in another frame (e.g. the model frame).
    * Colours in and out are sRGB in [0, 1] (``uint8 / 255``); the maths runs on linear RGB (IEC 61966-2-1
      transfer curve, :func:`srgb_to_linear`).
    * SH order: ``(l, m) = (0,0), (1,−1), (1,0), (1,1), (2,−2), (2,−1), (2,0), (2,1), (2,2)``, real orthonormal
      basis (``Y_1,−1 ∝ y``, ``Y_10 ∝ z``, ``Y_11 ∝ x``).
    * Scale: exposure and albedo cannot be separated, so the lighting is scaled to make the weighted mean of the
      shading over the fitted samples 1: de-lit colours keep the photo's average brightness.
    * Batch: every function takes ``(..., 3)`` normals and colours (any leading shape, e.g. an ``(H, W, 3)``
      image) and returns the same leading shape.
"""

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import nnls

#: Real SH normalisation constants for bands 0–2 (Ramamoorthi & Hanrahan 2001, eq. 3).
_C0 = 0.282095  # 1 / (2 √π)
_C1 = 0.488603  # √3 / (2 √π)
_C2 = 1.092548  # √15 / (2 √π)
_C3 = 0.315392  # √5 / (4 √π)
_C4 = 0.546274  # √15 / (4 √π)

#: Ramamoorthi & Hanrahan 2001, eq. 12: ``c1 … c5`` of the irradiance's quadratic form.
_RH_C = (0.429043, 0.511664, 0.743125, 0.886227, 0.247708)

#: ``Â_l / π`` per coefficient: the clamped-cosine convolution divided by π (shading of a white Lambertian surface).
BAND_GAIN = np.array([1.0, 2 / 3, 2 / 3, 2 / 3, 0.25, 0.25, 0.25, 0.25, 0.25])

LightConstraint = Literal["nonnegative", "none"]
"""How the lighting is constrained: non-negative radiance in every direction (physical), or not at all."""

#: Samples with any sRGB channel at or above this are clipped highlights and never fitted.
_CLIPPED = 0.99

#: Tukey biweight tuning constant (95 % efficiency under Gaussian residuals) and the Huber constant of the warm-up.
_TUKEY = 4.685
_HUBER = 1.345
#: IRLS iterations that use Huber weights before switching to Tukey's (Tukey needs a good start).
_HUBER_ITERATIONS = 2


@dataclass(frozen=True, eq=False)
class ShLighting:
    """Second-order SH lighting estimated from a photo, and how well it explains the photo.

    Attributes:
        coefficients: ``(9,)`` float64 radiance coefficients ``L_lm`` (module docstring order), scaled so that the
            mean shading over the fitted samples is 1. Frame: that of the normals it was fitted to.
        albedo: ``(3,)`` float64 linear-RGB albedo of the fitted skin (relative to ``albedo_prior`` when one was
            given): the fitted colour is ``albedo · shading(n)``.
        shading_range: ``(lo, hi)``: the 2nd and 98th weighted percentiles of the shading over the fitted inliers;
            :func:`delight` never divides by shading outside it (normals the fit never saw, such as eye sockets
            and the mouth's corners, are not extrapolated). The texture stage raises ``lo`` to its de-lighting
            floor, so that the range is the clamp it applied (:func:`headcast.texture.albedo.delight_face`).
        explained: fraction of the weighted variance of the linear colours explained by ``albedo · shading(n)``
            (R², over the robust inliers; 0 = no better than one flat colour, 1 = all of it).
        inliers: fraction of the input weight kept by the robust weights (what was not highlight, hair shadow,
            beard, ...).
        residual: weighted RMS of the inliers' relative residual ``colour / albedo − shading`` (shading units).
        samples: number of samples fitted (after subsampling, zero weights and clipped pixels removed).
        channel_exponents: ``(3,)`` float64 ``k_c``: channel ``c`` is shaded by ``s(n) ** k_c``
            (:func:`fit_channel_exponents`); ``(1, 1, 1)`` = one achromatic shading for all channels.
    """

    coefficients: NDArray[np.float64]
    albedo: NDArray[np.float64] = field(default_factory=lambda: np.ones(3))
    shading_range: tuple[float, float] = (0.0, float("inf"))
    explained: float = float("nan")
    inliers: float = float("nan")
    residual: float = float("nan")
    samples: int = 0
    channel_exponents: NDArray[np.float64] = field(default_factory=lambda: np.ones(3))

    @property
    def ambient(self) -> float:
        """Band-0 shading: what a uniform environment gives every normal (``L_00 · Y_00``)."""
        return float(self.coefficients[0] * _C0)

    @property
    def directional(self) -> float:
        """Amplitude of the band-1 shading term, ``(2/3) · Y_1 · |L_1|``: the shading gain towards the light."""
        return float(BAND_GAIN[1] * _C1 * np.linalg.norm(self.coefficients[1:4]))

    @property
    def directional_ratio(self) -> float:
        """``directional / ambient``: 0 for uniform light, 2 for one distant point light with no ambient."""
        return self.directional / max(self.ambient, 1e-12)

    @property
    def direction(self) -> NDArray[np.float64]:
        """``(3,)`` unit vector towards the dominant light: band 1, ``(L_11, L_1,−1, L_10)`` = (x, y, z).

        The usual summary of an SH light (the direction of its linear term); it ignores band 2, so it means most
        when band 2 is small (a key light plus ambient).
        """
        d = np.array([self.coefficients[3], self.coefficients[1], self.coefficients[2]], np.float64)
        n = float(np.linalg.norm(d))
        return d / n if n > 0 else np.array([0.0, 0.0, 1.0])

    def shading(self, normals: NDArray[np.floating]) -> NDArray[np.float32]:
        """:func:`shading` of ``normals`` under this lighting."""
        return shading(normals, self)


def srgb_to_linear(srgb: NDArray[np.floating]) -> NDArray[np.float64]:
    """Convert sRGB in [0, 1] to linear RGB (IEC 61966-2-1; values outside [0, 1] are clipped first)."""
    c = np.clip(np.asarray(srgb, np.float64), 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: NDArray[np.floating]) -> NDArray[np.float64]:
    """Convert linear RGB to sRGB in [0, 1] (IEC 61966-2-1; values outside [0, 1] are clipped first)."""
    c = np.clip(np.asarray(linear, np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def sh_basis(normals: NDArray[np.floating]) -> NDArray[np.float64]:
    """The 9 real SH basis functions at unit ``normals``.

    Args:
        normals: ``(..., 3)`` unit vectors (x, y, z).

    Returns:
        ``(..., 9)`` float64 ``Y_lm(n)`` in the module's order (orthonormal over the sphere).
    """
    n = np.asarray(normals, np.float64)
    if n.shape[-1:] != (3,):
        raise ValueError(f"normals must have shape (..., 3), got {n.shape}")
    x, y, z = n[..., 0], n[..., 1], n[..., 2]
    return np.stack(
        [
            np.full_like(x, _C0),
            _C1 * y,
            _C1 * z,
            _C1 * x,
            _C2 * x * y,
            _C2 * y * z,
            _C3 * (3.0 * z * z - 1.0),
            _C2 * x * z,
            _C4 * (x * x - y * y),
        ],
        axis=-1,
    )


def shading(normals: NDArray[np.floating], lighting: ShLighting | NDArray[np.floating]) -> NDArray[np.float32]:
    """Achromatic shading ``s(n) = E(n) / π`` of a white Lambertian surface.

    Evaluated as the quadratic form ``E(n) = n̂ᵀ M n̂``, ``n̂ = (x, y, z, 1)`` (Ramamoorthi & Hanrahan 2001, eq. 12,
    constants ``c1…c5``), in float32: the same values as ``sh_basis(n) @ (BAND_GAIN · L)`` in a few
    multiply-adds per normal.

    Args:
        normals: ``(..., 3)`` unit normals, in the lighting's frame.
        lighting: an :class:`ShLighting` or its ``(9,)`` coefficients.

    Returns:
        ``(...,)`` float32 shading (1 = the mean over the samples the lighting was fitted to; may dip below 0 far
        from the light, where the order-2 approximation rings). Broadcast it over colour with ``[..., None]``.
    """
    coeffs = _coefficients(lighting)
    n = np.asarray(normals, np.float32)
    if n.shape[-1:] != (3,):
        raise ValueError(f"normals must have shape (..., 3), got {n.shape}")
    l00, l1m1, l10, l11, l2m2, l2m1, l20, l21, l22 = (float(c) / np.pi for c in coeffs)
    c1, c2, c3, c4, c5 = _RH_C
    x, y, z = n[..., 0], n[..., 1], n[..., 2]
    e = (c1 * l22) * (x * x - y * y) + (c3 * l20) * (z * z) + (c4 * l00 - c5 * l20)
    e += (2 * c1) * (l2m2 * (x * y) + l21 * (x * z) + l2m1 * (y * z))
    e += (2 * c2) * (l11 * x + l1m1 * y + l10 * z)
    return np.asarray(e, np.float32)


def shading_matrix(lighting: ShLighting | NDArray[np.floating]) -> NDArray[np.float64]:
    """The symmetric ``(4, 4)`` matrix ``M`` of the shading's quadratic form: ``s(n) = n̂ᵀ M n̂``, ``n̂ = (x, y, z, 1)``.

    Ramamoorthi & Hanrahan 2001, eq. 12, divided by π (the same constants as :func:`shading`): what a renderer
    needs to evaluate the shading per pixel (one ``mat4`` uniform), e.g. to relight an albedo texture.

    Args:
        lighting: an :class:`ShLighting` or its ``(9,)`` coefficients (frame: that of the normals it will shade).

    Returns:
        ``(4, 4)`` float64 ``M``; ``n̂ᵀ M n̂`` equals :func:`shading` of the unit normal ``n``.
    """
    l00, l1m1, l10, l11, l2m2, l2m1, l20, l21, l22 = (float(c) / np.pi for c in _coefficients(lighting))
    c1, c2, c3, c4, c5 = _RH_C
    return np.array(
        [
            [c1 * l22, c1 * l2m2, c1 * l21, c2 * l11],
            [c1 * l2m2, -c1 * l22, c1 * l2m1, c2 * l1m1],
            [c1 * l21, c1 * l2m1, c3 * l20, c2 * l10],
            [c2 * l11, c2 * l1m1, c2 * l10, c4 * l00 - c5 * l20],
        ],
        np.float64,
    )


def _coefficients(lighting: ShLighting | NDArray[np.floating]) -> NDArray[np.float64]:
    """The ``(9,)`` coefficients of a lighting or of a coefficient array (checked)."""
    coeffs = lighting.coefficients if isinstance(lighting, ShLighting) else np.asarray(lighting, np.float64)
    if coeffs.shape != (9,):
        raise ValueError(f"SH coefficients must have shape (9,), got {coeffs.shape}")
    return np.asarray(coeffs, np.float64)


def estimate_sh_lighting(
    colors: NDArray[np.floating],
    normals: NDArray[np.floating],
    weights: NDArray[np.floating],
    albedo_prior: NDArray[np.floating] | None = None,
    ridge: float = 0.1,
    constraint: LightConstraint = "nonnegative",
    iterations: int = 8,
    max_samples: int | None = 20_000,
) -> ShLighting:
    """Fit ``colour = albedo · s(n)`` (one achromatic SH shading, one albedo per channel) by robust least squares.

    Alternating weighted least squares: given the albedo, the 9 coefficients solve a ridge problem on the
    channel-averaged relative colour ``mean_c(colour_c / albedo_c)`` (each channel counts by its relative error);
    given the shading, each channel's albedo is a 1-D least-squares fit. Then the sample weights are multiplied by
    robust weights on the residual vector ``colour / albedo − s(n)`` (scale 1.4826 · median; Huber for the first
    iterations, then Tukey's biweight), so specular highlights, cast shadows of hair and nose, beards, brows and
    lips stop pulling on the fit. Finally the lighting is scaled so the weighted mean shading is 1.

    A face seen from the front shows a cap of normals around the view direction, on which ``Y_00``, ``Y_10`` and
    ``Y_20`` are nearly collinear (all are polynomials in z there), so band 2 can model what is not lighting
    (a beard on the chin, a darker face outline, a misfit) with a large band-2 term over a band-1 "light" from
    behind the head. Two priors settle it:

    * ``constraint="nonnegative"`` (default): the radiance is a non-negative mix of 256 distant point lights
      (projected to order 2), solved as a 9-row non-negative least-squares problem per iteration (Lawson–Hanson;
      the data term's Cholesky factor makes it exact for the weighted problem); no negative light from anywhere.
      ``"none"`` is plain (ridge) least squares.
    * ``ridge`` penalises the shading energy of band 2, ``λ · Σw · (1/4)² L_2m² / 4π`` (the units of the data
      term over the whole sphere; bands 0–1 are free). The default 0.1 was chosen on real portraits: below it
      the band-1 direction of studio- and side-lit photos pointed behind the head; at 0.1 it agrees with the
      photos' visible key light, and the left/right balance after de-lighting is about as good. Its cost is a
      weaker band 2 than a hard light has: on synthetic spheres lit by one light plus 0.1–0.5 ambient the shading
      is off by 0.5–3 % RMS (up to 8–16 % at the rim); ``ridge=1e-3`` recovers such lights to < 1 %.

    Args:
        colors: ``(..., 3)`` sRGB in [0, 1] of visible skin (photo pixels or projected texels).
        normals: ``(..., 3)`` unit normals of the same points (camera frame in the pipeline).
        weights: ``(...)`` non-negative confidence (visibility × view angle × skin mask); 0 = ignore.
        albedo_prior: ``(..., 3)`` or ``(3,)`` known relative linear albedo (e.g. lips redder, brows darker), divided
            out before fitting; None = constant albedo.
        ridge: ``λ`` above (≥ 0).
        constraint: ``"nonnegative"`` radiance or ``"none"``.
        iterations: robust reweighting rounds (0 = plain weighted least squares).
        max_samples: at most this many samples are fitted (an even stride over the valid ones); None = all.

    Returns:
        The lighting in the normals' frame, the albedo, and the fit's quality figures.

    Raises:
        ValueError: mismatched shapes, a negative ridge, an unknown constraint, fewer than 9 usable samples, or a
            fit whose shading is not positive on average.
    """
    shape = np.shape(colors)
    if len(shape) < 1 or shape[-1] != 3 or np.shape(normals) != shape or np.shape(weights) != shape[:-1]:
        raise ValueError(
            "colors (..., 3), normals (..., 3) and weights (...) must agree, "
            f"got {shape}, {np.shape(normals)}, {np.shape(weights)}"
        )
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    if constraint not in ("nonnegative", "none"):
        raise ValueError(f"constraint must be 'nonnegative' or 'none', got {constraint!r}")
    prior_arr = None if albedo_prior is None else np.asarray(albedo_prior, np.float64)
    if prior_arr is not None and prior_arr.shape not in ((3,), shape):
        raise ValueError(f"albedo_prior must have shape (3,) or {shape}, got {prior_arr.shape}")

    w_all = np.asarray(weights, np.float64).reshape(-1)
    idx = np.flatnonzero(w_all > 0)  # cheap first cut: an atlas cell is mostly empty
    col = np.asarray(colors).reshape(-1, 3)[idx].astype(np.float64)
    nrm = np.asarray(normals).reshape(-1, 3)[idx].astype(np.float64)
    length = np.linalg.norm(nrm, axis=-1)
    ok = np.isfinite(w_all[idx]) & np.all(np.isfinite(col), axis=-1) & (length > 0.5)
    ok &= np.all(col < _CLIPPED, axis=-1)
    prior = None
    if prior_arr is not None:
        prior = prior_arr[None] if prior_arr.shape == (3,) else prior_arr.reshape(-1, 3)[idx]
        ok &= np.all(prior > 0, axis=-1)
    keep = np.flatnonzero(ok)
    if max_samples is not None and len(keep) > max_samples:
        keep = keep[np.linspace(0, len(keep) - 1, max_samples).astype(np.int64)]
    if len(keep) < 9:
        raise ValueError(f"need at least 9 usable samples to fit 9 SH coefficients, got {len(keep)}")

    # channels-first layouts ((3, N), (9, N)): the reductions over N run on contiguous rows
    lin = srgb_to_linear(col[keep])
    if prior is not None:
        lin = lin / (prior if len(prior) == 1 else prior[keep])
    lin_t = np.ascontiguousarray(lin.T)
    basis_t = np.ascontiguousarray((sh_basis(nrm[keep] / length[keep, None]) * BAND_GAIN).T)  # s = L @ basis_t
    w0 = w_all[idx][keep]
    penalty = ridge * np.square(BAND_GAIN) / (4.0 * np.pi)
    penalty[:4] = 0.0
    cone = _point_light_cone() if constraint == "nonnegative" else None

    albedo = lin_t @ w0 / float(w0.sum())
    robust = np.ones_like(w0)
    coeffs = np.zeros(9)
    s = np.zeros(len(w0))
    for it in range(iterations + 1):
        wt = w0 * robust
        for _ in range(2):  # alternate: light given albedo, albedo given light
            rel = lin_t / albedo[:, None]
            coeffs = _solve_light(basis_t, rel.mean(axis=0), wt, penalty, cone)
            s = coeffs @ basis_t
            ws = wt * s
            albedo = np.maximum(lin_t @ ws / max(float(ws @ s), 1e-12), 1e-6)
        if it == iterations:
            break
        resid = np.sqrt(np.mean(np.square(lin_t / albedo[:, None] - s), axis=0))
        u = resid / (1.4826 * float(np.median(resid)) + 1e-9)
        if it < _HUBER_ITERATIONS:
            robust = np.minimum(1.0, _HUBER / np.maximum(u, 1e-12))
        else:
            robust = np.square(np.clip(1.0 - np.square(u / _TUKEY), 0.0, None))

    wt = w0 * robust
    total = float(wt.sum())
    mean_s = float(wt @ s) / max(total, 1e-12)
    if mean_s <= 0:
        raise ValueError("the fitted shading is not positive on the samples (no usable light)")
    coeffs, albedo, s = coeffs / mean_s, albedo * mean_s, s / mean_s
    ss_res = float(np.sum(np.square(lin_t - albedo[:, None] * s), axis=0) @ wt)
    mean_col = lin_t @ wt / max(total, 1e-12)
    ss_tot = float(np.sum(np.square(lin_t - mean_col[:, None]), axis=0) @ wt)
    rel_sq = np.mean(np.square(lin_t / albedo[:, None] - s), axis=0)
    return ShLighting(
        coefficients=coeffs,
        albedo=albedo,
        shading_range=(_weighted_percentile(s, wt, 2.0), _weighted_percentile(s, wt, 98.0)),
        explained=1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0,
        inliers=total / max(float(w0.sum()), 1e-12),
        residual=float(np.sqrt(rel_sq @ wt / max(total, 1e-12))),
        samples=len(keep),
    )


#: Rec. 709 luminance weights of linear RGB: the channel exponents are normalised so that ``Σ w_c k_c = 1``.
LUMA = np.array([0.2126, 0.7152, 0.0722])


def fit_channel_exponents(
    colors: NDArray[np.floating],
    normals: NDArray[np.floating],
    weights: NDArray[np.floating],
    lighting: ShLighting,
    bounds: tuple[float, float] = (0.6, 1.4),
    max_samples: int | None = 20_000,
) -> ShLighting:
    """Measure how each colour channel follows the shading: ``linear(colour_c) ∝ s(n) ** k_c``.

    Weighted least squares of ``log linear(colour_c)`` on ``log s(n)`` per channel, over the samples whose shading
    lies inside ``lighting.shading_range`` (what the fit saw) and that are not clipped; one trimming pass drops
    samples whose residual exceeds 3 robust standard deviations (highlights, hair shadows), then the slopes are
    refitted. The slopes are divided by their luminance-weighted mean (:data:`LUMA`), so the luminance is shaded
    by ``s`` itself — the estimate's own strength — and only the channels' relative response is added, then
    clipped to ``bounds``.

    Args:
        colors: ``(..., 3)`` sRGB in [0, 1] (the samples the lighting was fitted to, or a subset such as skin
            away from a beard).
        normals: ``(..., 3)`` unit normals in the lighting's frame.
        weights: ``(...)`` non-negative confidence; 0 = ignore.
        lighting: the fitted lighting (:func:`estimate_sh_lighting`).
        bounds: ``(lo, hi)`` allowed exponents after normalisation.
        max_samples: at most this many samples (an even stride over the valid ones); None = all.

    Returns:
        ``lighting`` with ``channel_exponents`` set; unchanged (``(1, 1, 1)``) when fewer than 9 samples qualify
        or the shading does not vary over them.

    Raises:
        ValueError: mismatched shapes or ``bounds`` with ``lo > hi``.
    """
    shape = np.shape(colors)
    if len(shape) < 1 or shape[-1] != 3 or np.shape(normals) != shape or np.shape(weights) != shape[:-1]:
        raise ValueError(
            "colors (..., 3), normals (..., 3) and weights (...) must agree, "
            f"got {shape}, {np.shape(normals)}, {np.shape(weights)}"
        )
    if bounds[0] > bounds[1]:
        raise ValueError(f"bounds must satisfy lo <= hi, got {bounds}")
    w_all = np.asarray(weights, np.float64).reshape(-1)
    idx = np.flatnonzero(w_all > 0)
    if max_samples is not None and len(idx) > max_samples:
        idx = idx[np.linspace(0, len(idx) - 1, max_samples).astype(np.int64)]
    col = np.asarray(colors).reshape(-1, 3)[idx].astype(np.float64)
    s = shading(np.asarray(normals).reshape(-1, 3)[idx], lighting).astype(np.float64)
    lo, hi = lighting.shading_range
    ok = (s > max(lo, 1e-3)) & (s < hi) & np.all((col > 0.0) & (col < _CLIPPED), axis=-1)
    if int(ok.sum()) < 9:
        return lighting
    x = np.log(s[ok])
    y = np.log(np.maximum(srgb_to_linear(col[ok]), 1e-6))  # (N, 3)
    w = w_all[idx][ok]
    fit = _log_slopes(x, y, w)
    if fit is None:
        return lighting
    slopes, intercept = fit
    # drop what a power law of the shading cannot be (highlights, cast shadows, stray hair), then refit
    resid = np.sqrt(np.mean(np.square(y - (intercept + x[:, None] * slopes)), axis=-1))
    fit = _log_slopes(x, y, w * (resid <= 3.0 * 1.4826 * float(np.median(resid)) + 1e-9))
    if fit is None:
        return lighting
    slopes = fit[0]
    norm = float(LUMA @ slopes)
    if not np.isfinite(norm) or norm <= 0:
        return lighting
    return replace(lighting, channel_exponents=np.clip(slopes / norm, bounds[0], bounds[1]))


def _log_slopes(
    x: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Weighted least-squares lines ``y_c ≈ a_c + b_c · x``: ``(b, a)``, each ``(3,)``; None if ``x`` is constant."""
    total = float(w.sum())
    if total <= 0:
        return None
    xm = float(w @ x) / total
    ym = w @ y / total
    sxx = float(w @ np.square(x - xm))
    if sxx <= 1e-12 * total:
        return None
    slopes = np.asarray((w * (x - xm)) @ (y - ym) / sxx, np.float64)
    return slopes, np.asarray(ym - xm * slopes, np.float64)


def delight(
    colors_srgb: NDArray[np.floating],
    normals: NDArray[np.floating],
    lighting: ShLighting,
    floor: float = 0.3,
    strength: float | NDArray[np.floating] = 1.0,
) -> NDArray[np.float32]:
    """Divide the photo's shading out of colours: ``albedo_c = linear(colour_c) / clamp(s(n)) ** (strength · k_c)``.

    ``k_c`` are ``lighting.channel_exponents`` (``(1, 1, 1)``: one achromatic shading).

    The shading is clamped to ``lighting.shading_range`` (what the fit saw on skin) and to at least ``floor``, so
    normals the estimate never saw (eye sockets, mouth corners, grazing sides) are not extrapolated into glare.

    Args:
        colors_srgb: ``(..., 3)`` sRGB in [0, 1].
        normals: ``(..., 3)`` unit normals in the lighting's frame.
        lighting: the photo's lighting (:func:`estimate_sh_lighting`).
        floor: smallest shading divided by (shading units, mean 1 over the fitted skin): dark regions are
            brightened at most ``1 / floor`` times, whatever the lighting's range.
        strength: 1 = remove all of the estimated shading, 0 = none (a partial de-light, ``s ** strength``); a
            scalar or a ``(...)`` map (e.g. less where the fitted geometry is least trustworthy: eyes, nostrils).

    Returns:
        ``(..., 3)`` float32 de-lit colours (albedo), sRGB in [0, 1] (clipped).
    """
    col = np.asarray(colors_srgb, np.float32)
    if col.shape[-1:] != (3,) or np.shape(normals) != col.shape:
        raise ValueError(f"colors and normals must both be (..., 3) of one shape, got {col.shape}, {np.shape(normals)}")
    if floor <= 0:
        raise ValueError(f"floor must be > 0, got {floor}")
    lo, hi = lighting.shading_range
    lo = max(lo, floor)
    power = np.asarray(strength, np.float32)
    if power.ndim and power.shape != col.shape[:-1]:
        raise ValueError(f"strength must be a scalar or of shape {col.shape[:-1]}, got {power.shape}")
    s = np.clip(shading(normals, lighting), lo, max(lo, hi)).astype(np.float32)
    k = np.asarray(lighting.channel_exponents, np.float32)
    if np.all(k == 1.0):
        return _to_srgb32(_to_linear32(col) / (s**power)[..., None])
    gain = np.asarray(s[..., None] ** (power[..., None] * k), np.float32)
    return _to_srgb32(_to_linear32(col) / gain)


def relight(
    albedo_srgb: NDArray[np.floating], normals: NDArray[np.floating], lighting: ShLighting
) -> NDArray[np.float32]:
    """Light albedo again: ``srgb(linear(albedo_c) · max(s(n), 0) ** k_c)``, ``k_c = lighting.channel_exponents``.

    The inverse of :func:`delight` where the shading lies inside the range it clamps to.

    Args:
        albedo_srgb: ``(..., 3)`` sRGB in [0, 1].
        normals: ``(..., 3)`` unit normals in the lighting's frame.
        lighting: the lighting to apply.

    Returns:
        ``(..., 3)`` float32 lit colours, sRGB in [0, 1] (clipped).
    """
    alb = np.asarray(albedo_srgb, np.float32)
    if alb.shape[-1:] != (3,) or np.shape(normals) != alb.shape:
        raise ValueError(f"albedo and normals must both be (..., 3) of one shape, got {alb.shape}, {np.shape(normals)}")
    s = np.maximum(shading(normals, lighting), 0.0).astype(np.float32)
    k = np.asarray(lighting.channel_exponents, np.float32)
    if np.all(k == 1.0):
        return _to_srgb32(_to_linear32(alb) * s[..., None])
    return _to_srgb32(_to_linear32(alb) * np.asarray(s[..., None] ** k, np.float32))


def rotate_lighting(lighting: ShLighting, rotation: NDArray[np.floating]) -> ShLighting:
    """Express ``lighting`` in the frame that ``rotation`` maps from.

    If ``rotation`` maps frame A to the lighting's frame B (``n_B = R · n_A``; for the head pose, A = model,
    B = camera), the result satisfies ``shading(n_A, result) = shading(R · n_A, lighting)``. Each SH band rotates
    into itself, so the coefficients are refitted exactly from 64 directions by least squares.

    Args:
        lighting: lighting in frame B.
        rotation: ``(3, 3)`` rotation matrix from A to B (acting on column vectors).

    Returns:
        The same lighting (same albedo and quality figures) with coefficients in frame A.
    """
    r = np.asarray(rotation, np.float64)
    if r.shape != (3, 3):
        raise ValueError(f"rotation must be (3, 3), got {r.shape}")
    dirs = _fibonacci_sphere(64)
    basis = sh_basis(dirs)
    values = sh_basis(dirs @ r.T) @ lighting.coefficients  # radiance in B at R·n_A
    coeffs, *_ = np.linalg.lstsq(basis, values, rcond=None)
    return replace(lighting, coefficients=np.asarray(coeffs, np.float64))


def _solve_light(
    basis_t: NDArray[np.float64],
    target: NDArray[np.float64],
    w: NDArray[np.float64],
    penalty: NDArray[np.float64],
    cone: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """``argmin_L Σ w (L·b − target)² + Σw · Σ penalty_k L_k²``, optionally with ``L = coneᵀ α``, ``α ≥ 0``.

    ``basis_t`` is ``(9, N)``. The objective is ``LᵀGL − 2hᵀL + const`` with ``G = B W Bᵀ + Σw·diag(penalty)``;
    with ``G = C Cᵀ`` it equals ``‖Cᵀ L − C⁻¹ h‖² + const``, so the constrained problem is a 9-row NNLS over the
    cone's generators.
    """
    bw = basis_t * w
    total = float(w.sum())
    gram = bw @ basis_t.T + np.diag((penalty + 1e-10) * total)  # the 1e-10: never singular, even at ridge 0
    rhs = bw @ target
    if cone is None:
        return np.asarray(np.linalg.solve(gram, rhs), np.float64)
    chol = np.linalg.cholesky(gram)
    b = np.linalg.solve(chol, rhs)
    alpha, _ = nnls(chol.T @ cone.T, b, maxiter=50 * cone.shape[0])
    return np.asarray(cone.T @ alpha, np.float64)


def _point_light_cone(count: int = 256) -> NDArray[np.float64]:
    """``(count, 9)`` SH coefficients of unit point lights in nearly uniform directions (non-negative radiance)."""
    return sh_basis(_fibonacci_sphere(count))


def _to_linear32(srgb: NDArray[np.float32]) -> NDArray[np.float32]:
    """:func:`srgb_to_linear` in float32 (an image's worth of powers is 2–3× faster than in float64)."""
    c = np.clip(srgb, np.float32(0.0), np.float32(1.0))
    return np.where(
        c <= 0.04045, c / np.float32(12.92), ((c + np.float32(0.055)) / np.float32(1.055)) ** np.float32(2.4)
    )


def _to_srgb32(linear: NDArray[np.float32]) -> NDArray[np.float32]:
    """:func:`linear_to_srgb` in float32."""
    c = np.clip(linear, np.float32(0.0), np.float32(1.0))
    return np.where(
        c <= 0.0031308, c * np.float32(12.92), np.float32(1.055) * c ** np.float32(1 / 2.4) - np.float32(0.055)
    )


def _weighted_percentile(values: NDArray[np.float64], w: NDArray[np.float64], q: float) -> float:
    """The ``q``-th weighted percentile (0–100): the first value whose cumulative weight reaches ``q`` %."""
    order = np.argsort(values)
    cum = np.cumsum(w[order])
    i = int(np.searchsorted(cum, q / 100.0 * cum[-1]))
    return float(values[order[min(i, len(order) - 1)]])


def _fibonacci_sphere(count: int) -> NDArray[np.float64]:
    """``(count, 3)`` nearly uniform unit directions (golden-angle spiral)."""
    i = np.arange(count) + 0.5
    z = 1.0 - 2.0 * i / count
    phi = np.pi * (3.0 - np.sqrt(5.0)) * i
    r = np.sqrt(1.0 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=-1)
