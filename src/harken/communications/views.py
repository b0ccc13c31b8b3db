"""Communication pages: the log, the quick log form, triage, threads, a customer's
timeline, mail imports, mailboxes, mail runs, the lifecycle map and revision notices.

Every change goes through `services`; these views validate forms and show results.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from harken.core.files import FileRefused
from harken.core.permissions import can
from harken.core.scoping import scope_queryset
from harken.core.tables import Column
from harken.core.views.generic import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
    RecordStepView,
    redirect_to,
)
from harken.customers.models import Customer
from harken.documents import services as documents
from harken.documents.models import DocumentVersion

from . import filters, forms, links, services, tables
from .choices import STATUS_COLOURS, CommunicationStatus
from .models import (
    Attachment,
    Communication,
    CommunicationLink,
    LifecycleStage,
    Mailbox,
    MailRun,
    Thread,
)
from .timeline import customer_timeline


def evidence_response(evidence: Any) -> FileResponse:
    return FileResponse(
        evidence.open(),
        as_attachment=True,
        filename=evidence.name,
        content_type=evidence.content_type or "application/octet-stream",
    )


# --------------------------------------------------------------------------------------
# The log
# --------------------------------------------------------------------------------------


class CommunicationListView(ObjectListView):
    model = Communication
    queryset = Communication.objects.select_related("customer", "staff").prefetch_related(
        "contacts"
    )
    filterset_class = filters.CommunicationFilterSet
    default_order = "-occurred_at"
    columns = tables.COMMUNICATION_COLUMNS
    export_columns = tables.COMMUNICATION_EXPORT_COLUMNS

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if self.request.GET.get("export"):
            return queryset
        return queryset.prefetch_related(None)  # the page shows no contacts

    def base_context(self, **extra: Any) -> dict[str, Any]:
        context = super().base_context(**extra)
        context["add_url"] = reverse("communications:communication_add")
        return context


class TriageListView(ObjectListView):
    """Mail waiting for a person: no customer matched, or something wrong with it."""

    model = Communication
    queryset = Communication.objects.filter(status=CommunicationStatus.TRIAGE).select_related(
        "mailbox"
    )
    default_order = "occurred_at"
    columns = tables.TRIAGE_COLUMNS
    template_name = "communications/triage_list.html"

    def base_context(self, **extra: Any) -> dict[str, Any]:
        context = super().base_context(**extra)
        context["can_add"] = False
        return context


class CommunicationDetailView(ObjectDetailView):
    model = Communication
    queryset = Communication.objects.select_related(
        "customer",
        "staff",
        "thread",
        "mailbox",
        "raw_message",
        "created_by",
        "updated_by",
    ).prefetch_related("contacts", "attachments", "links__target_type")
    template_name = "communications/communication_detail.html"
    fields = (
        Column("customer", "Customer", link=True),
        Column("direction", "Direction"),
        Column("channel", "Channel"),
        Column("occurred_at", "When"),
        Column("contacts", "Contacts"),
        Column("staff", "Our staff member"),
        Column("phase", "Lifecycle phase"),
        Column("from_address", "From"),
        Column("to_addresses", "To"),
        Column("cc_addresses", "Cc"),
        Column("mailbox", "Mailbox"),
        Column("message_key", "Message-ID"),
        Column("triage_note", "Triage note"),
    )

    shown: Communication | None = None

    def get_object(self, pk: int) -> Any:
        self.shown = super().get_object(pk)  # type: ignore[assignment]
        return self.shown

    def has_url(self, suffix: str) -> bool:
        # Received and sent e-mail is evidence: its page offers no Edit.
        if suffix == "edit" and self.shown is not None and self.shown.is_mail:
            return False
        return super().has_url(suffix)

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        thread = []
        if obj.thread_id:
            thread = list(
                obj.thread.communications.exclude(pk=obj.pk)
                .select_related("customer")
                .order_by("occurred_at", "pk")[:50]
            )
        may_change = can(user, "change", obj)
        return {
            "status_colour": STATUS_COLOURS.get(obj.status, "secondary"),
            "thread_messages": thread,
            "distributions": list(documents.distributions_via(obj)),
            "may_change": may_change,
            "may_edit": may_change and not obj.is_mail,
            "file_form": forms.FileForm(initial={"customer": obj.customer_id}),
            "dismiss_form": forms.DismissForm(),
            "link_form": forms.LinkForm(),
            "in_triage": obj.status == CommunicationStatus.TRIAGE,
        }


class LogView(ObjectEditView):
    """The quick log: `?customer=<pk>` (and `&channel=meeting`) pre-fill it."""

    model = Communication
    form_class = forms.LogForm  # type: ignore[assignment]
    template_name = "communications/log.html"

    def get_object(self) -> None:
        return None

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        initial = {
            key: self.request.GET[key]
            for key in ("customer", "channel", "direction", "phase")
            if self.request.GET.get(key)
        }
        return forms.LogForm(data=data, files=files, initial=initial)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        form = self.get_form(None, data=request.POST, files=request.FILES)
        if form.is_valid():
            try:
                communication = services.log_communication(
                    form.entry(staff=request.user), actor=request.user
                )
            except ValidationError as exc:
                forms.field_errors(form, exc)
            except FileRefused as exc:
                form.add_error("attachments", str(exc))
            else:
                messages.success(
                    request,
                    f"Logged {communication.number}: {communication.get_channel_display()} "
                    f"with {communication.customer}.",
                )
                target = reverse(
                    "communications:customer_timeline", args=[communication.customer_id]
                )
                return redirect_to(request, target)
        return self.render_form(form, None, status=422)

    def render_form(self, form: Any, obj: Any, status: int = 200) -> HttpResponse:
        customer = None
        value = form.data.get("customer") or form.initial.get("customer")
        if value and str(value).isdigit():
            customer = Customer.objects.filter(pk=int(value)).first()
        context = self.base_context(object=None, form=form, customer=customer)
        return render(self.request, self.template_name, context, status=status)


class CommunicationEditView(ObjectEditView):
    """Corrections to a logged call or meeting; received and sent e-mail is never edited."""

    model = Communication
    form_class = forms.EditForm

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().filter(raw_message__isnull=True)


class StepView(RecordStepView):
    """POST a change to one communication through its service."""

    model = Communication


class FileView(StepView):
    def perform(self, communication: Communication, request: HttpRequest) -> str:
        form = forms.FileForm(request.POST)
        if not form.is_valid():
            raise ValidationError("Choose the customer to file it under.")
        customer = form.cleaned_data["customer"]
        services.file_communication(
            communication,
            actor=request.user,
            customer=customer,
            contacts=list(customer.contacts.filter(email__iexact=communication.from_address)),
            note=form.cleaned_data.get("note") or "",
        )
        return f"{communication.number} is filed under {customer}."


class DismissView(StepView):
    def perform(self, communication: Communication, request: HttpRequest) -> str:
        services.dismiss(communication, actor=request.user, reason=request.POST.get("reason", ""))
        return f"{communication.number} is dismissed."


class CommunicationTransitionView(StepView):
    """The header's buttons: file under the customer already matched, or dismiss."""

    step = ""

    def post(self, request: HttpRequest, pk: int, name: str = "") -> HttpResponse:
        self.step = name
        return super().post(request, pk)

    def perform(self, communication: Communication, request: HttpRequest) -> str:
        if self.step == "dismiss":
            reason = request.POST.get("reason", "")
            services.dismiss(communication, actor=request.user, reason=reason)
            return f"{communication.number} is dismissed."
        if self.step != "file" or communication.customer is None:
            raise ValidationError("Choose the customer to file it under.")
        services.file_communication(
            communication, actor=request.user, customer=communication.customer
        )
        return f"{communication.number} is filed under {communication.customer}."


class LinkAddView(StepView):
    def perform(self, communication: Communication, request: HttpRequest) -> str:
        records = services.resolve_references(request.POST.get("reference", ""))
        if not records:
            raise ValidationError("Give the number of the record it concerns.")
        for record in records:
            services.add_link(communication, record, actor=request.user)
        return f"Linked {', '.join(links.label_of(r) for r in records)}."


class LinkDeleteView(ObjectPermissionMixin, View):
    model = Communication
    required_verb = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        link = get_object_or_404(
            CommunicationLink.objects.select_related("communication").filter(
                communication__in=self.get_queryset()
            ),
            pk=pk,
        )
        services.remove_link(link, actor=request.user)
        messages.success(request, f"Removed the link to {link.label}.")
        return redirect_to(request, link.communication.get_absolute_url())


class AttachmentFileView(ObjectPermissionMixin, View):
    model = Communication

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        attachment = get_object_or_404(
            Attachment.objects.select_related("file").filter(communication__in=self.get_queryset()),
            pk=pk,
        )
        if attachment.file is None:
            raise Http404("This attachment was too large to extract; see the original message.")
        return evidence_response(attachment.file)


class RawMessageView(ObjectPermissionMixin, View):
    model = Communication

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        communication = get_object_or_404(self.get_queryset().select_related("raw_message"), pk=pk)
        if communication.raw_message is None:
            raise Http404("This communication was logged by hand: there is no original message.")
        return evidence_response(communication.raw_message)


# --------------------------------------------------------------------------------------
# Threads and a customer's timeline
# --------------------------------------------------------------------------------------


class ThreadListView(ObjectListView):
    model = Thread
    queryset = Thread.objects.select_related("customer").annotate(messages=Count("communications"))
    filterset_class = filters.ThreadFilterSet
    default_order = "-last_at"
    columns = (
        Column("subject", "Subject", link=True),
        Column("customer.name", "Customer", order_by="customer__name"),
        Column("messages", "Messages"),
        Column("started_at", "Started", order_by="started_at"),
        Column("last_at", "Last message", order_by="last_at"),
    )


class ThreadDetailView(ObjectDetailView):
    model = Thread
    queryset = Thread.objects.select_related("customer")
    template_name = "communications/thread_detail.html"
    fields = (
        Column("customer", "Customer", link=True),
        Column("started_at", "Started"),
        Column("last_at", "Last message"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {
            "thread_messages": list(
                obj.communications.select_related("staff", "customer")
                .prefetch_related("attachments")
                .order_by("occurred_at", "pk")
            )
        }


class CustomerTimelineView(ObjectPermissionMixin, View):
    """Everything that passed between the customer and us, newest first."""

    model = Communication
    template_name = "communications/customer_timeline.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = get_object_or_404(
            scope_queryset(request.user, Customer.objects.select_related("region")), pk=pk
        )
        if not request.user.has_perm("customers.view_customer"):
            raise PermissionDenied
        try:
            limit = min(max(int(request.GET.get("limit", 200)), 1), 1000)
        except ValueError:
            limit = 200
        entries = customer_timeline(customer, user=request.user, limit=limit)
        context = self.base_context(
            customer=customer,
            entries=entries,
            limit=limit,
            total=Communication.objects.filter(customer=customer).count(),
            log_url=reverse("communications:communication_add") + f"?customer={customer.pk}",
        )
        return render(request, self.template_name, context)


# --------------------------------------------------------------------------------------
# Mail: imports, mailboxes, runs
# --------------------------------------------------------------------------------------


class MailImportView(ObjectPermissionMixin, View):
    """Upload an .eml or mbox file (a message kept in a personal inbox, an archive)."""

    model = Communication
    required_verb = "add"
    template_name = "communications/mail_import.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(forms.MailImportForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.MailImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(form, status=422)
        upload = form.cleaned_data["file"]
        run = services.import_mail_file(
            upload, name=upload.name, mailbox=form.cleaned_data.get("mailbox")
        )
        messages.success(request, run.message.splitlines()[0])
        return HttpResponseRedirect(run.get_absolute_url())

    def render_form(self, form: forms.MailImportForm, status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, self.base_context(form=form), status=status)


class MailboxListView(ObjectListView):
    model = Mailbox
    queryset = Mailbox.objects.select_related("feedback_source")
    filterset_class = filters.MailboxFilterSet
    default_order = "name"
    columns = (
        Column("name", "Name", order_by="name", link=True),
        Column("address", "Address"),
        Column("host", "Host"),
        Column("folder", "Folder"),
        Column("feedback_source", "Feedback rule"),
        Column("feedback_kind", "Kind"),
        Column("active", "Active", order_by="active"),
        Column("last_fetched_at", "Last fetched", order_by="last_fetched_at"),
    )


class MailboxDetailView(ObjectDetailView):
    model = Mailbox
    queryset = Mailbox.objects.select_related("feedback_source", "created_by", "updated_by")
    fields = (
        Column("address", "Address"),
        Column("host", "IMAP host (empty: HARKEN_IMAP_HOST)"),
        Column("port", "Port"),
        Column("use_ssl", "SSL/TLS from the start"),
        Column("username", "User name"),
        Column("password_env", "Password variable"),
        Column("folder", "Folder"),
        Column("done_folder", "Move processed mail to"),
        Column("ca_file", "CA certificate file"),
        Column("feedback_source", "Records inbound mail as feedback of", link=True),
        Column("feedback_kind", "Kind of feedback"),
        Column("phase", "Lifecycle phase"),
        Column("active", "Active"),
        Column("last_fetched_at", "Last fetched"),
    )
    template_name = "communications/mailbox_detail.html"

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        runs = obj.runs.order_by("-started_at")[:10]
        columns = RUN_COLUMNS
        return {
            "runs": {
                "title": "Latest runs",
                "columns": columns,
                "rows": [(r, [c.value(r) for c in columns]) for r in runs],
                "add_url": "",
            }
        }


class MailboxEditView(ObjectEditView):
    model = Mailbox
    form_class = forms.MailboxForm


RUN_COLUMNS: tuple[Column, ...] = (
    Column("started_at", "Started", order_by="started_at", link=True),
    Column("kind", "Kind", order_by="kind"),
    Column("mailbox.name", "Mailbox"),
    Column("file.name", "File"),
    Column("status", "Status", order_by="status"),
    Column("seen", "Read"),
    Column("created", "New"),
    Column("duplicates", "Already in the log"),
    Column("triaged", "To triage"),
    Column("failed", "Failed"),
)


class MailRunListView(ObjectListView):
    model = MailRun
    queryset = MailRun.objects.select_related("mailbox", "file")
    filterset_class = filters.MailRunFilterSet
    default_order = "-started_at"
    columns = RUN_COLUMNS

    def base_context(self, **extra: Any) -> dict[str, Any]:
        context = super().base_context(**extra)
        context["can_add"] = False
        return context


class MailRunDetailView(ObjectDetailView):
    model = MailRun
    queryset = MailRun.objects.select_related("mailbox", "file", "created_by")
    fields = (
        Column("kind", "Kind"),
        Column("mailbox", "Mailbox", link=True),
        Column("file", "File (SHA-256)"),
        Column("status", "Status"),
        Column("started_at", "Started"),
        Column("finished_at", "Finished"),
        Column("seen", "Messages read"),
        Column("created", "New communications"),
        Column("duplicates", "Already in the log"),
        Column("triaged", "Sent to triage"),
        Column("failed", "Failed"),
        Column("message", "Summary"),
    )


# --------------------------------------------------------------------------------------
# The communication lifecycle map
# --------------------------------------------------------------------------------------


def with_volume(queryset: QuerySet[LifecycleStage]) -> QuerySet[LifecycleStage]:
    """Stages with the number of communications logged in each over the last year."""
    since = timezone.now() - dt.timedelta(days=365)
    logged = (
        Communication.objects.filter(phase=OuterRef("phase"), occurred_at__gte=since)
        .order_by()
        .values("phase")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(logged=Coalesce(Subquery(logged), 0))


class LifecycleStageListView(ObjectListView):
    model = LifecycleStage
    queryset = with_volume(LifecycleStage.objects.select_related("procedure"))
    filterset_class = filters.LifecycleStageFilterSet
    default_order = "position"
    template_name = "communications/lifecyclestage_list.html"
    per_page = 100
    columns = (
        Column("phase", "Phase", order_by="position", link=True),
        Column("primary_channel", "Primary channel"),
        Column("other_channels", "Other channels"),
        Column("owner_role", "Owner role", order_by="owner_role"),
        Column("record_type", "Record kept"),
        Column("response_target", "Response target"),
        Column("procedure", "Governing document"),
        Column("logged", "Logged in the last 12 months"),
    )


class LifecycleStageDetailView(ObjectDetailView):
    model = LifecycleStage
    queryset = LifecycleStage.objects.select_related("procedure")
    fields = (
        Column("primary_channel", "Primary channel"),
        Column("other_channels", "Other channels"),
        Column("owner_role", "Owner role"),
        Column("record_type", "Record kept"),
        Column("response_target", "Response target"),
        Column("procedure", "Governing document", link=True),
        Column("notes", "Notes"),
    )


class LifecycleStageEditView(ObjectEditView):
    model = LifecycleStage
    form_class = forms.LifecycleStageForm


# --------------------------------------------------------------------------------------
# Notices to the holders of a superseded version
# --------------------------------------------------------------------------------------


class RevisionNoticeView(ObjectPermissionMixin, View):
    """`?version=<pk>`: the customers holding a superseded version, the notice, and Send."""

    model = Communication
    required_verb = "add"
    template_name = "communications/revision_notice.html"

    def version(self, request: HttpRequest) -> DocumentVersion:
        raw = request.GET.get("version") or request.POST.get("version") or ""
        if not raw.isdigit():
            raise Http404("Say which version was revised (?version=<id>).")
        return get_object_or_404(DocumentVersion.objects.select_related("document"), pk=int(raw))

    def get(self, request: HttpRequest) -> HttpResponse:
        version = self.version(request)
        plan = services.plan_notice(version)
        preview = None
        if not plan.blockers:
            preview = services.render_notice(plan, plan.holders[0], sender=request.user)
        recipients = [(h, services.notice_recipient(h)) for h in plan.holders]
        context = self.base_context(
            version=version, plan=plan, preview=preview, recipients=recipients
        )
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        version = self.version(request)
        try:
            result = services.send_revision_notices(version, actor=request.user)
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
            return HttpResponseRedirect(request.get_full_path())
        messages.success(request, f"Sent {len(result.sent)} notices of the revision of {version}.")
        for skipped in result.skipped:
            messages.warning(request, f"Not sent: {skipped}.")
        return HttpResponseRedirect(version.get_absolute_url())
