"""Forms of the insights pages: the scope of a dashboard or exploration, quality
objectives, exposure figures, and the exposure CSV import (page and command)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from harken.core import audit
from harken.core.forms import BootstrapMixin
from harken.customers.choices import Segment
from harken.customers.models import ProductLine, Region
from harken.feedback.models import Category, PerceptionSource

from .choices import Dimension, ExposureKind, Grain, Metric
from .metrics import Scope
from .models import Exposure, QualityObjective

# The longest period a page computes: twenty years of months is already plenty.
MAX_PERIOD_DAYS = 366 * 20


class Period:
    LAST_MONTH = "last_month"
    LAST_QUARTER = "last_quarter"
    LAST_12_MONTHS = "last_12_months"
    CUSTOM = "custom"

    choices = (
        (LAST_MONTH, "Last full month"),
        (LAST_QUARTER, "Last full quarter"),
        (LAST_12_MONTHS, "Last 12 months"),
        (CUSTOM, "Custom dates"),
    )


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_back(first: dt.date, count: int) -> dt.date:
    """The first day of the month `count` months before the month starting `first`."""
    month = first.month - 1 - count
    return dt.date(first.year + month // 12, month % 12 + 1, 1)


def preset_period(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates of a period preset: full calendar periods before `today`'s."""
    this_month = month_start(today)
    last_day = this_month - dt.timedelta(days=1)
    if preset == Period.LAST_MONTH:
        return month_start(last_day), last_day
    if preset == Period.LAST_12_MONTHS:
        return months_back(this_month, 12), last_day
    quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    end = quarter_start - dt.timedelta(days=1)
    return dt.date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end


class MonthField(forms.DateField):
    """A month typed as YYYY-MM (a browser's month input); the first day of that month."""

    input_formats = ["%Y-%m", "%Y-%m-%d"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def to_python(self, value: Any) -> dt.date | None:
        day = super().to_python(value)
        return day.replace(day=1) if day else None


class ScopeForm(BootstrapMixin, forms.Form):
    """The period and filters of the dashboard and the explore page (GET parameters).

    A partly filled query (a link with only `?product_line=3`) keeps the defaults of
    the choices it leaves out, so the form shows what is being computed.
    """

    period = forms.ChoiceField(choices=Period.choices, initial=Period.LAST_QUARTER, required=False)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.ModelMultipleChoiceField(
        queryset=PerceptionSource.objects.order_by("name"), required=False
    )
    segment = forms.MultipleChoiceField(choices=Segment.choices, required=False)
    region = forms.ModelMultipleChoiceField(
        queryset=Region.objects.order_by("name"), required=False
    )
    product_line = forms.ModelMultipleChoiceField(
        label="Product line", queryset=ProductLine.objects.order_by("name"), required=False
    )
    category = forms.ModelMultipleChoiceField(
        queryset=Category.objects.order_by("name"), required=False
    )

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        # Before the mixin's __init__, which validates a bound form to mark its errors.
        self.today = today or timezone.localdate()
        data = args[0] if args else kwargs.get("data")
        if data is not None:
            data = data.copy()
            for name, bound in self.base_fields.items():
                if isinstance(bound, forms.ChoiceField) and bound.initial and name not in data:
                    data[name] = bound.initial
            args = (data, *args[1:]) if args else args
            if "data" in kwargs:
                kwargs["data"] = data
        super().__init__(*args, **kwargs)
        for bound in self.fields.values():
            if isinstance(bound.widget, forms.SelectMultiple):
                bound.widget.attrs["size"] = 3

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        preset = data.get("period") or Period.LAST_QUARTER
        data["period"] = preset
        if preset != Period.CUSTOM:
            data["date_from"], data["date_to"] = preset_period(preset, self.today)
            return data
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from is None and "date_from" not in self.errors:
            self.add_error("date_from", "Give the first day of the period.")
        if date_to is None and "date_to" not in self.errors:
            self.add_error("date_to", "Give the last day of the period.")
        if date_from and date_to:
            if date_from > date_to:
                self.add_error("date_to", "The period ends before it starts.")
            elif (date_to - date_from).days > MAX_PERIOD_DAYS:
                self.add_error("date_from", "Choose a period of at most twenty years.")
        return data

    def scope(self) -> Scope:
        """The scope asked for; the default (last full quarter) when the form is invalid."""
        if not self.is_valid():
            date_from, date_to = preset_period(Period.LAST_QUARTER, self.today)
            return Scope(date_from, date_to)
        data = self.cleaned_data
        return Scope(
            data["date_from"],
            data["date_to"],
            sources=tuple(sorted(s.pk for s in data["source"])),
            segments=tuple(sorted(data["segment"])),
            regions=tuple(sorted(r.pk for r in data["region"])),
            product_lines=tuple(sorted(p.pk for p in data["product_line"])),
            categories=tuple(sorted(c.pk for c in data["category"])),
        )


class ExploreForm(ScopeForm):
    """A scope plus what to measure, at which grain, split by what."""

    metric = forms.ChoiceField(choices=Metric.choices, initial=Metric.NPS, required=False)
    grain = forms.ChoiceField(choices=Grain.choices, initial=Grain.MONTH, required=False)
    split = forms.ChoiceField(
        label="Split by",
        choices=[("", "Nothing"), *Dimension.choices],
        required=False,
    )

    field_order = ["metric", "grain", "split", "period", "date_from", "date_to"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["metric"] = data.get("metric") or Metric.NPS
        data["grain"] = data.get("grain") or Grain.MONTH
        if data.get("split") and data["metric"] == Metric.OTIF:
            self.add_error(
                "split", "On-time-in-full comes from exposure figures; it cannot be split."
            )
        return data

    def choice(self, name: str, default: str) -> str:
        if self.is_valid():
            return str(self.cleaned_data.get(name) or default)
        return default


# --------------------------------------------------------------------------------------
# Quality objectives
# --------------------------------------------------------------------------------------

# The range a target can take on each metric's scale.
TARGET_RANGES: dict[str, tuple[float, float | None]] = {
    Metric.NPS: (-100.0, 100.0),
    Metric.CSAT: (0.0, 100.0),
    Metric.NEGATIVE_SHARE: (0.0, 100.0),
    Metric.CONFIRMED_SHARE: (0.0, 100.0),
    Metric.OTIF: (0.0, 100.0),
    Metric.CES: (1.0, 7.0),
    Metric.COMPLAINT_RATE: (0.0, None),
    Metric.COMPLAINTS: (0.0, None),
    Metric.ITEMS: (0.0, None),
}
SCOPE_FIELDS = ("segments", "regions", "product_lines", "sources", "categories")


class QualityObjectiveForm(BootstrapMixin, forms.ModelForm):
    """An objective with its scope as multi-selects, stored as lists in `scope`."""

    segments = forms.MultipleChoiceField(choices=Segment.choices, required=False)
    regions = forms.ModelMultipleChoiceField(
        queryset=Region.objects.order_by("name"), required=False
    )
    product_lines = forms.ModelMultipleChoiceField(
        label="Product lines", queryset=ProductLine.objects.order_by("name"), required=False
    )
    sources = forms.ModelMultipleChoiceField(
        queryset=PerceptionSource.objects.order_by("name"), required=False
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.order_by("name"), required=False
    )

    class Meta:
        model = QualityObjective
        fields = [
            "name",
            "metric",
            "comparator",
            "target",
            "segments",
            "regions",
            "product_lines",
            "sources",
            "categories",
            "per_product_line",
            "owner",
            "frequency",
            "active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(self.Meta.fields)
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        owner.queryset = get_user_model().objects.filter(is_active=True)
        scope = (self.instance.scope if self.instance.pk else None) or {}
        for name in SCOPE_FIELDS:
            if name in scope and not self.is_bound:
                self.initial[name] = scope[name]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        metric, target = data.get("metric"), data.get("target")
        if metric and target is not None:
            low, high = TARGET_RANGES.get(metric, (None, None))
            if (low is not None and target < low) or (high is not None and target > high):
                bounds = (
                    f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
                )
                self.add_error("target", f"A {Metric(metric).label} target is {bounds}.")
        return data

    def save(self, commit: bool = True) -> QualityObjective:
        objective = super().save(commit=False)
        scope: dict[str, list[Any]] = {}
        for name in SCOPE_FIELDS:
            value = self.cleaned_data.get(name)
            if not value:
                continue
            scope[name] = sorted(value) if name == "segments" else sorted(obj.pk for obj in value)
        objective.scope = scope
        if commit:
            objective.save()
        return objective


# --------------------------------------------------------------------------------------
# Exposure
# --------------------------------------------------------------------------------------


def same_figure(month: dt.date, kind: str, product_line: Any, region: Any) -> Any:
    """The figures of one month × kind × line × region (NULL means "all" and matches NULL).

    The database's unique constraint treats NULLs as distinct, so company-wide figures
    are kept unique here.
    """
    query = Exposure.objects.filter(month=month, kind=kind)
    query = (
        query.filter(product_line=product_line)
        if product_line
        else query.filter(product_line__isnull=True)
    )
    return query.filter(region=region) if region else query.filter(region__isnull=True)


class ExposureForm(BootstrapMixin, forms.ModelForm):
    month = MonthField(help_text="YYYY-MM")

    class Meta:
        model = Exposure
        fields = ["month", "kind", "product_line", "region", "value"]
        help_texts = {
            "product_line": "Leave empty for the figure of all product lines together.",
            "region": "Leave empty for the figure of all regions together.",
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        month, kind = data.get("month"), data.get("kind")
        if month and kind:
            others = same_figure(month, kind, data.get("product_line"), data.get("region"))
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise forms.ValidationError(
                    "There is already a figure for this month, kind, product line and region."
                )
        return data


class ExposureImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: month (YYYY-MM), kind, product_line (code or name, optional), "
        "region (code or name, optional), value.",
    )
    dry_run = forms.BooleanField(
        label="Check only (store nothing)",
        required=False,
    )


REQUIRED_COLUMNS = ("month", "kind", "value")
OPTIONAL_COLUMNS = ("product_line", "region")
MAX_IMPORT_BYTES = 20 * 1024 * 1024


@dataclass
class ImportResult:
    """What an exposure import did: counts, and each rejected line with its reason."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def accepted(self) -> int:
        return self.created + self.changed + self.unchanged

    def summary(self) -> str:
        text = (
            f"{self.accepted} rows accepted: {self.created} new figures, {self.changed} changed, "
            f"{self.unchanged} already as in the file; {len(self.rejected)} rejected."
        )
        return text + (" Nothing was stored (check only)." if self.dry_run else "")


class ImportFileError(ValueError):
    """A file that cannot be read as an exposure CSV at all."""


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("The file is neither UTF-8 nor Windows-1252 text.")


def _lookup(model: Any) -> dict[str, Any]:
    """Code and name (case-insensitive) -> object, for product lines and regions."""
    table: dict[str, Any] = {}
    for obj in model.objects.all():
        table.setdefault(obj.name.strip().lower(), obj)
        table[obj.code.strip().lower()] = obj
    return table


KIND_NAMES = {
    **{value: value for value in ExposureKind.values},
    **{str(label).lower(): value for value, label in ExposureKind.choices},
}


def parse_value(text: str) -> float:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma
    return float(text)


def import_exposure(data: bytes, *, dry_run: bool = False) -> ImportResult:
    """Upsert exposure figures from CSV bytes: good rows land, bad rows are reported.

    Each row is stored in its own savepoint through the model, so the audit trail
    records every created or changed figure and a failing row leaves nothing behind.
    Importing the same file again changes nothing.
    """
    text = decode(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise ImportFileError("The file is empty.")
    columns = [name.strip().lower().replace(" ", "_") for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ImportFileError(f"The header lacks the column(s) {', '.join(missing)}.")
    position = {
        name: columns.index(name)
        for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if name in columns
    }
    lines, regions = _lookup(ProductLine), _lookup(Region)
    result = ImportResult(dry_run=dry_run)
    line_no = reader.line_num
    for row in reader:
        start, line_no = line_no + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        try:
            outcome = _import_row(row, position, lines, regions, dry_run=dry_run)
        except _RowError as exc:
            result.rejected.append((start, str(exc)))
            continue
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


class _RowError(Exception):
    pass


def _cell(row: list[str], position: dict[str, int], name: str) -> str:
    index = position.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def _import_row(
    row: list[str],
    position: dict[str, int],
    lines: dict[str, Any],
    regions: dict[str, Any],
    *,
    dry_run: bool,
) -> str:
    month_text = _cell(row, position, "month")
    try:
        month = dt.datetime.strptime(month_text, "%Y-%m").date()
    except ValueError:
        raise _RowError(f"month {month_text!r} is not a month written YYYY-MM.") from None
    kind_text = _cell(row, position, "kind")
    kind = KIND_NAMES.get(kind_text.lower())
    if kind is None:
        raise _RowError(f"kind {kind_text!r} is not one of {', '.join(ExposureKind.values)}.")
    line_text, region_text = _cell(row, position, "product_line"), _cell(row, position, "region")
    line = lines.get(line_text.lower()) if line_text else None
    if line_text and line is None:
        raise _RowError(f"product_line {line_text!r} matches no product line's code or name.")
    region = regions.get(region_text.lower()) if region_text else None
    if region_text and region is None:
        raise _RowError(f"region {region_text!r} matches no region's code or name.")
    value_text = _cell(row, position, "value")
    try:
        value = parse_value(value_text)
    except ValueError:
        raise _RowError(f"value {value_text!r} is not a number.") from None
    if not value >= 0 or value == float("inf"):
        raise _RowError(f"value {value_text} must be zero or more.")
    existing = same_figure(month, kind, line, region).first()
    if existing is not None and existing.value == value:
        return "unchanged"
    if dry_run:
        return "changed" if existing else "created"
    try:
        with transaction.atomic():
            if existing is not None:
                existing.value = value
                existing.save(update_fields=["value"])
                return "changed"
            Exposure(month=month, kind=kind, product_line=line, region=region, value=value).save()
    except IntegrityError as exc:
        raise _RowError(f"the database refused the figure ({exc}).") from None
    return "created"


def record_import(data: bytes, name: str, result: ImportResult) -> None:
    """Keep the original file as evidence and write one event summarising the import."""
    from harken.core.files import store_file

    stored = store_file(
        io.BytesIO(data), name=name, content_type="text/csv", purpose="exposure-import"
    )
    audit.record(
        "exposure.imported",
        stored,
        changes={
            "file": stored.name,
            "sha256": stored.sha256,
            "created": result.created,
            "changed": result.changed,
            "unchanged": result.unchanged,
            "rejected": [f"line {line}: {reason}" for line, reason in result.rejected[:100]],
        },
    )
