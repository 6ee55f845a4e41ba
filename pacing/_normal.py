"""Normal distribution functions on numpy arrays (scipy is not a dependency)."""

from __future__ import annotations

import numpy as np

_SQRT2 = np.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
# Abramowitz & Stegun, Handbook of Mathematical Functions, 7.1.26: |error| < 1.5e-7.
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    t = 1.0 / (1.0 + _P * ax)
    poly = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))
    y = 1.0 - poly * np.exp(-ax * ax)
    return np.sign(x) * y


def norm_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + erf(z / _SQRT2))


def norm_pdf(z: np.ndarray) -> np.ndarray:
    return _INV_SQRT_2PI * np.exp(-0.5 * z * z)


def lognormal_cdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """P(X <= x) for log X ~ N(mu, sigma); 0 for x <= 0."""
    safe = np.maximum(x, 1e-9)
    out = norm_cdf((np.log(safe) - mu) / sigma)
    return np.where(x > 0, out, 0.0)
