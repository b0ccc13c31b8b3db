"""Forms of the document pages; they validate input and leave the changes to `services`."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from harken.core.choices import Role
from harken.core.forms import BootstrapMixin
from harken.customers.models import Contact, Customer

from .choices import Occasion, VersionStatus
from .models import Document, DocumentVersion

CLAUSE = re.compile(r"^\d+(\.\d+)*$")
MAX_UPLOAD = 50 * 1024 * 1024


def field_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, by field where the form has it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def normalise_clauses(raw: str) -> str:
    clauses = [c.strip() for c in re.split(r"[,;\s]+", raw or "") if c.strip()]
    for clause in clauses:
        if not CLAUSE.match(clause):
            raise ValidationError(f"{clause!r} is not a clause number such as 8.2.1.")
    return ", ".join(dict.fromkeys(clauses))


class DocumentForm(BootstrapMixin, forms.ModelForm):
    acknowledge_roles = forms.MultipleChoiceField(
        label="Roles that must read and acknowledge it",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Everyone holding one of these roles confirms each new approved version.",
    )

    class Meta:
        model = Document
        fields = ["title", "kind", "owner_role", "clauses", "purpose", "acknowledge_roles"]
        widgets = {"purpose": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["acknowledge_roles"].widget.attrs["class"] = "form-check-input"

    def clean_clauses(self) -> str:
        return normalise_clauses(self.cleaned_data["clauses"])


class VersionForm(BootstrapMixin, forms.ModelForm):
    """A draft: its text and/or file. The file is stored as evidence by the view."""

    upload = forms.FileField(
        label="File",
        required=False,
        help_text="A PDF or other file; it is stored with its SHA-256 and never overwritten.",
    )

    class Meta:
        model = DocumentVersion
        fields = ["label", "body", "change_summary", "effective_from"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 14}),
            "change_summary": forms.Textarea(attrs={"rows": 2}),
            "effective_from": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, document: Document | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document = document or (self.instance.document if self.instance.pk else None)

    def clean_upload(self) -> Any:
        upload = self.cleaned_data.get("upload")
        if upload is not None and upload.size > MAX_UPLOAD:
            raise ValidationError(f"The file is larger than {MAX_UPLOAD // (1024 * 1024)} MB.")
        return upload

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        label = (data.get("label") or "").strip()
        if self.document is not None and label:
            clash = self.document.versions.filter(label__iexact=label)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("label", f"{self.document.number} has a version {label} already.")
        has_file = data.get("upload") or (self.instance.pk and self.instance.file_id)
        if not (data.get("body") or "").strip() and not has_file:
            self.add_error("body", "Write the text or attach a file.")
        return data


class ApproveForm(BootstrapMixin, forms.Form):
    effective_from = forms.DateField(
        label="Effective from",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today or later; the version becomes current on that day.",
    )


class ReviewForm(BootstrapMixin, forms.Form):
    comment = forms.CharField(
        label="Review comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WithdrawForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label="Why is it withdrawn?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def version_label(version: DocumentVersion) -> str:
    return f"{version.document.number} {version.document.title} — v{version.label}"


class DistributionForm(BootstrapMixin, forms.Form):
    """A copy recorded by hand. Only approved versions are offered; any other is refused
    with the reason, should one be posted anyway."""

    version = forms.ModelChoiceField(
        label="Document version",
        queryset=DocumentVersion.objects.select_related("document"),
    )
    customer = forms.ModelChoiceField(label="Customer", queryset=Customer.objects.all())
    contact = forms.ModelChoiceField(
        label="Contact", queryset=Contact.objects.all(), required=False
    )
    distributed_at = forms.DateTimeField(
        label="Provided at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    occasion = forms.ChoiceField(
        label="Occasion",
        choices=[(o.value, o.label) for o in (Occasion.BY_HAND, Occasion.QUOTE, Occasion.ORDER)],
    )
    reason = forms.CharField(label="Why", max_length=300)
    reference = forms.CharField(label="Quote, order or other reference", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        approved = DocumentVersion.objects.filter(status=VersionStatus.APPROVED).select_related(
            "document"
        )
        field: Any = self.fields["version"]
        field.choices = [("", "---------")] + [(v.pk, version_label(v)) for v in approved]
        customer = self.initial.get("customer") or self.data.get("customer")
        if customer and str(customer).isdigit():
            self.fields["contact"].queryset = Contact.objects.filter(customer_id=int(customer))  # type: ignore[attr-defined]
        self.fields["distributed_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
