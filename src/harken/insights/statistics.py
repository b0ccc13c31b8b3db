"""Statistics for reading customer feedback honestly.

Everything here is plain Python (``math``, ``statistics.NormalDist`` and
dataclasses) so it can run anywhere the app runs, including inside report
rendering and background tasks, without numerical libraries. The callers
aggregate in SQL, so most functions take counts and sums rather than raw
answers.

What is here:

* headline measures with their uncertainty: :func:`nps`, :func:`csat`,
  :func:`mean_interval` (for CES) and :func:`rate` (events per exposure);
* tests of change between two periods: :func:`two_proportion_test`,
  :func:`nps_difference_test` and :func:`rate_ratio_test`;
* control charts for attribute data (:func:`p_chart`, :func:`u_chart`) and the
  special-cause rules that read them (:func:`special_causes`);
* the distribution functions these need (Student t, chi-square, beta,
  binomial), implemented from the regularised incomplete beta and gamma
  functions.

Conventions: in the two-period tests the first group is the baseline (usually
the earlier period) and the second the one compared with it, so differences
are *second minus first* and ratios *second over first*. A value that cannot
be computed (no answers, no exposure) is ``None`` rather than an exception or
a NaN, and the result says why in its ``warning``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from statistics import NormalDist

__all__ = [
    "CONTROL_LIMIT_SIGMAS",
    "DEFAULT_CONFIDENCE",
    "SMALL_SAMPLE_THRESHOLD",
    "T_ASYMPTOTIC_DF",
    "ChangeTestResult",
    "ChartPoint",
    "ControlChart",
    "Direction",
    "MeanResult",
    "NPSResult",
    "ProportionResult",
    "RateRatioTestResult",
    "RateResult",
    "Rule",
    "Signal",
    "binomial_cdf",
    "binomial_pmf",
    "chi2_quantile",
    "collapse_signals",
    "csat",
    "csat_from_histogram",
    "mean_interval",
    "nps",
    "nps_difference_test",
    "nps_from_histogram",
    "p_chart",
    "rate",
    "rate_ratio_test",
    "regularized_beta",
    "regularized_gamma_lower",
    "regularized_gamma_upper",
    "sample_size_warning",
    "special_causes",
    "special_causes_in_series",
    "t_cdf",
    "t_quantile",
    "two_proportion_test",
    "u_chart",
]

#: Below this many answers a percentage or score moves too much from one
#: answer to the next to be read on its own; results carry a flag and a
#: warning sentence. Thirty is the usual rule of thumb for the normal
#: approximations used by the NPS interval to be tolerable.
SMALL_SAMPLE_THRESHOLD = 30

#: Confidence level used for every interval unless the caller says otherwise.
DEFAULT_CONFIDENCE = 0.95

#: Width of Shewhart control limits, in standard errors either side of the centre.
CONTROL_LIMIT_SIGMAS = 3.0

#: From this many degrees of freedom on, Student's t is computed from the
#: normal distribution corrected by its Cornish-Fisher expansion in 1/df
#: (truncation error of order df^-5, far below double precision here). The
#: incomplete-beta route loses about log10(df) digits to cancellation, so it
#: is kept to smaller df where it is accurate to better than 1e-11.
T_ASYMPTOTIC_DF = 1e5

_STANDARD_NORMAL = NormalDist()
_EPSILON = 2.220446049250313e-16
_TINY = 1e-300
_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)
_MAX_ROOT_STEPS = 400


# ---------------------------------------------------------------------------
# Validation and small helpers
# ---------------------------------------------------------------------------


def _check_count(name: str, value: int) -> None:
    # bool is an int subclass; a True/False count is always a caller bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def _check_amount(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite non-negative number, got {value}")


def _check_probability(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")


def _z_for(confidence: float) -> float:
    """Two-sided standard normal critical value for a confidence level."""
    _check_probability("confidence", confidence)
    return _STANDARD_NORMAL.inv_cdf(0.5 + confidence / 2.0)


def _two_sided_normal_p(z: float) -> float:
    # erfc keeps full relative precision in the far tail, where
    # 2 * (1 - cdf(|z|)) would round to zero.
    return math.erfc(abs(z) / math.sqrt(2.0))


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def sample_size_warning(
    n: int, minimum: int = SMALL_SAMPLE_THRESHOLD, *, reading: str = "a percentage"
) -> str | None:
    """Return a short sentence warning that ``n`` answers are too few, or ``None``.

    ``reading`` completes the sentence "too few to read as ...", so callers
    can say "an average" for CES means or "a score" for NPS.

    >>> sample_size_warning(3)
    'Only 3 answers: too few to read as a percentage'
    >>> sample_size_warning(30) is None
    True
    """
    _check_count("n", n)
    _check_count("minimum", minimum)
    if n >= minimum:
        return None
    if n == 0:
        return "No answers yet: nothing to read"
    noun = "answer" if n == 1 else "answers"
    return f"Only {n} {noun}: too few to read as {reading}"


# ---------------------------------------------------------------------------
# Special functions
# ---------------------------------------------------------------------------

# Coefficients of the Stirling series for log Gamma beyond its leading terms:
# delta(z) = sum c_k / z^(2k-1).
_STIRLING_SERIES = (
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
)


def _stirling_remainder(z: float) -> float:
    """log Gamma(z) minus its Stirling approximation (z - 1/2) log z - z + log(2 pi)/2.

    Working with this remainder instead of ``lgamma`` itself is what keeps the
    densities accurate for large counts: lgamma(1e8) is about 1.7e9, so the
    differences of such numbers that a density needs would lose seven or more
    digits to rounding.
    """
    if z >= 10.0:
        inverse = 1.0 / z
        inverse_squared = inverse * inverse
        total = 0.0
        power = inverse
        for coefficient in _STIRLING_SERIES:
            total += coefficient * power
            power *= inverse_squared
        return total
    # For small z the terms are small too, so direct subtraction is exact enough.
    return math.lgamma(z) - ((z - 0.5) * math.log(z) - z + _HALF_LOG_TWO_PI)


def _log1p_minus(u: float) -> float:
    """log(1 + u) - u, accurate also when u is close to zero."""
    if abs(u) > 0.5:
        return math.log1p(u) - u
    # With s = u / (2 + u), log(1 + u) = 2 atanh(s) and 2 s - u = -u^2 / (2 + u),
    # so the difference is a short odd power series in s with no cancellation.
    s = u / (2.0 + u)
    s_squared = s * s
    term = s * s_squared
    total = 0.0
    k = 3
    while True:
        addition = term / k
        total += addition
        if abs(addition) <= _EPSILON * abs(total):
            break
        term *= s_squared
        k += 2
    return -u * u / (2.0 + u) + 2.0 * total


def _deviance_term(a: float, actual: float, difference: float) -> float:
    """a * (log(actual / a) - difference / a), where difference = actual - a.

    This is the "deviance" part shared by the beta and gamma densities. It is
    near zero when the observed value is near its expectation, exactly where
    computing the logarithm and the linear term separately would cancel. The
    caller passes the difference itself because it can usually form it
    without cancellation, which ``actual - a`` would not be.
    """
    u = difference / a
    if abs(u) <= 0.5:
        return a * _log1p_minus(u)
    return a * math.log(actual / a) - difference


def _log_beta_front(a: float, b: float, x: float, y: float) -> float:
    """log( x^a y^b / B(a, b) ) for x + y = 1, accurate for large a and b.

    Both x and y are passed so that the caller can supply whichever one it
    knows to full relative precision.
    """
    total = a + b
    # (a + b) x - a equals b x - a y when x + y = 1, and the latter does not
    # cancel catastrophically when a is huge and y tiny (the t tail at large df).
    shift = b * x - a * y
    # Stirling's formula for the three gamma functions in B(a, b), grouped so
    # that the large terms cancel analytically rather than numerically.
    return (
        _deviance_term(a, total * x, shift)
        + _deviance_term(b, total * y, -shift)
        + 0.5 * math.log(a * b / total)
        - _HALF_LOG_TWO_PI
        + _stirling_remainder(total)
        - _stirling_remainder(a)
        - _stirling_remainder(b)
    )


def _log_gamma_front(a: float, x: float) -> float:
    """log( x^a e^-x / Gamma(a) ), accurate for large a."""
    return (
        _deviance_term(a, x, x - a) + 0.5 * math.log(a) - _HALF_LOG_TWO_PI - _stirling_remainder(a)
    )


def _iteration_limit(size: float) -> int:
    # The continued fractions and series need of the order of sqrt(size)
    # terms when the argument sits near the bulk of the distribution.
    return 500 + int(50.0 * math.sqrt(size))


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction for I_x(a, b), without its front factor, by modified Lentz.

    Converges quickly for x < (a + 1) / (a + b + 2); the caller swaps the
    arguments otherwise.
    """
    result = _TINY
    numerator_part = result
    denominator_part = 0.0
    even_change = 1.0
    for j in range(_iteration_limit(max(a, b))):
        if j == 0:
            coefficient = 1.0
        else:
            m = j // 2
            if j % 2:
                coefficient = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            else:
                coefficient = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        denominator_part = 1.0 + coefficient * denominator_part
        if abs(denominator_part) < _TINY:
            denominator_part = _TINY
        denominator_part = 1.0 / denominator_part
        numerator_part = 1.0 + coefficient / numerator_part
        if abs(numerator_part) < _TINY:
            numerator_part = _TINY
        change = numerator_part * denominator_part
        result *= change
        if j % 2 == 0:
            even_change = change
        # Convergence is judged on whole (even, odd) pairs: for large a the
        # even coefficients are tiny, so one even step alone changes almost
        # nothing even though the fraction is far from converged.
        elif abs(change - 1.0) <= 2.0 * _EPSILON and abs(even_change - 1.0) <= 2.0 * _EPSILON:
            return result
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def _beta_tails(a: float, b: float, x: float, y: float) -> tuple[float, float]:
    """(I_x(a, b), 1 - I_x(a, b)) with y = 1 - x, each to full relative precision.

    Whichever tail is small is computed directly, never as one minus the other.
    """
    if x <= 0.0:
        return 0.0, 1.0
    if y <= 0.0:
        return 1.0, 0.0
    if x * (a + b + 2.0) < a + 1.0:
        lower = math.exp(_log_beta_front(a, b, x, y)) * _beta_continued_fraction(a, b, x) / a
        lower = min(lower, 1.0)
        return lower, 1.0 - lower
    upper = math.exp(_log_beta_front(b, a, y, x)) * _beta_continued_fraction(b, a, y) / b
    upper = min(upper, 1.0)
    return 1.0 - upper, upper


def regularized_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1.

    Evaluated by its continued fraction (modified Lentz), using the symmetry
    I_x(a, b) = 1 - I_{1-x}(b, a) where that converges faster.
    """
    if a <= 0 or b <= 0:
        raise ValueError("a and b must be positive")
    if not 0.0 <= x <= 1.0:
        raise ValueError("x must lie in [0, 1]")
    return _beta_tails(a, b, x, 1.0 - x)[0]


def _gamma_tails(a: float, x: float) -> tuple[float, float]:
    """(P(a, x), Q(a, x)), the regularised lower and upper incomplete gamma functions.

    Below x = a + 1 the power series for P converges fast; above it the
    continued fraction for Q does. The small tail is computed directly.
    """
    if x <= 0.0:
        return 0.0, 1.0
    if math.isinf(x):
        return 1.0, 0.0
    log_front = _log_gamma_front(a, x)
    limit = _iteration_limit(a)
    if x < a + 1.0:
        term = 1.0 / a
        total = term
        denominator = a
        for _ in range(limit):
            denominator += 1.0
            term *= x / denominator
            total += term
            if term <= total * _EPSILON:
                break
        else:
            raise ArithmeticError(f"incomplete gamma series did not converge: a={a}, x={x}")
        lower = min(math.exp(log_front) * total, 1.0)
        return lower, 1.0 - lower
    # Continued fraction Q = front / (x + 1 - a - 1(1 - a)/(x + 3 - a - 2(2 - a)/(...))),
    # evaluated by modified Lentz.
    b_term = x + 1.0 - a
    numerator_part = 1.0 / _TINY
    denominator_part = 1.0 / b_term
    result = denominator_part
    for i in range(1, limit):
        coefficient = -i * (i - a)
        b_term += 2.0
        denominator_part = coefficient * denominator_part + b_term
        if abs(denominator_part) < _TINY:
            denominator_part = _TINY
        numerator_part = b_term + coefficient / numerator_part
        if abs(numerator_part) < _TINY:
            numerator_part = _TINY
        denominator_part = 1.0 / denominator_part
        change = denominator_part * numerator_part
        result *= change
        if abs(change - 1.0) <= 2.0 * _EPSILON:
            break
    else:
        raise ArithmeticError(f"incomplete gamma fraction did not converge: a={a}, x={x}")
    upper = min(math.exp(log_front) * result, 1.0)
    return 1.0 - upper, upper


def regularized_gamma_lower(a: float, x: float) -> float:
    """Regularised lower incomplete gamma function P(a, x) for a > 0, x >= 0."""
    if a <= 0:
        raise ValueError("a must be positive")
    if x < 0:
        raise ValueError("x must not be negative")
    return _gamma_tails(a, x)[0]


def regularized_gamma_upper(a: float, x: float) -> float:
    """Regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    if a <= 0:
        raise ValueError("a must be positive")
    if x < 0:
        raise ValueError("x must not be negative")
    return _gamma_tails(a, x)[1]


def _midpoint(low: float, high: float) -> float:
    # Geometric bisection reaches tiny quantiles in a few dozen steps where
    # arithmetic bisection would need hundreds.
    if low > 0.0 and high > 4.0 * low:
        return math.sqrt(low * high)
    return 0.5 * (low + high)


def _solve_increasing(
    excess: Callable[[float], float],
    slope: Callable[[float], float],
    low: float,
    high: float,
    guess: float,
) -> float:
    """Root of an increasing function on [low, high] by Newton's method with bisection.

    ``excess(low) <= 0 <= excess(high)`` is assumed. Every evaluation narrows
    the bracket, and a Newton step that would leave it is replaced by a
    bisection, so the iteration cannot diverge however poor the guess.
    """
    x = guess if low < guess < high else _midpoint(low, high)
    for _ in range(_MAX_ROOT_STEPS):
        value = excess(x)
        if value == 0.0:
            return x
        if value < 0.0:
            low = x
        else:
            high = x
        derivative = slope(x)
        step_ok = derivative > 0.0 and math.isfinite(derivative)
        if step_ok and abs(value / derivative) <= 4.0 * _EPSILON * abs(x):
            # Newton's correction is below the rounding of x: x is the root. (Left to
            # the bracket test, a correction that rounds to nothing lands on the
            # bracket's edge and would fall back to dozens of bisections.)
            return x
        candidate = x - value / derivative if step_ok else math.nan
        if not low < candidate < high:
            candidate = _midpoint(low, high)
        if abs(candidate - x) <= 4.0 * _EPSILON * abs(candidate) or high - low <= 4.0 * (
            _EPSILON * abs(high)
        ):
            return candidate
        x = candidate
    return x


def _expand_upper_bracket(still_below: Callable[[float], bool], start: float) -> float:
    high = max(start, 1.0)
    while still_below(high):
        high *= 2.0
        if math.isinf(high):
            raise ArithmeticError("could not bracket the quantile")
    return high


def t_cdf(t: float, df: float) -> float:
    """Cumulative distribution function of Student's t with ``df`` degrees of freedom.

    Uses P(T > t) = I_{df/(df+t^2)}(df/2, 1/2) / 2 for t > 0, and for
    df >= :data:`T_ASYMPTOTIC_DF` the inverse of the Cornish-Fisher expansion.
    """
    if df <= 0 or math.isnan(df):
        raise ValueError("df must be positive")
    upper = _t_upper_tail(abs(t), df)
    return 1.0 - upper if t > 0 else upper


def _t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for t >= 0."""
    if df >= T_ASYMPTOTIC_DF:
        return 0.5 * math.erfc(_cornish_fisher_inverse(t, df) / math.sqrt(2.0))
    t_squared = t * t
    denominator = df + t_squared
    return 0.5 * _beta_tails(0.5 * df, 0.5, df / denominator, t_squared / denominator)[0]


def _t_density(t: float, df: float) -> float:
    log_density = (
        math.lgamma(0.5 * (df + 1.0))
        - math.lgamma(0.5 * df)
        - 0.5 * math.log(df * math.pi)
        - 0.5 * (df + 1.0) * math.log1p(t * t / df)
    )
    return math.exp(log_density)


def _cornish_fisher(z: float, df: float) -> tuple[float, float]:
    """The t quantile matching the normal quantile z, and its derivative in z.

    The expansion t = z + g1/df + g2/df^2 + g3/df^3 + g4/df^4 with the
    classical polynomial coefficients (Abramowitz and Stegun 26.7.5).
    """
    z2 = z * z
    g = (
        (z2 + 1.0) * z / 4.0,
        ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0,
        (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0,
        ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0,
    )
    slopes = (
        (3.0 * z2 + 1.0) / 4.0,
        ((25.0 * z2 + 48.0) * z2 + 3.0) / 96.0,
        (((21.0 * z2 + 95.0) * z2 + 51.0) * z2 - 15.0) / 384.0,
        ((((711.0 * z2 + 5432.0) * z2 + 7410.0) * z2 - 5760.0) * z2 - 945.0) / 92160.0,
    )
    value, slope, scale = z, 1.0, 1.0
    for term, term_slope in zip(g, slopes, strict=True):
        scale /= df
        value += term * scale
        slope += term_slope * scale
    return value, slope


def _cornish_fisher_inverse(t: float, df: float) -> float:
    """The normal quantile z whose Cornish-Fisher t quantile is t (Newton's method)."""
    z = t - (t * t + 1.0) * t / (4.0 * df)
    for _ in range(50):
        value, slope = _cornish_fisher(z, df)
        step = (value - t) / slope
        z -= step
        if abs(step) <= 2.0 * _EPSILON * max(abs(z), 1.0):
            break
    return z


def t_quantile(p: float, df: float) -> float:
    """Quantile (inverse CDF) of Student's t distribution.

    Inverts :func:`t_cdf` (itself built on the regularised incomplete beta
    function) by safeguarded Newton iteration from a Cornish-Fisher starting
    point. Exact closed forms are used for 1 and 2 degrees of freedom, and
    from :data:`T_ASYMPTOTIC_DF` on the normal quantile with its
    Cornish-Fisher correction. ``df`` may be fractional.
    """
    _check_probability("p", p)
    if df <= 0 or math.isnan(df):
        raise ValueError("df must be positive")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -_t_upper_quantile(p, df)
    return _t_upper_quantile(1.0 - p, df)


def _t_upper_quantile(tail: float, df: float) -> float:
    """The t >= 0 with P(T > t) = tail, for 0 < tail < 1/2."""
    z = -_STANDARD_NORMAL.inv_cdf(tail)
    if df >= T_ASYMPTOTIC_DF:
        return _cornish_fisher(z, df)[0]
    if df == 1.0:
        return 1.0 / math.tan(math.pi * tail)
    if df == 2.0:
        return (1.0 - 2.0 * tail) / math.sqrt(2.0 * tail * (1.0 - tail))
    guess = _cornish_fisher(z, df)[0]
    high = _expand_upper_bracket(lambda t: _t_upper_tail(t, df) > tail, 2.0 * guess)
    return _solve_increasing(
        lambda t: tail - _t_upper_tail(t, df),
        lambda t: _t_density(t, df),
        0.0,
        high,
        guess,
    )


# The quantile functions are pure and each call costs a few evaluations of an incomplete
# gamma or beta function, which take of the order of sqrt(shape) terms. Dashboards ask
# for the same counts' intervals on every view (past months do not change), so the
# answers are kept per process.
QUANTILE_CACHE_SIZE = 8192


@lru_cache(maxsize=QUANTILE_CACHE_SIZE)
def _gamma_quantile(p: float, shape: float) -> float:
    """The x with P(shape, x) = p, for 0 < p < 1.

    Starts from the Wilson-Hilferty approximation and refines by safeguarded
    Newton iteration, working on whichever tail is the smaller so that
    extreme quantiles keep their precision.
    """
    z = _STANDARD_NORMAL.inv_cdf(p)
    ninth = 1.0 / (9.0 * shape)
    cube_root = 1.0 - ninth + z * math.sqrt(ninth)
    if cube_root > 0.0 and shape >= 0.5:
        guess = shape * cube_root**3
    else:
        # For small shapes the lower tail behaves like x^a / Gamma(a + 1).
        guess = math.exp((math.log(p) + math.lgamma(shape + 1.0)) / shape)

    def density(x: float) -> float:
        return math.exp(_log_gamma_front(shape, x)) / x if x > 0.0 else math.inf

    if p <= 0.5:
        high = _expand_upper_bracket(lambda x: _gamma_tails(shape, x)[0] < p, 2.0 * guess)
        return _solve_increasing(lambda x: _gamma_tails(shape, x)[0] - p, density, 0.0, high, guess)
    tail = 1.0 - p
    high = _expand_upper_bracket(lambda x: _gamma_tails(shape, x)[1] > tail, 2.0 * guess)
    return _solve_increasing(lambda x: tail - _gamma_tails(shape, x)[1], density, 0.0, high, guess)


def chi2_quantile(p: float, df: float) -> float:
    """Quantile of the chi-square distribution with ``df`` degrees of freedom.

    A chi-square variable with df degrees of freedom is twice a gamma variable
    of shape df/2, so this inverts the regularised incomplete gamma function.
    """
    _check_probability("p", p)
    if df <= 0 or math.isnan(df):
        raise ValueError("df must be positive")
    return 2.0 * _gamma_quantile(p, 0.5 * df)


@lru_cache(maxsize=QUANTILE_CACHE_SIZE)
def _beta_quantile(p: float, a: float, b: float) -> tuple[float, float]:
    """(x, 1 - x) with I_x(a, b) = p, both to full relative precision.

    The root is sought on whichever side of 1/2 it lies, in the variable that
    is small there, so a root very close to 1 is still resolved.
    """

    def density(x: float, first: float, second: float) -> float:
        if x <= 0.0:
            return math.inf
        return math.exp(_log_beta_front(first, second, x, 1.0 - x)) / (x * (1.0 - x))

    def guess(q: float, first: float, second: float) -> float:
        # The normal approximation: Newton's method starts close to the root instead
        # of bisecting towards it (a fallback when it lands outside (0, 1/2)).
        total = first + second
        spread = math.sqrt(first * second / (total * total * (total + 1.0)))
        start = first / total + _STANDARD_NORMAL.inv_cdf(q) * spread
        return start if 0.0 < start < 0.5 else min(first / total, 0.25)

    if p <= _beta_tails(a, b, 0.5, 0.5)[0]:
        x = _solve_increasing(
            lambda v: _beta_tails(a, b, v, 1.0 - v)[0] - p,
            lambda v: density(v, a, b),
            0.0,
            0.5,
            guess(p, a, b),
        )
        return x, 1.0 - x
    complement = 1.0 - p
    y = _solve_increasing(
        lambda v: _beta_tails(b, a, v, 1.0 - v)[0] - complement,
        lambda v: density(v, b, a),
        0.0,
        0.5,
        guess(complement, b, a),
    )
    return 1.0 - y, y


# ---------------------------------------------------------------------------
# Binomial distribution
# ---------------------------------------------------------------------------


def _binomial_log_pmf(k: int, n: int, p: float) -> float:
    if k < 0 or k > n:
        return -math.inf
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    if k == 0:
        return n * math.log1p(-p)
    if k == n:
        return n * math.log(p)
    # C(n, k) = n / (k (n - k) B(k, n - k)); the beta front factor keeps the
    # large log-gamma terms from cancelling numerically.
    return math.log(n / (k * (n - k))) + _log_beta_front(k, n - k, p, 1.0 - p)


def binomial_pmf(k: int, n: int, p: float) -> float:
    """P(X = k) for X ~ Binomial(n, p), computed in logs so that large n works."""
    return math.exp(_binomial_log_pmf(k, n, p))


def _binomial_tail_sum(start: int, stop: int, step: int, n: int, p: float) -> float:
    """Sum of pmf(k) for k = start, start + step, ... up to ``stop`` (inclusive).

    Only ever called moving away from the mode, where the terms shrink, so the
    sum can stop once they no longer change it: that takes a few standard
    deviations' worth of terms however large n is. The first term is computed in
    full; each next one from the one before by the ratio of neighbouring terms,
    pmf(k + 1) / pmf(k) = (n - k) / (k + 1) * p / (1 - p), which costs a
    multiplication instead of a logarithm of gamma functions.
    """
    term = binomial_pmf(start, n, p)
    if not 0.0 < p < 1.0:
        return term  # one outcome is certain; no other term is positive
    odds = p / (1.0 - p)
    total = 0.0
    k = start
    while True:
        total += term
        if term <= total * _EPSILON * 0.5 or k == stop:
            return total
        if step > 0:
            term *= (n - k) / (k + 1) * odds
        else:
            term *= k / ((n - k + 1) * odds)
        k += step


def _binomial_mode(n: int, p: float) -> int:
    return min(n, math.floor((n + 1) * p))


def _binomial_lower_tail(k: int, n: int, p: float) -> float:
    """P(X <= k), summing the pmf directly whichever tail is the smaller."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if k < _binomial_mode(n, p):
        return min(1.0, _binomial_tail_sum(k, 0, -1, n, p))
    return max(0.0, 1.0 - _binomial_upper_tail(k + 1, n, p))


def _binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if k > _binomial_mode(n, p):
        return min(1.0, _binomial_tail_sum(k, n, 1, n, p))
    return max(0.0, 1.0 - _binomial_lower_tail(k - 1, n, p))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), by summing log-space pmf terms from the tail."""
    _check_count("n", n)
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must lie in [0, 1]")
    return _binomial_lower_tail(k, n, p)


def _binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial p-value by the minimum-likelihood method.

    The p-value is the total probability of all outcomes no more likely than
    the one observed (with a relative allowance of 1e-7 so that outcomes
    equally likely in exact arithmetic are not lost to rounding). This is the
    usual "exact" binomial test, as in R's binom.test and SciPy's binomtest.
    """
    if n == 0:
        return 1.0
    expected = n * p
    if k == expected:
        return 1.0
    cutoff = binomial_pmf(k, n, p) * (1.0 + 1e-7)
    # The pmf falls monotonically away from the mode on each side, so the
    # outcomes on the far side that are no more likely than k form a tail;
    # binary search finds where that tail begins.
    if k < expected:
        low, high = math.ceil(expected), n
        if binomial_pmf(high, n, p) > cutoff:
            return min(1.0, _binomial_lower_tail(k, n, p))
        while low < high:
            middle = (low + high) // 2
            if binomial_pmf(middle, n, p) <= cutoff:
                high = middle
            else:
                low = middle + 1
        total = _binomial_lower_tail(k, n, p) + _binomial_upper_tail(low, n, p)
    else:
        low, high = 0, math.floor(expected)
        if binomial_pmf(low, n, p) > cutoff:
            return min(1.0, _binomial_upper_tail(k, n, p))
        while low < high:
            middle = (low + high + 1) // 2
            if binomial_pmf(middle, n, p) <= cutoff:
                low = middle
            else:
                high = middle - 1
        total = _binomial_lower_tail(low, n, p) + _binomial_upper_tail(k, n, p)
    return min(1.0, total)


# ---------------------------------------------------------------------------
# Headline measures
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class NPSResult:
    """Net Promoter Score with its sampling uncertainty.

    ``score``, ``standard_error``, ``lower`` and ``upper`` are on the NPS
    scale (-100 to 100) and are ``None`` when there are no answers.
    """

    promoters: int
    passives: int
    detractors: int
    n: int
    score: float | None
    standard_error: float | None
    lower: float | None
    upper: float | None
    confidence: float
    small_sample: bool
    warning: str | None


def nps(
    promoters: int,
    passives: int,
    detractors: int,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    minimum: int = SMALL_SAMPLE_THRESHOLD,
) -> NPSResult:
    """Net Promoter Score (-100..100) from the three group counts, with a Wald interval.

    Each answer scores +1 (promoter), 0 (passive) or -1 (detractor) and NPS is
    100 times their mean. The counts are multinomial, so the variance of one
    answer's score is p_P + p_D - (p_P - p_D)^2 and the standard error of NPS is
    100 * sqrt(that / n). The interval is score +/- z * SE, clipped to
    [-100, 100]. It is a normal approximation: with fewer than ``minimum``
    answers the result is flagged as a small sample, and when every answer
    falls in one group the standard error is zero and the interval collapses
    to the point, which says nothing about real certainty.
    """
    for name, value in (
        ("promoters", promoters),
        ("passives", passives),
        ("detractors", detractors),
    ):
        _check_count(name, value)
    z = _z_for(confidence)
    n = promoters + passives + detractors
    small = n < minimum
    warning = sample_size_warning(n, minimum, reading="a score")
    if n == 0:
        return NPSResult(
            promoters=promoters,
            passives=passives,
            detractors=detractors,
            n=0,
            score=None,
            standard_error=None,
            lower=None,
            upper=None,
            confidence=confidence,
            small_sample=small,
            warning=warning,
        )
    share_promoters = promoters / n
    share_detractors = detractors / n
    net = share_promoters - share_detractors
    # Rounding can push the variance a hair below zero when it is really zero.
    variance = max(0.0, share_promoters + share_detractors - net * net)
    standard_error = 100.0 * math.sqrt(variance / n)
    score = 100.0 * (promoters - detractors) / n
    return NPSResult(
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        n=n,
        score=score,
        standard_error=standard_error,
        lower=_clip(score - z * standard_error, -100.0, score),
        upper=_clip(score + z * standard_error, score, 100.0),
        confidence=confidence,
        small_sample=small,
        warning=warning,
    )


def nps_from_histogram(
    counts: Sequence[int],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    minimum: int = SMALL_SAMPLE_THRESHOLD,
) -> NPSResult:
    """NPS from the number of answers at each score 0, 1, ..., 10 (eleven counts).

    Scores 9-10 are promoters, 7-8 passives and 0-6 detractors.
    """
    if len(counts) != 11:
        raise ValueError(f"an NPS histogram needs 11 counts (scores 0-10), got {len(counts)}")
    for score, count in enumerate(counts):
        _check_count(f"count for score {score}", count)
    return nps(
        sum(counts[9:11]),
        sum(counts[7:9]),
        sum(counts[0:7]),
        confidence=confidence,
        minimum=minimum,
    )


@dataclass(frozen=True, kw_only=True)
class ProportionResult:
    """A proportion (0..1) with its Wilson score interval.

    ``proportion``, ``lower`` and ``upper`` are ``None`` when ``total`` is 0.
    """

    successes: int
    total: int
    proportion: float | None
    lower: float | None
    upper: float | None
    confidence: float
    small_sample: bool
    warning: str | None

    @property
    def percent(self) -> float | None:
        """The proportion as a percentage, for display."""
        return None if self.proportion is None else 100.0 * self.proportion


def _wilson_interval(successes: int, total: int, z: float) -> tuple[float, float]:
    share = successes / total
    z_squared = z * z
    scale = 1.0 + z_squared / total
    centre = (share + z_squared / (2.0 * total)) / scale
    half_width = (
        z / scale * math.sqrt(share * (1.0 - share) / total + z_squared / (4.0 * total * total))
    )
    # Algebraically the interval always contains the share and stays in
    # [0, 1]; the clips only absorb rounding at 0 and n successes.
    return _clip(centre - half_width, 0.0, share), _clip(centre + half_width, share, 1.0)


def csat(
    satisfied: int,
    total: int,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    minimum: int = SMALL_SAMPLE_THRESHOLD,
) -> ProportionResult:
    """Customer satisfaction: the share of satisfied answers with a Wilson score interval.

    Satisfied usually means 4 or 5 on a 1-5 scale (see
    :func:`csat_from_histogram`). The Wilson interval is used rather than the
    textbook Wald interval because it stays inside [0, 1] and keeps close to
    its nominal coverage with few answers or shares near 0% and 100%.
    """
    _check_count("satisfied", satisfied)
    _check_count("total", total)
    if satisfied > total:
        raise ValueError(f"satisfied ({satisfied}) cannot exceed total ({total})")
    z = _z_for(confidence)
    warning = sample_size_warning(total, minimum)
    if total == 0:
        return ProportionResult(
            successes=0,
            total=0,
            proportion=None,
            lower=None,
            upper=None,
            confidence=confidence,
            small_sample=total < minimum,
            warning=warning,
        )
    lower, upper = _wilson_interval(satisfied, total, z)
    return ProportionResult(
        successes=satisfied,
        total=total,
        proportion=satisfied / total,
        lower=lower,
        upper=upper,
        confidence=confidence,
        small_sample=total < minimum,
        warning=warning,
    )


def csat_from_histogram(
    counts: Sequence[int],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    minimum: int = SMALL_SAMPLE_THRESHOLD,
) -> ProportionResult:
    """CSAT from the number of answers at each rating 1, 2, 3, 4, 5 (five counts).

    Ratings 4 and 5 count as satisfied.
    """
    if len(counts) != 5:
        raise ValueError(f"a CSAT histogram needs 5 counts (ratings 1-5), got {len(counts)}")
    for rating, count in enumerate(counts, start=1):
        _check_count(f"count for rating {rating}", count)
    return csat(counts[3] + counts[4], sum(counts), confidence=confidence, minimum=minimum)


@dataclass(frozen=True, kw_only=True)
class MeanResult:
    """A mean with its sample standard deviation and Student-t interval.

    ``mean`` is ``None`` without answers; ``standard_deviation`` and the
    interval need at least two answers.
    """

    n: int
    mean: float | None
    standard_deviation: float | None
    standard_error: float | None
    lower: float | None
    upper: float | None
    confidence: float
    small_sample: bool
    warning: str | None


def mean_interval(
    sum: float,
    sum_of_squares: float,
    n: int,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    minimum: int = SMALL_SAMPLE_THRESHOLD,
    bounds: tuple[float, float] | None = None,
) -> MeanResult:
    """Mean, sample SD and Student-t confidence interval from SUM(x), SUM(x*x) and COUNT(x).

    Meant for Customer Effort Score means (1-7), aggregated in SQL; the first
    parameter is called ``sum`` after that aggregate. The SD uses
    the n - 1 denominator and the interval is mean +/- t(1 - alpha/2, n - 1) *
    SD / sqrt(n). Pass ``bounds=(1, 7)`` to clip the interval to the scale.

    The one-pass variance formula (sum_of_squares - sum^2 / n) / (n - 1) loses
    precision when the mean is large compared with the spread; for bounded
    rating scales that is harmless. A slightly negative result from rounding
    is treated as zero; a clearly negative one means the sums are inconsistent
    and raises ``ValueError``.
    """
    _check_count("n", n)
    _check_probability("confidence", confidence)
    if not (math.isfinite(sum) and math.isfinite(sum_of_squares)):
        raise ValueError("sum and sum_of_squares must be finite")
    if sum_of_squares < 0:
        raise ValueError("sum_of_squares must not be negative")
    if bounds is not None and bounds[0] > bounds[1]:
        raise ValueError("bounds must be (low, high) with low <= high")
    warning = sample_size_warning(n, minimum, reading="an average")
    small = n < minimum
    if n == 0:
        return MeanResult(
            n=0,
            mean=None,
            standard_deviation=None,
            standard_error=None,
            lower=None,
            upper=None,
            confidence=confidence,
            small_sample=small,
            warning=warning,
        )
    mean = sum / n
    if n == 1:
        return MeanResult(
            n=1,
            mean=mean,
            standard_deviation=None,
            standard_error=None,
            lower=None,
            upper=None,
            confidence=confidence,
            small_sample=small,
            warning=warning,
        )
    squared_deviations = sum_of_squares - sum * mean
    if squared_deviations < -1e-9 * max(1.0, sum_of_squares):
        raise ValueError(
            "sum_of_squares is smaller than sum**2 / n: the sums cannot come from real data"
        )
    standard_deviation = math.sqrt(max(0.0, squared_deviations) / (n - 1))
    standard_error = standard_deviation / math.sqrt(n)
    half_width = t_quantile(0.5 + confidence / 2.0, n - 1) * standard_error
    lower, upper = mean - half_width, mean + half_width
    if bounds is not None:
        lower = _clip(lower, bounds[0], mean)
        upper = _clip(upper, mean, bounds[1])
    return MeanResult(
        n=n,
        mean=mean,
        standard_deviation=standard_deviation,
        standard_error=standard_error,
        lower=lower,
        upper=upper,
        confidence=confidence,
        small_sample=small,
        warning=warning,
    )


@dataclass(frozen=True, kw_only=True)
class RateResult:
    """Events per ``per`` units of exposure, with an exact Poisson interval.

    When ``exposure`` is 0 the rate is undefined: ``defined`` is False, the
    numeric fields are ``None`` and ``warning`` says why.
    """

    count: int
    exposure: float
    per: float
    rate: float | None
    lower: float | None
    upper: float | None
    confidence: float
    defined: bool
    warning: str | None


def _poisson_exact_bounds(count: int, confidence: float) -> tuple[float, float]:
    """Garwood's exact interval for a Poisson mean given an observed count."""
    alpha = 1.0 - confidence
    lower = 0.0 if count == 0 else 0.5 * chi2_quantile(alpha / 2.0, 2.0 * count)
    upper = 0.5 * chi2_quantile(1.0 - alpha / 2.0, 2.0 * count + 2.0)
    return lower, upper


def rate(
    count: int,
    exposure: float,
    per: float = 1000,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> RateResult:
    """Event rate (e.g. complaints per 1000 orders) with an exact Poisson interval.

    The interval is Garwood's: for a count c the mean lies between
    chi2(alpha/2; 2c)/2 and chi2(1 - alpha/2; 2c + 2)/2, both divided by the
    exposure and multiplied by ``per``. It is exact in the sense of never
    covering less than the stated confidence, and it gives a useful upper
    bound even for a count of zero.
    """
    _check_count("count", count)
    _check_amount("exposure", exposure)
    if not (math.isfinite(per) and per > 0):
        raise ValueError("per must be a positive number")
    _check_probability("confidence", confidence)
    if exposure == 0:
        return RateResult(
            count=count,
            exposure=exposure,
            per=per,
            rate=None,
            lower=None,
            upper=None,
            confidence=confidence,
            defined=False,
            warning="No exposure in this period: the rate is undefined",
        )
    lower, upper = _poisson_exact_bounds(count, confidence)

    # Zero stays zero even when a tiny exposure makes per / exposure overflow (0 * inf is nan).
    def scaled(amount: float) -> float:
        return 0.0 if amount == 0 else amount * per / exposure

    estimate = scaled(count)
    return RateResult(
        count=count,
        exposure=exposure,
        per=per,
        rate=estimate,
        lower=min(scaled(lower), estimate),
        upper=max(scaled(upper), estimate),
        confidence=confidence,
        defined=True,
        warning=None,
    )


# ---------------------------------------------------------------------------
# Tests of change between two periods
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChangeTestResult:
    """Outcome of a two-sided test of change from a first group to a second.

    ``difference`` is second minus first on the measure's own scale;
    ``statistic`` is the test statistic named in ``method``. ``p_value`` is
    ``None`` when the test cannot be computed (see ``warning``), and then
    ``significant`` is False.
    """

    difference: float | None
    statistic: float | None
    p_value: float | None
    significant: bool
    alpha: float
    method: str
    warning: str | None


@dataclass(frozen=True, kw_only=True)
class RateRatioTestResult(ChangeTestResult):
    """A rate comparison: :class:`ChangeTestResult` plus the rate ratio.

    ``rate_ratio`` is the second rate over the first, with an exact interval
    (``ratio_lower``, ``ratio_upper``) at ``confidence``. ``rate_ratio`` and
    ``ratio_upper`` are ``None`` when unbounded (no events in the first
    period); all three are ``None`` when a period has no exposure.
    ``difference`` is per ``per`` units of exposure.
    """

    rate_ratio: float | None
    ratio_lower: float | None
    ratio_upper: float | None
    confidence: float
    per: float


def _labelled(label: str, warning: str | None) -> str | None:
    return None if warning is None else f"{label}: {warning}"


def _combine_warnings(*warnings: str | None) -> str | None:
    present = [w for w in warnings if w]
    return "; ".join(present) if present else None


def two_proportion_test(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    alpha: float = 0.05,
    minimum: int = SMALL_SAMPLE_THRESHOLD,
) -> ChangeTestResult:
    """Pooled two-proportion z-test of whether x2/n2 differs from x1/n1.

    Under the null hypothesis the two proportions are equal, so the standard
    error is estimated from the pooled share (x1 + x2)/(n1 + n2):
    z = (p2 - p1) / sqrt(p(1 - p)(1/n1 + 1/n2)). The p-value is two-sided.
    When the pooled share is 0 or 1 the two periods are identical and the
    p-value is 1.
    """
    for name, value in (("x1", x1), ("n1", n1), ("x2", x2), ("n2", n2)):
        _check_count(name, value)
    if x1 > n1 or x2 > n2:
        raise ValueError("successes cannot exceed the number of trials")
    _check_probability("alpha", alpha)
    method = "pooled two-proportion z-test"
    warning = _combine_warnings(
        _labelled("first period", sample_size_warning(n1, minimum)),
        _labelled("second period", sample_size_warning(n2, minimum)),
    )
    if n1 == 0 or n2 == 0:
        return ChangeTestResult(
            difference=None,
            statistic=None,
            p_value=None,
            significant=False,
            alpha=alpha,
            method=method,
            warning=_combine_warnings("a period without answers cannot be compared", warning),
        )
    difference = x2 / n2 - x1 / n1
    pooled = (x1 + x2) / (n1 + n2)
    standard_error = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if standard_error == 0.0:
        return ChangeTestResult(
            difference=0.0,
            statistic=0.0,
            p_value=1.0,
            significant=False,
            alpha=alpha,
            method=method,
            warning=warning,
        )
    z = difference / standard_error
    p_value = _two_sided_normal_p(z)
    return ChangeTestResult(
        difference=difference,
        statistic=z,
        p_value=p_value,
        significant=p_value < alpha,
        alpha=alpha,
        method=method,
        warning=warning,
    )


def nps_difference_test(a: NPSResult, b: NPSResult, *, alpha: float = 0.05) -> ChangeTestResult:
    """z-test of the change in NPS from period ``a`` to period ``b``.

    z = (NPS_b - NPS_a) / sqrt(SE_a^2 + SE_b^2), two-sided.

    Why this test: NPS is not a proportion but the mean of a three-valued
    score (+1, 0, -1). Its promoter and detractor shares come from one
    multinomial sample and are negatively correlated, so testing promoters
    and detractors separately, or treating NPS as a share in a two-proportion
    test, gets the variance wrong. Each period's standard error already
    accounts for that correlation (see :func:`nps`), and for independent
    samples the variances of the two estimates add, which gives the
    denominator above.

    When both standard errors are zero (every answer in one group in both
    periods) the test is undefined unless the scores are equal; it then
    returns ``p_value=None`` with a warning instead of claiming certainty.
    """
    _check_probability("alpha", alpha)
    method = "z-test on the NPS difference (unpooled multinomial standard errors)"
    warning = _combine_warnings(
        _labelled("first period", a.warning), _labelled("second period", b.warning)
    )
    if a.score is None or b.score is None or a.standard_error is None or b.standard_error is None:
        return ChangeTestResult(
            difference=None,
            statistic=None,
            p_value=None,
            significant=False,
            alpha=alpha,
            method=method,
            warning=_combine_warnings("a period without answers cannot be compared", warning),
        )
    difference = b.score - a.score
    standard_error = math.hypot(a.standard_error, b.standard_error)
    if standard_error == 0.0:
        if difference == 0.0:
            return ChangeTestResult(
                difference=0.0,
                statistic=0.0,
                p_value=1.0,
                significant=False,
                alpha=alpha,
                method=method,
                warning=warning,
            )
        return ChangeTestResult(
            difference=difference,
            statistic=None,
            p_value=None,
            significant=False,
            alpha=alpha,
            method=method,
            warning=_combine_warnings(
                "every answer fell in one group in both periods: no variation to test against",
                warning,
            ),
        )
    z = difference / standard_error
    p_value = _two_sided_normal_p(z)
    return ChangeTestResult(
        difference=difference,
        statistic=z,
        p_value=p_value,
        significant=p_value < alpha,
        alpha=alpha,
        method=method,
        warning=warning,
    )


def rate_ratio_test(
    c1: int,
    e1: float,
    c2: int,
    e2: float,
    *,
    alpha: float = 0.05,
    confidence: float | None = None,
    per: float = 1000,
) -> RateRatioTestResult:
    """Exact conditional test of whether the event rate changed between two periods.

    Given the total c1 + c2, and if both periods share one rate, c1 follows
    Binomial(c1 + c2, e1 / (e1 + e2)). The test is that exact binomial test,
    two-sided by the minimum-likelihood method: the p-value adds up the
    probabilities of every split no more likely than the observed one. It is
    not the mid-p variant, so it is conservative (its false-alarm rate is at
    most ``alpha``), which suits a quality system where a false "the rate has
    changed" sends people chasing causes. ``statistic`` is c1 itself.

    The rate ratio (second over first) gets the matching exact interval: the
    Clopper-Pearson interval for the binomial share, transformed to the ratio
    scale. ``confidence`` defaults to 1 - ``alpha``.
    """
    _check_count("c1", c1)
    _check_count("c2", c2)
    _check_amount("e1", e1)
    _check_amount("e2", e2)
    _check_probability("alpha", alpha)
    level = 1.0 - alpha if confidence is None else confidence
    _check_probability("confidence", level)
    if not (math.isfinite(per) and per > 0):
        raise ValueError("per must be a positive number")
    method = "exact conditional binomial test (minimum likelihood, not mid-p)"

    def undefined(reason: str, difference: float | None = None) -> RateRatioTestResult:
        return RateRatioTestResult(
            difference=difference,
            statistic=float(c1),
            p_value=None,
            significant=False,
            alpha=alpha,
            method=method,
            warning=reason,
            rate_ratio=None,
            ratio_lower=None,
            ratio_upper=None,
            confidence=level,
            per=per,
        )

    if e1 == 0 or e2 == 0:
        return undefined("a period without exposure cannot be compared")
    difference = (c2 / e2 - c1 / e1) * per
    total = c1 + c2
    if total == 0:
        return RateRatioTestResult(
            difference=0.0,
            statistic=0.0,
            p_value=1.0,
            significant=False,
            alpha=alpha,
            method=method,
            warning="no events in either period",
            rate_ratio=None,
            # With no events the data rule out no ratio at all: [0, unbounded).
            ratio_lower=0.0,
            ratio_upper=None,
            confidence=level,
            per=per,
        )
    share = e1 / (e1 + e2)
    p_value = _binomial_two_sided_p(c1, total, share)

    # Clopper-Pearson bounds for pi = P(an event falls in period 1); the
    # rate ratio second/first is (1 - pi)/pi * e1/e2, decreasing in pi.
    tail = (1.0 - level) / 2.0
    exposure_ratio = e1 / e2
    if c2 == 0:
        ratio_lower = 0.0
    else:
        pi_high, pi_high_complement = _beta_quantile(1.0 - tail, c1 + 1, c2)
        ratio_lower = pi_high_complement / pi_high * exposure_ratio
    if c1 == 0:
        ratio_upper = None
    else:
        pi_low, pi_low_complement = _beta_quantile(tail, c1, c2 + 1)
        ratio_upper = pi_low_complement / pi_low * exposure_ratio
    # Formed as one quotient so that extreme exposures cannot overflow a rate.
    rate_ratio = None if c1 == 0 else (c2 * e1) / (c1 * e2)
    return RateRatioTestResult(
        difference=difference,
        statistic=float(c1),
        p_value=p_value,
        significant=p_value < alpha,
        alpha=alpha,
        method=method,
        warning=None,
        rate_ratio=rate_ratio,
        ratio_lower=ratio_lower,
        ratio_upper=ratio_upper,
        confidence=level,
        per=per,
    )


# ---------------------------------------------------------------------------
# Control charts
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChartPoint:
    """One period on a control chart.

    ``value`` and the per-point ``sigma``, ``ucl`` and ``lcl`` are ``None``
    for a period with no sample (size or exposure 0): it is missing, not zero.
    Zone rules use ``centre +/- k * sigma``.
    """

    index: int
    count: int
    size: float
    value: float | None
    centre: float | None
    sigma: float | None
    ucl: float | None
    lcl: float | None

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True, kw_only=True)
class ControlChart:
    """A p- or u-chart: the pooled centre line and one :class:`ChartPoint` per period.

    ``centre`` is ``None`` only when every period is empty.
    """

    kind: str
    centre: float | None
    points: tuple[ChartPoint, ...]

    @property
    def values(self) -> tuple[float | None, ...]:
        return tuple(point.value for point in self.points)


def _check_series(counts: Sequence[int], sizes: Sequence[float], what: str) -> None:
    if len(counts) != len(sizes):
        raise ValueError(f"{len(counts)} counts but {len(sizes)} {what}")
    for index, count in enumerate(counts):
        _check_count(f"count at index {index}", count)
    for index, size in enumerate(sizes):
        _check_amount(f"{what} at index {index}", size)


def p_chart(defectives: Sequence[int], sizes: Sequence[int]) -> ControlChart:
    """p-chart for the share of "defective" answers per period (e.g. dissatisfied).

    The centre line is the pooled share p = sum(defectives) / sum(sizes), and
    each period gets its own limits p +/- 3 * sqrt(p(1 - p) / n_i), so small
    periods get wider limits instead of false alarms. The LCL is clipped at 0
    and the UCL at 1. Periods of size 0 are reported as missing points.
    """
    _check_series(defectives, sizes, "sizes")
    for index, (count, size) in enumerate(zip(defectives, sizes, strict=True)):
        _check_count(f"size at index {index}", size)
        if count > size:
            raise ValueError(f"defectives ({count}) exceed size ({size}) at index {index}")
    total = sum(sizes)
    centre = sum(defectives) / total if total else None
    points = []
    for index, (count, size) in enumerate(zip(defectives, sizes, strict=True)):
        if size == 0 or centre is None:
            points.append(_missing_point(index, count, size, centre))
            continue
        sigma = math.sqrt(centre * (1.0 - centre) / size)
        points.append(
            ChartPoint(
                index=index,
                count=count,
                size=size,
                value=count / size,
                centre=centre,
                sigma=sigma,
                ucl=min(1.0, centre + CONTROL_LIMIT_SIGMAS * sigma),
                lcl=max(0.0, centre - CONTROL_LIMIT_SIGMAS * sigma),
            )
        )
    return ControlChart(kind="p", centre=centre, points=tuple(points))


def u_chart(counts: Sequence[int], exposures: Sequence[float], *, per: float = 1.0) -> ControlChart:
    """u-chart for events per unit of exposure per period (e.g. complaints per order).

    The centre line is the pooled rate u = sum(counts) / sum(exposures), and
    each period gets its own limits u +/- 3 * sqrt(u / e_i) (Poisson counts),
    LCL clipped at 0. Every value, limit and sigma is multiplied by ``per``
    (use ``per=1000`` for "per 1000 orders"). Periods with exposure 0 are
    reported as missing points.
    """
    _check_series(counts, exposures, "exposures")
    if not (math.isfinite(per) and per > 0):
        raise ValueError("per must be a positive number")
    total = math.fsum(exposures)
    centre = sum(counts) / total if total > 0 else None
    scaled_centre = None if centre is None else centre * per
    points = []
    for index, (count, exposure) in enumerate(zip(counts, exposures, strict=True)):
        if exposure == 0 or centre is None or scaled_centre is None:
            points.append(_missing_point(index, count, exposure, scaled_centre))
            continue
        sigma = math.sqrt(centre / exposure) * per
        points.append(
            ChartPoint(
                index=index,
                count=count,
                size=exposure,
                value=count / exposure * per,
                centre=scaled_centre,
                sigma=sigma,
                ucl=scaled_centre + CONTROL_LIMIT_SIGMAS * sigma,
                lcl=max(0.0, scaled_centre - CONTROL_LIMIT_SIGMAS * sigma),
            )
        )
    return ControlChart(kind="u", centre=scaled_centre, points=tuple(points))


def _missing_point(index: int, count: int, size: float, centre: float | None) -> ChartPoint:
    return ChartPoint(
        index=index,
        count=count,
        size=size,
        value=None,
        centre=centre,
        sigma=None,
        ucl=None,
        lcl=None,
    )


# ---------------------------------------------------------------------------
# Special-cause rules
# ---------------------------------------------------------------------------


class Rule(StrEnum):
    """Special-cause rules, valued by their number in Nelson's list."""

    #: One point more than 3 sigma from the centre line.
    BEYOND_LIMITS = "nelson_1"
    #: A run of points (default 8) on one side of the centre line.
    RUN = "nelson_2"
    #: Points (default 6) in a row steadily increasing or decreasing.
    TREND = "nelson_3"
    #: Two of three consecutive points more than 2 sigma out on the same side.
    TWO_OF_THREE = "nelson_5"
    #: Four of five consecutive points more than 1 sigma out on the same side.
    FOUR_OF_FIVE = "nelson_6"


class Direction(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    INCREASING = "increasing"
    DECREASING = "decreasing"


_RULE_ORDER = {rule: position for position, rule in enumerate(Rule)}


@dataclass(frozen=True, kw_only=True)
class Signal:
    """A special-cause signal on a chart.

    ``index`` is the point that completes the pattern. ``start`` and ``end``
    are the first and last points of the pattern (``end`` equals ``index``
    unless signals were merged by :func:`collapse_signals`).
    """

    rule: Rule
    index: int
    direction: Direction
    description: str
    start: int
    end: int


@dataclass(frozen=True)
class _Plotted:
    index: int
    value: float
    centre: float
    sigma: float


def _side(point: _Plotted, multiple: float) -> int:
    """+1 if the point is more than ``multiple`` sigma above centre, -1 if below, else 0."""
    offset = point.value - point.centre
    margin = multiple * point.sigma
    if offset > margin:
        return 1
    if offset < -margin:
        return -1
    return 0


def _side_word(side: int) -> Direction:
    return Direction.ABOVE if side > 0 else Direction.BELOW


def _beyond_limits(points: Sequence[_Plotted]) -> Iterable[Signal]:
    for point in points:
        side = _side(point, CONTROL_LIMIT_SIGMAS)
        if side:
            limit = "upper" if side > 0 else "lower"
            yield Signal(
                rule=Rule.BEYOND_LIMITS,
                index=point.index,
                direction=_side_word(side),
                description=f"Point beyond the {limit} control limit (3 sigma)",
                start=point.index,
                end=point.index,
            )


def _runs(points: Sequence[_Plotted], length: int) -> Iterable[Signal]:
    current_side = 0
    run = 0
    start = 0
    for point in points:
        side = _side(point, 0.0)
        if side == 0:
            # A point on the centre line belongs to neither side and ends the run.
            current_side, run = 0, 0
            continue
        if side == current_side:
            run += 1
        else:
            current_side, run, start = side, 1, point.index
        if run >= length:
            where = "above" if side > 0 else "below"
            yield Signal(
                rule=Rule.RUN,
                index=point.index,
                direction=_side_word(side),
                description=f"{run} points in a row {where} the centre line",
                start=start,
                end=point.index,
            )


def _trends(points: Sequence[_Plotted], length: int) -> Iterable[Signal]:
    trend = 0
    run = 1
    start = points[0].index if points else 0
    for previous, point in pairwise(points):
        step = (point.value > previous.value) - (point.value < previous.value)
        if step == 0:
            # A repeated value is neither rising nor falling.
            trend, run, start = 0, 1, point.index
            continue
        if step == trend:
            run += 1
        else:
            trend, run, start = step, 2, previous.index
        if run >= length:
            word = "increasing" if trend > 0 else "decreasing"
            yield Signal(
                rule=Rule.TREND,
                index=point.index,
                direction=Direction.INCREASING if trend > 0 else Direction.DECREASING,
                description=f"{run} points in a row steadily {word}",
                start=start,
                end=point.index,
            )


def _zone_pattern(
    points: Sequence[_Plotted], rule: Rule, needed: int, window: int, multiple: float
) -> Iterable[Signal]:
    for position, point in enumerate(points):
        side = _side(point, multiple)
        if side == 0:
            # The pattern is completed by a point in the zone; if this point
            # is not, any earlier completion was reported at that point.
            continue
        recent = points[max(0, position - window + 1) : position + 1]
        matching = [p for p in recent if _side(p, multiple) == side]
        if len(matching) >= needed:
            where = "above" if side > 0 else "below"
            yield Signal(
                rule=rule,
                index=point.index,
                direction=_side_word(side),
                description=(
                    f"{needed} of {window} points more than {multiple:g} sigma "
                    f"{where} the centre line"
                ),
                start=matching[0].index,
                end=point.index,
            )


def special_causes_in_series(
    values: Sequence[float | None],
    centre: float | Sequence[float | None],
    sigma: float | Sequence[float | None],
    *,
    run_length: int = 8,
    trend_length: int = 6,
    rules: Collection[Rule] | None = None,
) -> list[Signal]:
    """Apply the special-cause rules to values with a centre and sigma per point.

    ``centre`` and ``sigma`` may be single numbers or one per value. Points
    where the value, centre or sigma is ``None`` (or infinite) are missing
    periods: the rules skip them, so a run or trend continues across a gap
    in the data rather than being broken by it.

    The rules (Western Electric / Nelson), all on the same side where sides matter:

    * ``Rule.BEYOND_LIMITS`` (Nelson 1): a point more than 3 sigma from the centre;
    * ``Rule.RUN`` (Nelson 2): ``run_length`` points in a row on one side of
      the centre line (a point exactly on it breaks the run);
    * ``Rule.TREND`` (Nelson 3): ``trend_length`` points in a row each higher
      (or each lower) than the one before (a repeat breaks the trend);
    * ``Rule.TWO_OF_THREE`` (Nelson 5): 2 of 3 points more than 2 sigma out;
    * ``Rule.FOUR_OF_FIVE`` (Nelson 6): 4 of 5 points more than 1 sigma out.

    A signal is reported at every point that completes or extends a pattern:
    a run of 10 with ``run_length=8`` gives signals at its 8th, 9th and 10th
    points, which lets a chart mark each of them. Use :func:`collapse_signals`
    to turn those into one finding per run. Signals come back ordered by
    index, then by rule.
    """
    if run_length < 2 or trend_length < 2:
        raise ValueError("run_length and trend_length must be at least 2")
    count = len(values)
    centres = _broadcast(centre, count, "centre")
    sigmas = _broadcast(sigma, count, "sigma")
    plotted: list[_Plotted] = []
    for index, (value, middle, spread) in enumerate(zip(values, centres, sigmas, strict=True)):
        if value is None or middle is None or spread is None:
            continue
        if math.isnan(value) or math.isnan(middle) or math.isnan(spread) or spread < 0:
            raise ValueError(f"invalid point at index {index}: NaN or negative sigma")
        if not (math.isfinite(value) and math.isfinite(middle) and math.isfinite(spread)):
            # Only a vanishing exposure produces infinities; such a period
            # carries no usable information, like an empty one.
            continue
        plotted.append(_Plotted(index, value, middle, spread))
    chosen = set(Rule) if rules is None else set(rules)
    signals: list[Signal] = []
    if Rule.BEYOND_LIMITS in chosen:
        signals.extend(_beyond_limits(plotted))
    if Rule.RUN in chosen:
        signals.extend(_runs(plotted, run_length))
    if Rule.TREND in chosen:
        signals.extend(_trends(plotted, trend_length))
    if Rule.TWO_OF_THREE in chosen:
        signals.extend(_zone_pattern(plotted, Rule.TWO_OF_THREE, 2, 3, 2.0))
    if Rule.FOUR_OF_FIVE in chosen:
        signals.extend(_zone_pattern(plotted, Rule.FOUR_OF_FIVE, 4, 5, 1.0))
    signals.sort(key=lambda signal: (signal.index, _RULE_ORDER[signal.rule]))
    return signals


def _broadcast(
    value: float | Sequence[float | None], count: int, name: str
) -> Sequence[float | None]:
    if isinstance(value, int | float):
        return [float(value)] * count
    if len(value) != count:
        raise ValueError(f"{name} has {len(value)} entries for {count} values")
    return value


def special_causes(
    chart: ControlChart,
    *,
    run_length: int = 8,
    trend_length: int = 6,
    rules: Collection[Rule] | None = None,
) -> list[Signal]:
    """Apply the special-cause rules to a :func:`p_chart` or :func:`u_chart` result.

    Uses each point's own centre and sigma, so the zones follow the varying
    limits. See :func:`special_causes_in_series` for the rules and how
    continuing patterns are reported.
    """
    return special_causes_in_series(
        [point.value for point in chart.points],
        [point.centre for point in chart.points],
        [point.sigma for point in chart.points],
        run_length=run_length,
        trend_length=trend_length,
        rules=rules,
    )


def collapse_signals(signals: Iterable[Signal]) -> list[Signal]:
    """Merge signals of the same rule and direction whose patterns overlap.

    A continuing run or trend, or a cluster of zone patterns sharing points,
    becomes one finding: ``index`` is where it was first detected, ``start``
    and ``end`` span all of it, and for runs and trends the description gives
    the full length. Separate points beyond the limits stay separate, as each
    is a special cause of its own.
    """
    groups: dict[tuple[Rule, Direction], list[Signal]] = {}
    for signal in signals:
        groups.setdefault((signal.rule, signal.direction), []).append(signal)
    merged: list[Signal] = []
    for group in groups.values():
        group.sort(key=lambda signal: (signal.start, signal.index))
        current = group[0]
        for signal in group[1:]:
            if signal.start <= current.end:
                longer = signal.rule in (Rule.RUN, Rule.TREND) and signal.end > current.end
                current = replace(
                    current,
                    end=max(current.end, signal.end),
                    description=signal.description if longer else current.description,
                )
            else:
                merged.append(current)
                current = signal
        merged.append(current)
    merged.sort(key=lambda signal: (signal.index, _RULE_ORDER[signal.rule]))
    return merged
