"""Forms of the property pages. Forms check types and shapes; `services` decides and
records, and its ValidationErrors are put back on the fields they name."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from harken.actions.choices import Priority
from harken.actions.models import Action
from harken.communications.choices import Channel
from harken.communications.forms import ContactChoices, MultipleFileField, tick_boxes
from harken.communications.models import Communication
from harken.core.forms import BootstrapMixin
from harken.customers.models import Contact

from . import config, services
from .choices import CustodyKind, IncidentKind, PropertyStatus, Severity
from .models import PropertyIncident, PropertyItem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def users() -> QuerySet:
    return get_user_model().objects.filter(is_active=True).order_by("username")


def now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def service_errors(
    form: forms.BaseForm, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form's fields; names the form lacks go on
    the form itself."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        field = aliases.get(name, name)
        form.add_error(field if field in form.fields else None, messages)


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


class RecordNumberField(forms.CharField):
    """One record typed by its number (COM-…, ACT-…)."""

    def __init__(self, *args: Any, model: Any, **kwargs: Any) -> None:
        self.model = model
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> Any:
        text = (super().clean(value) or "").strip().upper()
        if not text:
            return None
        found = self.model.objects.filter(number__iexact=text).first()
        if found is None:
            raise ValidationError(f"No {self.model._meta.verbose_name} has the number {text}.")
        return found


class PropertyItemForm(BootstrapMixin, forms.ModelForm):
    """What the register says about an item; its custody is recorded separately."""

    class Meta:
        model = PropertyItem
        fields = [
            "customer",
            "kind",
            "name",
            "description",
            "identifiers",
            "quantity",
            "unit",
            "order",
            "order_reference",
            "confidentiality",
            "storage_conditions",
            "access_restrictions",
            "handling_instructions",
            "storage_location",
            "permitted_use",
            "end_action",
            "due_date",
            "retain_until",
            "review_days",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "identifiers": forms.Textarea(attrs={"rows": 3}),
            "storage_conditions": forms.Textarea(attrs={"rows": 2}),
            "access_restrictions": forms.Textarea(attrs={"rows": 2}),
            "handling_instructions": forms.Textarea(attrs={"rows": 2}),
            "permitted_use": forms.Textarea(attrs={"rows": 2}),
            "due_date": DATE,
            "retain_until": DATE,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].help_text = (
            "Not only things: drawings, data, intellectual property and access credentials "
            "count too. For credentials, record that they exist and who holds them — never "
            "the password, key or token itself."
        )
        # The customer's orders only, when the customer is known (a customer has few).
        customer = self.instance.customer_id or self.initial.get("customer")
        if customer:
            field: Any = self.fields["order"]
            field.queryset = field.queryset.filter(customer_id=customer)
        if self.instance.pk and self.instance.custody_events.exists():
            self.fields["customer"].disabled = True
            self.fields["customer"].help_text = "Received from this customer; it stays theirs."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind") or ""
        texts = {name: data.get(name) or "" for name in services.ITEM_TEXT_FIELDS}
        for name, message in services.secret_errors(kind, texts).items():
            if name in self.fields:
                self.add_error(name, message)
        if data.get("due_date") and not data.get("end_action"):
            self.add_error("end_action", "Say whether it is returned or destroyed by the due date.")
        return data

    def values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data
        }


FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    CustodyKind.RECEIVED: (
        "occurred_at",
        "performed_by",
        "to_location",
        "condition",
        "attachments",
        "to_user",
        "to_holder",
        "note",
    ),
    CustodyKind.MOVED: (
        "occurred_at",
        "performed_by",
        "to_location",
        "to_user",
        "to_holder",
        "purpose",
        "note",
        "attachments",
    ),
    CustodyKind.ISSUED: (
        "occurred_at",
        "performed_by",
        "to_user",
        "to_holder",
        "to_location",
        "purpose",
        "note",
    ),
    CustodyKind.USED: ("occurred_at", "performed_by", "purpose", "note", "attachments"),
    CustodyKind.ACCESSED: ("occurred_at", "performed_by", "purpose", "note"),
    CustodyKind.CHECKED: ("occurred_at", "performed_by", "note", "attachments"),
    CustodyKind.RETURNED: (
        "occurred_at",
        "performed_by",
        "to_holder",
        "to_location",
        "acknowledgement",
        "attachments",
        "note",
    ),
    CustodyKind.DESTROYED: (
        "occurred_at",
        "performed_by",
        "purpose",
        "acknowledgement",
        "attachments",
        "note",
    ),
    CustodyKind.REVOKED: (
        "occurred_at",
        "performed_by",
        "purpose",
        "acknowledgement",
        "attachments",
        "note",
    ),
}
LABELS: dict[str, dict[str, str]] = {
    CustodyKind.RECEIVED: {
        "to_location": "Kept at",
        "to_user": "In the care of (person)",
        "to_holder": "In the care of (team or process)",
        "attachments": "Photos or files of its condition",
    },
    CustodyKind.MOVED: {
        "to_location": "Moved to",
        "to_user": "Held by (person)",
        "to_holder": "Held by (team or process)",
    },
    CustodyKind.ISSUED: {
        "to_user": "Issued to (person)",
        "to_holder": "Issued to (team or process)",
        "to_location": "Where it is used",
    },
    CustodyKind.RETURNED: {
        "to_holder": "Returned to",
        "to_location": "Delivered to",
        "attachments": "Signed delivery note or acknowledgement",
    },
    CustodyKind.DESTROYED: {
        "purpose": "How it was destroyed",
        "attachments": "Certificate of destruction",
    },
    CustodyKind.REVOKED: {
        "purpose": "How it was revoked",
        "attachments": "Confirmation of the revocation",
    },
}


class CustodyEventForm(BootstrapMixin, forms.Form):
    """One custody event; the fields shown depend on what happened (`kind`)."""

    kind = forms.ChoiceField(
        label="What happened", choices=CustodyKind.choices, widget=forms.HiddenInput
    )
    occurred_at = forms.DateTimeField(label="When", widget=DATETIME)
    performed_by = PersonChoice(label="Who", queryset=users(), required=False)
    to_location = forms.CharField(label="To (location)", max_length=200, required=False)
    to_user = PersonChoice(label="To (person)", queryset=users(), required=False)
    to_holder = forms.CharField(
        label="To (team or process)",
        max_length=200,
        required=False,
        help_text="A team, a process or a machine (CNC cell 3, the test lab, a courier).",
    )
    condition = forms.CharField(
        label="Condition on receipt",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What it looked like, counted, measured or checked; any damage.",
    )
    purpose = forms.CharField(
        label="Purpose", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    acknowledgement = RecordNumberField(
        label="Customer acknowledgement (communication number)",
        model=Communication,
        required=False,
        help_text="The logged communication in which the customer confirmed it: COM-2026-0012.",
    )
    attachments = MultipleFileField(label="Files", required=False)
    caption = forms.CharField(label="What the files show", max_length=200, required=False)
    note = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, item: PropertyItem, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["kind"].initial = kind
        keep = set(FIELDS_BY_KIND.get(kind, ())) | {"kind"}
        if "attachments" in keep:
            keep.add("caption")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name, label in LABELS.get(kind, {}).items():
            if name in self.fields:
                self.fields[name].label = label
        self.fields["occurred_at"].initial = now_local()
        if kind == CustodyKind.RETURNED and "to_holder" in self.fields:
            self.fields["to_holder"].initial = item.customer.name
        if kind == CustodyKind.RECEIVED and "to_location" in self.fields and item.storage_location:
            self.fields["to_location"].initial = item.storage_location
        if kind == CustodyKind.MOVED and "to_location" in self.fields:
            self.fields[
                "to_location"
            ].help_text = "Leave who holds it empty when it is put into storage."
        if kind == CustodyKind.RECEIVED:
            self.fields["condition"].required = True
        if "to_location" in self.fields:
            self.fields["to_location"].widget.attrs["list"] = "known-locations"

    def clean_attachments(self) -> list[Any]:
        files = self.cleaned_data.get("attachments") or []
        limit = config.max_file_bytes()
        for upload in files:
            if upload.size > limit:
                raise ValidationError(f"{upload.name} is larger than {limit // (1024 * 1024)} MB.")
        return files

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "occurred_at": data.get("occurred_at"),
            "performed_by": data.get("performed_by"),
            "to_user": data.get("to_user"),
            "to_holder": data.get("to_holder") or "",
            "to_location": data.get("to_location") or "",
            "purpose": data.get("purpose") or "",
            "note": data.get("note") or "",
            "condition": data.get("condition") or "",
            "acknowledgement": data.get("acknowledgement"),
            "files": list(data.get("attachments") or []),
            "caption": data.get("caption") or "",
        }


class IncidentForm(BootstrapMixin, forms.Form):
    """A new incident: what happened, when it was found, what it means."""

    # Only received items: one that never arrived has no incident yet.
    item = forms.ModelChoiceField(
        label="Item",
        queryset=PropertyItem.objects.exclude(status=PropertyStatus.EXPECTED).select_related(
            "customer"
        ),
    )
    kind = forms.ChoiceField(label="Kind", choices=IncidentKind.choices)
    severity = forms.ChoiceField(
        label="Severity", choices=Severity.choices, initial=Severity.MEDIUM
    )
    what_happened = forms.CharField(label="What happened", widget=forms.Textarea(attrs={"rows": 4}))
    occurred_at = forms.DateTimeField(
        label="When it happened", widget=DATETIME, required=False, help_text="Empty when not known."
    )
    discovered_at = forms.DateTimeField(label="When it was found", widget=DATETIME)
    impact = forms.CharField(
        label="Impact",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="On the customer, their product or their information.",
    )
    immediate_action = forms.CharField(
        label="Immediate action", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["discovered_at"].initial = now_local()

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("item")
        return data


class IncidentEditForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = PropertyIncident
        fields = ["severity", "what_happened", "occurred_at", "impact", "immediate_action"]
        widgets = {
            "what_happened": forms.Textarea(attrs={"rows": 4}),
            "impact": forms.Textarea(attrs={"rows": 3}),
            "immediate_action": forms.Textarea(attrs={"rows": 2}),
            "occurred_at": DATETIME,
        }


class NotifyForm(BootstrapMixin, forms.Form):
    """Tell the customer: write what was said (logged as an outbound communication), or
    name the communication that told them."""

    communication = RecordNumberField(
        label="Already in the log (communication number)",
        model=Communication,
        required=False,
        help_text="An e-mail sent from the shared mailbox, for example: COM-2026-0031.",
    )
    channel = forms.ChoiceField(label="Channel", choices=Channel.choices, initial=Channel.EMAIL)
    occurred_at = forms.DateTimeField(label="When", widget=DATETIME, required=False)
    contacts = ContactChoices(label="Told", queryset=Contact.objects.none(), required=False)
    subject = forms.CharField(label="Subject", max_length=300, required=False)
    body = forms.CharField(
        label="What we told them", widget=forms.Textarea(attrs={"rows": 6}), required=False
    )
    attachments = MultipleFileField(label="Attachments", required=False)

    def __init__(self, *args: Any, incident: PropertyIncident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        item = incident.item
        self.fields["contacts"].queryset = Contact.objects.filter(  # type: ignore[attr-defined]
            customer_id=item.customer_id, active=True
        )
        tick_boxes(self.fields["contacts"])
        self.fields["occurred_at"].initial = now_local()
        self.fields["subject"].initial = (
            f"{incident.get_kind_display()} of your {item.get_kind_display().lower()} "
            f"{item.name} ({item.number}, incident {incident.number})"
        )[:300]
        self.fields["body"].initial = draft_notice(incident)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("communication") is None and not (data.get("body") or "").strip():
            self.add_error("body", "Write what the customer was told, or name the communication.")
        return data


def draft_notice(incident: PropertyIncident) -> str:
    item = incident.item
    found = timezone.localtime(incident.discovered_at)
    return (
        f"We must inform you that your {item.get_kind_display().lower()} {item.name} "
        f"(our reference {item.number}), entrusted to us"
        + (f" with order {item.order_reference}" if item.order_reference else "")
        + f", was affected by {incident.get_kind_display().lower()}, found on {found:%d %B %Y}.\n\n"
        f"What happened: {incident.what_happened}\n\nImpact: {incident.impact}\n\n"
        + (
            f"What we did at once: {incident.immediate_action}\n\n"
            if incident.immediate_action
            else ""
        )
        + f"Our reference for this incident is {incident.number}. We will keep you informed."
    )


class IncidentActionForm(BootstrapMixin, forms.Form):
    """Open a corrective action for the incident, or link one that exists."""

    existing = RecordNumberField(
        label="Link an existing action (number)",
        model=Action,
        required=False,
        help_text="ACT-2026-0004; leave empty to open a new corrective action.",
    )
    title = forms.CharField(label="Title", max_length=200, required=False)
    owner = PersonChoice(label="Owner", queryset=users(), required=False)
    due_date = forms.DateField(label="Due date", widget=DATE, required=False)
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices, initial=Priority.HIGH)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("existing") is None:
            if data.get("owner") is None:
                self.add_error("owner", "Name the owner of the new action.")
            if data.get("due_date") is None:
                self.add_error("due_date", "Give the new action a due date.")
        return data


def default_due() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=30)


class CloseIncidentForm(BootstrapMixin, forms.Form):
    resolution = forms.CharField(
        label="How was it resolved?", widget=forms.Textarea(attrs={"rows": 3})
    )


class InventoryCheckForm(BootstrapMixin, forms.Form):
    """A periodic check: the items expected at a location, each ticked seen or missing."""

    performed_at = forms.DateTimeField(label="When", widget=DATETIME)
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, items: list[PropertyItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        self.fields["performed_at"].initial = now_local()
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=str(item),
                choices=(("seen", "Seen"), ("missing", "Missing"), ("", "Not checked")),
                required=False,
                initial="",
                widget=forms.RadioSelect,
            )
            self.fields[f"item_{item.pk}"].widget.attrs["class"] = "form-check-input"

    def outcomes(self) -> tuple[list[PropertyItem], list[PropertyItem]]:
        seen, missing = [], []
        for item in self.items:
            outcome = self.cleaned_data.get(f"item_{item.pk}")
            if outcome == "seen":
                seen.append(item)
            elif outcome == "missing":
                missing.append(item)
        return seen, missing

    def rows(self) -> list[tuple[PropertyItem, Any]]:
        return [(item, self[f"item_{item.pk}"]) for item in self.items]


class ScanLookupForm(forms.Form):
    # Long enough for a scanner that types the label's whole address.
    number = forms.CharField(label="Item number", max_length=500)

    def clean_number(self) -> str:
        text = self.cleaned_data["number"].strip().upper()
        # A scanner may type the whole label URL: take the number out of it.
        match = re.search(r"PRP-\d{4}-\d+", text)
        return match.group(0) if match else text
