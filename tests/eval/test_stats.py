"""Aggregate statistics of per-image metrics."""

import math

import numpy as np
import pytest

from headcast.eval.stats import summarize


def test_summary_matches_numpy():
    vals = [3.0, 1.0, 4.0, 1.5, 9.0, 2.5]
    s = summarize(vals)
    assert (s.n, s.missing) == (6, 0)
    assert s.median == pytest.approx(np.median(vals))
    assert s.mean == pytest.approx(np.mean(vals))
    assert s.std == pytest.approx(np.std(vals))
    assert (s.min, s.max) == (1.0, 9.0)


def test_missing_values_are_counted_not_used():
    s = summarize([None, 2.0, float("nan"), float("inf"), 4.0])
    assert (s.n, s.missing, s.median, s.mean, s.std) == (2, 3, 3.0, 3.0, 1.0)


def test_empty_and_single():
    e = summarize([])
    assert e.n == 0 and math.isnan(e.median)
    assert e.to_json()["median"] is None
    one = summarize([5.0])
    assert (one.median, one.mean, one.std) == (5.0, 5.0, 0.0)
