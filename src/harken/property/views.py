"""Customer property pages: the register and an item's chain of custody, the custody form
(also behind a label's QR code), labels, what is due, incidents with the customer's
notification and the corrective action, and inventory checks.

Every change goes through `services`; this module arranges records and the services'
answers for people and puts the services' refusals back on the fields they name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views import View

from harken.communications.services import communications_about
from harken.core.permissions import can
from harken.core.scoping import scope_queryset
from harken.core.tables import Column
from harken.core.templatetags.harken import badge
from harken.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
    ObjectTransitionView,
)
from harken.core.workflow import available_transitions
from harken.customers.models import Customer

from . import custody, filters, forms, services
from .choices import (
    CONFIDENTIALITY_COLOURS,
    CUSTODY_ICONS,
    HELD_STATES,
    INCIDENT_COLOURS,
    SEVERITY_COLOURS,
    STATUS_COLOURS,
    CustodyKind,
    IncidentStatus,
    PropertyStatus,
)
from .labels import labels_for
from .models import (
    CustodyEvent,
    InventoryCheck,
    ItemFile,
    PropertyIncident,
    PropertyItem,
)

# A sheet of labels is for a shelf or a delivery, not the whole register.
MAX_LABELS = 200
# Inline images are the common photo types; anything else (SVG, HTML…) is a download.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DUE_ROWS = 100
CUSTODY_BUTTONS = {
    CustodyKind.RECEIVED: "Record receipt",
    CustodyKind.MOVED: "Move",
    CustodyKind.ISSUED: "Issue",
    CustodyKind.USED: "Record use",
    CustodyKind.ACCESSED: "Record access",
    CustodyKind.CHECKED: "Seen in a check",
    CustodyKind.RETURNED: "Return to the customer",
    CustodyKind.DESTROYED: "Record destruction",
    CustodyKind.REVOKED: "Record revocation",
}


def as_pk(value: Any) -> int:
    text = str(value).strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    raise Http404("No such record.")


def refusal(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def custody_buttons(item: PropertyItem, user: Any, *, scan: bool = False) -> list[dict[str, Any]]:
    """The custody events the person may record next, the likeliest first."""
    if not can(user, "add", CustodyEvent):
        return []
    base = reverse("property:propertyitem_custody", args=[item.pk])
    result = []
    for kind in services.next_kinds(item):
        query = {"kind": kind, **({"next": "scan"} if scan else {})}
        result.append(
            {
                "kind": kind,
                "label": CUSTODY_BUTTONS.get(CustodyKind(kind), CustodyKind(kind).label),
                "url": f"{base}?{urlencode(query)}",
                "icon": CUSTODY_ICONS.get(CustodyKind(kind), "circle"),
            }
        )
    return result


# --------------------------------------------------------------------------------------
# The register
# --------------------------------------------------------------------------------------


class StatusColumn(Column):
    def value(self, obj: Any) -> Any:
        return badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, "secondary"))


class DueColumn(Column):
    """The due date, red once a held item is past it."""

    def value(self, obj: Any) -> Any:
        if obj.due_date and obj.status in HELD_STATES and obj.due_date < timezone.localdate():
            return format_html(
                '<span class="text-danger fw-semibold" title="Overdue">{}</span>',
                obj.due_date.isoformat(),
            )
        return obj.due_date


ITEM_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("name", "Name", order_by="name", link=True),
    Column("customer.name", "Customer", order_by="customer__name"),
    Column("kind", "Kind", order_by="kind"),
    StatusColumn("status", "Status", order_by="status"),
    Column("holder_label", "Held by"),
    Column("location", "Location", order_by="location"),
    DueColumn("due_date", "Due", order_by="due_date"),
)
ITEM_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("customer.number", "Customer number"),
    Column("customer.name", "Customer"),
    Column("kind", "Kind"),
    Column("name", "Name"),
    Column("identifiers", "Identifiers"),
    Column("quantity", "Quantity"),
    Column("unit", "Unit"),
    Column("order.number", "Order"),
    Column("order_reference", "Order reference"),
    Column("received_at", "Received at"),
    Column("received_by.username", "Received by"),
    Column("condition_on_receipt", "Condition on receipt"),
    Column("storage_conditions", "Storage conditions"),
    Column("access_restrictions", "Access restrictions"),
    Column("handling_instructions", "Handling instructions"),
    Column("confidentiality", "Confidentiality"),
    Column("storage_location", "Home location"),
    Column("permitted_use", "Permitted use"),
    Column("end_action", "At the end"),
    Column("due_date", "Due back or for destruction"),
    Column("retain_until", "Retain until"),
    Column("status", "Status"),
    Column("holder_label", "Held by"),
    Column("location", "Location"),
    Column("last_event_at", "Last custody event"),
)


class PropertyItemListView(ObjectListView):
    model = PropertyItem
    queryset = PropertyItem.objects.select_related(
        "customer", "holder_user", "received_by", "order"
    )
    filterset_class = filters.PropertyItemFilterSet
    template_name = "property/propertyitem_list.html"
    default_order = "-created_at"
    columns = ITEM_COLUMNS
    export_columns = ITEM_EXPORT_COLUMNS

    def base_context(self, **extra: Any) -> dict[str, Any]:
        query = {k: v for k, v in self.request.GET.items() if k not in {"cursor", "export", "sort"}}
        return super().base_context(
            labels_url=reverse("property:labels") + (f"?{urlencode(query)}" if query else ""),
            **extra,
        )


class PropertyItemDetailView(ObjectDetailView):
    model = PropertyItem
    queryset = PropertyItem.objects.select_related(
        "customer", "holder_user", "received_by", "order", "created_by", "updated_by"
    )
    template_name = "property/propertyitem_detail.html"

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        item: PropertyItem = obj
        user = self.request.user
        now = timezone.now()
        today = timezone.localdate(now)
        events = list(
            item.custody_events.select_related(
                "performed_by", "to_user", "acknowledgement", "incident", "inventory_check"
            ).prefetch_related(Prefetch("files", queryset=ItemFile.objects.select_related("file")))
        )
        derived = custody.derive(
            [custody.Move(e.kind, e.to_holder, e.to_user_id, e.to_location) for e in events],
            item_kind=item.kind,
        )
        attention = []
        if item.status in HELD_STATES and item.due_date and item.due_date < today:
            attention.append(
                f"Overdue for {item.get_end_action_display().lower()} since {item.due_date}."
            )
        if item.status in HELD_STATES and item.retain_until and item.retain_until < today:
            attention.append(f"Past its retention period (until {item.retain_until}).")
        if services.check_due(now).filter(pk=item.pk).exists():
            attention.append("No custody event for longer than its check period: check it.")
        if item.protection_missing():
            attention.append("No protection requirements are recorded.")
        return {
            "status_badge": badge(
                item.get_status_display(), STATUS_COLOURS.get(item.status, "secondary")
            ),
            "confidentiality_badge": badge(
                item.get_confidentiality_display(),
                CONFIDENTIALITY_COLOURS.get(item.confidentiality, "secondary"),
            ),
            "events": [
                (e, CUSTODY_ICONS.get(CustodyKind(e.kind), "circle")) for e in reversed(events)
            ],
            "consistent": derived == services.stored_custody(item),
            "loose_files": list(item.files.filter(event__isnull=True).select_related("file")),
            "incidents": list(item.incidents.select_related("notification", "action")),
            "communications": list(communications_about(item)[:20])
            if user.has_perm("communications.view_communication")
            else [],
            "custody_buttons": custody_buttons(item, user),
            "can_report": can(user, "add", PropertyIncident)
            and item.status != PropertyStatus.EXPECTED,
            "attention": attention,
            "label_url": reverse("property:propertyitem_label", args=[item.pk]),
            "scan_url": reverse("property:scan", args=[item.number]),
        }


class PropertyItemEditView(ObjectEditView):
    model = PropertyItem
    form_class = forms.PropertyItemForm

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        initial = {}
        if instance is None and "customer" in self.request.GET:
            customer = Customer.objects.filter(pk=as_pk(self.request.GET["customer"])).first()
            if customer is not None:
                initial["customer"] = customer.pk
        return self.form_class(data=data, files=files, instance=instance, initial=initial)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        item = self.get_object()
        form = self.get_form(item, data=request.POST, files=request.FILES)
        if not form.is_valid():
            return self.render_form(form, item, status=422)
        try:
            with transaction.atomic():
                if item is None:
                    saved = services.register_item(actor=request.user, **form.values())
                else:
                    # The form wrote its values onto the instance already; start again
                    # from the stored record so the audit diff shows what changed.
                    fresh = PropertyItem.objects.get(pk=item.pk)
                    saved = services.update_item(fresh, actor=request.user, **form.values())
        except ValidationError as exc:
            forms.service_errors(form, exc)
            return self.render_form(form, item, status=422)
        messages.success(request, f"Saved {saved}.")
        return HttpResponseRedirect(saved.get_absolute_url())


class PropertyItemDeleteView(ObjectDeleteView):
    """Only an item that never arrived can go: once its custody began, it is evidence."""

    model = PropertyItem


class ItemFileView(ObjectPermissionMixin, View):
    model = ItemFile

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        found = get_object_or_404(ItemFile.objects.select_related("file"), pk=pk)
        evidence = found.file
        inline = evidence.content_type in INLINE_IMAGES
        return FileResponse(
            evidence.open(),
            as_attachment=not inline,
            filename=evidence.name,
            content_type=evidence.content_type or "application/octet-stream",
        )


# --------------------------------------------------------------------------------------
# Custody
# --------------------------------------------------------------------------------------


class CustodyEventAddView(ObjectPermissionMixin, View):
    """Record one custody event of an item (`?kind=moved`); from a scan it returns there."""

    model = CustodyEvent
    required_verb = "add"
    template_name = "property/custodyevent_form.html"

    def item(self, pk: int) -> PropertyItem:
        return get_object_or_404(
            scope_queryset(self.request.user, PropertyItem.objects.select_related("customer")),
            pk=pk,
        )

    def kind(self, request: HttpRequest, item: PropertyItem) -> str | None:
        kind = request.POST.get("kind") or request.GET.get("kind") or ""
        allowed = services.next_kinds(item)
        if kind in allowed:
            return kind
        return allowed[0] if allowed and not kind else None

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self.item(pk)
        kind = self.kind(request, item)
        if kind is None:
            messages.error(
                request,
                f"That cannot be recorded now: {item} is {item.get_status_display().lower()}.",
            )
            return HttpResponseRedirect(item.get_absolute_url())
        return self.show(item, kind, forms.CustodyEventForm(item=item, kind=kind))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self.item(pk)
        kind = self.kind(request, item)
        if kind is None:
            messages.error(
                request,
                f"That cannot be recorded now: {item} is {item.get_status_display().lower()}.",
            )
            return HttpResponseRedirect(item.get_absolute_url())
        form = forms.CustodyEventForm(request.POST, request.FILES, item=item, kind=kind)
        if not form.is_valid():
            return self.show(item, kind, form, status=422)
        values = form.values()
        if values["performed_by"] is None:
            values["performed_by"] = request.user
        try:
            event = services.record_custody(item, actor=request.user, **values)
        except ValidationError as exc:
            forms.service_errors(form, exc, {"files": "attachments"})
            return self.show(item, kind, form, status=422)
        messages.success(
            request,
            f"Recorded: {event.get_kind_display().lower()}. {item} is now {item.get_status_display().lower()}.",
        )
        if request.GET.get("next") == "scan" or request.POST.get("next") == "scan":
            return HttpResponseRedirect(reverse("property:scan", args=[item.number]))
        return HttpResponseRedirect(item.get_absolute_url() + "#custody")

    def show(self, item: PropertyItem, kind: str, form: Any, status: int = 200) -> HttpResponse:
        scan = self.request.GET.get("next") == "scan" or self.request.POST.get("next") == "scan"
        context = self.base_context(
            item=item,
            kind=kind,
            kind_label=CUSTODY_BUTTONS.get(CustodyKind(kind), CustodyKind(kind).label),
            form=form,
            scan=scan,
            others=[
                b for b in custody_buttons(item, self.request.user, scan=scan) if b["kind"] != kind
            ],
            locations=known_locations(),
            status_badge=badge(
                item.get_status_display(), STATUS_COLOURS.get(item.status, "secondary")
            ),
        )
        return render(self.request, self.template_name, context, status=status)


def known_locations() -> list[str]:
    """Locations in use, for the location field's suggestions."""
    current = (
        PropertyItem.objects.exclude(location="")
        .order_by("location")
        .values_list("location", flat=True)
        .distinct()
    )
    homes = (
        PropertyItem.objects.exclude(storage_location="")
        .order_by("storage_location")
        .values_list("storage_location", flat=True)
        .distinct()
    )
    return sorted({*current[:200], *homes[:200]})


CUSTODY_COLUMNS: tuple[Column, ...] = (
    Column("occurred_at", "When", order_by="occurred_at", link=True),
    Column("item.number", "Item", order_by="item__number"),
    Column("item.name", "Name"),
    Column("kind", "Event", order_by="kind"),
    Column("performed_by.username", "Who"),
    Column("from_location", "From"),
    Column("to_label", "To (holder)"),
    Column("to_location", "To (location)"),
    Column("purpose", "Purpose"),
)
CUSTODY_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("item.number", "Item"),
    Column("item.customer.name", "Customer"),
    Column("sequence", "Sequence"),
    Column("kind", "Event"),
    Column("occurred_at", "When"),
    Column("performed_by.username", "Who"),
    Column("from_holder", "From (holder)"),
    Column("from_location", "From (location)"),
    Column("to_label", "To (holder)"),
    Column("to_location", "To (location)"),
    Column("purpose", "Purpose"),
    Column("note", "Note"),
    Column("acknowledgement.number", "Customer acknowledgement"),
    Column("incident.number", "Incident"),
    Column("status_after", "Status after"),
    Column("created_at", "Recorded at"),
)


class CustodyEventListView(ObjectListView):
    """The custody log of every item, newest first."""

    model = CustodyEvent
    queryset = CustodyEvent.objects.select_related(
        "item__customer", "performed_by", "to_user", "acknowledgement", "incident"
    )
    filterset_class = filters.CustodyEventFilterSet
    default_order = "-occurred_at"
    columns = CUSTODY_COLUMNS
    export_columns = CUSTODY_EXPORT_COLUMNS


class CustodyEventDetailView(ObjectDetailView):
    model = CustodyEvent
    queryset = CustodyEvent.objects.select_related(
        "item__customer",
        "performed_by",
        "to_user",
        "acknowledgement",
        "incident",
        "inventory_check",
    )
    template_name = "property/custodyevent_detail.html"
    fields = (
        Column("item", "Item", link=True),
        Column("sequence", "Sequence"),
        Column("kind", "Event"),
        Column("occurred_at", "When"),
        Column("performed_by", "Who"),
        Column("from_holder", "From (holder)"),
        Column("from_location", "From (location)"),
        Column("to_label", "To (holder)"),
        Column("to_location", "To (location)"),
        Column("purpose", "Purpose"),
        Column("note", "Note"),
        Column("acknowledgement", "Customer acknowledgement", link=True),
        Column("incident", "Incident", link=True),
        Column("inventory_check", "Inventory check", link=True),
        Column("status_after", "Status after"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {"files": list(obj.files.select_related("file"))}


# --------------------------------------------------------------------------------------
# Labels and the scan page
# --------------------------------------------------------------------------------------


class ItemLabelView(ObjectPermissionMixin, View):
    model = PropertyItem
    template_name = "property/labels.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = get_object_or_404(self.get_queryset().select_related("customer"), pk=pk)
        return render(
            request,
            self.template_name,
            self.base_context(labels=labels_for(request, [item]), back_url=item.get_absolute_url()),
        )


class LabelSheetView(ObjectPermissionMixin, View):
    """Labels for the items the register's filters select (`?item=` picks them by id)."""

    model = PropertyItem
    template_name = "property/labels.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        items = PropertyItem.objects.select_related("customer")
        picked = [as_pk(value) for value in request.GET.getlist("item")]
        if picked:
            items = items.filter(pk__in=picked)
        else:
            filterset = filters.PropertyItemFilterSet(request.GET, queryset=items, request=request)
            items = filterset.qs if filterset.is_valid() else items.none()
        chosen = list(items.order_by("number")[: MAX_LABELS + 1])
        if len(chosen) > MAX_LABELS:
            messages.warning(
                request, f"Only the first {MAX_LABELS} labels are shown; filter the register."
            )
            chosen = chosen[:MAX_LABELS]
        return render(
            request,
            self.template_name,
            self.base_context(
                labels=labels_for(request, chosen), back_url=reverse("property:propertyitem_list")
            ),
        )


class ScanView(ObjectPermissionMixin, View):
    """What a label's QR code opens: the item at a glance and its next custody event."""

    model = PropertyItem
    template_name = "property/scan.html"

    def get(self, request: HttpRequest, number: str) -> HttpResponse:
        item = (
            PropertyItem.objects.select_related("customer", "holder_user")
            .filter(number__iexact=number.strip())
            .first()
        )
        if item is None:
            raise Http404("No property item has that number.")
        buttons = custody_buttons(item, request.user, scan=True)
        form = None
        if buttons:
            form = forms.CustodyEventForm(item=item, kind=buttons[0]["kind"])
        last = item.custody_events.select_related("performed_by").order_by("-sequence").first()
        return render(
            request,
            self.template_name,
            self.base_context(
                item=item,
                status_badge=badge(
                    item.get_status_display(), STATUS_COLOURS.get(item.status, "secondary")
                ),
                confidentiality_badge=badge(
                    item.get_confidentiality_display(),
                    CONFIDENTIALITY_COLOURS.get(item.confidentiality, "secondary"),
                ),
                buttons=buttons,
                form=form,
                first=buttons[0] if buttons else None,
                last=last,
                locations=known_locations(),
            ),
        )


class ScanLookupView(ObjectPermissionMixin, View):
    """Type or scan (a handheld scanner types) an item number and go to its scan page."""

    model = PropertyItem
    template_name = "property/scan_lookup.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = forms.ScanLookupForm(request.GET or None)
        if form.is_bound and form.is_valid():
            number = form.cleaned_data["number"]
            if PropertyItem.objects.filter(number__iexact=number).exists():
                return HttpResponseRedirect(reverse("property:scan", args=[number]))
            form.add_error("number", f"No property item has the number {number}.")
        return render(request, self.template_name, self.base_context(form=form))


# --------------------------------------------------------------------------------------
# Due and reviews
# --------------------------------------------------------------------------------------


class DueView(ObjectPermissionMixin, View):
    """Items overdue for return or destruction, due for a check, past retention; incidents
    whose customer was not told in time. `harken tick` flags the same lists."""

    model = PropertyItem
    template_name = "property/due.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        today = timezone.localdate(now)
        related = ("customer", "holder_user")
        sections: list[dict[str, Any]] = [
            {
                "key": "overdue",
                "title": "Overdue for return or destruction",
                "rows": list(
                    services.overdue_end(today)
                    .select_related(*related)
                    .order_by("due_date")[:DUE_ROWS]
                ),
                "date_label": "Due",
                "date": "due_date",
            },
            {
                "key": "check",
                "title": "Due for a check (no custody event for their check period)",
                "rows": list(
                    services.check_due(now)
                    .select_related(*related)
                    .order_by("last_event_at")[:DUE_ROWS]
                ),
                "date_label": "Last custody event",
                "date": "last_event_at",
            },
            {
                "key": "retention",
                "title": "Past their retention period",
                "rows": list(
                    services.past_retention(today)
                    .select_related(*related)
                    .order_by("retain_until")[:DUE_ROWS]
                ),
                "date_label": "Retain until",
                "date": "retain_until",
            },
        ]
        for section in sections:
            section["dates"] = [getattr(row, section["date"]) for row in section["rows"]]
            section["rows"] = list(zip(section["rows"], section["dates"], strict=True))
        late = list(
            services.notifications_overdue(now)
            .select_related("item__customer")
            .order_by("notify_by")[:DUE_ROWS]
        )
        context = self.base_context(
            sections=sections,
            late=late,
            check_url=reverse("property:inventorycheck_add"),
            can_check=can(request.user, "add", InventoryCheck),
        )
        return render(request, self.template_name, context)


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------


class IncidentStatusColumn(Column):
    def value(self, obj: Any) -> Any:
        return badge(obj.get_status_display(), INCIDENT_COLOURS.get(obj.status, "secondary"))


class NotifiedColumn(Column):
    """The notification's number, or the deadline (red once it passed)."""

    def value(self, obj: Any) -> Any:
        if obj.notification_id:
            return obj.notification.number
        local = f"{timezone.localtime(obj.notify_by):%Y-%m-%d %H:%M}"
        if obj.notify_by < timezone.now():
            return format_html('<span class="text-danger fw-semibold">late (by {})</span>', local)
        return format_html('<span class="text-warning-emphasis">by {}</span>', local)


INCIDENT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("item.number", "Item", order_by="item__number"),
    Column("item.customer.name", "Customer"),
    Column("kind", "Kind", order_by="kind"),
    Column("severity", "Severity", order_by="severity"),
    Column("discovered_at", "Found", order_by="discovered_at"),
    NotifiedColumn("notify_by", "Customer told", order_by="notify_by"),
    Column("action.number", "Action"),
    IncidentStatusColumn("status", "Status", order_by="status"),
)
INCIDENT_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("item.number", "Item"),
    Column("item.customer.name", "Customer"),
    Column("kind", "Kind"),
    Column("severity", "Severity"),
    Column("occurred_at", "Happened"),
    Column("discovered_at", "Found"),
    Column("what_happened", "What happened"),
    Column("impact", "Impact"),
    Column("immediate_action", "Immediate action"),
    Column("notify_by", "Tell the customer by"),
    Column("notification.number", "Notification"),
    Column("notification.occurred_at", "Notified at"),
    Column("action.number", "Corrective action"),
    Column("status", "Status"),
    Column("resolution", "Resolution"),
    Column("closed_at", "Closed at"),
)


class IncidentListView(ObjectListView):
    model = PropertyIncident
    queryset = PropertyIncident.objects.select_related("item__customer", "notification", "action")
    filterset_class = filters.PropertyIncidentFilterSet
    default_order = "-discovered_at"
    columns = INCIDENT_COLUMNS
    export_columns = INCIDENT_EXPORT_COLUMNS


class IncidentDetailView(ObjectDetailView):
    model = PropertyIncident
    queryset = PropertyIncident.objects.select_related(
        "item__customer", "notification", "action__owner", "created_by", "updated_by"
    )
    template_name = "property/propertyincident_detail.html"

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        incident: PropertyIncident = obj
        user = self.request.user
        transitions = available_transitions(incident, user)
        can_change = can(user, "change", incident) and incident.status == IncidentStatus.OPEN
        return {
            "status_badge": badge(
                incident.get_status_display(), INCIDENT_COLOURS.get(incident.status, "secondary")
            ),
            "severity_badge": badge(
                incident.get_severity_display(),
                SEVERITY_COLOURS.get(incident.severity, "secondary"),
            ),
            "late": incident.notification_id is None and incident.notify_by < timezone.now(),
            "close": next(((t, b) for t, b in transitions if t.name == "close"), None),
            "reopen": next(((t, b) for t, b in transitions if t.name == "reopen"), None),
            "close_form": forms.CloseIncidentForm(initial={"resolution": incident.resolution}),
            "can_notify": can_change and incident.notification_id is None,
            "can_act": can_change and incident.action_id is None,
            "events": list(incident.custody_events.select_related("performed_by")),
        }


class IncidentAddView(ObjectPermissionMixin, View):
    model = PropertyIncident
    required_verb = "add"
    template_name = "property/propertyincident_add.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {}
        if "item" in request.GET:
            item = get_object_or_404(
                scope_queryset(request.user, PropertyItem.objects.all()),
                pk=as_pk(request.GET["item"]),
            )
            initial["item"] = item.pk
        return self.show(forms.IncidentForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.IncidentForm(request.POST)
        if not form.is_valid():
            return self.show(form, status=422)
        try:
            incident = services.record_incident(
                form.cleaned_data["item"], actor=request.user, **form.values()
            )
        except ValidationError as exc:
            forms.service_errors(form, exc)
            return self.show(form, status=422)
        messages.success(
            request,
            f"Recorded {incident.number}. Tell the customer by "
            f"{timezone.localtime(incident.notify_by):%Y-%m-%d %H:%M}.",
        )
        return HttpResponseRedirect(incident.get_absolute_url())

    def show(self, form: Any, status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, self.base_context(form=form), status=status)


class IncidentEditView(ObjectEditView):
    model = PropertyIncident
    form_class = forms.IncidentEditForm

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        incident = self.get_object()
        assert incident is not None  # noqa: S101 - the edit URL always has a pk
        form = self.get_form(incident, data=request.POST)
        if not form.is_valid():
            return self.render_form(form, incident, status=422)
        fresh = PropertyIncident.objects.select_related("item").get(pk=incident.pk)
        try:
            services.update_incident(fresh, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            forms.service_errors(form, exc)
            return self.render_form(form, incident, status=422)
        messages.success(request, f"Saved {fresh}.")
        return HttpResponseRedirect(fresh.get_absolute_url())


class IncidentTransitionView(ObjectTransitionView):
    model = PropertyIncident


class IncidentPartView(ObjectPermissionMixin, View):
    model = PropertyIncident
    required_verb = "change"
    template_name = ""

    def incident(self, pk: int) -> PropertyIncident:
        incident = get_object_or_404(
            PropertyIncident.objects.select_related("item__customer", "notification", "action"),
            pk=pk,
        )
        if incident.status == IncidentStatus.CLOSED:
            raise PermissionDenied("The incident is closed; reopen it first.")
        return incident

    def show(self, incident: PropertyIncident, form: Any, status: int = 200) -> HttpResponse:
        context = self.base_context(object=incident, form=form)
        return render(self.request, self.template_name, context, status=status)


class IncidentNotifyView(IncidentPartView):
    """Record how the customer was told: a new outbound communication, or one in the log."""

    template_name = "property/propertyincident_notify.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        incident = self.incident(pk)
        return self.show(incident, forms.NotifyForm(incident=incident))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        incident = self.incident(pk)
        form = forms.NotifyForm(request.POST, request.FILES, incident=incident)
        if not form.is_valid():
            return self.show(incident, form, status=422)
        data = form.cleaned_data
        try:
            if data.get("communication") is not None:
                services.link_notification(incident, data["communication"], actor=request.user)
            else:
                services.notify_customer(
                    incident,
                    actor=request.user,
                    channel=data["channel"],
                    subject=data.get("subject") or "",
                    body=data.get("body") or "",
                    contacts=list(data.get("contacts") or []),
                    occurred_at=data.get("occurred_at"),
                    files=list(data.get("attachments") or []),
                )
        except ValidationError as exc:
            forms.service_errors(
                form, exc, {"occurred_at": "occurred_at", "customer": "communication"}
            )
            return self.show(incident, form, status=422)
        messages.success(
            request, f"The customer's notification is recorded: {incident.notification}."
        )
        return HttpResponseRedirect(incident.get_absolute_url())


class IncidentActionView(IncidentPartView):
    """Open a corrective action for the incident, or link an existing one."""

    template_name = "property/propertyincident_action.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        incident = self.incident(pk)
        form = forms.IncidentActionForm(
            initial={"owner": request.user.pk, "due_date": forms.default_due()}
        )
        return self.show(incident, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        incident = self.incident(pk)
        form = forms.IncidentActionForm(request.POST)
        if not form.is_valid():
            return self.show(incident, form, status=422)
        data = form.cleaned_data
        try:
            if data.get("existing") is not None:
                services.link_action(incident, data["existing"], actor=request.user)
            else:
                services.open_corrective_action(
                    incident,
                    actor=request.user,
                    owner=data["owner"],
                    due_date=data["due_date"],
                    title=data.get("title") or "",
                    priority=data["priority"],
                )
        except ValidationError as exc:
            forms.service_errors(form, exc, {"action": "existing"})
            return self.show(incident, form, status=422)
        messages.success(request, f"{incident.action} is linked to {incident.number}.")
        return HttpResponseRedirect(incident.get_absolute_url())


# --------------------------------------------------------------------------------------
# Inventory checks
# --------------------------------------------------------------------------------------


class InventoryCheckListView(ObjectListView):
    model = InventoryCheck
    queryset = InventoryCheck.objects.select_related("performed_by", "customer")
    filterset_class = filters.InventoryCheckFilterSet
    default_order = "-performed_at"
    columns = (
        Column("performed_at", "When", order_by="performed_at", link=True),
        Column("location", "Location", order_by="location"),
        Column("customer.name", "Customer"),
        Column("performed_by.username", "Who"),
        Column("seen_count", "Seen", order_by="seen_count"),
        Column("missing_count", "Missing", order_by="missing_count"),
    )


class InventoryCheckDetailView(ObjectDetailView):
    model = InventoryCheck
    queryset = InventoryCheck.objects.select_related("performed_by", "customer")
    template_name = "property/inventorycheck_detail.html"
    fields = (
        Column("performed_at", "When"),
        Column("performed_by", "Who"),
        Column("location", "Location"),
        Column("customer", "Customer", link=True),
        Column("seen_count", "Seen"),
        Column("missing_count", "Missing"),
        Column("notes", "Notes"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {"lines": list(obj.lines.select_related("item__customer", "incident"))}


class InventoryCheckAddView(ObjectPermissionMixin, View):
    """Choose a location (and customer), tick each item seen or missing, record."""

    model = InventoryCheck
    required_verb = "add"
    template_name = "property/inventorycheck_add.html"

    def scope(self, request: HttpRequest) -> tuple[str, Customer | None]:
        source = request.POST if request.method == "POST" else request.GET
        location = (source.get("location") or "").strip()[:200]
        customer = None
        if source.get("customer"):
            customer = get_object_or_404(Customer, pk=as_pk(source["customer"]))
        return location, customer

    def get(self, request: HttpRequest) -> HttpResponse:
        location, customer = self.scope(request)
        items = list(services.items_to_check(location=location, customer=customer)[:500])
        return self.show(forms.InventoryCheckForm(items=items), location, customer)

    def post(self, request: HttpRequest) -> HttpResponse:
        location, customer = self.scope(request)
        items = list(services.items_to_check(location=location, customer=customer)[:500])
        form = forms.InventoryCheckForm(request.POST, items=items)
        if not form.is_valid():
            return self.show(form, location, customer, status=422)
        seen, missing = form.outcomes()
        try:
            check = services.record_inventory_check(
                actor=request.user,
                seen=seen,
                missing=missing,
                performed_at=form.cleaned_data["performed_at"],
                location=location,
                customer=customer,
                notes=form.cleaned_data.get("notes") or "",
            )
        except ValidationError as exc:
            forms.service_errors(form, exc)
            return self.show(form, location, customer, status=422)
        messages.success(
            request,
            f"Recorded: {check.seen_count} seen, {check.missing_count} missing"
            + (" (each missing item is now a loss incident)." if check.missing_count else "."),
        )
        return HttpResponseRedirect(check.get_absolute_url())

    def show(
        self, form: Any, location: str, customer: Customer | None, status: int = 200
    ) -> HttpResponse:
        context = self.base_context(
            form=form,
            location=location,
            customer=customer,
            locations=known_locations(),
        )
        return render(self.request, self.template_name, context, status=status)
