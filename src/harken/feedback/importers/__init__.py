"""Reading feedback exported from other tools, as canonical records, without Django.

:mod:`.readers` opens CSV/TSV, .xlsx, JSON and JSON Lines files as streams of rows;
:mod:`.presets` maps each tool's export layout (Zendesk, Freshdesk, SurveyMonkey, Qualtrics,
Typeform, Google Forms, Jira Service Management, GSA Touchpoints, or any table through a column
mapping) to Harken's canonical fields; :mod:`.values` parses the dates, scores, durations and
other values found in them. The Django importer creates FeedbackItem records from the result.
"""

from .presets import (
    CANONICAL_FIELDS,
    KINDS,
    MAPPABLE_FIELDS,
    PRESETS,
    CanonicalRecord,
    MapContext,
    Preset,
    Problem,
    RowError,
    detect_preset,
    get_preset,
    kind_from_text,
    rank_presets,
)
from .readers import (
    DEFAULT_MAX_CELL,
    Column,
    ReaderError,
    Row,
    Table,
    TableFormatError,
    open_table,
)
from .values import (
    SCALES,
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

__all__ = [
    "CANONICAL_FIELDS",
    "DEFAULT_MAX_CELL",
    "KINDS",
    "MAPPABLE_FIELDS",
    "PRESETS",
    "SCALES",
    "CanonicalRecord",
    "Column",
    "MapContext",
    "Preset",
    "Problem",
    "ReaderError",
    "Row",
    "RowError",
    "Table",
    "TableFormatError",
    "clean_text",
    "detect_date_order",
    "detect_preset",
    "detect_scale",
    "duration_unit_for",
    "get_preset",
    "kind_from_text",
    "normalise_email",
    "open_table",
    "parse_bool",
    "parse_datetime",
    "parse_duration",
    "parse_score",
    "rank_presets",
]
