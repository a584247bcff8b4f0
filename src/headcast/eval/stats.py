"""Aggregate statistics of per-image metric values (median, mean, std), robust to missing values."""

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Summary:
    """Statistics of one metric over a set.

    Attributes:
        n: number of finite values used.
        missing: values that were None or not finite (e.g. no face detected), left out of the statistics.
        median: the median (NaN when ``n == 0``).
        mean: the arithmetic mean (NaN when ``n == 0``).
        std: the population standard deviation (``ddof=0``; NaN when ``n == 0``, 0 when ``n == 1``).
        min: the smallest value (NaN when ``n == 0``).
        max: the largest value (NaN when ``n == 0``).
    """

    n: int
    missing: int
    median: float
    mean: float
    std: float
    min: float
    max: float

    def to_json(self) -> dict[str, float | int | None]:
        """JSON-ready dict; NaN becomes None (JSON has no NaN)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


def summarize(values: Iterable[float | None]) -> Summary:
    """Median, mean and std of the finite values; None, NaN and ±inf count as missing.

    Example:
        >>> s = summarize([1.0, 2.0, None, 3.0, float("nan")])
        >>> (s.n, s.missing, s.median, s.mean)
        (3, 2, 2.0, 2.0)
    """
    finite: list[float] = []
    missing = 0
    for v in values:
        if v is None or not math.isfinite(float(v)):
            missing += 1
        else:
            finite.append(float(v))
    n = len(finite)
    if n == 0:
        nan = float("nan")
        return Summary(0, missing, nan, nan, nan, nan, nan)
    ordered = sorted(finite)
    mid = n // 2
    median = ordered[mid] if n % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])
    mean = math.fsum(finite) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / n)
    return Summary(n, missing, median, mean, std, ordered[0], ordered[-1])
