"""Parsing of the single values found in feedback exports.

Every function here turns one cell (text as read from a file, or the native value openpyxl
gives for a spreadsheet cell) into a Python value Harken can store: an aware datetime, a score
as a Decimal on a named scale, a duration, a yes/no, an email address or cleaned text.
Functions raise ``ValueError`` with a message fit to show to the person importing the file,
quoting the text that could not be read, so the importer can report it next to the row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal

__all__ = [
    "SCALES",
    "DateOrder",
    "Scale",
    "clean_text",
    "detect_date_order",
    "detect_scale",
    "duration_unit_for",
    "normalise_email",
    "parse_bool",
    "parse_datetime",
    "parse_duration",
    "parse_score",
]

DateOrder = Literal["mdy", "dmy"]

# ---------------------------------------------------------------------------------------------
# Dates and times
# ---------------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("jan", "january"),
        ("feb", "february"),
        ("mar", "march"),
        ("apr", "april"),
        ("may",),
        ("jun", "june"),
        ("jul", "july"),
        ("aug", "august"),
        ("sep", "sept", "september"),
        ("oct", "october"),
        ("nov", "november"),
        ("dec", "december"),
    ),
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _number

_TIME = r"""
    (?P<hour>\d{1,2}):(?P<minute>\d{2})
    (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?
    (?:\s*(?P<ampm>[AaPp])\.?\s?[Mm]\.?)?
"""
_TIME_RE = re.compile(rf"^{_TIME}$", re.VERBOSE)

# A zone written after a time: "GMT+3", "UTC", "Z", "+02:00", "-0500". Only recognised after
# something that looks like a time, so the "-2026" of "5-10-2026" is never taken for an offset.
_ZONE_SUFFIX_RE = re.compile(
    r"""^(?P<body>.*\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?\s?[Mm]\.?)?)
        \s*(?:
            (?P<name>GMT|UTC|Z)(?:\s*(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?)?
          | (?P<sign2>[+-])(?P<hours2>\d{2}):?(?P<minutes2>\d{2})
        )$""",
    re.VERBOSE | re.IGNORECASE,
)

# 1/5/2026, 25.04.2026, 2026/09/27, 5-10-26, each optionally followed by a time.
_NUMERIC_DATE_RE = re.compile(
    r"""^(?P<a>\d{1,4})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})\.?
        (?:(?:\s*[T,]\s*|\s+)(?P<time>.+))?$""",
    re.VERBOSE,
)
# 11/May/24 03:26 PM (Jira), 11-May-2024, 11 May 2024 15:26
_DAY_MONTH_NAME_RE = re.compile(
    r"""^(?P<day>\d{1,2})(?:st|nd|rd|th)?[\s/.-]+(?P<month>[A-Za-z]{3,9})\.?[\s/.,-]+
        (?P<year>\d{2}|\d{4})(?:(?:\s*,\s*|\s+)(?:at\s+)?(?P<time>.+))?$""",
    re.VERBOSE | re.IGNORECASE,
)
# May 11, 2024 3:26 PM
_MONTH_NAME_DAY_RE = re.compile(
    r"""^(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})
        (?:(?:\s*,\s*|\s+)(?:at\s+)?(?P<time>.+))?$""",
    re.VERBOSE | re.IGNORECASE,
)
_WEEKDAY_PREFIX_RE = re.compile(
    r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE
)
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")
# The layouts most exports use (2026-03-01, 2026-03-01 10:00, 2026-03-01T10:00:00.5): for them
# the general path below ends in datetime.fromisoformat anyway, so they go there directly.
_PLAIN_ISO_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?", re.ASCII
)

# Excel's day 0 is 1899-12-31, but Excel also counts a 29 February 1900 that never existed,
# so from day 61 on the real calendar is one day behind its serial numbers.
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serials carry no zone: default_tz is applied after
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31


def _aware(value: datetime, default_tz: tzinfo) -> datetime:
    """Attach ``default_tz`` to a naive datetime; aware ones keep their own offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=default_tz)
    return value


def _excel_serial(serial: float, default_tz: tzinfo) -> datetime:
    """Turn an Excel serial day number (1900 date system) into a datetime in ``default_tz``."""
    if not 1 <= serial <= _EXCEL_MAX_SERIAL:
        raise ValueError(f"{serial:g} is not a date: Excel day numbers run from 1 to 2958465")
    if serial < 61:
        serial += 1  # before Excel's phantom 29 February 1900
    # Excel keeps times as binary fractions of a day: round to the millisecond so 15:26 stays
    # 15:26:00 instead of 15:25:59.999999.
    millis = round(serial * 86_400_000)
    return _aware(_EXCEL_EPOCH + timedelta(milliseconds=millis), default_tz)


def _two_digit_year(year: int) -> int:
    """Expand a two-digit year the POSIX way: 69-99 are 1900s, 00-68 are 2000s."""
    return year + (1900 if year >= 69 else 2000)


def _parse_time(text: str | None) -> time | None:
    """Read ``H:MM[:SS[.ffffff]] [AM|PM]``; None if there is no time, ValueError if invalid."""
    if text is None:
        return None
    match = _TIME_RE.match(text.strip())
    if match is None:
        raise ValueError("not a time")
    hour = int(match["hour"])
    minute = int(match["minute"])
    second = int(match["second"] or 0)
    micro = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    ampm = (match["ampm"] or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range for AM/PM")
        hour = hour % 12 + (12 if ampm == "p" else 0)
    return time(hour, minute, second, micro)


def _zone(match: re.Match[str]) -> tzinfo:
    """The fixed offset written after a time (GMT+3 means three hours ahead of UTC)."""
    sign = match["sign"] or match["sign2"]
    hours = match["hours"] or match["hours2"]
    if not sign or hours is None:
        return UTC
    minutes = int(match["minutes"] or match["minutes2"] or 0)
    offset = timedelta(hours=int(hours), minutes=minutes)
    if offset >= timedelta(hours=24):
        raise ValueError("offset out of range")
    return timezone(-offset if sign == "-" else offset)


def _numeric_date(match: re.Match[str], dayfirst: bool | None) -> date:
    """Resolve a numeric date, using ``dayfirst`` (or the values) to decide M/D versus D/M."""
    a, b, c = match["a"], match["b"], match["c"]
    if len(a) == 4:
        return date(int(a), int(b), int(c))
    if len(a) == 3 or len(c) not in (2, 4):
        raise ValueError("not a date")
    year = int(c) if len(c) == 4 else _two_digit_year(int(c))
    first, second = int(a), int(b)
    if dayfirst is None:
        # An unambiguous value decides by itself. An ambiguous one is read day first when
        # written with dots (10.05.2026 is European), otherwise month first, the order of the
        # US-made tools most exports come from. detect_date_order() lets the importer decide
        # per column instead.
        if match["sep"] == ".":
            dayfirst = not second > 12 >= first
        else:
            dayfirst = first > 12 >= second
    day, month = (first, second) if dayfirst else (second, first)
    return date(year, month, day)


def _named_month(name: str) -> int:
    """The number of an English month name or abbreviation; ValueError otherwise."""
    month = _MONTHS.get(name.lower().rstrip("."))
    if month is None:
        raise ValueError("not a month name")
    return month


def _parse_text_datetime(text: str, dayfirst: bool | None) -> datetime | None:
    """Try every layout Harken knows; return a possibly naive datetime, or None."""
    zone: tzinfo | None = None
    body = text
    zone_match = _ZONE_SUFFIX_RE.match(text)
    if zone_match is not None:
        body = zone_match["body"].strip()
        zone = _zone(zone_match)

    parsed = _parse_body(body, dayfirst)
    if parsed is None:
        return None
    if zone is not None:
        if parsed.tzinfo is not None:
            raise ValueError("two time zones")
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _parse_body(body: str, dayfirst: bool | None) -> datetime | None:
    """Parse a date-and-time without a trailing zone suffix (ISO may still carry its own)."""
    if re.match(r"^\d{4}-?\d{2}", body):
        try:
            return datetime.fromisoformat(body)
        except ValueError:
            pass  # maybe 2026-05-10 9:15 (single-digit hour): the numeric layout takes it
    body = _WEEKDAY_PREFIX_RE.sub("", body)
    match = _NUMERIC_DATE_RE.match(body)
    if match is not None:
        day = _numeric_date(match, dayfirst)
        clock = _parse_time(match["time"]) or time()
        return datetime.combine(day, clock)
    for pattern in (_DAY_MONTH_NAME_RE, _MONTH_NAME_DAY_RE):
        match = pattern.match(body)
        if match is not None:
            year = int(match["year"])
            if len(match["year"]) == 2:
                year = _two_digit_year(year)
            day = date(year, _named_month(match["month"]), int(match["day"]))
            clock = _parse_time(match["time"]) or time()
            return datetime.combine(day, clock)
    return None


def parse_datetime(
    text: str | datetime | date | float | Decimal,
    *,
    formats: Sequence[str] | None = None,
    default_tz: tzinfo,
    dayfirst: bool | None = None,
) -> datetime:
    """Read a date and time as found in an export and return an aware datetime.

    Understands ISO 8601 (with or without an offset or ``Z``), ``YYYY-MM-DD HH:MM[:SS]``,
    ``M/D/YYYY h:mm[:ss] AM/PM`` and 24-hour times, day-first dates when ``dayfirst`` is true
    (or when the value itself shows it, like 25/04/2026), Jira's ``11/May/24 03:26 PM``, Google
    Forms' ``2026/09/27 3:00:00 PM GMT+3``, month names, datetimes and dates from openpyxl and
    Excel serial day numbers (numbers, or digit strings up to 2958465). Ten- and thirteen-digit
    numbers are read as Unix time in seconds or milliseconds.

    ``formats`` are ``strptime`` layouts the user stated; when given, only they and ISO 8601
    are tried, so a stated day-first layout can never be overruled by a guess. A value without
    a zone is taken to be in ``default_tz``. Raises ``ValueError`` quoting the text otherwise.
    """
    if isinstance(text, str) and not formats and _PLAIN_ISO_RE.fullmatch(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=default_tz)
        except ValueError:
            pass  # 2026-02-30: the general path gives the message
    if isinstance(text, datetime):
        return _aware(text, default_tz)
    if isinstance(text, date):
        return datetime.combine(text, time(), tzinfo=default_tz)
    if isinstance(text, bool):
        raise ValueError(f"'{text}' is not a date")
    if isinstance(text, int | float | Decimal):
        return _excel_serial(float(text), default_tz)

    cleaned = " ".join(str(text).split())
    if not cleaned:
        raise ValueError("no date given")

    if formats:
        for layout in formats:
            try:
                return _aware(datetime.strptime(cleaned, layout), default_tz)
            except ValueError:
                continue
        try:
            return _aware(datetime.fromisoformat(cleaned), default_tz)
        except ValueError:
            shown = " or ".join(f"'{layout}'" for layout in formats)
            raise ValueError(f"'{cleaned}' does not match the date format {shown}") from None

    if _NUMBER_RE.match(cleaned):
        digits = cleaned.split(".")[0]
        if len(digits) == 10:
            return datetime.fromtimestamp(float(cleaned), tz=UTC)
        if len(digits) == 13:
            return datetime.fromtimestamp(float(cleaned) / 1000, tz=UTC)
        if float(cleaned) <= _EXCEL_MAX_SERIAL and len(digits) <= 7:
            try:
                return _excel_serial(float(cleaned), default_tz)
            except ValueError:
                pass
    try:
        parsed = _parse_text_datetime(cleaned, dayfirst)
    except (ValueError, OverflowError):
        parsed = None
        # An impossible calendar value (31/31/2024, 13/25/2026 read month first) gets
        # a message saying which order was used, which is what the user has to check.
        if dayfirst is not None and _NUMERIC_DATE_RE.match(cleaned):
            order = "day-first" if dayfirst else "month-first"
            raise ValueError(f"'{cleaned}' is not a valid {order} date") from None
    if parsed is None:
        raise ValueError(f"'{cleaned}' is not a date Harken can read")
    return _aware(parsed, default_tz)


def detect_date_order(samples: Iterable[object]) -> DateOrder | None:
    """Decide from sample values whether numeric dates are month-first or day-first.

    A value whose first number is above 12 (25/04/2026) proves day-first, one whose second
    number is above 12 (04/25/2026) proves month-first. Returns None when no value decides it,
    or when the samples contradict each other (then the user has to say).
    """
    seen: set[DateOrder] = set()
    for sample in samples:
        if not isinstance(sample, str):
            continue
        match = _NUMERIC_DATE_RE.match(sample.strip())
        if match is None or len(match["a"]) > 2:
            continue
        first, second = int(match["a"]), int(match["b"])
        if first > 12 >= second:
            seen.add("dmy")
        elif second > 12 >= first:
            seen.add("mdy")
    return seen.pop() if len(seen) == 1 else None


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """A rating scale: its key, the name used in messages, its range and whether halves count."""

    key: str
    name: str
    low: Decimal | None
    high: Decimal | None
    whole: bool

    def describe(self) -> str:
        """The scale as written in messages, e.g. ``NPS scale 0-10``."""
        if self.low is None or self.high is None:
            return f"{self.name} scale"
        return f"{self.name} scale {self.low}\u2013{self.high}"


SCALES: dict[str, Scale] = {
    scale.key: scale
    for scale in (
        Scale("nps", "NPS", Decimal(0), Decimal(10), whole=True),
        Scale("csat", "CSAT", Decimal(1), Decimal(5), whole=False),
        Scale("ces", "CES", Decimal(1), Decimal(7), whole=True),
        Scale("stars", "star rating", Decimal(1), Decimal(5), whole=False),
        Scale("csat2", "two-point", Decimal(0), Decimal(1), whole=True),
        Scale("percent", "percent", Decimal(0), Decimal(100), whole=False),
        Scale("custom", "custom", None, None, whole=False),
    )
}

_NO_ANSWER = frozenset(
    {"", "n/a", "na", "-", "\u2013", "\u2014", "none", "null", "no answer", "skipped"}
)

# Two-point answers. Zendesk's "offered"/"unoffered" mean a survey went out (or not) and nobody
# answered, so they are "no score" rather than an error.
_TWO_POINT: dict[str, int | None] = {
    "good": 1,
    "bad": 0,
    "yes": 1,
    "no": 0,
    "y": 1,
    "n": 0,
    "1": 1,
    "0": 0,
    "true": 1,
    "false": 0,
    "👍": 1,
    "👎": 0,
    "satisfied": 1,
    "unsatisfied": 0,
    "dissatisfied": 0,
    "positive": 1,
    "negative": 0,
    "thumbs up": 1,
    "thumbs down": 0,
    "helpful": 1,
    "not helpful": 0,
    "offered": None,
    "unoffered": None,
    "not offered": None,
}

# Word answers on the common five- and seven-point scales, for exports that give the choice
# text instead of its number.
_DEFAULT_LABELS: dict[str, dict[str, int]] = {
    "csat": {
        "very satisfied": 5,
        "extremely satisfied": 5,
        "satisfied": 4,
        "somewhat satisfied": 4,
        "neutral": 3,
        "neither satisfied nor dissatisfied": 3,
        "somewhat dissatisfied": 2,
        "dissatisfied": 2,
        "unsatisfied": 2,
        "very dissatisfied": 1,
        "extremely dissatisfied": 1,
        "very unsatisfied": 1,
    },
    "ces": {
        "strongly disagree": 1,
        "disagree": 2,
        "somewhat disagree": 3,
        "neither agree nor disagree": 4,
        "neutral": 4,
        "somewhat agree": 5,
        "agree": 6,
        "strongly agree": 7,
    },
}

_PLAIN_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)$")
_FRACTION_RE = re.compile(
    r"^(?P<num>[+-]?\d+(?:[.,]\d+)?)\s*(?:/|of|out of)\s*(?P<den>\d+(?:[.,]\d+)?)$",
    re.IGNORECASE,
)
# "10 - Extremely likely", "5 (Very satisfied)", "1 = Very poor"
_LEADING_NUMBER_RE = re.compile(
    r"^(?P<num>\d+(?:[.,]\d+)?)\s*(?:[-\u2013\u2014:=(]|\s)\s*[^\d\s].*$"
)
_STARS_RE = re.compile(r"^[★☆⭐✩]+$")


def _label_key(text: str) -> str:
    """Lower-case, single-spaced, without surrounding punctuation: how labels are compared."""
    return " ".join(text.casefold().replace("_", " ").split()).strip(" .!")


def _decimal(text: str) -> Decimal:
    """A Decimal from digits that may use a decimal comma (4,5)."""
    return Decimal(text.replace(",", "."))


def _tidy(number: Decimal) -> Decimal:
    """Drop a useless fractional part so 4.0 is stored and compared as 4."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def parse_score(
    text: str | float | Decimal | None,
    scale: str,
    *,
    labels: Mapping[str, int | float | None] | None = None,
) -> Decimal | None:
    """Read one score on the named scale and return it as a Decimal, or None for no answer.

    Scales: ``nps`` (whole numbers 0-10), ``csat`` (1-5), ``ces`` (1-7), ``stars`` (1-5),
    ``csat2`` (two-point: good/bad, yes/no, 1/0, 👍/👎, satisfied/unsatisfied → 1/0; Zendesk's
    offered/unoffered → None), ``percent`` (0-100) and ``custom`` (any number). Empty cells and
    "N/A" are None. Accepts decimal commas ("4,5"), quiz scores ("4 / 5" is 4 when the scale
    tops out at 5, a share of 100 on the percent scale), "85%", "10 - Extremely likely", star
    glyphs and the usual word answers of CSAT and CES. ``labels`` maps further answer texts of a
    tool to their number (or None for "no answer"). Raises ``ValueError`` naming the scale and
    its range when the value does not fit, e.g. "11 is outside the NPS scale 0-10".
    """
    spec = SCALES.get(scale)
    if spec is None:
        raise ValueError(f"'{scale}' is not a scale Harken knows ({', '.join(SCALES)})")
    if text is None:
        return None
    if isinstance(text, bool):
        text = "1" if text else "0"
    if isinstance(text, int | float | Decimal):
        shown = format(text, "g") if isinstance(text, float) else str(text)
        try:
            return _checked(Decimal(str(text)), spec, shown)
        except InvalidOperation:
            raise ValueError(f"'{shown}' is not a score on the {spec.describe()}") from None

    shown = " ".join(str(text).split())
    key = _label_key(shown)
    if key in _NO_ANSWER:
        return None

    if labels:
        tool_labels = {_label_key(name): value for name, value in labels.items()}
        if key in tool_labels:
            value = tool_labels[key]
            return None if value is None else _checked(Decimal(str(value)), spec, shown)

    if spec.key == "csat2":
        return _two_point(shown, key, spec)

    number = _number_in(shown, key, spec)
    return _checked(number, spec, shown)


def _two_point(shown: str, key: str, spec: Scale) -> Decimal | None:
    """Read a two-point answer; "Good, I'm satisfied" counts as good."""
    if key in _TWO_POINT:
        value = _TWO_POINT[key]
        return None if value is None else Decimal(value)
    first_word = re.split(r"[\s,;:(]+", key, maxsplit=1)[0]
    if first_word in ("good", "bad", "yes", "no", "satisfied", "unsatisfied", "dissatisfied"):
        value = _TWO_POINT[first_word]
        return None if value is None else Decimal(value)
    raise ValueError(
        f"'{shown}' is not an answer on the {spec.describe()} "
        "(good/bad, yes/no, 1/0, 👍/👎, satisfied/unsatisfied)"
    )


def _number_in(shown: str, key: str, spec: Scale) -> Decimal:
    """Find the number in a score cell, or raise ValueError naming the scale."""
    compact = shown.replace(" ", "") if _PLAIN_NUMBER_RE.match(shown.replace(" ", "")) else shown
    if _PLAIN_NUMBER_RE.match(compact):
        return _decimal(compact)
    if shown.endswith("%") and _PLAIN_NUMBER_RE.match(shown[:-1].strip()):
        number = _decimal(shown[:-1].strip())
        if spec.key in ("percent", "custom"):
            return number
        raise ValueError(f"'{shown}' is a percentage, not a score on the {spec.describe()}")
    fraction = _FRACTION_RE.match(shown)
    if fraction is not None:
        return _from_fraction(shown, fraction, spec)
    if _STARS_RE.match(shown.replace(" ", "")):
        return Decimal(sum(1 for ch in shown if ch in "★⭐"))
    if key in _DEFAULT_LABELS.get(spec.key, {}):
        return Decimal(_DEFAULT_LABELS[spec.key][key])
    leading = _LEADING_NUMBER_RE.match(shown)
    if leading is not None:
        return _decimal(leading["num"])
    raise ValueError(f"'{shown}' is not a score on the {spec.describe()}")


def _from_fraction(shown: str, match: re.Match[str], spec: Scale) -> Decimal:
    """Read "4 / 5": the numerator when the denominator is the scale's top, or a percentage."""
    numerator = _decimal(match["num"])
    denominator = _decimal(match["den"])
    if spec.key == "custom" or (spec.high is not None and denominator == spec.high):
        return numerator
    if spec.key == "percent":
        if denominator == 0:
            raise ValueError(f"'{shown}' divides by zero")
        return (numerator * 100 / denominator).quantize(Decimal("0.01"))
    raise ValueError(
        f"'{shown}' is out of {_tidy(denominator)}, which does not fit the {spec.describe()}"
    )


def _checked(number: Decimal, spec: Scale, shown: str) -> Decimal:
    """Check a number against the scale's range and wholeness; return it tidied."""
    if not number.is_finite():
        raise ValueError(f"'{shown}' is not a score on the {spec.describe()}")
    if spec.low is not None and spec.high is not None and not spec.low <= number <= spec.high:
        raise ValueError(f"{shown} is outside the {spec.describe()}")
    if spec.whole and number != number.to_integral_value():
        raise ValueError(f"{shown} is not a whole number on the {spec.describe()}")
    return _tidy(number)


def detect_scale(samples: Iterable[object]) -> str | None:
    """Suggest a scale from sample score values: csat2, csat, nps or percent; None if unsure.

    Only numbers are considered. All values 0 or 1 suggest the two-point scale; 1-5 suggest
    CSAT; whole numbers 0-10 with a value above 5 or a 0 suggest NPS; up to 100 suggests percent.
    """
    numbers: list[Decimal] = []
    for sample in samples:
        if isinstance(sample, int | float | Decimal) and not isinstance(sample, bool):
            numbers.append(Decimal(str(sample)))
        elif isinstance(sample, str) and _PLAIN_NUMBER_RE.match(sample.strip()):
            numbers.append(_decimal(sample.strip()))
    if not numbers:
        return None
    low, high = min(numbers), max(numbers)
    whole = all(n == n.to_integral_value() for n in numbers)
    if low < 0:
        return None
    if whole and high <= 1:
        return "csat2"
    if low >= 1 and high <= 5:
        return "csat"
    if whole and high <= 10:
        return "nps"
    if high <= 100:
        return "percent"
    return None


# ---------------------------------------------------------------------------------------------
# Durations, booleans, email addresses, text
# ---------------------------------------------------------------------------------------------

DurationUnit = Literal["seconds", "minutes", "hours", "days"]

_CLOCK_DURATION_RE = re.compile(
    r"""^(?P<sign>-)?
        (?:(?P<days>\d+)\s*(?:days?,?\s*|d\s+|\.))?
        (?P<hours>\d+):(?P<minutes>\d{1,2})(?::(?P<seconds>\d{1,2}(?:[.,]\d+)?))?$""",
    re.VERBOSE | re.IGNORECASE,
)
_UNIT_PART_RE = re.compile(
    r"(?P<number>\d+(?:[.,]\d+)?)\s*(?P<unit>weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m"
    r"|seconds?|secs?|s)\b",
    re.IGNORECASE,
)
_ISO_DURATION_RE = re.compile(
    r"^(?P<sign>-)?P(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)
_ISO_PARTS = ("weeks", "days", "hours", "minutes", "seconds")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_UNITS: dict[str, float] = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def _unit_letter(unit: str) -> str:
    """The one-letter unit (w, d, h, m, s) a written unit stands for."""
    unit = unit.lower()
    if unit.startswith(("hr", "h")):
        return "h"
    if unit.startswith("mi") or unit == "m":
        return "m"
    return unit[0]


def parse_duration(
    text: str | float | Decimal | timedelta | None, *, unit: DurationUnit = "minutes"
) -> timedelta | None:
    """Read a duration: ``HH:MM:SS`` (hours may exceed 24), ``H:MM``, ``2 days 03:04:05``,
    ``1h 30m`` / ``2d 4h`` (Jira style: calendar days and weeks), ISO 8601 ``PT1H30M``, or a
    bare number in ``unit`` (use ``"hours"`` for Freshdesk's "(in hrs)" columns; see
    :func:`duration_unit_for`). Empty → None; a leading ``-`` gives a negative duration (an SLA
    already breached). Raises ``ValueError`` quoting the text otherwise.
    """
    if unit not in _DURATION_UNITS:
        raise ValueError(f"'{unit}' is not a duration unit ({', '.join(_DURATION_UNITS)})")
    if text is None:
        return None
    if isinstance(text, timedelta):
        return text
    if isinstance(text, time):
        return timedelta(hours=text.hour, minutes=text.minute, seconds=text.second)
    if isinstance(text, int | float | Decimal) and not isinstance(text, bool):
        try:
            return timedelta(seconds=float(text) * _DURATION_UNITS[unit])
        except (ValueError, OverflowError):  # NaN, infinity, beyond 999,999,999 days
            raise ValueError(f"'{text}' is not a duration") from None
    shown = " ".join(str(text).split())
    if _label_key(shown) in _NO_ANSWER:
        return None
    try:
        return _duration_from_text(shown, unit)
    except (ValueError, OverflowError, InvalidOperation):
        raise ValueError(f"'{shown}' is not a duration") from None


def _duration_from_text(shown: str, unit: DurationUnit) -> timedelta:
    """Parse a non-empty duration text; ValueError when no layout fits."""
    if _PLAIN_NUMBER_RE.match(shown):
        return timedelta(seconds=float(_decimal(shown)) * _DURATION_UNITS[unit])
    clock = _CLOCK_DURATION_RE.match(shown)
    if clock is not None:
        if int(clock["minutes"]) >= 60:
            raise ValueError("minutes out of range")
        seconds = float(_decimal(clock["seconds"] or "0"))
        if seconds >= 60:
            raise ValueError("seconds out of range")
        value = timedelta(
            days=int(clock["days"] or 0),
            hours=int(clock["hours"]),
            minutes=int(clock["minutes"]),
            seconds=seconds,
        )
        return -value if clock["sign"] else value
    iso = _ISO_DURATION_RE.match(shown)
    if iso is not None and any(iso[name] for name in _ISO_PARTS):
        total = sum(
            float(_decimal(iso[name] or "0")) * _UNIT_SECONDS[name[0]] for name in _ISO_PARTS
        )
        return timedelta(seconds=-total if iso["sign"] else total)
    negative = shown.startswith("-")
    body = shown[1:].strip() if negative else shown
    parts = list(_UNIT_PART_RE.finditer(body))
    leftover = _UNIT_PART_RE.sub("", body).replace(",", "").replace("and", "").strip()
    if not parts or leftover:
        raise ValueError("not a duration")
    total = sum(
        float(_decimal(part["number"])) * _UNIT_SECONDS[_unit_letter(part["unit"])]
        for part in parts
    )
    return timedelta(seconds=-total if negative else total)


def duration_unit_for(column: str) -> DurationUnit | None:
    """The unit a column's name announces: "(in hrs)" → hours, "in minutes"/"(min)" → minutes,
    "(in seconds)" → seconds, "days" → days; None when the name says nothing."""
    name = column.casefold()
    if re.search(r"\b(hrs?|hours?)\b", name):
        return "hours"
    if re.search(r"\b(min|mins|minutes?)\b", name):
        return "minutes"
    if re.search(r"\b(s|sec|secs|seconds?)\)?$", name) or "seconds" in name:
        return "seconds"
    if re.search(r"\bdays?\b", name):
        return "days"
    return None


_TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "checked", "x", "✓", "✔", "ja", "oui"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off", "unchecked", "nein", "non"})


def parse_bool(text: str | bool | float | None) -> bool | None:
    """Read a yes/no cell: true/false, yes/no, y/n, 1/0, on/off, checked/unchecked, x, ✓.

    Empty → None. Raises ``ValueError`` quoting the text for anything else.
    """
    if text is None:
        return None
    if isinstance(text, bool):
        return text
    if isinstance(text, int | float):
        if text in (0, 1):
            return bool(text)
        raise ValueError(f"'{text:g}' is not yes or no")
    key = _label_key(str(text))
    if not key:
        return None
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"'{' '.join(str(text).split())}' is not yes or no")


_EMAIL_RE = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]{2,}$")
_ANGLE_RE = re.compile(r"<([^<>]+)>\s*$")


def normalise_email(text: str | None) -> str | None:
    """Return an email address in lower case, or None for an empty cell.

    Accepts ``Name <address>`` and a ``mailto:`` prefix. Lower-cases the whole address: the local
    part is case-sensitive in theory but never in practice, and matching contacts across tools
    matters more. Raises ``ValueError`` quoting the text when it is not an address.
    """
    if text is None:
        return None
    value = text.strip()
    if not value:
        return None
    angle = _ANGLE_RE.search(value)
    if angle is not None:
        value = angle.group(1).strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    value = value.strip().rstrip(".").casefold()
    if not _EMAIL_RE.match(value):
        raise ValueError(f"'{text.strip()}' is not an email address")
    return value


# C0 controls other than tab and newline, DEL and C1 controls: invisible, and rejected or
# mangled by databases and XML. NUL is the one that really occurs (from exports of C programs).
_CONTROL_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")
_QUOTE_PREFIX_RE = re.compile(r"^'(?=[+=@\-\d(])")


def clean_text(text: object, *, strip_quote_prefix: bool = False) -> str:
    """Return cell text ready to store: stripped, newlines as ``\\n``, no NUL or other control
    characters, Unicode in NFC form.

    With ``strip_quote_prefix``, a leading ``'`` that spreadsheet tools (and Typeform, for phone
    numbers) put before values starting with +, =, @, - or a digit is removed; leave it off for
    free text, where an apostrophe may be the writer's own.
    """
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    if not value:
        return ""
    if value.isprintable():
        # No line break, control character or byte-order mark (none of them is printable):
        # only normalising and stripping are left, and NFC of ASCII text is the text itself.
        value = (value if value.isascii() else unicodedata.normalize("NFC", value)).strip()
        return _QUOTE_PREFIX_RE.sub("", value) if strip_quote_prefix else value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL_CHARS_RE.sub("", value).lstrip("\ufeff")
    value = unicodedata.normalize("NFC", value).strip()
    if strip_quote_prefix:
        value = _QUOTE_PREFIX_RE.sub("", value)
    return value
