"""The single-value parsers of the importers (dates, scores, durations, yes/no, e-mail): any
input gives a value or a ValueError whose message quotes it, and written values read back.

tests/feedback/test_import_values.py covers free text into dates and scores; these add native
values (numbers of any size, Decimals), stated formats and round trips.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from harken.feedback.importers.values import (
    SCALES,
    detect_date_order,
    detect_scale,
    normalise_email,
    parse_bool,
    parse_datetime,
    parse_duration,
    parse_score,
)

FAST = settings(max_examples=150, deadline=None)
BERLIN = ZoneInfo("Europe/Berlin")
ANYTHING = st.one_of(
    st.text(max_size=30),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
)


@given(ANYTHING, st.sampled_from([None, ["%d.%m.%Y"], ["%Y%m%d %H%M", "%m/%d/%y"]]))
@FAST
def test_dates_from_anything_are_a_date_or_a_value_error(value: object, formats: object) -> None:
    try:
        parsed = parse_datetime(value, formats=formats, default_tz=BERLIN)  # type: ignore[arg-type]
    except ValueError as exc:
        assert str(exc)
        return
    assert parsed.tzinfo is not None


@given(
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2999, 12, 31)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
@FAST
def test_an_aware_iso_datetime_reads_back_as_the_same_moment(
    moment: datetime, minutes: int
) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    assert parse_datetime(aware.isoformat(), default_tz=BERLIN) == aware


@given(st.dates(min_value=datetime(1950, 1, 1).date(), max_value=datetime(2100, 1, 1).date()))
@FAST
def test_a_stated_day_first_layout_reads_back(day: object) -> None:
    text = day.strftime("%d.%m.%Y")  # type: ignore[attr-defined]
    parsed = parse_datetime(text, formats=["%d.%m.%Y"], default_tz=UTC)
    assert parsed.date() == day


@given(st.lists(st.text(max_size=12), max_size=8))
@FAST
def test_detection_from_any_samples_never_raises(samples: list[str]) -> None:
    assert detect_date_order(samples) in (None, "mdy", "dmy")
    assert detect_scale(samples) in (None, *SCALES)


@given(st.sampled_from(sorted(key for key in SCALES if key not in ("custom", "csat2"))), st.data())
@FAST
def test_a_score_inside_its_scale_reads_back_and_one_outside_names_the_scale(
    scale: str, data: st.DataObject
) -> None:
    spec = SCALES[scale]
    assert spec.low is not None and spec.high is not None
    whole = data.draw(st.integers(min_value=int(spec.low), max_value=int(spec.high)))
    assert parse_score(str(whole), scale) == whole
    assert parse_score(f" {whole} ", scale) == whole
    outside = data.draw(
        st.integers(max_value=int(spec.low) - 1) | st.integers(min_value=int(spec.high) + 1)
    )
    try:
        parse_score(str(outside), scale)
    except ValueError as exc:
        assert spec.name in str(exc)
    else:
        raise AssertionError(f"{outside} was accepted on the {spec.describe()}")


@given(ANYTHING, st.sampled_from(sorted(SCALES)))
@FAST
def test_scores_from_anything_are_a_number_none_or_a_value_error(value: object, scale: str) -> None:
    try:
        parsed = parse_score(value, scale)  # type: ignore[arg-type]
    except ValueError as exc:
        assert str(exc)
        return
    assert parsed is None or isinstance(parsed, Decimal)


@given(ANYTHING, st.sampled_from(["seconds", "minutes", "hours", "days"]))
@FAST
def test_durations_from_anything_are_a_duration_none_or_a_value_error(
    value: object, unit: str
) -> None:
    try:
        parsed = parse_duration(value, unit=unit)  # type: ignore[arg-type]
    except ValueError as exc:
        assert str(exc)
        return
    assert parsed is None or isinstance(parsed, timedelta)


@given(st.integers(min_value=0, max_value=10**6), st.integers(0, 59), st.integers(0, 59))
@FAST
def test_clock_and_iso_durations_read_back(hours: int, minutes: int, seconds: int) -> None:
    expected = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    assert parse_duration(f"{hours}:{minutes:02d}:{seconds:02d}") == expected
    assert parse_duration(f"PT{hours}H{minutes}M{seconds}S") == expected
    assert parse_duration(f"-{hours}:{minutes:02d}:{seconds:02d}") == -expected


@given(ANYTHING)
@FAST
def test_yes_no_from_anything_is_a_bool_none_or_a_value_error(value: object) -> None:
    try:
        parsed = parse_bool(value)  # type: ignore[arg-type]
    except ValueError as exc:
        assert str(exc)
        return
    assert parsed in (True, False, None)


@given(st.text(max_size=40))
@FAST
def test_email_from_any_text_is_an_address_none_or_a_value_error(text: str) -> None:
    try:
        address = normalise_email(text)
    except ValueError as exc:
        assert text.strip() in str(exc)
        return
    assert address is None or ("@" in address and address == address.casefold())


@given(
    st.from_regex(r"\A[a-z0-9][a-z0-9._+-]{0,15}\Z"),
    st.from_regex(r"\A[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,2}\.[a-z]{2,6}\Z"),
)
@FAST
def test_an_address_in_any_usual_dress_reads_back(local: str, domain: str) -> None:
    address = f"{local}@{domain}".rstrip(".")
    for dressed in (address.upper(), f"Someone <{address}>", f"mailto:{address}"):
        assert normalise_email(dressed) == address


def test_a_native_number_too_large_for_a_duration_is_a_value_error() -> None:
    # Regression: these raised OverflowError (and NaN a message without the value).
    for value in (1e20, float("inf"), float("nan"), Decimal("1e30")):
        try:
            parse_duration(value, unit="days")
        except ValueError as exc:
            assert str(exc) == f"'{value}' is not a duration"
        else:
            raise AssertionError(f"{value} was read as a duration")
