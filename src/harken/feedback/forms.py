"""Forms of the feedback pages. Forms validate; the services decide and record."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from harken.core.forms import BootstrapMixin
from harken.customers.models import Contact, Customer

from . import services
from .choices import ExpectationType, Impact, ItemKind, ItemStatus, SentimentLabel
from .classify import InvalidPattern, pattern_source
from .importers import MAPPABLE_FIELDS, PRESETS, SCALES
from .importing import MAX_UPLOAD
from .models import (
    Category,
    ClassificationRule,
    FeedbackItem,
    ImpactLevel,
    PerceptionSource,
)

BLANK = [("", "—")]


def field_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (or the form when unnamed)."""
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)


class PreparedFields:
    """Adjusts a form's fields as soon as Django has built them.

    BootstrapMixin validates bound data while it styles the widgets (it looks for
    errors), so querysets and choices set after its `__init__` would come too late:
    forms set them in `prepare_fields`, which runs before it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepare_fields()

    def prepare_fields(self) -> None:
        """Hook: set querysets, choices and extra fields on `self.fields`."""


class PerceptionSourceForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = PerceptionSource
        fields = [
            "name",
            "kind",
            "structured",
            "owner_role",
            "owner",
            "collection_method",
            "fields_captured",
            "storage_location",
            "retention",
            "in_scope",
            "scope_rationale",
            "third_party",
            "active",
            "default_kind",
            "default_scale",
            "acknowledge_days",
            "resolve_days",
        ]
        widgets = {
            "collection_method": forms.Textarea(attrs={"rows": 2}),
            "fields_captured": forms.Textarea(attrs={"rows": 2}),
            "scope_rationale": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "owner_role": "The role accountable for the source; name a person as well where "
            "one is.",
            "third_party": "The provider's name when someone else runs the channel for us.",
            "active": "Retire a source by clearing this; retired sources keep their feedback.",
        }


class CustomerByNumberField(forms.ModelChoiceField):
    """A customer picked by its number: a select of a million customers would not do."""

    widget = forms.TextInput(attrs={"placeholder": "CUS-2026-0001"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Customer.objects.all(), to_field_name="number", **kwargs)

    def to_python(self, value: Any) -> Any:
        return super().to_python(value.strip() if isinstance(value, str) else value)


class FeedbackItemForm(BootstrapMixin, PreparedFields, forms.ModelForm):
    """Feedback recorded by hand; saved through `services.record_feedback`."""

    customer = CustomerByNumberField(
        required=False, help_text="The customer's number.", label="Customer"
    )
    contact_email = forms.EmailField(
        required=False, label="Contact e-mail", help_text="A contact of that customer."
    )

    class Meta:
        model = FeedbackItem
        fields = [
            "source",
            "kind",
            "received_at",
            "customer",
            "product_line",
            "title",
            "text",
            "score",
            "scale",
            "impact",
        ]
        widgets = {
            "received_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "text": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {"received_at": "When the customer told us (company time)."}

    def prepare_fields(self) -> None:
        self.fields["source"].queryset = PerceptionSource.objects.filter(active=True)  # type: ignore[attr-defined]
        self.fields["received_at"].required = False
        self.order_fields(
            ["source", "kind", "received_at", "customer", "contact_email", "product_line"]
        )

    def clean_contact_email(self) -> Contact | None:
        email = self.cleaned_data.get("contact_email")
        if not email:
            return None
        customer = self.cleaned_data.get("customer")
        contacts = Contact.objects.filter(email__iexact=email)
        if customer is not None:
            contacts = contacts.filter(customer=customer)
        contact = contacts.select_related("customer").first()
        if contact is None:
            raise ValidationError(
                "No contact of this customer has that e-mail."
                if customer
                else "No contact has that e-mail."
            )
        return contact

    def intake(self) -> services.Intake:
        data = self.cleaned_data
        return services.Intake(
            source=data["source"],
            kind=data.get("kind") or "",
            received_at=data.get("received_at"),
            customer=data.get("customer"),
            contact=data.get("contact_email"),
            product_line=data.get("product_line"),
            title=data.get("title") or "",
            text=data.get("text") or "",
            score=data.get("score"),
            scale=data.get("scale") or "",
            impact=data.get("impact") or "",
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors and data.get("source") is not None:
            try:
                services.validate_intake(self.intake())
            except ValidationError as exc:
                field_errors(self, exc)
        return data

    def _post_clean(self) -> None:
        # The item is built by the service, not from this form's instance.
        pass


def category_choices(current: Category | None = None) -> Any:
    """Active categories, plus the current one even if it was retired since."""
    queryset = Category.objects.filter(active=True)
    if current is not None and not current.active:
        queryset = Category.objects.filter(pk=current.pk) | queryset
    return queryset.order_by("name")


class ClassifyForm(BootstrapMixin, PreparedFields, forms.Form):
    """Confirm or correct an item's classification (`services.classify`)."""

    category = forms.ModelChoiceField(queryset=Category.objects.none(), empty_label=None)
    impact = forms.ChoiceField(choices=BLANK + list(Impact.choices), required=False)
    expectation_type = forms.ChoiceField(
        choices=BLANK + list(ExpectationType.choices), required=False
    )
    sentiment_label = forms.ChoiceField(
        label="Sentiment", choices=BLANK + list(SentimentLabel.choices), required=False
    )
    triage = forms.BooleanField(label="Mark triaged as well", required=False, initial=True)

    def __init__(self, *args: Any, item: FeedbackItem, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "category": item.category_id or item.suggested_category_id,
                "impact": item.impact,
                "expectation_type": item.expectation_type,
                "sentiment_label": item.sentiment_label,
                "triage": item.status == ItemStatus.NEW,
            },
        )
        self.feedback_item = item
        super().__init__(*args, **kwargs)

    def prepare_fields(self) -> None:
        item = self.feedback_item
        self.fields["category"].queryset = category_choices(item.category)  # type: ignore[attr-defined]
        if item.status != ItemStatus.NEW:
            del self.fields["triage"]


class TriageForm(ClassifyForm):
    """The triage queue's form: the categories and impacts as keyboard-friendly radios."""

    item = forms.IntegerField(widget=forms.HiddenInput)
    cursor = forms.CharField(widget=forms.HiddenInput, required=False)

    def prepare_fields(self) -> None:
        super().prepare_fields()
        # Radios, so that number keys and `i` can pick them (static/feedback/triage.js).
        for name in ("category", "impact"):
            field = self.fields[name]
            field.widget = forms.RadioSelect(choices=field.choices)  # type: ignore[attr-defined]
        self.fields.pop("triage", None)
        self.initial.setdefault("item", self.feedback_item.pk)


class ResolveForm(BootstrapMixin, forms.Form):
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done and what the customer was told.",
    )


def preset_choices() -> list[tuple[str, str]]:
    return [("", "Auto-detect"), *((p.key, p.label) for p in PRESETS.values())]


class ImportUploadForm(BootstrapMixin, forms.Form):
    """Step 1 of an import: the file, the source it came from and, if known, its tool."""

    source = forms.ModelChoiceField(queryset=PerceptionSource.objects.filter(active=True))
    file = forms.FileField(
        help_text="CSV, TSV, XLSX, JSON or JSON Lines, up to 512 MB. The file is kept as "
        "evidence with its SHA-256."
    )
    preset = forms.ChoiceField(
        label="Exported from",
        required=False,
        choices=preset_choices,
        help_text="Leave on auto-detect unless you know better.",
    )
    dry_run = forms.BooleanField(
        label="Dry run (count what would be imported, create nothing)", required=False
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise ValidationError(
                f"{upload.name} is larger than the limit of {MAX_UPLOAD // (1024 * 1024)} MB."
            )
        return upload


FIELD_LABELS = {
    "external_id": "Id in the source system",
    "received_at": "Received at",
    "acknowledged_at": "Acknowledged at",
    "resolved_at": "Resolved at",
    "contact_email": "Contact e-mail",
    "customer_ref": "Customer reference or number",
    "customer_name": "Customer name",
    "contact_name": "Contact name",
    "product_line": "Product line",
}


class MappingForm(BootstrapMixin, PreparedFields, forms.Form):
    """Step 2 of an import: which column feeds which field, and how to read the values."""

    preset = forms.ChoiceField(label="Exported from", required=False, choices=preset_choices)
    # The preset whose defaults pre-filled the column choices (see `mapping`).
    mapped_for = forms.CharField(widget=forms.HiddenInput, required=False)
    scale = forms.ChoiceField(
        label="Score scale",
        required=False,
        choices=BLANK + [(key, scale.describe()) for key, scale in SCALES.items()],
        help_text="Leave empty to use the tool's usual scale.",
    )
    kind = forms.ChoiceField(
        label="Kind when a row does not say",
        required=False,
        choices=BLANK + list(ItemKind.choices),
    )
    date_order = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Detect"),
            ("dmy", "Day first (31/12/2026)"),
            ("mdy", "Month first (12/31/2026)"),
        ],
        label="Date order",
    )
    time_zone = forms.CharField(
        label="Time zone of dates without one",
        required=False,
        help_text="An IANA name such as Europe/Berlin.",
    )
    default_date = forms.DateField(
        label="Date for rows without one",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, columns: Sequence[str], **kwargs: Any) -> None:
        self.columns = list(columns)
        super().__init__(*args, **kwargs)

    def prepare_fields(self) -> None:
        column_choices = [("", "— not in the file —"), *((c, c) for c in self.columns)]
        for name in MAPPABLE_FIELDS:
            self.fields[f"map_{name}"] = forms.ChoiceField(
                label=FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
                choices=column_choices,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if name:
            try:
                zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValidationError(f"{name} is not a time zone name we know.") from exc
        return name

    def mapping_fields(self) -> list[forms.BoundField]:
        return [self[f"map_{name}"] for name in MAPPABLE_FIELDS]

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("scale", "kind", "date_order", "time_zone", "default_date")]

    def chosen_mapping(self, defaults: dict[str, str]) -> dict[str, str]:
        """The columns the person chose where they differ from the preset's own choice.

        A field left as the preset had it stays out of the mapping so the preset keeps
        its own logic (several candidate columns, header labels); a field cleared on
        purpose maps to "" (import nothing into it).
        """
        mapping = {}
        for name in MAPPABLE_FIELDS:
            chosen = self.cleaned_data.get(f"map_{name}", "")
            if chosen != defaults.get(name, ""):
                mapping[name] = chosen
        return mapping


def mapping_initial(defaults: dict[str, str]) -> dict[str, str]:
    return {f"map_{name}": column for name, column in defaults.items()}


class CategoryForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Category
        fields = ["code", "name", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "active": "Retire a category by clearing this; its feedback keeps it.",
            "code": "Short and stable: imports and the API may name the category by it.",
        }


class ClassificationRuleForm(BootstrapMixin, PreparedFields, forms.ModelForm):
    class Meta:
        model = ClassificationRule
        fields = ["category", "kind", "pattern", "weight", "active"]

    def prepare_fields(self) -> None:
        current = self.instance.category if self.instance.category_id else None
        self.fields["category"].queryset = category_choices(current)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("kind") and data.get("pattern") is not None:
            try:
                pattern_source(data["kind"], data["pattern"])
            except InvalidPattern as exc:
                self.add_error("pattern", str(exc))
        return data


class ImpactLevelForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = ImpactLevel
        fields = ["criteria"]
        widgets = {"criteria": forms.Textarea(attrs={"rows": 4})}


class RemapForm(BootstrapMixin, PreparedFields, forms.Form):
    """Move every item of one category to another (`services.remap_category`)."""

    new = forms.ModelChoiceField(label="Move its items to", queryset=Category.objects.none())
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit trail with the number of items moved.",
    )

    def __init__(self, *args: Any, old: Category, **kwargs: Any) -> None:
        self.old = old
        super().__init__(*args, **kwargs)

    def prepare_fields(self) -> None:
        others = Category.objects.filter(active=True).exclude(pk=self.old.pk)
        self.fields["new"].queryset = others  # type: ignore[attr-defined]
