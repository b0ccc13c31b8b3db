"""Forms of the communication pages; they validate input and leave the changes to `services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from harken.core.forms import BootstrapMixin
from harken.customers.models import Contact, Customer
from harken.documents.choices import VersionStatus
from harken.documents.forms import field_errors, version_label
from harken.documents.models import DocumentVersion

from . import services
from .choices import Channel, Direction, Phase
from .models import Communication, LifecycleStage, Mailbox

MAX_ATTACHMENT = 50 * 1024 * 1024
MAX_MAIL_FILE = 200 * 1024 * 1024

__all__ = ["field_errors"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


def now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class ContactChoices(forms.ModelMultipleChoiceField):
    """The customer's contacts as tick boxes, by name (the customer is chosen already)."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def tick_boxes(field: forms.Field) -> None:
    """BootstrapMixin styles every widget as an input; tick boxes get their own class."""
    field.widget.attrs["class"] = "form-check-input"


class LogForm(BootstrapMixin, forms.Form):
    """The quick log: a call, meeting or any other interaction, in a few fields."""

    # Bootstrap column widths of the fields on the page.
    widths = {
        "customer": "col-md-4",
        "channel": "col-md-2",
        "direction": "col-md-2",
        "occurred_at": "col-md-4",
        "contacts": "col-12",
        "subject": "col-12",
        "body": "col-12",
        "phase": "col-md-4",
        "concerns": "col-md-8",
        "documents": "col-md-6",
        "attachments": "col-md-6",
    }

    customer = forms.ModelChoiceField(label="Customer", queryset=Customer.objects.all())
    channel = forms.ChoiceField(label="Channel", choices=Channel.choices, initial=Channel.PHONE)
    direction = forms.ChoiceField(
        label="Direction",
        choices=Direction.choices,
        initial=Direction.INBOUND,
        help_text="Inbound: the customer called or wrote; outbound: we did.",
    )
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    contacts = ContactChoices(
        label="Contacts",
        queryset=Contact.objects.none(),
        required=False,
    )
    subject = forms.CharField(label="Subject", max_length=300, required=False)
    body = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What was said, agreed or asked for.",
    )
    phase = forms.ChoiceField(
        label="Lifecycle phase",
        choices=[("", "---------"), *Phase.choices],
        required=False,
    )
    concerns = forms.CharField(
        label="Concerns (record numbers)",
        required=False,
        help_text="The feedback items, complaints or actions it is about: CMP-2026-0001, ACT-2026-0003.",
    )
    documents = forms.ModelMultipleChoiceField(
        label="Documents provided",
        queryset=DocumentVersion.objects.select_related("document"),
        required=False,
        help_text="Approved versions given to the customer with it (outbound only).",
    )
    attachments = MultipleFileField(label="Attachments", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer = self.data.get("customer") or self.initial.get("customer")
        if customer and str(customer).isdigit():
            self.fields["contacts"].queryset = Contact.objects.filter(  # type: ignore[attr-defined]
                customer_id=int(customer), active=True
            )
        approved = DocumentVersion.objects.filter(status=VersionStatus.APPROVED).select_related(
            "document"
        )
        field: Any = self.fields["documents"]
        field.choices = [(v.pk, version_label(v)) for v in approved]
        self.fields["occurred_at"].initial = now_local()
        self.fields["documents"].widget.attrs["size"] = 4
        tick_boxes(self.fields["contacts"])

    def clean_attachments(self) -> list[Any]:
        files = self.cleaned_data.get("attachments") or []
        for upload in files:
            if upload.size > MAX_ATTACHMENT:
                raise ValidationError(
                    f"{upload.name} is larger than {MAX_ATTACHMENT // (1024 * 1024)} MB."
                )
        return files

    def clean_concerns(self) -> list[Any]:
        try:
            return services.resolve_references(self.cleaned_data.get("concerns", ""))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["concerns"]) from exc

    def entry(self, staff: Any) -> services.Entry:
        data = self.cleaned_data
        return services.Entry(
            customer=data["customer"],
            channel=data["channel"],
            direction=data["direction"],
            subject=data.get("subject") or "",
            body=data.get("body") or "",
            occurred_at=data["occurred_at"],
            contacts=list(data.get("contacts") or []),
            staff=staff,
            phase=data.get("phase") or "",
            concerns=list(data.get("concerns") or []),
            versions=list(data.get("documents") or []),
            files=list(data.get("attachments") or []),
        )


class EditForm(BootstrapMixin, forms.ModelForm):
    """Corrections to a logged call or meeting (received mail is evidence: not edited)."""

    class Meta:
        model = Communication
        fields = ["channel", "direction", "occurred_at", "contacts", "subject", "body", "phase"]
        widgets = {
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "body": forms.Textarea(attrs={"rows": 6}),
            "contacts": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer_id = self.instance.customer_id
        self.fields["contacts"].queryset = Contact.objects.filter(customer_id=customer_id)  # type: ignore[attr-defined]
        tick_boxes(self.fields["contacts"])


class FileForm(BootstrapMixin, forms.Form):
    customer = forms.ModelChoiceField(label="Customer", queryset=Customer.objects.all())
    note = forms.CharField(label="Note", required=False, max_length=500)


class DismissForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label="Why is it no customer communication?",
        max_length=500,
        help_text="Spam, a newsletter…",
    )


class LinkForm(BootstrapMixin, forms.Form):
    reference = forms.CharField(label="Record number", max_length=100)


class MailImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="File", help_text="One .eml message or an mbox archive.")
    mailbox = forms.ModelChoiceField(
        label="As if it came through",
        queryset=Mailbox.objects.all(),
        required=False,
        help_text="Its rule applies (a complaints mailbox makes complaints).",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_MAIL_FILE:
            raise ValidationError(
                f"The file is larger than {MAX_MAIL_FILE // (1024 * 1024)} MB; "
                "import it with `harken mail import`."
            )
        return upload


class MailboxForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "host",
            "port",
            "use_ssl",
            "username",
            "password_env",
            "folder",
            "done_folder",
            "ca_file",
            "feedback_source",
            "feedback_kind",
            "phase",
            "active",
        ]

    def clean_password_env(self) -> str:
        value = self.cleaned_data["password_env"].strip()
        if not value.replace("_", "").isalnum() or not value[:1].isalpha():
            raise ValidationError(
                "Give the name of an environment variable, such as HARKEN_IMAP_PASSWORD."
            )
        return value


class LifecycleStageForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = LifecycleStage
        fields = [
            "phase",
            "position",
            "primary_channel",
            "other_channels",
            "owner_role",
            "record_type",
            "response_target",
            "procedure",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
