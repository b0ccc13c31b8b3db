"""Feedback pages: the source register, feedback items, triage, imports and the taxonomy.

Each page is a few attributes on the generic views; what a page does beyond showing
and editing a record goes through `services` (intake, classification, complaints)
and `importing` (files), never by saving a feedback item here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views import View

from harken.core import audit
from harken.core.exports import csv_response
from harken.core.files import FileRefused
from harken.core.models import AuditEvent
from harken.core.pagination import BadCursor, after, decode_cursor, encode_cursor
from harken.core.permissions import can
from harken.core.tables import Column
from harken.core.templatetags.harken import badge
from harken.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
    ObjectTransitionView,
    RecordStepView,
    redirect_to,
)
from harken.core.workflow import apply_transition

from . import filters, forms, importing, services
from .choices import (
    BATCH_COLOURS,
    IMPACT_COLOURS,
    SCALE_RANGES,
    STATUS_COLOURS,
    BatchStatus,
    ItemStatus,
)
from .filters import as_id
from .importers import CANONICAL_FIELDS, PRESETS, get_preset
from .importers.readers import Column as FileColumn
from .models import (
    Category,
    ClassificationRule,
    FeedbackItem,
    ImpactLevel,
    ImportBatch,
    PerceptionSource,
)
from .register import register_as_of
from .tasks import enqueue_import

# --------------------------------------------------------------------------------------
# Columns that show more than a plain value
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeColumn(Column):
    """A choice field shown as a coloured badge."""

    colours: tuple[tuple[str, str], ...] = ()

    def value(self, obj: Any) -> Any:
        code = getattr(obj, self.accessor)
        if not code:
            return None
        label = getattr(obj, f"get_{self.accessor}_display")()
        return badge(label, dict(self.colours).get(code, "secondary"))


@dataclass(frozen=True)
class YesNoColumn(Column):
    """A boolean shown as one of two words (structured / unstructured)."""

    words: tuple[str, str] = ("Yes", "No")

    def value(self, obj: Any) -> Any:
        return self.words[0] if getattr(obj, self.accessor) else self.words[1]


class CategoryColumn(Column):
    """An item's category, marked when it is still the machine's suggestion."""

    def value(self, obj: Any) -> Any:
        if obj.category is None:
            return None
        if obj.classification_confirmed:
            return obj.category.name
        return format_html(
            '{} <span class="badge text-bg-light border" title="Suggested by the rules, '
            'not confirmed by a person yet">suggested</span>',
            obj.category.name,
        )


class OverdueColumn(Column):
    """A marker on complaints past their acknowledgement or resolution target."""

    def value(self, obj: Any) -> Any:
        missed = targets_missed(obj, timezone.now())
        if not missed:
            return None
        return format_html(
            '<span class="badge text-bg-danger" title="Past its target to {}">overdue</span>',
            " and to ".join(missed),
        )


def targets_missed(item: FeedbackItem, now: dt.datetime) -> list[str]:
    """The complaint targets `item` has missed, for rows already loaded.

    The same rule as `services.overdue_complaints` (which the list's `overdue` filter
    uses), applied in Python so that marking a page of rows costs no query.
    """
    if not item.is_complaint or item.status == ItemStatus.CLOSED:
        return []
    missed = []
    if item.acknowledged_at is None and item.acknowledge_due and item.acknowledge_due < now:
        missed.append("acknowledge")
    if item.resolved_at is None and item.resolve_due and item.resolve_due < now:
        missed.append("resolve")
    return missed


def colours(mapping: dict[Any, str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), colour) for key, colour in mapping.items())


# --------------------------------------------------------------------------------------
# The Customer Perception Source Register (9.1.2)
# --------------------------------------------------------------------------------------

SOURCE_COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", order_by="name", link=True),
    Column("kind", "Kind", order_by="kind"),
    YesNoColumn(
        "structured", "Structured?", order_by="structured", words=("Structured", "Unstructured")
    ),
    Column("owner_role", "Owner role", order_by="owner_role"),
    Column("owner", "Owner"),
    Column("collection_method", "Collection method"),
    Column("storage_location", "Stored in"),
    Column("retention", "Retention"),
    Column("in_scope", "In scope", order_by="in_scope"),
    Column("third_party", "Third party"),
    Column("active", "Active", order_by="active"),
)
SOURCE_EXPORT_COLUMNS: tuple[Column, ...] = (
    *SOURCE_COLUMNS,
    Column("fields_captured", "Fields captured"),
    Column("scope_rationale", "Scope rationale"),
    Column("acknowledge_days", "Acknowledge within (working days)"),
    Column("resolve_days", "Resolve within (working days)"),
)
# The register as of a date shows the sources as they were, so it links nowhere.
ASOF_COLUMNS = tuple(replace(column, link=False) for column in SOURCE_COLUMNS)


class PerceptionSourceListView(ObjectListView):
    model = PerceptionSource
    queryset = PerceptionSource.objects.select_related("owner")
    filterset_class = filters.PerceptionSourceFilterSet
    template_name = "feedback/perceptionsource_list.html"
    default_order = "name"
    columns = SOURCE_COLUMNS
    export_columns = SOURCE_EXPORT_COLUMNS

    def base_context(self, **extra: Any) -> dict[str, Any]:
        return super().base_context(warnings=services.register_warnings(), **extra)


class PerceptionSourceDetailView(ObjectDetailView):
    model = PerceptionSource
    queryset = PerceptionSource.objects.select_related("owner", "created_by", "updated_by")
    template_name = "feedback/perceptionsource_detail.html"
    fields = (
        Column("kind", "Kind"),
        YesNoColumn("structured", "Nature", words=("Structured", "Unstructured")),
        Column("owner_role", "Owner role"),
        Column("owner", "Owner"),
        Column("collection_method", "Collection method"),
        Column("fields_captured", "Fields captured"),
        Column("storage_location", "Stored in"),
        Column("retention", "Retention"),
        Column("in_scope", "In scope"),
        Column("scope_rationale", "Scope rationale"),
        Column("third_party", "Operated by (third party)"),
        Column("active", "Active"),
        Column("default_kind", "Default kind of item"),
        Column("default_scale", "Default scale"),
        Column("acknowledge_days", "Acknowledge complaints within (working days)"),
        Column("resolve_days", "Resolve complaints within (working days)"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        webhook_url = ""
        # The token lets anyone post feedback as this source: only those who may
        # change the source see it.
        if can(self.request.user, "change", obj):
            webhook_url = self.request.build_absolute_uri(
                f"/api/feedback/webhook/{obj.webhook_token}/"
            )
        batches = obj.import_batches.select_related("file").order_by("-created_at")[:10]
        return {
            "webhook_url": webhook_url,
            "items_url": reverse("feedback:feedbackitem_list") + f"?source={obj.pk}",
            "batches": {
                "title": "Latest imports",
                "columns": BATCH_RELATED_COLUMNS,
                "rows": [(b, [c.value(b) for c in BATCH_RELATED_COLUMNS]) for b in batches],
                "add_url": "",
            },
        }


class PerceptionSourceEditView(ObjectEditView):
    model = PerceptionSource
    form_class = forms.PerceptionSourceForm


class PerceptionSourceAsOfView(ObjectPermissionMixin, View):
    """The register as it stood at the end of a day, printable and exportable as CSV."""

    model = PerceptionSource
    template_name = "feedback/perceptionsource_asof.html"

    def get_required_verb(self, request: HttpRequest) -> str:
        return "export" if request.GET.get("export") else "view"

    def get(self, request: HttpRequest) -> HttpResponseBase:
        today = timezone.localdate()
        error = ""
        raw = request.GET.get("date", "")
        try:
            day = dt.date.fromisoformat(raw) if raw else today
        except ValueError:
            day, error = today, f"{raw!r} is not a date (YYYY-MM-DD); showing today."
        if day > today:
            day, error = today, "That date is in the future; showing today."
        register = register_as_of(day)
        if request.GET.get("export") == "csv":
            audit.record(
                "perceptionsource.exported",
                object_type=PerceptionSource._meta.label_lower,
                object_label="perception source register",
                changes={
                    "format": "csv",
                    "as_of": day.isoformat(),
                    "version": register.version,
                    "rows": len(register.sources),
                },
            )
            name = f"perception-source-register-{day.isoformat()}-v{register.version or 0}"
            return csv_response(register.sources, ASOF_COLUMNS, name)
        context = self.base_context(
            register=register,
            error=error,
            columns=ASOF_COLUMNS,
            rows=[[column.value(s) for column in ASOF_COLUMNS] for s in register.sources],
            generated_at=timezone.now(),
            time_zone=timezone.get_current_timezone_name(),
        )
        return render(request, self.template_name, context)


# --------------------------------------------------------------------------------------
# Feedback items
# --------------------------------------------------------------------------------------

ITEM_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("complaint_number", "Complaint", order_by="complaint_number"),
    Column("received_at", "Received", order_by="received_at"),
    Column("kind", "Kind", order_by="kind"),
    Column("source.name", "Source"),
    Column("customer.name", "Customer"),
    CategoryColumn("category", "Category"),
    BadgeColumn("impact", "Impact", order_by="impact", colours=colours(IMPACT_COLOURS)),
    Column("sentiment_label", "Sentiment", order_by="sentiment_label"),
    BadgeColumn("status", "Status", order_by="status", colours=colours(STATUS_COLOURS)),
    OverdueColumn("overdue", "Targets"),
)
ITEM_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("complaint_number", "Complaint number"),
    Column("received_at", "Received at"),
    Column("kind", "Kind"),
    Column("source.name", "Source"),
    Column("customer.number", "Customer number"),
    Column("customer.name", "Customer"),
    Column("category.name", "Category"),
    Column("classification_confirmed", "Category confirmed"),
    Column("impact", "Impact"),
    Column("expectation_type", "Expectation type"),
    Column("sentiment_label", "Sentiment"),
    Column("sentiment_score", "Sentiment score"),
    Column("score", "Score"),
    Column("scale", "Scale"),
    Column("status", "Status"),
    Column("acknowledge_due", "Acknowledge by"),
    Column("acknowledged_at", "Acknowledged at"),
    Column("resolve_due", "Resolve by"),
    Column("resolved_at", "Resolved at"),
    Column("title", "Title"),
    Column("text", "Text"),
)


class FeedbackItemListView(ObjectListView):
    model = FeedbackItem
    queryset = FeedbackItem.objects.select_related("source", "customer", "category")
    filterset_class = filters.FeedbackItemFilterSet
    template_name = "feedback/feedbackitem_list.html"
    default_order = "-received_at"
    columns = ITEM_COLUMNS
    export_columns = ITEM_EXPORT_COLUMNS

    def base_context(self, **extra: Any) -> dict[str, Any]:
        return super().base_context(
            can_classify=can(self.request.user, "classify", FeedbackItem), **extra
        )


class FeedbackItemDetailView(ObjectDetailView):
    model = FeedbackItem
    queryset = FeedbackItem.objects.select_related(
        "source",
        "customer",
        "contact",
        "product_line",
        "region",
        "category",
        "suggested_category",
        "suggestion_rule",
        "classified_by",
        "import_batch",
        "created_by",
        "updated_by",
    )
    template_name = "feedback/feedbackitem_detail.html"
    fields = (
        Column("kind", "Kind"),
        Column("source", "Source", link=True),
        Column("received_at", "Received"),
        Column("customer", "Customer", link=True),
        Column("contact", "Contact", link=True),
        Column("product_line", "Product line", link=True),
        Column("region", "Region"),
        Column("external_provider", "External provider involved"),
        Column("external_id", "Id in the source system"),
        Column("import_batch", "Import batch", link=True),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        now = timezone.now()
        missed = targets_missed(obj, now)
        bounds = SCALE_RANGES.get(obj.scale) if obj.scale else None
        return {
            "can_classify": can(user, "classify", obj),
            "can_handle": can(user, "change", obj),
            "classify_url": reverse("feedback:feedbackitem_classify", args=[obj.pk]),
            "acknowledge_url": reverse("feedback:feedbackitem_acknowledge", args=[obj.pk]),
            "resolve_url": reverse("feedback:feedbackitem_resolve", args=[obj.pk]),
            "resolve_form": forms.ResolveForm(),
            "acknowledge_overdue": "acknowledge" in missed,
            "resolve_overdue": "resolve" in missed,
            "scale_bounds": bounds,
            "raw_rows": sorted(obj.raw.items()) if isinstance(obj.raw, dict) else [],
            "impact_colour": IMPACT_COLOURS.get(obj.impact, "secondary"),
            "status_colour": STATUS_COLOURS.get(obj.status, "secondary"),
        }


class FeedbackItemAddView(ObjectEditView):
    """Feedback recorded by hand, through the same intake service as every channel."""

    model = FeedbackItem
    form_class = forms.FeedbackItemForm

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        form = self.get_form(None, data=request.POST)
        if not form.is_valid():
            return self.render_form(form, None, status=422)
        item, created = services.record_feedback(form.intake())  # type: ignore[attr-defined]
        if created:
            messages.success(request, f"Recorded {item.complaint_number or item.number}.")
        else:
            messages.info(request, f"This feedback was recorded before as {item.number}.")
        return redirect_to(request, item.get_absolute_url())


def confirm(
    item: FeedbackItem,
    *,
    actor: Any,
    category: Category | None,
    impact: str = "",
    expectation_type: str = "",
    sentiment_label: str = "",
    triage: bool = True,
) -> FeedbackItem:
    """Classify `item` and, when asked and its guard allows, mark it triaged, as one change."""
    with transaction.atomic():
        services.classify(
            item,
            actor=actor,
            category=category,
            impact=impact,
            expectation_type=expectation_type,
            sentiment_label=sentiment_label,
        )
        if triage and item.status == ItemStatus.NEW and not item.triage_blockers():
            apply_transition(item, "triage", actor=actor)
    return item


class FeedbackItemClassifyView(ObjectPermissionMixin, View):
    """Confirm or correct an item's category, impact, expectation type and sentiment."""

    model = FeedbackItem
    required_verb = "classify"
    template_name = "feedback/feedbackitem_classify.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = get_object_or_404(self.get_queryset().select_related("category"), pk=pk)
        return self.render_form(forms.ClassifyForm(item=item))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = get_object_or_404(self.get_queryset().select_related("category"), pk=pk)
        form = forms.ClassifyForm(request.POST, item=item)
        if form.is_valid():
            data = form.cleaned_data
            try:
                confirm(
                    item,
                    actor=request.user,
                    category=data["category"],
                    impact=data["impact"],
                    expectation_type=data["expectation_type"],
                    sentiment_label=data["sentiment_label"],
                    triage=bool(data.get("triage")),
                )
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(request, f"Classified {item.number} as {item.category}.")
                return redirect_to(request, item.get_absolute_url())
        return self.render_form(form, status=422)

    def render_form(self, form: forms.ClassifyForm, status: int = 200) -> HttpResponse:
        context = self.base_context(object=form.feedback_item, form=form)
        return render(self.request, self.template_name, context, status=status)


class ComplaintStepView(RecordStepView):
    """POST one step of complaint handling; the service checks and records it."""

    model = FeedbackItem


class FeedbackItemAcknowledgeView(ComplaintStepView):
    def perform(self, item: FeedbackItem, request: HttpRequest) -> str:
        services.acknowledge(item, actor=request.user)
        return f"Recorded that {item.complaint_number or item.number} was acknowledged."


class FeedbackItemResolveView(ComplaintStepView):
    def perform(self, item: FeedbackItem, request: HttpRequest) -> str:
        services.resolve(item, actor=request.user, resolution=request.POST.get("resolution", ""))
        return f"Recorded how {item.complaint_number or item.number} was resolved."


class FeedbackItemTransitionView(ObjectTransitionView):
    model = FeedbackItem


# --------------------------------------------------------------------------------------
# Triage: one item at a time, or the suggestions of many at once
# --------------------------------------------------------------------------------------

BULK_LIMIT = 50


def triage_queue() -> QuerySet[FeedbackItem]:
    """Items nobody has confirmed yet, oldest first."""
    return FeedbackItem.objects.filter(
        classification_confirmed=False, status=ItemStatus.NEW
    ).order_by("received_at", "pk")


class TriageView(ObjectPermissionMixin, View):
    """The oldest unconfirmed item with its suggestion pre-selected; confirm, correct or skip.

    Skipping moves a cursor past the item (keyset, so the queue stays cheap however
    long it is); confirming keeps the cursor, so the next item is the one after.
    """

    model = FeedbackItem
    required_verb = "classify"
    template_name = "feedback/triage.html"

    def next_item(self, cursor: str) -> FeedbackItem | None:
        queryset = triage_queue().select_related(
            "source", "customer", "category", "suggested_category", "suggestion_rule"
        )
        if cursor:
            try:
                value, pk = decode_cursor(cursor)
            except BadCursor as exc:
                messages.warning(self.request, str(exc))
            else:
                queryset = queryset.filter(after("received_at", False, value, pk))
        return queryset.first()

    def get(self, request: HttpRequest) -> HttpResponse:
        cursor = request.GET.get("cursor", "")
        item = self.next_item(cursor)
        form = None
        if item is not None:
            form = forms.TriageForm(item=item, initial=self.initial_for(item, cursor))
        return self.render_page(item, form, cursor)

    def post(self, request: HttpRequest) -> HttpResponse:
        cursor = request.POST.get("cursor", "")
        item = triage_queue().filter(pk=as_id(request.POST.get("item", "")) or 0).first()
        if item is None:
            messages.info(request, "That item is no longer waiting (someone confirmed it).")
            return HttpResponseRedirect(self.queue_url(cursor))
        form = forms.TriageForm(request.POST, item=item)
        if form.is_valid():
            data = form.cleaned_data
            try:
                confirm(
                    item,
                    actor=request.user,
                    category=data["category"],
                    impact=data["impact"],
                    expectation_type=data["expectation_type"],
                    sentiment_label=data["sentiment_label"],
                )
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(
                    request, f"{item.number} confirmed as {item.category} and triaged."
                )
                return HttpResponseRedirect(self.queue_url(cursor))
        return self.render_page(item, form, cursor, status=422)

    def initial_for(self, item: FeedbackItem, cursor: str) -> dict[str, Any]:
        return {
            "item": item.pk,
            "cursor": cursor,
            "category": item.category_id or item.suggested_category_id,
            "impact": item.impact,
            "expectation_type": item.expectation_type,
            "sentiment_label": item.sentiment_label,
        }

    def queue_url(self, cursor: str = "") -> str:
        url = reverse("feedback:triage")
        return f"{url}?cursor={cursor}" if cursor else url

    def render_page(
        self,
        item: FeedbackItem | None,
        form: forms.TriageForm | None,
        cursor: str,
        status: int = 200,
    ) -> HttpResponse:
        waiting = triage_queue().count()
        context = self.base_context(
            item=item,
            form=form,
            waiting=waiting,
            cursor=cursor,
            skip_url=self.queue_url(encode_cursor(item.received_at, item.pk)) if item else "",
            restart_url=self.queue_url() if cursor else "",
            bulk_url=reverse("feedback:triage_bulk"),
        )
        return render(self.request, self.template_name, context, status=status)


class TriageBulkView(ObjectPermissionMixin, View):
    """Confirm the suggestions of up to fifty items at once; the rest are refused with a reason."""

    model = FeedbackItem
    required_verb = "classify"
    template_name = "feedback/triage_bulk.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        items = triage_queue().select_related(
            "source", "customer", "suggested_category", "suggestion_rule"
        )[:BULK_LIMIT]
        rows = [(item, self.refusal(item)) for item in items]
        context = self.base_context(rows=rows, waiting=triage_queue().count(), limit=BULK_LIMIT)
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        ids = (as_id(value) for value in request.POST.getlist("items"))
        wanted = [pk for pk in ids if pk is not None][:BULK_LIMIT]
        if not wanted:
            messages.warning(request, "Select the items whose suggestions you confirm.")
            return HttpResponseRedirect(request.path)
        items = triage_queue().select_related("suggested_category").filter(pk__in=wanted)
        confirmed = []
        for item in items:
            reason = self.refusal(item)
            if not reason:
                try:
                    confirm(
                        item,
                        actor=request.user,
                        category=item.suggested_category,
                        impact=item.impact,
                        expectation_type=item.expectation_type,
                    )
                except ValidationError as exc:
                    reason = "; ".join(exc.messages)
            if reason:
                messages.warning(request, f"{item.number} not confirmed: {reason}")
            else:
                confirmed.append(item.number)
        gone = len(wanted) - len(items)
        if gone:
            messages.info(request, f"{gone} of the selected items were no longer waiting.")
        if confirmed:
            messages.success(
                request, f"Confirmed {len(confirmed)} suggestions: {', '.join(confirmed)}."
            )
        return HttpResponseRedirect(request.path)

    @staticmethod
    def refusal(item: FeedbackItem) -> str:
        """Why the item's suggestion cannot be confirmed as it stands ("" when it can)."""
        if item.suggested_category_id is None:
            return "there is no suggested category; classify it on its own."
        if item.is_complaint and not item.impact:
            return "a complaint needs its impact rated; classify it on its own."
        return ""


# --------------------------------------------------------------------------------------
# Imports
# --------------------------------------------------------------------------------------

BATCH_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("source.name", "Source"),
    Column("file", "File (SHA-256)"),
    Column("preset", "Preset", order_by="preset"),
    BadgeColumn("status", "Status", order_by="status", colours=colours(BATCH_COLOURS)),
    Column("rows_read", "Rows"),
    Column("created_count", "Created"),
    Column("duplicate_count", "Duplicates"),
    Column("rejected_count", "Rejected"),
    Column("created_by.username", "By"),
    Column("created_at", "When", order_by="created_at"),
)
BATCH_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("source.name", "Source"),
    Column("file.name", "File"),
    Column("file.sha256", "SHA-256"),
    Column("file.size", "Size (bytes)"),
    Column("preset", "Preset"),
    Column("status", "Status"),
    Column("dry_run", "Dry run"),
    Column("rows_read", "Rows read"),
    Column("created_count", "Created"),
    Column("duplicate_count", "Duplicates"),
    Column("rejected_count", "Rejected"),
    Column("rows_digest", "Digest of the created rows"),
    Column("created_by.username", "By"),
    Column("created_at", "Created at"),
    Column("finished_at", "Finished at"),
)
BATCH_RELATED_COLUMNS = (BATCH_COLUMNS[0], BATCH_COLUMNS[2], *BATCH_COLUMNS[4:9])


class ImportBatchListView(ObjectListView):
    model = ImportBatch
    queryset = ImportBatch.objects.select_related("source", "file", "created_by")
    filterset_class = filters.ImportBatchFilterSet
    template_name = "feedback/importbatch_list.html"
    default_order = "-created_at"
    columns = BATCH_COLUMNS
    export_columns = BATCH_EXPORT_COLUMNS

    def base_context(self, **extra: Any) -> dict[str, Any]:
        # Importing needs the import verb, not add: the generic "Add" button would mislead.
        context = super().base_context(**extra)
        context["can_add"] = False
        context["can_import"] = can(self.request.user, "import", ImportBatch)
        return context


def progress_context(batch: ImportBatch) -> dict[str, Any]:
    """What the batch's status card shows, and whether it should keep refreshing."""
    scoring = False
    if batch.status == BatchStatus.COMPLETED and batch.created_count and not batch.dry_run:
        scoring = importing.pending_sentiment(batch).exists()
    running = batch.status in {BatchStatus.PENDING, BatchStatus.RUNNING} or scoring
    percent = 100
    if running and batch.created_count:
        percent = min(100, round(100 * batch.sentiment_done / batch.created_count))
    return {
        "batch": batch,
        "status_colour": BATCH_COLOURS.get(BatchStatus(batch.status), "secondary"),
        "running": running,
        "scoring": scoring,
        "sentiment_percent": percent,
        "progress_url": reverse("feedback:importbatch_progress", args=[batch.pk]),
    }


class ImportBatchDetailView(ObjectDetailView):
    model = ImportBatch
    queryset = ImportBatch.objects.select_related(
        "source", "file", "rejects_file", "created_by", "updated_by"
    )
    template_name = "feedback/importbatch_detail.html"
    fields = (
        Column("source", "Source", link=True),
        Column("dry_run", "Dry run"),
        Column("started_at", "Started"),
        Column("finished_at", "Finished"),
        Column("rows_digest", "Digest of the created rows"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {
            **progress_context(obj),
            "rejected": importing.rejected_rows(obj),
            "file_url": reverse("feedback:importbatch_file", args=[obj.pk]),
            "rejects_url": reverse("feedback:importbatch_rejects", args=[obj.pk])
            if obj.rejects_file_id
            else "",
            "map_url": reverse("feedback:importbatch_map", args=[obj.pk])
            if obj.status == BatchStatus.PENDING and not queued(obj)
            else "",
            "items_url": reverse("feedback:feedbackitem_list") + f"?import_batch={obj.number}",
            "preset_label": PRESETS[obj.preset].label if obj.preset in PRESETS else obj.preset,
        }


class ImportBatchProgressView(ObjectPermissionMixin, View):
    """The batch's status card alone, polled by htmx while the import or its scoring runs."""

    model = ImportBatch

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(ImportBatch, pk=pk)
        return render(request, "feedback/_importbatch_progress.html", progress_context(batch))


class EvidenceDownloadView(ObjectPermissionMixin, View):
    """Streams one of a batch's stored files to whoever may view the batch."""

    model = ImportBatch
    file_field = "file"

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        batch = get_object_or_404(ImportBatch.objects.select_related(self.file_field), pk=pk)
        evidence = getattr(batch, self.file_field)
        if evidence is None:
            raise Http404("This batch has no such file.")
        return FileResponse(
            evidence.open(),
            as_attachment=True,
            filename=evidence.name,
            content_type=evidence.content_type or "application/octet-stream",
        )


class ImportBatchFileView(EvidenceDownloadView):
    file_field = "file"


class ImportBatchRejectsView(EvidenceDownloadView):
    file_field = "rejects_file"


def queued(batch: ImportBatch) -> bool:
    """Whether the batch was sent to the worker already (its mapping is then fixed)."""
    return AuditEvent.objects.filter(
        object_type=ImportBatch._meta.label_lower,
        object_id=str(batch.pk),
        action="importbatch.queued",
    ).exists()


class ImportUploadView(ObjectPermissionMixin, View):
    """Step 1 of an import: store the file as evidence in a pending batch, check it reads."""

    model = ImportBatch
    required_verb = "import"
    template_name = "feedback/importbatch_add.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"source": request.GET.get("source")} if request.GET.get("source") else {}
        return self.render_form(forms.ImportUploadForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(form, status=422)
        upload = form.cleaned_data["file"]
        options = importing.Options(preset=form.cleaned_data["preset"])
        try:
            # One transaction: a file that cannot be read leaves no batch behind.
            with transaction.atomic():
                batch = importing.create_batch(
                    source=form.cleaned_data["source"],
                    upload=upload,
                    name=upload.name,
                    options=options,
                    dry_run=form.cleaned_data["dry_run"],
                )
                importing.preview(batch.file, options)
        except (importing.ImportError_, FileRefused) as exc:
            form.add_error("file", f"{upload.name} cannot be imported: {exc}")
            return self.render_form(form, status=422)
        return HttpResponseRedirect(reverse("feedback:importbatch_map", args=[batch.pk]))

    def render_form(self, form: forms.ImportUploadForm, status: int = 200) -> HttpResponse:
        context = self.base_context(form=form, max_mb=importing.MAX_UPLOAD // (1024 * 1024))
        return render(self.request, self.template_name, context, status=status)


class ImportMapView(ObjectPermissionMixin, View):
    """Step 2: what the file holds, which column feeds which field, a preview, then import."""

    model = ImportBatch
    required_verb = "import"
    template_name = "feedback/importbatch_map.html"

    batch: ImportBatch

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.load(pk):
            return HttpResponseRedirect(self.batch.get_absolute_url())
        return self.respond(importing.Options.from_dict(self.batch.options), bound=None)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.load(pk):
            return HttpResponseRedirect(self.batch.get_absolute_url())
        return self.respond(importing.Options.from_dict(self.batch.options), bound=request.POST)

    def load(self, pk: int) -> bool:
        """Fetch the batch; False (with a message) once its mapping can no longer change."""
        self.batch = get_object_or_404(ImportBatch.objects.select_related("source", "file"), pk=pk)
        if self.batch.status != BatchStatus.PENDING or queued(self.batch):
            messages.info(self.request, f"{self.batch} is imported already or on its way.")
            return False
        return True

    def respond(self, options: importing.Options, bound: Any) -> HttpResponse:
        batch = self.batch
        try:
            first = importing.preview(batch.file, options)
        except importing.ImportError_ as exc:
            return self.render_page(error=str(exc), status=422)
        columns = file_columns(first)
        if bound is None:
            form = forms.MappingForm(initial=self.initial(options, first, columns), columns=columns)
            return self.render_page(form=form, preview=first, mapped_preview=True)
        form = forms.MappingForm(bound, columns=columns)
        if not form.is_valid():
            return self.render_page(form=form, preview=first, status=422)
        data = form.cleaned_data
        preset_key = data["preset"]
        effective = preset_key or first.preset
        if (data["mapped_for"] or first.preset) != effective:
            # Another preset was chosen: start from its own mapping, not the old one's.
            defaults = preset_defaults(effective, columns)
            form = forms.MappingForm(
                initial={
                    **{k: v for k, v in data.items() if not k.startswith("map_")},
                    **forms.mapping_initial(defaults),
                    "mapped_for": effective,
                },
                columns=columns,
            )
            return self.show_preview(form, self.options_from(data, {}))
        defaults = preset_defaults(effective, columns)
        chosen = self.options_from(data, form.chosen_mapping(defaults))
        if "import" not in bound:
            return self.show_preview(form, chosen)
        try:
            check = importing.preview(batch.file, chosen)
        except importing.ImportError_ as exc:
            form.add_error(None, str(exc))
            return self.render_page(form=form, preview=first, status=422)
        if check.rows and not check.mapped:
            form.add_error(
                None,
                f"None of the first {len(check.rows)} rows would import; fix the mapping "
                "(the row errors below say why).",
            )
            return self.render_page(form=form, preview=check, mapped_preview=True, status=422)
        batch.options = chosen.as_dict()
        batch.preset = chosen.preset
        batch.save(update_fields=["options", "preset"], audit_action="importbatch.queued")
        enqueue_import(batch.pk)
        batch.refresh_from_db(fields=["status", "message"])
        if batch.status == BatchStatus.PENDING:
            messages.success(self.request, f"{batch} is queued; this page shows its progress.")
        else:  # a worker (or the immediate backend of tests) was quicker than this request
            messages.success(self.request, f"{batch}: {batch.message}")
        return HttpResponseRedirect(batch.get_absolute_url())

    def show_preview(self, form: forms.MappingForm, options: importing.Options) -> HttpResponse:
        try:
            shown = importing.preview(self.batch.file, options)
        except importing.ImportError_ as exc:
            form.add_error(None, str(exc))
            return self.render_page(form=form, status=422)
        return self.render_page(form=form, preview=shown, mapped_preview=True)

    def options_from(self, data: dict[str, Any], mapping: dict[str, str]) -> importing.Options:
        default_date = data.get("default_date")
        saved = importing.Options.from_dict(self.batch.options)
        return importing.Options(
            preset=data.get("preset") or "",
            mapping=mapping,
            scale=data.get("scale") or "",
            kind=data.get("kind") or "",
            date_order=data.get("date_order") or "",
            time_zone=data.get("time_zone") or "",
            default_date=default_date.isoformat() if default_date else "",
            delimiter=saved.delimiter,
            encoding=saved.encoding,
        )

    def initial(
        self, options: importing.Options, shown: importing.Preview, columns: list[str]
    ) -> dict[str, Any]:
        effective = options.preset or shown.preset
        mapping = {**preset_defaults(effective, columns), **options.mapping}
        return {
            "preset": options.preset,
            "mapped_for": effective,
            "scale": options.scale,
            "kind": options.kind,
            "date_order": options.date_order,
            "time_zone": options.time_zone or timezone.get_current_timezone_name(),
            "default_date": options.default_date or None,
            **forms.mapping_initial(mapping),
        }

    def render_page(self, status: int = 200, **extra: Any) -> HttpResponse:
        shown: importing.Preview | None = extra.get("preview")
        if shown is not None:
            keys = file_columns(shown)
            extra.update(
                detected_label=PRESETS[shown.preset].label if shown.preset in PRESETS else "",
                preset_scores=[
                    (PRESETS[key].label if key in PRESETS else key, score)
                    for key, score in shown.preset_scores
                    if score > 0
                ],
                raw_table=[[row.get(key, "") for key in keys] for row in shown.rows],
                mapped_table=mapped_table(shown.mapped),
            )
        context = self.base_context(object=self.batch, **extra)
        return render(self.request, self.template_name, context, status=status)


def mapped_table(records: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Mapped preview rows as a table: the fields any row has, in canonical order."""
    names = [name for name in CANONICAL_FIELDS if any(name in record for record in records)]
    rows = [
        [
            json.dumps(value, ensure_ascii=False, default=str)
            if isinstance(value, list | dict)
            else value
            for value in (record.get(name) for name in names)
        ]
        for record in records
    ]
    return names, rows


def file_columns(shown: importing.Preview) -> list[str]:
    """The keys of the file's columns (unique even where two headers repeat a name)."""
    if shown.rows:
        return list(shown.rows[0])
    return list(shown.columns)


def preset_defaults(preset_key: str, columns: list[str]) -> dict[str, str]:
    """Which column the preset would read for each field, as far as the header tells."""
    try:
        preset = get_preset(preset_key)
    except KeyError:
        return {}
    described = [FileColumn(name, position=i) for i, name in enumerate(columns)]
    return preset.default_mapping(described)


# --------------------------------------------------------------------------------------
# Taxonomy: categories, classification rules, impact levels
# --------------------------------------------------------------------------------------

RULE_COLUMNS: tuple[Column, ...] = (
    Column("pattern", "Pattern", order_by="pattern", link=True),
    Column("category.name", "Category", order_by="category__name"),
    Column("kind", "Kind", order_by="kind"),
    Column("weight", "Weight", order_by="weight"),
    Column("active", "Active", order_by="active"),
)


class CategoryListView(ObjectListView):
    model = Category
    filterset_class = filters.CategoryFilterSet
    default_order = "name"
    columns = (
        Column("name", "Name", order_by="name", link=True),
        Column("code", "Code", order_by="code"),
        Column("description", "Description"),
        Column("active", "Active", order_by="active"),
    )


class CategoryDetailView(ObjectDetailView):
    model = Category
    template_name = "feedback/category_detail.html"
    fields = (
        Column("code", "Code"),
        Column("description", "Description"),
        Column("active", "Active"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        rules = obj.rules.select_related("category").order_by("pattern")
        user = self.request.user
        return {
            "rules": {
                "title": "Classification rules",
                "columns": RULE_COLUMNS,
                "rows": [(r, [c.value(r) for c in RULE_COLUMNS]) for r in rules],
                "add_url": reverse("feedback:classificationrule_add") + f"?category={obj.pk}"
                if can(user, "add", ClassificationRule)
                else "",
            },
            "item_count": obj.items.count(),
            "items_url": reverse("feedback:feedbackitem_list") + f"?category={obj.pk}",
            "remap_url": reverse("feedback:category_remap", args=[obj.pk])
            if user.has_perm("feedback.classify_feedbackitem")
            else "",
        }


class CategoryEditView(ObjectEditView):
    model = Category
    form_class = forms.CategoryForm


class CategoryRemapView(ObjectPermissionMixin, View):
    """Move every item of a category to another one, as one audited decision."""

    model = Category
    required_verb = "classify"
    template_name = "feedback/category_remap.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        category = get_object_or_404(Category, pk=pk)
        return self.render_form(category, forms.RemapForm(old=category))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        category = get_object_or_404(Category, pk=pk)
        form = forms.RemapForm(request.POST, old=category)
        if form.is_valid():
            new = form.cleaned_data["new"]
            try:
                moved = services.remap_category(
                    category, new, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(request, f"Moved {moved} items from {category} to {new}.")
                return HttpResponseRedirect(new.get_absolute_url())
        return self.render_form(category, form, status=422)

    def render_form(
        self, category: Category, form: forms.RemapForm, status: int = 200
    ) -> HttpResponse:
        context = self.base_context(object=category, form=form, item_count=category.items.count())
        return render(self.request, self.template_name, context, status=status)


class ClassificationRuleListView(ObjectListView):
    model = ClassificationRule
    queryset = ClassificationRule.objects.select_related("category")
    filterset_class = filters.ClassificationRuleFilterSet
    default_order = "pattern"
    columns = RULE_COLUMNS


class ClassificationRuleDetailView(ObjectDetailView):
    model = ClassificationRule
    queryset = ClassificationRule.objects.select_related("category", "created_by", "updated_by")
    fields = (
        Column("category", "Category", link=True),
        Column("kind", "Kind"),
        Column("pattern", "Pattern"),
        Column("weight", "Weight"),
        Column("active", "Active"),
    )


class ClassificationRuleEditView(ObjectEditView):
    model = ClassificationRule
    form_class = forms.ClassificationRuleForm

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        initial = {}
        if instance is None and "category" in self.request.GET:
            initial["category"] = self.request.GET["category"]
        return self.form_class(data=data, files=files, instance=instance, initial=initial)


class ClassificationRuleDeleteView(ObjectDeleteView):
    model = ClassificationRule


class ImpactLevelListView(ObjectListView):
    model = ImpactLevel
    default_order = "code"
    columns = (
        BadgeColumn("code", "Level", colours=colours(IMPACT_COLOURS), link=True),
        Column("criteria", "Risk criteria"),
    )


class ImpactLevelDetailView(ObjectDetailView):
    model = ImpactLevel
    fields = (Column("criteria", "Risk criteria"),)


class ImpactLevelEditView(ObjectEditView):
    model = ImpactLevel
    form_class = forms.ImpactLevelForm
