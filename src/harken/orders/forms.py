"""Forms of the order pages: they check types and shapes and hand over to `services`,
whose ValidationErrors are put back on the fields they name (`field_errors`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from harken.communications.choices import Channel, Direction, Phase
from harken.communications.forms import MultipleFileField, tick_boxes
from harken.communications.models import Communication
from harken.core.forms import BootstrapMixin
from harken.customers.models import Contact, Customer, ProductLine
from harken.documents.choices import DocumentKind, VersionStatus
from harken.documents.forms import field_errors, version_label
from harken.documents.models import Document, DocumentVersion

from . import services
from .choices import (
    ACTING_ROLES,
    AcceptanceKind,
    Answer,
    ChangeAspect,
    ChangeOrigin,
    EventType,
    IntakeField,
    OfferStatus,
    ReviewKind,
    ReviewOutcome,
    Severity,
)
from .models import (
    Enquiry,
    Escalation,
    EscalationRule,
    IntakeProfile,
    Offer,
    Order,
    RequirementReview,
    ReviewQuestion,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXT = forms.Textarea(attrs={"rows": 3})

__all__ = ["field_errors"]


def now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class RecordNumberField(forms.CharField):
    """A record typed by its number (COM-2026-0001, ORD-…) or id; empty is None."""

    def __init__(self, model: Any, *args: Any, **kwargs: Any) -> None:
        self.model = model
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> Any:
        text = (super().clean(value) or "").strip()
        if not text:
            if self.required:
                raise ValidationError("This field is required.")
            return None
        queryset = self.model._default_manager.all()
        found = (
            queryset.filter(pk=int(text)).first()
            if text.isdigit()
            else queryset.filter(number__iexact=text).first()
        )
        if found is None:
            raise ValidationError(f"No {self.model._meta.verbose_name} has the number {text}.")
        return found

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            found = self.model._default_manager.filter(pk=int(value)).first()
            return found.number if found is not None else value
        return getattr(value, "number", value)


def approved_versions() -> list[tuple[int, str]]:
    versions = DocumentVersion.objects.filter(status=VersionStatus.APPROVED).select_related(
        "document"
    )
    return [(v.pk, version_label(v)) for v in versions]


class VersionsField(forms.ModelMultipleChoiceField):
    """Approved document versions to record as given to the customer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", DocumentVersion.objects.select_related("document"))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)


def offer_versions(field: forms.Field) -> None:
    field.choices = approved_versions()  # type: ignore[attr-defined]
    field.widget.attrs["size"] = 5


def people() -> Any:
    return get_user_model().objects.filter(is_active=True).order_by("username")


# --------------------------------------------------------------------------------------
# Enquiries
# --------------------------------------------------------------------------------------


class EnquiryForm(BootstrapMixin, forms.Form):
    """Intake of an enquiry; `?customer=` or `?communication=` fill it in."""

    customer = RecordNumberField(
        Customer, label="Customer (number)", required=True, help_text="CUS-2026-0001"
    )
    contact = forms.ModelChoiceField(
        label="Contact", queryset=Contact.objects.none(), required=False
    )
    received_via = RecordNumberField(
        Communication,
        label="Received via (communication number)",
        help_text="The logged call or e-mail it came with: COM-2026-0001.",
    )
    received_at = forms.DateTimeField(label="Received at", widget=DATETIME, required=False)
    customer_reference = forms.CharField(
        label="Customer's reference (RFQ number)", max_length=100, required=False
    )
    product_line = forms.ModelChoiceField(
        label="Product line", queryset=ProductLine.objects.filter(active=True), required=False
    )
    requested_scope = forms.CharField(label="Requested scope", widget=TEXT, required=False)
    requirements_stated = forms.CharField(
        label="Requirements stated by the customer", widget=TEXT, required=False
    )
    requirements_implied = forms.CharField(
        label="Requirements implied but necessary",
        widget=TEXT,
        required=False,
        help_text="Not stated, yet needed for the intended use.",
    )
    requirements_statutory = forms.CharField(
        label="Statutory and regulatory requirements", widget=TEXT, required=False
    )
    requirements_ours = forms.CharField(
        label="Our own additional requirements", widget=TEXT, required=False
    )
    requested_delivery = forms.DateField(
        label="Requested delivery date", widget=DATE, required=False
    )
    special_handling = forms.CharField(label="Special handling", widget=TEXT, required=False)
    customer_property = forms.BooleanField(
        label="Customer property is involved (tooling, drawings, data…)", required=False
    )
    owner = forms.ModelChoiceField(label="Handled by", queryset=people(), required=False)
    attachments = MultipleFileField(label="Attachments", required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer = self.data.get("customer") or self.initial.get("customer")
        found = None
        if customer:
            try:
                found = self.fields["customer"].clean(customer)
            except ValidationError:
                found = None
        if found is not None:
            self.fields["contact"].queryset = found.contacts.filter(active=True)  # type: ignore[attr-defined]
        if editing:
            del self.fields["customer"]
        self.fields["received_at"].initial = now_local()

    def intake(self, actor: Any) -> services.EnquiryIntake:
        data = self.cleaned_data
        return services.EnquiryIntake(
            customer=data["customer"],
            contact=data.get("contact"),
            received_via=data.get("received_via"),
            received_at=data.get("received_at"),
            customer_reference=data.get("customer_reference", ""),
            product_line=data.get("product_line"),
            requested_scope=data.get("requested_scope", ""),
            requirements_stated=data.get("requirements_stated", ""),
            requirements_implied=data.get("requirements_implied", ""),
            requirements_statutory=data.get("requirements_statutory", ""),
            requirements_ours=data.get("requirements_ours", ""),
            requested_delivery=data.get("requested_delivery"),
            special_handling=data.get("special_handling", ""),
            customer_property=bool(data.get("customer_property")),
            owner=data.get("owner") or actor,
            files=list(data.get("attachments") or []),
        )

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("customer", None)
        data["files"] = list(data.pop("attachments", None) or [])
        if data.get("received_at") is None:
            data.pop("received_at", None)
        return data

    @staticmethod
    def initial_for(enquiry: Enquiry) -> dict[str, Any]:
        names = [
            "contact",
            "customer_reference",
            "product_line",
            "requested_scope",
            "requirements_stated",
            "requirements_implied",
            "requirements_statutory",
            "requirements_ours",
            "requested_delivery",
            "special_handling",
            "customer_property",
            "owner",
        ]
        initial = {name: getattr(enquiry, name) for name in names}
        initial["customer"] = enquiry.customer_id
        initial["received_via"] = enquiry.received_via_id
        initial["received_at"] = timezone.localtime(enquiry.received_at).strftime("%Y-%m-%dT%H:%M")
        return initial


class ExchangeForm(BootstrapMixin, forms.Form):
    """A communication about an enquiry, order or change, logged in the communication log."""

    direction = forms.ChoiceField(
        label="Direction",
        choices=Direction.choices,
        initial=Direction.OUTBOUND,
        help_text="Outbound: we answered or asked; inbound: the customer did.",
    )
    channel = forms.ChoiceField(label="Channel", choices=Channel.choices, initial=Channel.EMAIL)
    occurred_at = forms.DateTimeField(label="When", widget=DATETIME, required=False)
    contacts = forms.ModelMultipleChoiceField(
        label="Contacts",
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    subject = forms.CharField(label="Subject", max_length=300, required=False)
    body = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    phase = forms.ChoiceField(
        label="Lifecycle phase",
        choices=[("", "---------"), *Phase.choices],
        required=False,
    )
    documents = VersionsField(
        label="Documents provided", help_text="Approved versions given with it (outbound only)."
    )
    attachments = MultipleFileField(label="Attachments", required=False)

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = customer.contacts.filter(active=True)  # type: ignore[attr-defined]
        self.fields["contacts"].label_from_instance = lambda c: c.name  # type: ignore[attr-defined]
        tick_boxes(self.fields["contacts"])
        offer_versions(self.fields["documents"])
        self.fields["occurred_at"].initial = now_local()

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "direction": data["direction"],
            "channel": data["channel"],
            "occurred_at": data.get("occurred_at"),
            "contacts": list(data.get("contacts") or []),
            "subject": data.get("subject", ""),
            "body": data.get("body", ""),
            "versions": list(data.get("documents") or []),
            "files": list(data.get("attachments") or []),
            "phase": data.get("phase", ""),
        }


class AttachForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="File")
    description = forms.CharField(label="Description", max_length=200, required=False)


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label="Why", widget=TEXT)


# --------------------------------------------------------------------------------------
# Requirement reviews
# --------------------------------------------------------------------------------------


class ReviewForm(BootstrapMixin, forms.Form):
    """The checklist (one answer and note per question), the outcome and the evidence."""

    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "---------"), *ReviewOutcome.choices],
        required=False,
    )
    conditions = forms.CharField(
        label="Conditions (accept with conditions)", widget=TEXT, required=False
    )
    decline_reason = forms.CharField(label="Why we decline", widget=TEXT, required=False)
    clarification = forms.CharField(
        label="What the customer must clarify", widget=TEXT, required=False
    )
    notes = forms.CharField(label="Notes", widget=TEXT, required=False)
    evidence = forms.FileField(label="Evidence file", required=False)

    def __init__(self, *args: Any, review: RequirementReview, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review = review
        self.rows = list(review.answers.all())
        for row in self.rows:
            self.fields[f"answer_{row.pk}"] = forms.ChoiceField(
                label=row.text,
                choices=Answer.choices,
                required=False,
                widget=forms.RadioSelect,
                initial=row.answer,
            )
            self.fields[f"answer_{row.pk}"].widget.attrs["class"] = "form-check-input"
            self.fields[f"note_{row.pk}"] = forms.CharField(
                label=f"Evidence or note: {row.text}",
                required=False,
                initial=row.note,
                widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            )
        if review.kind == ReviewKind.DIFFERENCE:
            field: Any = self.fields["outcome"]
            field.choices = [c for c in field.choices if c[0] != ReviewOutcome.CLARIFY]
        for name in ("outcome", "conditions", "decline_reason", "clarification", "notes"):
            self.fields[name].initial = getattr(review, name)

    def question_rows(self) -> list[tuple[Any, Any, Any]]:
        return [(row, self[f"answer_{row.pk}"], self[f"note_{row.pk}"]) for row in self.rows]

    def review_input(self) -> services.ReviewInput:
        data = self.cleaned_data
        return services.ReviewInput(
            answers={
                row.pk: (data.get(f"answer_{row.pk}") or "", data.get(f"note_{row.pk}") or "")
                for row in self.rows
            },
            outcome=data.get("outcome") or "",
            conditions=data.get("conditions", ""),
            decline_reason=data.get("decline_reason", ""),
            clarification=data.get("clarification", ""),
            notes=data.get("notes", ""),
            evidence=data.get("evidence"),
        )


# --------------------------------------------------------------------------------------
# Offers and orders
# --------------------------------------------------------------------------------------


class OfferForm(BootstrapMixin, forms.Form):
    scope = forms.CharField(label="Scope offered", widget=TEXT)
    requirements = forms.CharField(label="Requirements agreed", widget=TEXT, required=False)
    delivery_date = forms.DateField(label="Delivery date offered", widget=DATE, required=False)
    price = forms.DecimalField(label="Price", max_digits=14, decimal_places=2, required=False)
    currency = forms.CharField(label="Currency", max_length=3, initial="EUR")
    valid_until = forms.DateField(label="Valid until", widget=DATE, required=False)
    documents = VersionsField(
        label="Documents used (quote template, terms, spec sheets)",
        help_text="Each is recorded as given to the customer with this offer.",
    )
    file = forms.FileField(label="The offer as sent", required=False)
    sent_via = RecordNumberField(
        Communication,
        label="Sent with (communication number)",
        help_text="The logged e-mail or letter that carried it, if any.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer_versions(self.fields["documents"])

    def terms(self) -> services.OfferTerms:
        data = self.cleaned_data
        return services.OfferTerms(
            scope=data["scope"],
            requirements=data.get("requirements", ""),
            delivery_date=data.get("delivery_date"),
            price=data.get("price"),
            currency=data.get("currency") or "EUR",
            valid_until=data.get("valid_until"),
            versions=list(data.get("documents") or []),
            file=data.get("file"),
            sent_via=data.get("sent_via"),
        )


class AcceptanceForm(BootstrapMixin, forms.Form):
    """What the customer sent to accept, and the terms where they differ from the offer."""

    offer = forms.ModelChoiceField(
        label="Offer accepted", queryset=Offer.objects.none(), required=False
    )
    acceptance_kind = forms.ChoiceField(label="Accepted by", choices=AcceptanceKind.choices)
    customer_reference = forms.CharField(
        label="Customer's reference (PO number)", max_length=100, required=False
    )
    received_at = forms.DateTimeField(label="Received at", widget=DATETIME, required=False)
    file = forms.FileField(
        label="The acceptance (purchase order, signed quote…)",
        required=False,
        help_text="Needed before the order can be accepted.",
    )
    via = RecordNumberField(Communication, label="Received with (communication number)")
    scope = forms.CharField(
        label="Scope accepted",
        widget=TEXT,
        required=False,
        help_text="Empty: as offered.",
    )
    requirements = forms.CharField(
        label="Requirements accepted", widget=TEXT, required=False, help_text="Empty: as offered."
    )
    delivery_date = forms.DateField(
        label="Delivery date accepted", widget=DATE, required=False, help_text="Empty: as offered."
    )
    price = forms.DecimalField(
        label="Price accepted",
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text="Empty: as offered.",
    )
    differences = forms.CharField(
        label="Other differences from the offer",
        widget=TEXT,
        required=False,
        help_text="Their terms and conditions, a changed quantity… Any difference is reviewed "
        "before the order is accepted.",
    )

    def __init__(self, *args: Any, enquiry: Enquiry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offers = enquiry.offers.filter(status=OfferStatus.ISSUED, orders__isnull=True)
        field: Any = self.fields["offer"]
        field.queryset = offers
        field.label_from_instance = lambda o: f"{o.number} of {timezone.localdate(o.issued_at)}"
        if offers.exists():
            field.initial = offers.first().pk  # type: ignore[union-attr]
        self.fields["received_at"].initial = now_local()

    def record(self) -> services.AcceptanceRecord:
        data = self.cleaned_data
        return services.AcceptanceRecord(
            kind=data["acceptance_kind"],
            received_at=data.get("received_at"),
            customer_reference=data.get("customer_reference", ""),
            file=data.get("file"),
            via=data.get("via"),
            differences=data.get("differences", ""),
            scope=data.get("scope") or None,
            requirements=data.get("requirements") or None,
            delivery_date=data.get("delivery_date"),
            price=data.get("price"),
        )


class AcceptForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="The customer's acceptance",
        required=False,
        help_text="Needed if none is attached yet.",
    )
    customer_reference = forms.CharField(
        label="Customer's reference (PO number)", max_length=100, required=False
    )
    documents = VersionsField(
        label="Documents confirmed with the order",
        help_text="Terms or specifications sent with the order confirmation.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer_versions(self.fields["documents"])


class DifferencesForm(BootstrapMixin, forms.Form):
    differences = forms.CharField(label="How the accepted terms differ from the offer", widget=TEXT)


# --------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------

YES_NO = [("", "---------"), ("yes", "Yes"), ("no", "No")]


def yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class ChangeForm(BootstrapMixin, forms.Form):
    origin = forms.ChoiceField(label="Asked for by", choices=ChangeOrigin.choices)
    aspects = forms.MultipleChoiceField(
        label="What changes",
        choices=ChangeAspect.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label="Description", widget=TEXT)
    new_scope = forms.CharField(label="New scope", widget=TEXT, required=False)
    new_requirements = forms.CharField(label="New requirements", widget=TEXT, required=False)
    new_delivery_date = forms.DateField(label="New delivery date", widget=DATE, required=False)
    new_price = forms.DecimalField(
        label="New price", max_digits=14, decimal_places=2, required=False
    )
    new_customer_property = forms.ChoiceField(
        label="Customer property involved after the change", choices=YES_NO, required=False
    )
    requested_at = forms.DateTimeField(label="Requested at", widget=DATETIME, required=False)
    received_via = RecordNumberField(Communication, label="Requested with (communication number)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["aspects"].widget.attrs["class"] = "form-check-input"
        self.fields["requested_at"].initial = now_local()

    def proposal(self) -> services.ChangeProposal:
        data = self.cleaned_data
        return services.ChangeProposal(
            origin=data["origin"],
            description=data["description"],
            aspects=list(data["aspects"]),
            new_scope=data.get("new_scope", ""),
            new_requirements=data.get("new_requirements", ""),
            new_delivery_date=data.get("new_delivery_date"),
            new_price=data.get("new_price"),
            new_customer_property=yes_no(data.get("new_customer_property", "")),
            requested_at=data.get("requested_at"),
            received_via=data.get("received_via"),
        )


class ImpactForm(BootstrapMixin, forms.Form):
    feasible = forms.ChoiceField(
        label="Feasible?", choices=[("yes", "Yes, we can do it"), ("no", "No")]
    )
    impact = forms.CharField(
        label="Impact", widget=TEXT, help_text="Capacity, cost, dates, risks, other orders."
    )


class CommunicateForm(ExchangeForm):
    """Our communication of a change: one already in the log, or logged here."""

    communication = RecordNumberField(
        Communication,
        label="Already logged as (communication number)",
        help_text="Leave empty to log it here.",
    )

    field_order = ["communication"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["direction"]
        del self.fields["attachments"]


class ConfirmForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="The customer's confirmation (signed, e-mail, PO revision)")
    reference = forms.CharField(label="Reference", max_length=100, required=False)
    confirmed_at = forms.DateTimeField(label="Confirmed at", widget=DATETIME, required=False)
    via = RecordNumberField(Communication, label="Confirmed with (communication number)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirmed_at"].initial = now_local()


# --------------------------------------------------------------------------------------
# Escalations and notices
# --------------------------------------------------------------------------------------


class EscalationForm(BootstrapMixin, forms.Form):
    customer = RecordNumberField(Customer, label="Customer (number)", required=True)
    order = RecordNumberField(Order, label="Order (number)")
    event_type = forms.ChoiceField(label="Event", choices=EventType.choices)
    severity = forms.ChoiceField(label="Severity", choices=Severity.choices)
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(label="What happened", widget=TEXT)
    occurred_at = forms.DateTimeField(label="Occurred at", widget=DATETIME, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = now_local()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        order, customer = data.get("order"), data.get("customer")
        if order is not None and customer is None:
            data["customer"] = order.customer
            self.errors.pop("customer", None)
        return data


class RecordItemForm(BootstrapMixin, forms.Form):
    item = forms.CharField(label="What is recorded", max_length=100)
    text = forms.CharField(label="Record", widget=TEXT)


class ExplainForm(BootstrapMixin, forms.Form):
    explanation = forms.CharField(label="Why the customer was told late", widget=TEXT)


class NoticeDraftForm(BootstrapMixin, forms.Form):
    contact = forms.ModelChoiceField(label="To", queryset=Contact.objects.none(), required=False)

    def __init__(self, *args: Any, escalation: Escalation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["contact"]
        field.queryset = escalation.customer.contacts.exclude(email="").filter(active=True)
        field.label_from_instance = lambda c: f"{c.name} <{c.email}>"
        recipient = services.notice_recipient(escalation)
        if recipient is not None:
            field.initial = recipient.pk


class NoticeEditForm(BootstrapMixin, forms.Form):
    subject = forms.CharField(label="Subject", max_length=300)
    body = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 12}))


# --------------------------------------------------------------------------------------
# Configuration (quality roles): plain model forms, audited by the generic edit view
# --------------------------------------------------------------------------------------


class LinesField(forms.CharField):
    """One entry per line, kept as a list."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class EscalationRuleForm(BootstrapMixin, forms.ModelForm):
    records_required = LinesField(
        label="What must be recorded",
        required=False,
        help_text="One item per line (what happened, containment, cause…).",
    )

    class Meta:
        model = EscalationRule
        fields = [
            "event_type",
            "severity",
            "approver_role",
            "escalate_to_role",
            "customer_impacting",
            "notify_within_days",
            "notify_within_hours",
            "records_required",
            "notice_template",
            "active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = [(r.value, r.label) for r in ACTING_ROLES]
        for name in ("approver_role", "escalate_to_role"):
            field: Any = self.fields[name]
            field.choices = roles
        template: Any = self.fields["notice_template"]
        template.queryset = Document.objects.filter(kind=DocumentKind.NOTICE_TEMPLATE)


class IntakeProfileForm(BootstrapMixin, forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label="Required before the review",
        choices=IntakeField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = IntakeProfile
        fields = [
            "product_line",
            "required_fields",
            "first_response_days",
            "change_confirmation_days",
            "notes",
        ]
        widgets = {"notes": TEXT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["required_fields"].widget.attrs["class"] = "form-check-input"


class ReviewQuestionForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = ReviewQuestion
        fields = ["code", "text", "guidance", "product_line", "position", "active"]
        widgets = {"guidance": TEXT}
