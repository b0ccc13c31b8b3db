"""Tests for harken.insights.statistics.

SciPy is used here only as an independent reference; the module under test
must not need it.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from harken.insights import statistics as s
from harken.insights.statistics import Direction, Rule

# Examples are capped so the whole file runs in a few seconds; the database is
# off so that running the tests leaves no .hypothesis directory behind.
FAST = settings(max_examples=100, deadline=None, database=None)
COUNTS = st.integers(min_value=0, max_value=10**6)
SMALL_COUNTS = st.integers(min_value=0, max_value=400)
CONFIDENCES = st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999])

Z_975 = 1.9599639845400536  # standard normal 97.5% quantile


def approx(value: float, rel: float = 1e-12, abs: float = 0.0) -> object:
    return pytest.approx(value, rel=rel, abs=abs)


# ---------------------------------------------------------------------------
# The module stays standard-library only
# ---------------------------------------------------------------------------


def test_module_imports_only_the_standard_library() -> None:
    source = Path(s.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    allowed = {
        "__future__",
        "collections",
        "dataclasses",
        "enum",
        "functools",
        "itertools",
        "math",
        "statistics",
    }
    assert imported <= allowed


# ---------------------------------------------------------------------------
# Sample-size warning
# ---------------------------------------------------------------------------


def test_sample_size_warning_sentences() -> None:
    assert s.sample_size_warning(3) == "Only 3 answers: too few to read as a percentage"
    assert s.sample_size_warning(1) == "Only 1 answer: too few to read as a percentage"
    assert s.sample_size_warning(0) == "No answers yet: nothing to read"
    assert s.sample_size_warning(29) is not None
    assert s.sample_size_warning(30) is None
    assert s.sample_size_warning(5, minimum=5) is None
    assert s.sample_size_warning(4, 5, reading="an average") == (
        "Only 4 answers: too few to read as an average"
    )
    assert s.SMALL_SAMPLE_THRESHOLD == 30


# ---------------------------------------------------------------------------
# NPS
# ---------------------------------------------------------------------------


def test_nps_worked_example() -> None:
    # 50 promoters, 30 passives, 20 detractors: n = 100.
    # NPS = 100 * (50 - 20) / 100 = 30.
    # p_P = 0.5, p_D = 0.2; variance of one answer's score
    #   = p_P + p_D - (p_P - p_D)^2 = 0.5 + 0.2 - 0.09 = 0.61.
    # SE = 100 * sqrt(0.61 / 100) = 7.810249675906654.
    # 95% interval = 30 -/+ 1.959963984540054 * 7.810249675906654
    #              = 30 -/+ 15.307808075042669 = [14.692191924957331, 45.30780807504267].
    result = s.nps(50, 30, 20)
    assert result.n == 100
    assert result.score == approx(30.0)
    assert result.standard_error == approx(7.810249675906654)
    assert result.standard_error == approx(100 * math.sqrt(0.61 / 100))
    assert result.lower == approx(14.692191924957331)
    assert result.upper == approx(45.30780807504267)
    assert result.upper - result.score == approx(Z_975 * 7.810249675906654)
    assert result.small_sample is False
    assert result.warning is None
    assert result.confidence == 0.95


def test_nps_confidence_is_configurable() -> None:
    # 90%: z = 1.6448536269514715, so 30 -/+ 1.6448536... * 7.8102496759...
    result = s.nps(50, 30, 20, confidence=0.90)
    assert result.lower == approx(17.153282493188385)
    assert result.upper == approx(42.846717506811615)


def test_nps_from_histogram_groups_scores() -> None:
    # Scores 0..10: detractors 0-6, passives 7-8, promoters 9-10.
    counts = [1, 0, 2, 0, 3, 0, 4, 5, 6, 7, 8]
    result = s.nps_from_histogram(counts)
    assert (result.detractors, result.passives, result.promoters) == (10, 11, 15)
    assert result.score == approx(100 * (15 - 10) / 36)
    with pytest.raises(ValueError, match="11 counts"):
        s.nps_from_histogram([1, 2, 3])


def test_nps_without_answers_is_empty_not_an_error() -> None:
    result = s.nps(0, 0, 0)
    assert result.score is None
    assert result.lower is None and result.upper is None and result.standard_error is None
    assert result.small_sample is True
    assert result.warning == "No answers yet: nothing to read"


def test_nps_small_sample_flag_and_threshold() -> None:
    small = s.nps(3, 1, 1)
    assert small.small_sample is True
    assert small.warning == "Only 5 answers: too few to read as a score"
    assert s.nps(3, 1, 1, minimum=5).small_sample is False
    assert s.nps(20, 5, 5).small_sample is False


def test_nps_all_promoters_has_a_degenerate_interval() -> None:
    result = s.nps(40, 0, 0)
    assert result.score == 100.0
    assert result.standard_error == 0.0
    assert (result.lower, result.upper) == (100.0, 100.0)


def test_nps_rejects_negative_and_non_integer_counts() -> None:
    with pytest.raises(ValueError):
        s.nps(-1, 0, 0)
    with pytest.raises(TypeError):
        s.nps(1.5, 0, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        s.nps(1, 1, 1, confidence=1.0)


@FAST
@given(COUNTS, COUNTS, COUNTS, CONFIDENCES)
def test_nps_invariants(promoters: int, passives: int, detractors: int, level: float) -> None:
    result = s.nps(promoters, passives, detractors, confidence=level)
    if result.n == 0:
        assert result.score is None
        return
    assert result.score is not None and result.lower is not None and result.upper is not None
    assert -100.0 <= result.lower <= result.score <= result.upper <= 100.0
    assert result.standard_error is not None and result.standard_error >= 0.0
    assert result.small_sample == (result.n < s.SMALL_SAMPLE_THRESHOLD)


# ---------------------------------------------------------------------------
# CSAT (Wilson interval)
# ---------------------------------------------------------------------------


def test_wilson_interval_81_of_263() -> None:
    # 81 successes in 263 trials: the Wilson 95% interval is (0.2553, 0.3662)
    # to four places, and SciPy's binomtest gives it to full precision.
    result = s.csat(81, 263)
    reference = stats.binomtest(81, 263).proportion_ci(confidence_level=0.95, method="wilson")
    assert result.proportion == approx(81 / 263)
    assert result.lower == approx(float(reference.low))
    assert result.upper == approx(float(reference.high))
    assert round(result.lower, 4) == 0.2553
    assert round(result.upper, 4) == 0.3662
    assert result.percent == approx(100 * 81 / 263)


@pytest.mark.parametrize(
    ("successes", "total", "level"),
    [(0, 1, 0.95), (1, 1, 0.95), (0, 30, 0.9), (30, 30, 0.99), (7, 12, 0.95), (499, 1000, 0.8)],
)
def test_wilson_matches_scipy(successes: int, total: int, level: float) -> None:
    result = s.csat(successes, total, confidence=level)
    reference = stats.binomtest(successes, total).proportion_ci(
        confidence_level=level, method="wilson"
    )
    assert result.lower == approx(float(reference.low), abs=1e-15)
    assert result.upper == approx(float(reference.high), abs=1e-15)


def test_csat_all_satisfied_upper_bound_is_one() -> None:
    # With every answer satisfied the Wilson lower bound is n / (n + z^2).
    result = s.csat(20, 20)
    assert result.upper == 1.0
    assert result.lower == approx(20 / (20 + Z_975**2))


def test_csat_from_histogram_counts_four_and_five() -> None:
    result = s.csat_from_histogram([2, 3, 5, 10, 20])
    assert (result.successes, result.total) == (30, 40)
    assert result.proportion == approx(0.75)
    assert result.warning is None
    with pytest.raises(ValueError, match="5 counts"):
        s.csat_from_histogram([1, 2, 3, 4])


def test_csat_edge_cases() -> None:
    empty = s.csat(0, 0)
    assert empty.proportion is None and empty.lower is None and empty.upper is None
    assert empty.warning == "No answers yet: nothing to read"
    assert s.csat(2, 3).warning == "Only 3 answers: too few to read as a percentage"
    with pytest.raises(ValueError, match="cannot exceed"):
        s.csat(5, 4)


@FAST
@given(SMALL_COUNTS, SMALL_COUNTS, CONFIDENCES)
def test_csat_interval_invariants(a: int, b: int, level: float) -> None:
    satisfied, total = min(a, b), max(a, b)
    result = s.csat(satisfied, total, confidence=level)
    if total == 0:
        assert result.proportion is None
        return
    assert result.lower is not None and result.upper is not None
    assert result.proportion is not None
    assert 0.0 <= result.lower <= result.proportion <= result.upper <= 1.0


# ---------------------------------------------------------------------------
# Distribution functions against SciPy
# ---------------------------------------------------------------------------

T_PROBABILITIES = [1e-9, 0.001, 0.005, 0.025, 0.05, 0.1, 0.3, 0.6, 0.9, 0.95, 0.975, 0.995, 0.999]


@pytest.mark.parametrize(
    "df", [0.5, 1, 1.5, 2, 3, 4, 5, 7, 10, 29, 30, 99, 1000, 5e4, 99_999, 1e5, 1e7, 1e10]
)
def test_t_quantile_matches_scipy(df: float) -> None:
    for p in T_PROBABILITIES:
        assert s.t_quantile(p, df) == approx(float(stats.t.ppf(p, df)), rel=1e-11), p


def test_t_quantile_textbook_values() -> None:
    # Printed t tables: t(0.975; 1) = 12.706, t(0.975; 10) = 2.228, t(0.995; 29) = 2.756.
    assert s.t_quantile(0.975, 1) == approx(12.706204736174698)
    assert round(s.t_quantile(0.975, 10), 3) == 2.228
    assert round(s.t_quantile(0.995, 29), 3) == 2.756
    assert s.t_quantile(0.5, 7) == 0.0
    assert s.t_quantile(0.2, 7) == approx(-s.t_quantile(0.8, 7))


@pytest.mark.parametrize("df", [1, 2, 5, 30, 1000, 5e4, 1e5, 1e8])
def test_t_cdf_matches_scipy(df: float) -> None:
    for t in [-12.0, -3.0, -1.0, -0.1, 0.0, 0.4, 2.0, 5.0]:
        assert s.t_cdf(t, df) == approx(float(stats.t.cdf(t, df)), rel=1e-10), t


CHI2_PROBABILITIES = [1e-9, 0.001, 0.005, 0.025, 0.05, 0.5, 0.95, 0.975, 0.995, 0.999]


@pytest.mark.parametrize("df", [0.2, 1, 2, 3, 4, 5, 10, 20, 50, 100, 1000, 10_000])
def test_chi2_quantile_matches_scipy(df: float) -> None:
    for p in CHI2_PROBABILITIES:
        assert s.chi2_quantile(p, df) == approx(float(stats.chi2.ppf(p, df)), rel=1e-10), p


def test_chi2_quantile_textbook_values() -> None:
    # Tables: chi2(0.95; 1) = 3.841, chi2(0.975; 10) = 20.483, chi2(0.05; 2) = -2 ln 0.95.
    assert s.chi2_quantile(0.95, 1) == approx(Z_975**2)
    assert round(s.chi2_quantile(0.975, 10), 3) == 20.483
    assert s.chi2_quantile(0.05, 2) == approx(-2 * math.log(0.95))


def test_incomplete_gamma_stays_accurate_for_large_shapes() -> None:
    # P(923038.1164155701, 918542.612043991) evaluated with 50-digit decimal
    # arithmetic (power series and Stirling's series for log Gamma) is
    # 1.39000090418881658e-06. SciPy's gammainc gives 1.38999447e-06 here,
    # which is why the SciPy comparisons above stop at moderate df.
    value = s.regularized_gamma_lower(923038.1164155701, 918542.612043991)
    assert value == approx(1.3900009041888166e-06, rel=1e-11)


@pytest.mark.parametrize("a", [0.3, 1.0, 2.5, 10.0, 150.0, 4000.0])
def test_incomplete_gamma_matches_scipy(a: float) -> None:
    for x in [a / 10, a / 2, a, a + 1, 2 * a, 3 * a + 5]:
        assert s.regularized_gamma_lower(a, x) == approx(float(special.gammainc(a, x)), rel=1e-12)
        assert s.regularized_gamma_upper(a, x) == approx(float(special.gammaincc(a, x)), rel=1e-12)


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (1, 1), (2, 5), (0.5, 40), (300, 20), (1e4, 2e4)])
def test_incomplete_beta_matches_scipy(a: float, b: float) -> None:
    mean = a / (a + b)
    for x in [1e-6, 0.01, mean / 2, mean, (1 + mean) / 2, 0.99, 0.999999]:
        expected = float(special.betainc(a, b, x))
        if expected > 1e-300:
            assert s.regularized_beta(a, b, x) == approx(expected, rel=1e-11), x


@pytest.mark.parametrize(("n", "p"), [(1, 0.3), (10, 0.5), (57, 0.02), (1000, 0.37), (10**6, 0.5)])
def test_binomial_pmf_and_cdf_match_scipy(n: int, p: float) -> None:
    mean = n * p
    spread = math.sqrt(n * p * (1 - p))
    points = {0, n, round(mean), round(mean - 2 * spread), round(mean + 3 * spread)}
    for k in sorted(k for k in points if 0 <= k <= n):
        assert s.binomial_pmf(k, n, p) == approx(float(stats.binom.pmf(k, n, p)), rel=1e-11)
        assert s.binomial_cdf(k, n, p) == approx(float(stats.binom.cdf(k, n, p)), rel=1e-11)


@FAST
@given(st.floats(min_value=1e-6, max_value=1 - 1e-6), st.floats(min_value=0.3, max_value=1e4))
def test_quantiles_invert_their_cdfs(p: float, df: float) -> None:
    assert s.t_cdf(s.t_quantile(p, df), df) == approx(p, rel=1e-9)
    x = s.chi2_quantile(p, df)
    assert s.regularized_gamma_lower(df / 2, x / 2) == approx(p, rel=1e-9)


# ---------------------------------------------------------------------------
# Means (CES)
# ---------------------------------------------------------------------------


def test_mean_interval_from_sums_matches_raw_data() -> None:
    answers = [2, 3, 3, 4, 5, 5, 5, 6, 7, 1, 4, 4]
    n = len(answers)
    total = sum(answers)  # 49
    squares = sum(a * a for a in answers)  # 231
    result = s.mean_interval(total, squares, n)
    mean = 49 / 12
    sd = math.sqrt((231 - 49**2 / 12) / 11)
    low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=sd / math.sqrt(n))
    assert result.mean == approx(mean)
    assert result.standard_deviation == approx(sd)
    assert result.standard_error == approx(sd / math.sqrt(12))
    assert result.lower == approx(float(low))
    assert result.upper == approx(float(high))
    assert result.small_sample is True
    assert result.warning == "Only 12 answers: too few to read as an average"


def test_mean_interval_edge_cases() -> None:
    empty = s.mean_interval(0, 0, 0)
    assert empty.mean is None and empty.lower is None
    single = s.mean_interval(5, 25, 1)
    assert single.mean == 5.0 and single.standard_deviation is None and single.upper is None
    constant = s.mean_interval(4 * 40, 16 * 40, 40)
    assert constant.standard_deviation == 0.0
    assert (constant.lower, constant.upper) == (4.0, 4.0)
    with pytest.raises(ValueError, match="cannot come from real data"):
        s.mean_interval(10, 10, 2)


def test_mean_interval_clips_to_the_scale() -> None:
    # Two answers, 1 and 7: mean 4, SD 4.2426, t(0.975; 1) = 12.706 -> far beyond 1..7.
    unclipped = s.mean_interval(8, 50, 2)
    assert unclipped.lower is not None and unclipped.lower < 1
    clipped = s.mean_interval(8, 50, 2, bounds=(1, 7))
    assert (clipped.lower, clipped.upper) == (1, 7)


@FAST
@given(st.lists(st.integers(min_value=1, max_value=7), max_size=300), CONFIDENCES)
def test_mean_interval_invariants(answers: list[int], level: float) -> None:
    result = s.mean_interval(
        sum(answers), sum(a * a for a in answers), len(answers), confidence=level, bounds=(1, 7)
    )
    if len(answers) < 2:
        assert result.lower is None
        return
    assert result.lower is not None and result.upper is not None and result.mean is not None
    assert 1 <= result.lower <= result.mean <= result.upper <= 7


# ---------------------------------------------------------------------------
# Rates (exact Poisson interval)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 2, 5, 17, 100, 2500])
def test_rate_garwood_interval_matches_chi2_formula(count: int) -> None:
    exposure = 1234.5
    result = s.rate(count, exposure, per=1000)
    lower = 0.0 if count == 0 else stats.chi2.ppf(0.025, 2 * count) / 2
    upper = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    assert result.rate == approx(count / exposure * 1000)
    assert result.lower == approx(float(lower) / exposure * 1000, rel=1e-10, abs=1e-300)
    assert result.upper == approx(float(upper) / exposure * 1000, rel=1e-10)
    assert result.defined is True


def test_rate_textbook_values() -> None:
    # Zero events: the 95% upper bound for the mean is -ln(0.025) = 3.6889.
    zero = s.rate(0, 1.0, per=1)
    assert zero.upper == approx(-math.log(0.025))
    assert zero.lower == 0.0
    # One event: lower bound -ln(0.975) = 0.025318.
    assert s.rate(1, 1.0, per=1).lower == approx(-math.log(0.975))


def test_rate_with_no_exposure_is_undefined() -> None:
    result = s.rate(3, 0.0)
    assert result.defined is False
    assert result.rate is None and result.lower is None and result.upper is None
    assert result.warning == "No exposure in this period: the rate is undefined"
    with pytest.raises(ValueError):
        s.rate(1, -1.0)


@FAST
@given(COUNTS, st.floats(min_value=0, max_value=1e9, allow_nan=False), CONFIDENCES)
def test_rate_invariants(count: int, exposure: float, level: float) -> None:
    result = s.rate(count, exposure, confidence=level)
    if exposure == 0:
        assert result.defined is False
        return
    assert result.lower is not None and result.upper is not None and result.rate is not None
    assert 0.0 <= result.lower <= result.rate <= result.upper
    assert result.upper > result.rate or math.isinf(result.upper) or result.rate == 0.0


# ---------------------------------------------------------------------------
# Tests of change
# ---------------------------------------------------------------------------


def test_two_proportion_test_hand_computation() -> None:
    # 45/100 in the first period, 60/100 in the second.
    # pooled p = 105 / 200 = 0.525
    # SE = sqrt(0.525 * 0.475 * (1/100 + 1/100)) = sqrt(0.0049875) = 0.07062223445912767
    # z = (0.60 - 0.45) / 0.07062223445912767 = 2.123976976214366
    # p = 2 * (1 - Phi(2.12398)) = 0.03367206885634585
    result = s.two_proportion_test(45, 100, 60, 100)
    assert result.difference == approx(0.15)
    assert result.statistic == approx(2.123976976214366)
    assert result.p_value == approx(0.03367206885634585, rel=1e-10)
    assert result.significant is True
    assert s.two_proportion_test(45, 100, 60, 100, alpha=0.01).significant is False
    reversed_result = s.two_proportion_test(60, 100, 45, 100)
    assert reversed_result.statistic == approx(-2.123976976214366)


def test_two_proportion_test_degenerate_inputs() -> None:
    same = s.two_proportion_test(0, 50, 0, 70)
    assert (same.statistic, same.p_value, same.significant) == (0.0, 1.0, False)
    empty = s.two_proportion_test(0, 0, 5, 10)
    assert empty.p_value is None and empty.significant is False
    assert empty.warning is not None and "without answers" in empty.warning
    tiny = s.two_proportion_test(1, 3, 2, 4)
    assert tiny.warning is not None and "first period: Only 3 answers" in tiny.warning


def test_nps_difference_test_hand_computation() -> None:
    # a: 50/30/20 -> NPS 30, SE^2 = 100^2 * 0.61 / 100 = 61.
    # b: 40/30/30 -> NPS 10, SE^2 = 100^2 * (0.4 + 0.3 - 0.1^2) / 100 = 69.
    # z = (10 - 30) / sqrt(61 + 69) = -20 / 11.40175425099138 = -1.7541160386140586
    # p = 0.07941062599894225
    a = s.nps(50, 30, 20)
    b = s.nps(40, 30, 30)
    result = s.nps_difference_test(a, b)
    assert result.difference == approx(-20.0)
    assert result.statistic == approx(-1.7541160386140586)
    assert result.p_value == approx(0.07941062599894225, rel=1e-10)
    assert result.significant is False
    assert s.nps_difference_test(a, b, alpha=0.1).significant is True


def test_nps_difference_test_degenerate_inputs() -> None:
    all_promoters = s.nps(40, 0, 0)
    assert s.nps_difference_test(all_promoters, s.nps(35, 0, 0)).p_value == 1.0
    opposite = s.nps_difference_test(all_promoters, s.nps(0, 0, 40))
    assert opposite.p_value is None and opposite.significant is False
    assert opposite.difference == -200.0
    empty = s.nps_difference_test(s.nps(0, 0, 0), all_promoters)
    assert empty.p_value is None and empty.difference is None


@pytest.mark.parametrize(
    ("c1", "e1", "c2", "e2"),
    [
        (10, 100.0, 20, 100.0),
        (3, 50.0, 12, 80.0),
        (0, 10.0, 7, 10.0),
        (9, 10.0, 0, 30.0),
        (40, 1000.0, 38, 1200.0),
        (1, 1.0, 1, 3.0),
        (250, 2.5, 300, 3.1),
        (12345, 1000.0, 12000, 1000.0),
    ],
)
def test_rate_ratio_test_matches_scipy(c1: int, e1: float, c2: int, e2: float) -> None:
    result = s.rate_ratio_test(c1, e1, c2, e2, per=1000)
    share = e1 / (e1 + e2)
    reference = stats.binomtest(c1, c1 + c2, share)
    assert result.p_value == approx(float(reference.pvalue), rel=1e-10)
    assert result.statistic == c1
    assert result.difference == approx((c2 / e2 - c1 / e1) * 1000)
    # Clopper-Pearson bounds for the period-1 share pi, mapped to the ratio
    # (1 - pi)/pi * e1/e2. 1 - pi follows Beta(b, a) when pi follows Beta(a, b),
    # which gives the complement without cancellation.
    if c2 == 0:
        assert result.ratio_lower == 0.0
    else:
        pi_high = stats.beta.ppf(0.975, c1 + 1, c2)
        rest = stats.beta.ppf(0.025, c2, c1 + 1)
        assert result.ratio_lower == approx(float(rest / pi_high) * e1 / e2, rel=1e-10)
    if c1 == 0:
        assert result.ratio_upper is None and result.rate_ratio is None
    else:
        pi_low = stats.beta.ppf(0.025, c1, c2 + 1)
        rest = stats.beta.ppf(0.975, c2 + 1, c1)
        assert result.ratio_upper == approx(float(rest / pi_low) * e1 / e2, rel=1e-10)
        assert result.rate_ratio == approx((c2 / e2) / (c1 / e1))


def test_rate_ratio_test_large_counts() -> None:
    result = s.rate_ratio_test(10**6, 1e4, 10**6 + 3000, 1e4)
    reference = stats.binomtest(10**6, 2 * 10**6 + 3000, 0.5)
    assert result.p_value == approx(float(reference.pvalue), rel=1e-9)
    assert result.significant is True


def test_rate_ratio_test_degenerate_inputs() -> None:
    nothing = s.rate_ratio_test(0, 10.0, 0, 12.0)
    assert (nothing.p_value, nothing.significant, nothing.rate_ratio) == (1.0, False, None)
    no_exposure = s.rate_ratio_test(5, 0.0, 3, 10.0)
    assert no_exposure.p_value is None and no_exposure.significant is False
    assert no_exposure.warning == "a period without exposure cannot be compared"
    assert (nothing.ratio_lower, nothing.ratio_upper) == (0.0, None)
    with pytest.raises(ValueError, match="NaN"):
        s.special_causes_in_series([math.nan], 0.0, 1.0)
    assert "not mid-p" in s.rate_ratio_test(1, 1.0, 2, 1.0).method


@FAST
@given(SMALL_COUNTS, SMALL_COUNTS, SMALL_COUNTS, SMALL_COUNTS)
def test_two_proportion_p_values_are_probabilities(a: int, b: int, c: int, d: int) -> None:
    result = s.two_proportion_test(min(a, b), max(a, b), min(c, d), max(c, d))
    if result.p_value is not None:
        assert 0.0 <= result.p_value <= 1.0
        assert result.significant == (result.p_value < result.alpha)


@FAST
@given(COUNTS, COUNTS, COUNTS, COUNTS, COUNTS, COUNTS)
def test_nps_difference_p_values_are_probabilities(
    p1: int, n1: int, d1: int, p2: int, n2: int, d2: int
) -> None:
    result = s.nps_difference_test(s.nps(p1, n1, d1), s.nps(p2, n2, d2))
    if result.p_value is not None:
        assert 0.0 <= result.p_value <= 1.0
        assert result.significant == (result.p_value < 0.05)
    else:
        assert result.significant is False


@FAST
@given(
    st.integers(min_value=0, max_value=20_000),
    st.integers(min_value=0, max_value=20_000),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_rate_ratio_invariants(c1: int, c2: int, e1: float, e2: float) -> None:
    result = s.rate_ratio_test(c1, e1, c2, e2)
    if result.p_value is None:
        assert e1 == 0 or e2 == 0
        return
    assert 0.0 <= result.p_value <= 1.0
    assert result.ratio_lower is not None and result.ratio_lower >= 0.0
    if result.rate_ratio is not None:
        assert result.ratio_lower <= result.rate_ratio * (1 + 1e-12)
        assert result.ratio_upper is not None
        assert result.rate_ratio <= result.ratio_upper * (1 + 1e-12)


# ---------------------------------------------------------------------------
# Control charts
# ---------------------------------------------------------------------------


def test_p_chart_hand_computation() -> None:
    # Pooled centre line: (12 + 30 + 0 + 9 + 29) / (100 + 200 + 0 + 50 + 250) = 80 / 600 = 2/15.
    # p(1 - p) = 2/15 * 13/15 = 26/225.
    # n = 100: sigma = sqrt(26/225/100) = 0.0339934634239519
    #          UCL = 0.133333 + 3 * 0.033993 = 0.23531372360518904
    #          LCL = 0.133333 - 0.101980 = 0.03135294306147762
    # n = 50:  sigma = 0.04807401700618653, LCL = 0.1333 - 0.1442 < 0, clipped to 0.
    # n = 0:   no sample, reported as missing.
    chart = s.p_chart([12, 30, 0, 9, 29], [100, 200, 0, 50, 250])
    assert chart.kind == "p"
    assert chart.centre == approx(2 / 15)
    first, second, empty, small, last = chart.points
    assert first.value == approx(0.12)
    assert first.sigma == approx(0.0339934634239519)
    assert first.ucl == approx(0.23531372360518904)
    assert first.lcl == approx(0.03135294306147762)
    assert second.sigma == approx(0.024037008503093264)
    assert second.lcl == approx(0.06122230782405354)
    assert empty.missing and empty.value is None and empty.sigma is None and empty.ucl is None
    assert empty.centre == approx(2 / 15)
    assert small.sigma == approx(0.04807401700618653)
    assert small.ucl == approx(0.2775553843518929)
    assert small.lcl == 0.0
    assert last.ucl == approx(0.19783139531972174)
    assert chart.values == (0.12, 0.15, None, 0.18, 0.116)


def test_u_chart_hand_computation() -> None:
    # 21 complaints over 900 orders = 0.023333 per order = 23.333 per 1000.
    # exposure 200: sigma = sqrt(0.023333/200) * 1000 = 10.801234497346433,
    #   UCL = 23.333 + 32.404 = 55.737036825372634, LCL clipped to 0.
    # exposure 400: sigma = 7.637626158259733, LCL = 0.42045485855413745.
    chart = s.u_chart([4, 10, 0, 7], [200, 400, 0, 300], per=1000)
    assert chart.centre == approx(1000 * 21 / 900)
    first, second, missing, last = chart.points
    assert first.value == approx(20.0)
    assert first.sigma == approx(10.801234497346433)
    assert first.ucl == approx(55.737036825372634)
    assert first.lcl == 0.0
    assert second.lcl == approx(0.42045485855413745)
    assert missing.missing
    assert last.sigma == approx(8.819171036881968)


def test_charts_with_no_data_at_all() -> None:
    chart = s.p_chart([0, 0], [0, 0])
    assert chart.centre is None
    assert all(point.missing for point in chart.points)
    assert s.special_causes(chart) == []
    assert s.u_chart([], []).points == ()


def test_chart_input_validation() -> None:
    with pytest.raises(ValueError, match="exceed"):
        s.p_chart([5], [4])
    with pytest.raises(ValueError, match="counts but"):
        s.p_chart([1, 2], [10])
    with pytest.raises(ValueError):
        s.u_chart([1], [-1.0])


@FAST
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=500)),
        max_size=25,
    )
)
def test_p_chart_limits_widen_as_samples_shrink(pairs: list[tuple[int, int]]) -> None:
    defectives = [min(a, b) for a, b in pairs]
    sizes = [max(a, b) for a, b in pairs]
    chart = s.p_chart(defectives, sizes)
    present = [point for point in chart.points if not point.missing]
    assert len(present) == sum(1 for size in sizes if size > 0)
    for point in present:
        assert point.sigma is not None and point.ucl is not None and point.lcl is not None
        assert 0.0 <= point.lcl <= point.ucl <= 1.0
    for a in present:
        for b in present:
            if a.size < b.size:
                assert a.sigma is not None and b.sigma is not None
                assert a.sigma >= b.sigma
                assert a.ucl is not None and b.ucl is not None and a.ucl >= b.ucl
                assert a.lcl is not None and b.lcl is not None and a.lcl <= b.lcl


@FAST
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**5),
            st.floats(min_value=0, max_value=1e5, allow_nan=False),
        ),
        max_size=25,
    )
)
def test_u_chart_limits_widen_as_exposure_shrinks(pairs: list[tuple[int, float]]) -> None:
    chart = s.u_chart([c for c, _ in pairs], [e for _, e in pairs], per=1000)
    present = [point for point in chart.points if not point.missing]
    for point in present:
        assert point.lcl is not None and point.ucl is not None and 0.0 <= point.lcl <= point.ucl
    for a in present:
        for b in present:
            if a.size < b.size:
                assert a.sigma is not None and b.sigma is not None and a.sigma >= b.sigma
    s.special_causes(chart)  # must not raise on any chart


# ---------------------------------------------------------------------------
# Special-cause rules
# ---------------------------------------------------------------------------


def signals(values: Sequence[float | None], rule: Rule, **options: int) -> list[tuple[int, str]]:
    found = s.special_causes_in_series(values, 0.0, 1.0, rules={rule}, **options)
    return [(signal.index, signal.direction.value) for signal in found]


def test_rule_beyond_limits() -> None:
    assert signals([0.1, -0.2, 0.3, 3.2, 0.0, -3.01], Rule.BEYOND_LIMITS) == [
        (3, "above"),
        (5, "below"),
    ]
    # Exactly on a limit is not beyond it.
    assert signals([0.1, 3.0, -3.0, 2.9], Rule.BEYOND_LIMITS) == []
    found = s.special_causes_in_series([0.0, 3.5], 0.0, 1.0, rules={Rule.BEYOND_LIMITS})
    assert found[0].description == "Point beyond the upper control limit (3 sigma)"
    assert found[0].rule == "nelson_1"


def test_rule_run_of_eight() -> None:
    values: Sequence[float | None] = [-0.5] + [0.5] * 8
    assert signals(values, Rule.RUN) == [(8, "above")]
    found = s.special_causes_in_series(values, 0.0, 1.0, rules={Rule.RUN})
    assert found[0].description == "8 points in a row above the centre line"
    assert (found[0].start, found[0].end) == (1, 8)
    # Seven in a row, then a point on the centre line, then seven more: no run of eight.
    assert signals([0.5] * 7 + [0.0] + [0.5] * 7, Rule.RUN) == []
    assert signals([-0.2] * 6, Rule.RUN, run_length=6) == [(5, "below")]


def test_rule_trend_of_six() -> None:
    rising: Sequence[float | None] = [0.3, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert signals(rising, Rule.TREND) == [(6, "increasing")]
    falling: Sequence[float | None] = [1.0, 0.8, 0.6, 0.4, 0.2, 0.0]
    assert signals(falling, Rule.TREND) == [(5, "decreasing")]
    found = s.special_causes_in_series(falling, 0.0, 1.0, rules={Rule.TREND})
    assert found[0].description == "6 points in a row steadily decreasing"
    # A repeated value breaks the trend.
    assert signals([0.0, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5], Rule.TREND) == []


def test_rule_two_of_three_beyond_two_sigma() -> None:
    assert signals([0.0, 2.5, 0.5, 2.1], Rule.TWO_OF_THREE) == [(3, "above")]
    assert signals([0.0, -2.5, -2.2], Rule.TWO_OF_THREE) == [(2, "below")]
    # Too far apart, or on opposite sides: no signal.
    assert signals([2.5, 0.0, 0.0, 2.5], Rule.TWO_OF_THREE) == []
    assert signals([2.5, -2.5, 0.0], Rule.TWO_OF_THREE) == []
    found = s.special_causes_in_series([0.0, 2.5, 0.5, 2.1], 0.0, 1.0, rules={Rule.TWO_OF_THREE})
    assert found[0].description == "2 of 3 points more than 2 sigma above the centre line"
    assert found[0].start == 1


def test_rule_four_of_five_beyond_one_sigma() -> None:
    assert signals([0.0, 1.5, 1.5, 0.5, 1.2, 1.8], Rule.FOUR_OF_FIVE) == [(5, "above")]
    assert signals([1.5, 1.5, 0.5, 0.5, 1.5, 1.5], Rule.FOUR_OF_FIVE) == []
    found = s.special_causes_in_series(
        [-1.5, -1.5, -1.5, -1.5], 0.0, 1.0, rules={Rule.FOUR_OF_FIVE}
    )
    assert [(f.index, f.direction) for f in found] == [(3, Direction.BELOW)]
    assert found[0].description == "4 of 5 points more than 1 sigma below the centre line"


def test_in_control_series_gives_no_signals() -> None:
    values: Sequence[float | None] = [0.3, -0.4, 0.9, -1.1, 0.2, 0.0, -0.6, 1.3, -0.2, 0.5, -0.9]
    assert s.special_causes_in_series(values, 0.0, 1.0) == []


def test_continuing_run_is_reported_per_point_and_collapses_to_one_finding() -> None:
    values: Sequence[float | None] = [-1.0] + [0.4] * 10
    found = s.special_causes_in_series(values, 0.0, 1.0)
    assert [(f.rule, f.index) for f in found] == [(Rule.RUN, 8), (Rule.RUN, 9), (Rule.RUN, 10)]
    collapsed = s.collapse_signals(found)
    assert len(collapsed) == 1
    assert (collapsed[0].index, collapsed[0].start, collapsed[0].end) == (8, 1, 10)
    assert collapsed[0].description == "10 points in a row above the centre line"


def test_collapse_keeps_separate_points_beyond_the_limits() -> None:
    found = s.special_causes_in_series([3.5, 3.6, 0.0], 0.0, 1.0, rules={Rule.BEYOND_LIMITS})
    assert len(s.collapse_signals(found)) == 2
    zone = s.special_causes_in_series(
        [2.5, 2.5, 2.5, 0.0, 0.0, 0.0, 2.5, 2.5], 0.0, 1.0, rules={Rule.TWO_OF_THREE}
    )
    assert [f.index for f in zone] == [1, 2, 7]
    assert [(f.index, f.start, f.end) for f in s.collapse_signals(zone)] == [(1, 0, 2), (7, 6, 7)]


def test_missing_points_are_skipped_not_breaking_runs() -> None:
    values: Sequence[float | None] = [0.5, 0.5, None, 0.5, 0.5, 0.5, None, 0.5, 0.5, 0.5]
    assert signals(values, Rule.RUN) == [(9, "above")]


def test_rules_use_each_points_own_sigma() -> None:
    # Centre = (250 + 5 + 3 * 183) / (1000 + 20 + 3 * 1000) = 804 / 4020 = 0.2.
    # The same share 0.25 is (0.25 - 0.2) / sqrt(0.16 / 1000) = 3.95 sigma out
    # for a period of 1000 answers but only 0.56 sigma for a period of 20.
    chart = s.p_chart([250, 5, 183, 183, 183], [1000, 20, 1000, 1000, 1000])
    assert chart.centre == approx(0.2)
    found = s.special_causes(chart, rules={Rule.BEYOND_LIMITS})
    assert [(f.index, f.direction) for f in found] == [(0, Direction.ABOVE)]


def test_series_input_validation() -> None:
    with pytest.raises(ValueError, match="entries"):
        s.special_causes_in_series([1.0, 2.0], [0.0], 1.0)
    with pytest.raises(ValueError):
        s.special_causes_in_series([1.0], 0.0, 1.0, run_length=1)


@FAST
@given(st.lists(st.one_of(st.none(), st.floats(min_value=-10, max_value=10)), max_size=40))
def test_rules_never_fail_and_point_at_plotted_points(values: list[float | None]) -> None:
    found = s.special_causes_in_series(values, 0.0, 1.0)
    for signal in found:
        assert values[signal.index] is not None
        assert signal.start <= signal.index == signal.end
    for merged in s.collapse_signals(found):
        assert merged.start <= merged.index <= merged.end


def test_rate_with_a_vanishing_exposure_is_never_nan() -> None:
    # per / exposure overflows to infinity here; 0 events must still read as a rate of 0.
    result = s.rate(0, 5e-324)
    assert (result.rate, result.lower) == (0.0, 0.0)
    assert math.isinf(result.upper)


def test_quantiles_are_remembered_and_the_same_when_remembered() -> None:
    """The quantile functions keep their answers per process; a remembered answer is the
    one a fresh computation gives."""
    s._gamma_quantile.cache_clear()
    s._beta_quantile.cache_clear()
    fresh = (s.chi2_quantile(0.975, 602.0), s._beta_quantile(0.025, 300.0, 281.0))
    assert s._gamma_quantile.cache_info().misses == 1
    again = (s.chi2_quantile(0.975, 602.0), s._beta_quantile(0.025, 300.0, 281.0))
    assert again == fresh
    assert s._gamma_quantile.cache_info().hits == 1
    assert s._beta_quantile.cache_info().hits == 1
    assert fresh[0] == approx(float(stats.chi2.ppf(0.975, 602)), rel=1e-10)
