"""Document pages: the register of controlled documents, versions with their review and
approval, distributions to customers, and acknowledgements.

Every change goes through `services`; these views validate forms and show results.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from harken.core.files import store_file
from harken.core.permissions import can
from harken.core.tables import Column
from harken.core.views.generic import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
    redirect_to,
)
from harken.core.workflow import TransitionError, available_transitions

from . import filters, forms, services, tables
from .choices import CUSTOMER_FACING_KINDS, VERSION_COLOURS, VersionStatus
from .models import Acknowledgement, Distribution, Document, DocumentVersion


def store_upload(upload: Any, purpose: str) -> Any:
    return store_file(
        upload,
        name=upload.name,
        content_type=getattr(upload, "content_type", "") or "",
        purpose=purpose,
        max_size=forms.MAX_UPLOAD,
        uploaded=True,
    )


def with_current(queryset: QuerySet[Document]) -> QuerySet[Document]:
    """Documents annotated with their current version's label and effective date."""
    current = DocumentVersion.objects.filter(document=OuterRef("pk"), is_current=True)
    return queryset.annotate(
        current_label=Subquery(current.values("label")[:1]),
        current_effective=Subquery(current.values("effective_from")[:1]),
    )


# --------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------


class DocumentListView(ObjectListView):
    model = Document
    queryset = with_current(Document.objects.all())
    filterset_class = filters.DocumentFilterSet
    default_order = "number"
    columns = tables.DOCUMENT_COLUMNS


class DocumentDetailView(ObjectDetailView):
    model = Document
    queryset = Document.objects.select_related("created_by", "updated_by")
    template_name = "documents/document_detail.html"
    fields = (
        Column("kind", "Kind"),
        Column("owner_role", "Owner role"),
        Column("clauses", "Clauses served"),
        Column("purpose", "Purpose"),
        Column("acknowledge_role_labels", "Read and acknowledged by"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        versions = list(
            obj.versions.select_related("approved_by", "file").order_by("-created_at", "-pk")
        )
        current, readers = services.reading_status(obj)
        columns = tables.VERSION_COLUMNS
        distributions = (
            Distribution.objects.filter(version__document=obj)
            .select_related("version", "customer", "contact", "distributed_by")
            .order_by("-distributed_at")[:20]
        )
        related_columns = (tables.DISTRIBUTION_COLUMNS[0], *tables.DISTRIBUTION_COLUMNS[1:8])
        return {
            "current": current,
            "versions": {
                "title": "Versions",
                "columns": columns,
                "rows": [(v, [c.value(v) for c in columns]) for v in versions],
                "add_url": reverse("documents:documentversion_add") + f"?document={obj.pk}"
                if can(user, "add", DocumentVersion)
                else "",
            },
            "readers": readers,
            "readers_missing": [r for r in readers if r.acknowledged_at is None],
            "must_acknowledge": current is not None
            and services.must_acknowledge(user, current)
            and not any(r.user.pk == user.pk and r.acknowledged_at for r in readers),
            "customer_facing": obj.kind in CUSTOMER_FACING_KINDS,
            "distributions": {
                "title": "Latest copies provided to customers",
                "columns": related_columns,
                "rows": [(d, [c.value(d) for c in related_columns]) for d in distributions],
                "add_url": reverse("documents:distribution_add")
                if can(user, "add", Distribution)
                else "",
            },
            "distributions_url": reverse("documents:distribution_list") + f"?document={obj.pk}",
        }


class DocumentEditView(ObjectEditView):
    model = Document
    form_class = forms.DocumentForm


# --------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------


class DocumentVersionListView(ObjectListView):
    model = DocumentVersion
    queryset = DocumentVersion.objects.select_related("document", "approved_by")
    filterset_class = filters.DocumentVersionFilterSet
    default_order = "-created_at"
    columns = (
        Column("document.number", "Document", order_by="document__number"),
        Column("document.title", "Title"),
        *tables.VERSION_COLUMNS,
    )

    def base_context(self, **extra: Any) -> dict[str, Any]:
        context = super().base_context(**extra)
        context["can_add"] = False  # a version is added from its document's page
        return context


class DocumentVersionDetailView(ObjectDetailView):
    model = DocumentVersion
    queryset = DocumentVersion.objects.select_related(
        "document",
        "file",
        "reviewed_by",
        "approved_by",
        "superseded_by",
        "created_by",
        "updated_by",
    )
    template_name = "documents/documentversion_detail.html"
    fields = (
        Column("document", "Document", link=True),
        Column("status", "Status"),
        Column("is_current", "Current"),
        Column("effective_from", "Effective from"),
        Column("change_summary", "What changed"),
        Column("reviewed_by", "Reviewed by"),
        Column("reviewed_at", "Reviewed at"),
        Column("review_comment", "Review comment"),
        Column("approved_by", "Approved by"),
        Column("approved_at", "Approved at"),
        Column("superseded_by", "Superseded by", link=True),
        Column("superseded_at", "Superseded at"),
        Column("withdrawn_reason", "Why withdrawn"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        holders = list(services.holders(obj)) if obj.distributions.exists() else []
        moves = {t.name: blockers for t, blockers in available_transitions(obj, user)}
        columns = tables.DISTRIBUTION_COLUMNS
        distributions = obj.distributions.select_related(
            "version", "customer", "contact", "distributed_by"
        ).order_by("-distributed_at")[:50]
        acknowledged = []
        if obj.is_current:
            acknowledged = list(
                obj.acknowledgements.select_related("user").order_by("user__username")
            )
        return {
            "status_colour": VERSION_COLOURS.get(obj.status, "secondary"),
            "moves": moves,
            "can_review": can(user, "change", obj) and obj.status == VersionStatus.IN_REVIEW,
            "approve_form": forms.ApproveForm(
                initial={"effective_from": obj.effective_from or timezone.localdate()}
            ),
            "review_form": forms.ReviewForm(),
            "withdraw_form": forms.WithdrawForm(),
            "editable": services.may_edit(obj) and can(user, "change", obj),
            "holders": holders,
            "obsolete": obj.status in {VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN},
            "distributions": {
                "title": "Copies provided to customers",
                "columns": columns,
                "rows": [(d, [c.value(d) for c in columns]) for d in distributions],
                "add_url": "",
            },
            "acknowledged": acknowledged,
            "must_acknowledge": services.must_acknowledge(user, obj)
            and not any(a.user_id == user.pk for a in acknowledged),
        }


class DocumentVersionAddView(ObjectEditView):
    """A new draft of a document: `?document=<pk>`."""

    model = DocumentVersion
    form_class = forms.VersionForm

    def document(self) -> Document:
        raw = self.request.GET.get("document") or self.request.POST.get("document") or ""
        if not raw.isdigit():
            raise Http404("Say which document the version belongs to (?document=<id>).")
        return get_object_or_404(Document, pk=int(raw))

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        document = self.document()
        initial = {}
        current = services.current_version(document)
        if data is None and current is not None:
            initial = {"body": current.body}
        return self.form_class(data=data, files=files, document=document, initial=initial)

    def save_form(self, form: Any) -> Any:
        data = form.cleaned_data
        upload = data.get("upload")
        return services.create_version(
            form.document,
            actor=self.request.user,
            label=data["label"],
            body=data.get("body") or "",
            file=store_upload(upload, "document") if upload else None,
            change_summary=data.get("change_summary") or "",
            effective_from=data.get("effective_from"),
        )

    def render_form(self, form: Any, obj: Any, status: int = 200) -> HttpResponse:
        context = self.base_context(object=obj, form=form, document=form.document)
        return render(self.request, "documents/documentversion_edit.html", context, status=status)


class DocumentVersionEditView(DocumentVersionAddView):
    """A draft is edited in place (the audit trail keeps each change); nothing else is."""

    def get_queryset(self) -> QuerySet:
        return DocumentVersion.objects.filter(status=VersionStatus.DRAFT).select_related("document")

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        return self.form_class(data=data, files=files, instance=instance)

    def save_form(self, form: Any) -> Any:
        upload = form.cleaned_data.get("upload")
        version = form.save(commit=False)
        if upload:
            version.file = store_upload(upload, "document")
        version.save()
        return version


class DocumentVersionDeleteView(ObjectPermissionMixin, View):
    """Only a draft that nobody reviewed may be deleted; everything else is history."""

    model = DocumentVersion
    required_verb = "delete"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(DocumentVersion, pk=pk, status=VersionStatus.DRAFT)
        return render(request, "generic/object_delete.html", self.base_context(object=obj))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(DocumentVersion, pk=pk, status=VersionStatus.DRAFT)
        document = obj.document
        with transaction.atomic():
            obj.delete()
        messages.success(request, f"Deleted the draft {obj.label} of {document.number}.")
        return HttpResponseRedirect(document.get_absolute_url())


class DocumentVersionStepView(ObjectPermissionMixin, View):
    """POST one step of a version's life: submit, review, return, approve or withdraw."""

    model = DocumentVersion
    http_method_names = ["post"]

    def get_required_verb(self, request: HttpRequest) -> str:
        name = self.kwargs.get("name", "")
        return "approve" if name in {"approve", "withdraw"} else "change"

    def post(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        version = get_object_or_404(DocumentVersion.objects.select_related("document"), pk=pk)
        try:
            message = self.perform(version, name, request)
        except (TransitionError, ValidationError) as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(request, message)
        return redirect_to(request, version.get_absolute_url())

    def perform(self, version: DocumentVersion, name: str, request: HttpRequest) -> str:
        user = request.user
        if name == "submit":
            services.submit(version, actor=user)
            return f"{version} is in review."
        if name == "review":
            form = forms.ReviewForm(request.POST)
            form.is_valid()
            services.record_review(
                version, actor=user, comment=form.cleaned_data.get("comment", "")
            )
            return f"Recorded your review of {version}."
        if name == "return":
            services.return_to_draft(version, actor=user, comment=request.POST.get("comment", ""))
            return f"{version} is a draft again."
        if name == "approve":
            approve_form = forms.ApproveForm(request.POST)
            if not approve_form.is_valid():
                raise ValidationError({"effective_from": "Give the date it takes effect."})
            services.approve(
                version, actor=user, effective_from=approve_form.cleaned_data["effective_from"]
            )
            if version.is_current:
                return f"{version} is approved and current."
            return f"{version} is approved; it takes effect on {version.effective_from}."
        if name == "withdraw":
            services.withdraw(version, actor=user, reason=request.POST.get("reason", ""))
            return f"{version} is withdrawn."
        raise Http404("No such step.")


class DocumentVersionFileView(ObjectPermissionMixin, View):
    model = DocumentVersion

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        version = get_object_or_404(DocumentVersion.objects.select_related("file"), pk=pk)
        if version.file is None:
            raise Http404("This version has no file.")
        return FileResponse(
            version.file.open(),
            as_attachment=True,
            filename=version.file.name,
            content_type=version.file.content_type or "application/octet-stream",
        )


class AcknowledgeView(ObjectPermissionMixin, View):
    """POST: the signed-in person's "read and understood" of the current version."""

    model = DocumentVersion
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = get_object_or_404(DocumentVersion.objects.select_related("document"), pk=pk)
        try:
            services.acknowledge(version, actor=request.user)
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        except PermissionDenied:
            raise
        else:
            messages.success(request, f"Recorded that you read and understood {version}.")
        return redirect_to(request, request.POST.get("next") or version.document.get_absolute_url())


# --------------------------------------------------------------------------------------
# Distributions and acknowledgements
# --------------------------------------------------------------------------------------


class DistributionListView(ObjectListView):
    model = Distribution
    queryset = Distribution.objects.select_related(
        "version__document", "customer", "contact", "distributed_by"
    )
    filterset_class = filters.DistributionFilterSet
    default_order = "-distributed_at"
    columns = tables.DISTRIBUTION_COLUMNS
    export_columns = tables.DISTRIBUTION_EXPORT_COLUMNS


class DistributionDetailView(ObjectDetailView):
    model = Distribution
    queryset = Distribution.objects.select_related(
        "version__document", "customer", "contact", "distributed_by", "via_type"
    )
    fields = (
        Column("version", "Version", link=True),
        Column("version.status", "Version status now"),
        Column("customer", "Customer", link=True),
        Column("contact", "Contact", link=True),
        Column("distributed_at", "Provided at"),
        Column("occasion", "Occasion"),
        Column("reason", "Why"),
        Column("reference", "Reference"),
        Column("distributed_by", "Provided by"),
        Column("via", "Sent with", link=True),
    )


class DistributionAddView(ObjectPermissionMixin, View):
    """A copy provided outside Harken's communications (handed over, with a quote…)."""

    model = Distribution
    required_verb = "add"
    template_name = "documents/distribution_add.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {key: request.GET[key] for key in ("version", "customer") if request.GET.get(key)}
        return self.render_form(forms.DistributionForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.DistributionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            provision = services.Provision(
                version=data["version"],
                customer=data["customer"],
                contact=data.get("contact"),
                at=data["distributed_at"],
                occasion=data["occasion"],
                reason=data["reason"],
                reference=data.get("reference") or "",
            )
            try:
                distribution = services.record_distribution(provision, actor=request.user)
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Recorded {distribution.number}: {distribution.version} "
                    f"provided to {distribution.customer}.",
                )
                return redirect_to(request, distribution.get_absolute_url())
        return self.render_form(form, status=422)

    def render_form(self, form: forms.DistributionForm, status: int = 200) -> HttpResponse:
        context = self.base_context(form=form, object=None)
        return render(self.request, self.template_name, context, status=status)


class AcknowledgementListView(ObjectListView):
    model = Acknowledgement
    queryset = Acknowledgement.objects.select_related("user", "version__document")
    filterset_class = filters.AcknowledgementFilterSet
    default_order = "-acknowledged_at"
    columns = tables.ACKNOWLEDGEMENT_COLUMNS

    def base_context(self, **extra: Any) -> dict[str, Any]:
        context = super().base_context(**extra)
        context["can_add"] = False  # acknowledged on the document's page, by each person
        return context
