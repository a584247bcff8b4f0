"""The robust LM solver against scipy.optimize.least_squares (same losses, same optimum)."""

import numpy as np
import pytest
from scipy.optimize import least_squares

from headcast.fitting.settings import RobustLoss
from headcast.fitting.solver import robust_loss, solve_robust_lm, total_cost, weighted_gram

LOSSES: tuple[RobustLoss, ...] = ("linear", "soft_l1", "huber", "cauchy")


@pytest.mark.parametrize("loss", LOSSES)
def test_robust_loss_weight_is_the_derivative(loss: RobustLoss) -> None:
    """w = ρ'(z): compare with a central difference of the cost in z = (r/s)²."""
    s = 0.7
    r = np.linspace(-5.0, 5.0, 41) + 0.013
    cost, w = robust_loss(r, loss, s)
    z = (r / s) ** 2
    h = 1e-6
    c_plus, _ = robust_loss(s * np.sqrt(z + h), loss, s)
    c_minus, _ = robust_loss(s * np.sqrt(z - h), loss, s)
    np.testing.assert_allclose(w, (c_plus - c_minus) / (2 * h) / s**2, rtol=1e-5)
    small = np.abs(r) < 1e-3 * s
    np.testing.assert_allclose(cost[small], r[small] ** 2, rtol=1e-3)  # quadratic near zero


def _problem(seed: int) -> tuple:
    """Fit y = a·exp(b·t) + c with outliers; c bounded to [0, 0.5] (the bound is active)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2, 60)
    y = 2.0 * np.exp(-1.3 * t) - 0.3 + rng.normal(scale=0.02, size=t.size)
    y[::9] += 1.5  # outliers

    def fun(x: np.ndarray) -> np.ndarray:
        return x[0] * np.exp(x[1] * t) + x[2] - y

    def jac(x: np.ndarray) -> np.ndarray:
        e = np.exp(x[1] * t)
        return np.stack([e, x[0] * t * e, np.ones_like(t)], axis=1)

    return fun, jac, np.array([1.0, -0.5, 0.25]), np.array([-np.inf, -np.inf, 0.0]), np.array([np.inf, np.inf, 0.5])


@pytest.mark.parametrize("loss", LOSSES)
def test_matches_scipy_least_squares(loss: RobustLoss) -> None:
    fun, jac, x0, lo, hi = _problem(0)
    ours = solve_robust_lm(
        fun, jac, x0, lo, hi, robust_rows=60, loss=loss, scale=0.1, max_iterations=200, tolerance=1e-12
    )
    ref = least_squares(fun, x0, jac=jac, bounds=(lo, hi), loss=loss, f_scale=0.1, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    # scipy's cost is half ours (0.5·s²·Σρ); compare optima and costs
    assert ours.cost == pytest.approx(2 * ref.cost, rel=1e-6)
    np.testing.assert_allclose(ours.x, ref.x, rtol=1e-4, atol=1e-6)
    assert ours.x[2] == 0.0  # the lower bound is active
    assert ours.converged


def test_robust_loss_resists_outliers() -> None:
    fun, jac, x0, _, _ = _problem(1)
    lo, hi = np.full(3, -np.inf), np.full(3, np.inf)
    truth = np.array([2.0, -1.3, -0.3])
    robust = solve_robust_lm(fun, jac, x0, lo, hi, robust_rows=60, loss="soft_l1", scale=0.05, max_iterations=100)
    plain = solve_robust_lm(fun, jac, x0, lo, hi, robust_rows=60, loss="linear", scale=0.05, max_iterations=100)
    assert np.linalg.norm(robust.x - truth) < 0.5 * np.linalg.norm(plain.x - truth)
    np.testing.assert_allclose(robust.x, truth, atol=0.1)


def test_prior_rows_stay_quadratic() -> None:
    """Only the first robust_rows residuals are robust: a large prior residual costs its square."""
    r = np.array([10.0, 10.0])
    assert total_cost(r, 1, "soft_l1", 1.0) == pytest.approx(2 * (np.sqrt(101) - 1) + 100.0)


@pytest.mark.parametrize("rows", [1, 16, 37, 160])
def test_weighted_gram_matches_the_plain_product(rows: int) -> None:
    rng = np.random.default_rng(rows)
    jac, w = rng.normal(size=(rows, 7)), rng.uniform(size=rows)
    np.testing.assert_allclose(weighted_gram(jac, w), jac.T @ (jac * w[:, None]), rtol=1e-12, atol=1e-12)
