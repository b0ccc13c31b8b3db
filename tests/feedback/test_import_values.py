"""Parsing of single values found in exports: dates, scores, durations, yes/no, emails, text."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harken.feedback.importers.values import (
    clean_text,
    detect_date_order,
    detect_scale,
    duration_unit_for,
    normalise_email,
    parse_bool,
    parse_datetime,
    parse_duration,
    parse_score,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def _at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    micro: int = 0,
    *,
    tz: timezone | ZoneInfo = LONDON,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-10T09:15:00Z", _at(2026, 5, 10, 9, 15, tz=UTC)),
        ("2026-05-10T09:15:00+02:00", _at(2026, 5, 10, 9, 15, tz=timezone(timedelta(hours=2)))),
        ("2026-05-10T09:15:00.250", _at(2026, 5, 10, 9, 15, 0, 250000)),
        ("2026-05-10 09:15", _at(2026, 5, 10, 9, 15)),
        ("2026-05-10 9:15:30", _at(2026, 5, 10, 9, 15, 30)),
        ("2026-05-10", _at(2026, 5, 10)),
        ("20260510T091500Z", _at(2026, 5, 10, 9, 15, tz=UTC)),
        ("2024-05-11 15:26:00 +0100", _at(2024, 5, 11, 15, 26, tz=timezone(timedelta(hours=1)))),
        ("5/10/2026 3:05 PM", _at(2026, 5, 10, 15, 5)),
        ("5/10/2026 12:05 AM", _at(2026, 5, 10, 0, 5)),
        ("05/10/2026 09:15:03 AM", _at(2026, 5, 10, 9, 15, 3)),
        ("5/10/2026 09:15:00", _at(2026, 5, 10, 9, 15)),
        ("9/24/19", _at(2019, 9, 24)),
        ("25/04/2026 14:00", _at(2026, 4, 25, 14, 0)),
        ("10.05.2026 09:15", _at(2026, 5, 10, 9, 15)),
        ("11/May/24 03:26 PM", _at(2024, 5, 11, 15, 26)),
        ("11-May-2024", _at(2024, 5, 11)),
        ("May 11, 2024 3:26 PM", _at(2024, 5, 11, 15, 26)),
        (
            "Sat, 11 May 2024 15:26:00 +0100",
            _at(2024, 5, 11, 15, 26, tz=timezone(timedelta(hours=1))),
        ),
        ("2026/09/27 3:00:00 PM GMT+3", _at(2026, 9, 27, 15, 0, tz=timezone(timedelta(hours=3)))),
        (
            "2026/09/27 3:00:00 PM GMT-03:30",
            _at(2026, 9, 27, 15, 0, tz=timezone(-timedelta(hours=3, minutes=30))),
        ),
        ("2026/09/27 15:00:00 UTC", _at(2026, 9, 27, 15, 0, tz=UTC)),
        ("45423.5", _at(2024, 5, 11, 12, 0)),
        ("1715432400", _at(2024, 5, 11, 13, 0, tz=UTC)),
    ],
)
def test_parse_datetime_layouts(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text, default_tz=LONDON)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_naive_values_take_the_default_zone_with_its_summer_time() -> None:
    winter = parse_datetime("2024-01-15 12:00", default_tz=NEW_YORK)
    summer = parse_datetime("2024-07-15 12:00", default_tz=NEW_YORK)
    assert winter.utcoffset() == timedelta(hours=-5)
    assert summer.utcoffset() == timedelta(hours=-4)
    assert summer.tzinfo is NEW_YORK


def test_native_values_from_openpyxl() -> None:
    naive = datetime(2026, 5, 10, 9, 15)
    assert parse_datetime(naive, default_tz=LONDON) == _at(2026, 5, 10, 9, 15)
    aware = _at(2026, 5, 10, 9, 15, tz=UTC)
    assert parse_datetime(aware, default_tz=LONDON) is aware
    assert parse_datetime(date(2026, 5, 10), default_tz=LONDON) == _at(2026, 5, 10)
    assert parse_datetime(45423.75, default_tz=LONDON) == _at(2024, 5, 11, 18, 0)
    assert parse_datetime(45423, default_tz=LONDON) == _at(2024, 5, 11)
    # 15:26 is not exact in binary; the millisecond rounding keeps it whole
    assert parse_datetime(45423 + (15 * 60 + 26) / 1440, default_tz=LONDON) == _at(
        2024, 5, 11, 15, 26
    )
    # Excel's serial 1 is 1 January 1900, before its phantom 29 February
    assert parse_datetime(1, default_tz=UTC) == _at(1900, 1, 1, tz=UTC)


def test_dayfirst_decides_ambiguous_dates_and_is_checked() -> None:
    assert parse_datetime("10/05/2026", default_tz=LONDON) == _at(2026, 10, 5)
    assert parse_datetime("10/05/2026", default_tz=LONDON, dayfirst=True) == _at(2026, 5, 10)
    assert parse_datetime("10/05/2026", default_tz=LONDON, dayfirst=False) == _at(2026, 10, 5)
    with pytest.raises(ValueError, match=r"^'25/04/2026' is not a valid month-first date$"):
        parse_datetime("25/04/2026", default_tz=LONDON, dayfirst=False)


def test_stated_formats_are_the_only_guess() -> None:
    assert parse_datetime("10/05/2026 09:15", default_tz=LONDON, formats=["%d/%m/%Y %H:%M"]) == _at(
        2026, 5, 10, 9, 15
    )
    # ISO 8601 is unambiguous, so it is still accepted
    assert parse_datetime("2026-05-10", default_tz=LONDON, formats=["%d/%m/%Y"]) == _at(2026, 5, 10)
    with pytest.raises(
        ValueError, match=r"^'5/10/2026' does not match the date format '%d\.%m\.%Y'$"
    ):
        parse_datetime("5/10/2026", default_tz=LONDON, formats=["%d.%m.%Y"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31/31/2024", "'31/31/2024' is not a date Harken can read"),
        ("2024-02-31 10:00", "'2024-02-31 10:00' is not a date Harken can read"),
        ("yesterday", "'yesterday' is not a date Harken can read"),
        ("11/Mai/24 03:26 PM", "'11/Mai/24 03:26 PM' is not a date Harken can read"),
        ("5/10/2026 13:05 PM", "'5/10/2026 13:05 PM' is not a date Harken can read"),
        ("   ", "no date given"),
    ],
)
def test_unreadable_dates_quote_the_text(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_datetime(text, default_tz=LONDON)
    assert str(caught.value) == message


def test_detect_date_order() -> None:
    assert detect_date_order(["5/10/2026", "6/11/2026", "25/04/2026 14:00"]) == "dmy"
    assert detect_date_order(["5/10/2026", "04/25/2026"]) == "mdy"
    assert detect_date_order(["5/10/2026", "6/11/2026"]) is None
    assert detect_date_order(["25/04/2026", "04/25/2026"]) is None  # contradiction
    assert detect_date_order(["2026/09/27 3:00:00 PM GMT+3", "", None, 7]) is None


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)))
@settings(max_examples=150, deadline=None)
def test_iso_and_us_layouts_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    iso = moment.isoformat(sep=" ")
    assert parse_datetime(iso, default_tz=UTC) == moment.replace(tzinfo=UTC)
    us = f"{moment.month}/{moment.day}/{moment.year} {moment:%I:%M:%S %p}"
    assert parse_datetime(us, default_tz=UTC, dayfirst=False) == moment.replace(tzinfo=UTC)


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_parse_datetime_only_raises_value_error(text: str) -> None:
    try:
        parsed = parse_datetime(text, default_tz=LONDON)
    except ValueError:
        return
    assert parsed.tzinfo is not None


# --- scores -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("9", "nps", Decimal(9)),
        ("0", "nps", Decimal(0)),
        (" 10 ", "nps", Decimal(10)),
        ("10 - Extremely likely", "nps", Decimal(10)),
        ("4", "csat", Decimal(4)),
        ("4.0", "csat", Decimal(4)),
        ("4,5", "csat", Decimal("4.5")),
        ("4 / 5", "csat", Decimal(4)),
        ("3/5", "stars", Decimal(3)),
        ("4 out of 5", "csat", Decimal(4)),
        ("Very satisfied", "csat", Decimal(5)),
        ("Neither satisfied nor dissatisfied", "csat", Decimal(3)),
        ("5 (Very satisfied)", "csat", Decimal(5)),
        ("★★★★☆", "stars", Decimal(4)),
        ("6", "ces", Decimal(6)),
        ("Strongly agree", "ces", Decimal(7)),
        ("good", "csat2", Decimal(1)),
        ("Bad", "csat2", Decimal(0)),
        ("Good, I'm satisfied", "csat2", Decimal(1)),
        ("Bad, I'm unsatisfied", "csat2", Decimal(0)),
        ("yes", "csat2", Decimal(1)),
        ("No", "csat2", Decimal(0)),
        ("1", "csat2", Decimal(1)),
        ("0", "csat2", Decimal(0)),
        ("👍", "csat2", Decimal(1)),
        ("👎", "csat2", Decimal(0)),
        ("satisfied", "csat2", Decimal(1)),
        ("unsatisfied", "csat2", Decimal(0)),
        ("offered", "csat2", None),
        ("unoffered", "csat2", None),
        ("85%", "percent", Decimal(85)),
        ("4 / 5", "percent", Decimal(80)),
        ("2/3", "percent", Decimal("66.67")),
        ("72,5", "percent", Decimal("72.5")),
        ("-3.25", "custom", Decimal("-3.25")),
        ("17 / 20", "custom", Decimal(17)),
        ("", "nps", None),
        ("  ", "csat", None),
        ("N/A", "nps", None),
        (None, "nps", None),
        (4, "csat", Decimal(4)),
        (4.5, "csat", Decimal("4.5")),
        (Decimal("9"), "nps", Decimal(9)),
    ],
)
def test_parse_score(
    text: str | float | Decimal | None, scale: str, expected: Decimal | None
) -> None:
    assert parse_score(text, scale) == expected


@pytest.mark.parametrize(
    ("text", "scale", "message"),
    [
        ("11", "nps", "11 is outside the NPS scale 0\u201310"),
        ("-1", "nps", "-1 is outside the NPS scale 0\u201310"),
        ("7.5", "nps", "7.5 is not a whole number on the NPS scale 0\u201310"),
        ("0", "csat", "0 is outside the CSAT scale 1\u20135"),
        ("8", "ces", "8 is outside the CES scale 1\u20137"),
        ("6", "stars", "6 is outside the star rating scale 1\u20135"),
        ("120", "percent", "120 is outside the percent scale 0\u2013100"),
        ("8 / 10", "csat", "'8 / 10' is out of 10, which does not fit the CSAT scale 1\u20135"),
        ("ten", "nps", "'ten' is not a score on the NPS scale 0\u201310"),
        ("85%", "nps", "'85%' is a percentage, not a score on the NPS scale 0\u201310"),
        (
            "meh",
            "csat2",
            "'meh' is not an answer on the two-point scale 0\u20131 "
            "(good/bad, yes/no, 1/0, \U0001f44d/\U0001f44e, satisfied/unsatisfied)",
        ),
        (
            "2",
            "csat2",
            "'2' is not an answer on the two-point scale 0\u20131 "
            "(good/bad, yes/no, 1/0, \U0001f44d/\U0001f44e, satisfied/unsatisfied)",
        ),
        (11, "nps", "11 is outside the NPS scale 0\u201310"),
        ("NaN", "custom", "'NaN' is not a score on the custom scale"),
    ],
)
def test_scores_that_do_not_fit_name_the_scale(text: str | int, scale: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_score(text, scale)
    assert str(caught.value) == message


def test_tool_labels_and_unknown_scales() -> None:
    labels = {"Extremely Happy": 5, "Just Okay": 3, "Not answered": None}
    assert parse_score("extremely happy", "csat", labels=labels) == Decimal(5)
    assert parse_score("Just  okay", "csat", labels=labels) == Decimal(3)
    assert parse_score("Not answered", "csat", labels=labels) is None
    with pytest.raises(ValueError, match="'likert' is not a scale Harken knows"):
        parse_score("3", "likert")


@given(
    st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=True)),
    st.sampled_from(["nps", "csat", "ces", "stars", "csat2", "percent", "custom"]),
)
@settings(max_examples=300, deadline=None)
def test_parse_score_only_raises_value_error(text: str | int | float, scale: str) -> None:
    try:
        value = parse_score(text, scale)
    except ValueError:
        return
    assert value is None or value.is_finite()


def test_detect_scale() -> None:
    assert detect_scale(["1", "0", "1", ""]) == "csat2"
    assert detect_scale(["1", "5", "3"]) == "csat"
    assert detect_scale(["0", "9", "10"]) == "nps"
    assert detect_scale(["45", "99.5"]) == "percent"
    assert detect_scale(["good", "bad"]) is None


# --- durations, booleans, emails, text --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("01:15:00", "minutes", timedelta(hours=1, minutes=15)),
        ("125:30:00", "minutes", timedelta(hours=125, minutes=30)),
        ("00:45", "minutes", timedelta(minutes=45)),
        ("2 days, 03:04:05", "minutes", timedelta(days=2, hours=3, minutes=4, seconds=5)),
        ("34", "minutes", timedelta(minutes=34)),
        ("1.5", "hours", timedelta(hours=1, minutes=30)),
        ("1,25", "hours", timedelta(hours=1, minutes=15)),
        ("90", "seconds", timedelta(seconds=90)),
        ("1h 30m", "minutes", timedelta(hours=1, minutes=30)),
        ("18h 32m", "minutes", timedelta(hours=18, minutes=32)),
        ("2d 4h", "minutes", timedelta(days=2, hours=4)),
        ("1w", "minutes", timedelta(weeks=1)),
        ("45 min", "hours", timedelta(minutes=45)),
        ("-1h 30m", "minutes", -timedelta(hours=1, minutes=30)),
        ("PT1H30M", "minutes", timedelta(hours=1, minutes=30)),
        ("P1DT2H", "minutes", timedelta(days=1, hours=2)),
        ("", "minutes", None),
        (None, "minutes", None),
        (12, "hours", timedelta(hours=12)),
        (time(1, 2, 3), "minutes", timedelta(hours=1, minutes=2, seconds=3)),
    ],
)
def test_parse_duration(
    text: str | int | time | None, unit: str, expected: timedelta | None
) -> None:
    assert parse_duration(text, unit=unit) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["soon", "1:75", "12:00:99", "P", "3 parsecs"])
def test_unreadable_durations(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == f"'{text}' is not a duration"


def test_duration_unit_for_column_names() -> None:
    assert duration_unit_for("First response time (in hrs)") == "hours"
    assert duration_unit_for("Resolution time (in hrs)") == "hours"
    assert duration_unit_for("First reply time in minutes") == "minutes"
    assert duration_unit_for("First reply time (min)") == "minutes"
    assert duration_unit_for("Duration (in seconds)") == "seconds"
    assert duration_unit_for("Time tracked") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("Yes", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("x", True),
        ("checked", True),
        ("", None),
        (None, None),
        (True, True),
        (0, False),
    ],
)
def test_parse_bool(text: str | bool | int | None, expected: bool | None) -> None:
    assert parse_bool(text) is expected


def test_parse_bool_rejects_other_text() -> None:
    with pytest.raises(ValueError, match=r"^'maybe' is not yes or no$"):
        parse_bool("maybe")
    with pytest.raises(ValueError, match=r"^'2' is not yes or no$"):
        parse_bool(2)


def test_normalise_email() -> None:
    assert normalise_email(" Maria.Keller@Brightpump.EXAMPLE ") == "maria.keller@brightpump.example"
    assert normalise_email("Ann Lee <Ann.Lee@Example.com>") == "ann.lee@example.com"
    assert normalise_email("mailto:ops@example.org") == "ops@example.org"
    assert normalise_email("") is None
    assert normalise_email(None) is None
    for bad in ("not an email", "a@b", "two@@example.com", "x@example.com, y@example.com"):
        with pytest.raises(ValueError) as caught:
            normalise_email(bad)
        assert str(caught.value) == f"'{bad}' is not an email address"


def test_clean_text() -> None:
    assert (
        clean_text("  first line\r\nsecond\rthird \x00line  ") == "first line\nsecond\nthird line"
    )
    assert clean_text("\ufeffbell\x07 and tab\tkept") == "bell and tab\tkept"
    assert clean_text("Cafe\u0301") == "Caf\u00e9"  # NFC
    assert clean_text(None) == ""
    assert clean_text(42) == "42"
    phone = "'+44 7700 900123"
    assert clean_text(phone) == phone
    assert clean_text(phone, strip_quote_prefix=True) == "+44 7700 900123"
    # an apostrophe that is the writer's own stays, even when asked
    assert clean_text("'Tis fine", strip_quote_prefix=True) == "'Tis fine"


@given(
    st.from_regex(
        r"\A[12][0-9]{3}-[01][0-9]-[0-3][0-9](?:[ T][0-2][0-9]:[0-6][0-9](?::[0-6][0-9](?:\.[0-9]{1,6})?)?)?\Z"
    )
)
@settings(max_examples=300, deadline=None)
def test_iso_dates_read_the_same_with_or_without_surrounding_space(text: str) -> None:
    # Plain ISO cells take a shortcut; padded ones the general path: both agree, errors too.
    outcomes = []
    for cell in (text, f"  {text} "):
        try:
            outcomes.append(parse_datetime(cell, default_tz=LONDON))
        except ValueError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


def test_an_impossible_iso_date_is_reported_like_any_other() -> None:
    with pytest.raises(ValueError) as caught:
        parse_datetime("2026-02-30 10:00", default_tz=LONDON)
    assert str(caught.value) == "'2026-02-30 10:00' is not a date Harken can read"


@given(st.text(max_size=30), st.booleans())
@settings(max_examples=300, deadline=None)
def test_clean_text_ignores_a_trailing_control_character(text: str, quote: bool) -> None:
    # Printable text is cleaned by a shortcut; a NUL sends it down the general path.
    assert clean_text(text, strip_quote_prefix=quote) == clean_text(
        text + "\x00", strip_quote_prefix=quote
    )
