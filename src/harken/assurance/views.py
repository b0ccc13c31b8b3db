"""Assurance pages: the trace of any record, the readiness check, sample audits and
evidence packs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from harken.core import audit
from harken.core.reauth import recent_password_required
from harken.core.tables import Column
from harken.core.views.generic import ObjectDetailView, ObjectListView

from . import evidence, services
from .choices import OUTCOME_COLOURS
from .forms import PeriodForm, SampleAuditForm, last_quarter
from .graph import render as render_graph
from .models import EvidenceExport, ReadinessRun, SampleAudit
from .readiness import run
from .trace import trace_for


@login_required
def trace(request: HttpRequest) -> HttpResponse:
    """`?feedbackitem=12` (or theme, action, signal, reviewpack, reviewmeeting, disposition)."""
    subject = None
    for param in request.GET:
        subject = services.traceable(param, request.GET.get(param, ""))
        if subject is not None:
            break
    if subject is None:
        raise Http404("Name the record to trace.")
    meta = subject._meta
    if not request.user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
        raise PermissionDenied
    thread = trace_for(subject)
    graph = render_graph(thread)
    if request.GET.get("format") == "pdf":
        from weasyprint import HTML

        html = render_to_string(
            "assurance/trace_document.html", {"trace": thread, "subject": subject, "graph": graph}
        )
        audit.record("trace.exported", subject, changes={"format": "pdf"})
        response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="trace-{subject.pk}.pdf"'
        return response
    return render(
        request,
        "assurance/trace.html",
        {"trace": thread, "subject": subject, "graph": graph, "query": request.GET.urlencode()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def readiness(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("assurance.view_readinessrun"):
        raise PermissionDenied
    if request.method == "POST":
        if not request.user.has_perm("assurance.add_readinessrun"):
            raise PermissionDenied
        _, stored = run()
        messages.success(request, f"Readiness checked: {stored}.")
        return HttpResponseRedirect(reverse("assurance:readiness"))
    latest = ReadinessRun.objects.order_by("-ran_at").first()
    history = list(ReadinessRun.objects.order_by("-ran_at")[:30])
    return render(
        request,
        "assurance/readiness.html",
        {
            "latest": latest,
            "history": history,
            "colours": OUTCOME_COLOURS,
            "can_run": request.user.has_perm("assurance.add_readinessrun"),
            "chain": services.latest_chain_check(),
        },
    )


class SampleAuditListView(ObjectListView):
    model = SampleAudit
    queryset = SampleAudit.objects.select_related("auditor")
    default_order = "-created_at"
    template_name = "assurance/sampleaudit_list.html"
    columns = (
        Column("number", "Number", order_by="number", link=True),
        Column("kind", "Records", order_by="kind"),
        Column("period_start", "From", order_by="period_start"),
        Column("period_end", "To"),
        Column("size", "Sample"),
        Column("population", "Population"),
        Column("complete", "Complete"),
        Column("auditor", "Auditor"),
    )


class SampleAuditDetailView(ObjectDetailView):
    model = SampleAudit
    template_name = "assurance/sampleaudit_detail.html"
    fields = (
        Column("kind", "Records"),
        Column("period_start", "From"),
        Column("period_end", "To"),
        Column("size", "Sample size"),
        Column("seed", "Seed"),
        Column("population", "Records in the period"),
        Column("complete", "Complete records"),
        Column("auditor", "Auditor"),
        Column("notes", "Notes"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def sample_audit_add(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("assurance.add_sampleaudit"):
        raise PermissionDenied
    start, end = last_quarter()
    form = SampleAuditForm(request.POST or None, initial={"period_start": start, "period_end": end})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.sample_audit(
                actor=request.user,
                kind=data["kind"],
                start=data["period_start"],
                end=data["period_end"],
                size=data["size"],
                seed=data["seed"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return HttpResponseRedirect(record.get_absolute_url())
    return render(
        request,
        "assurance/sampleaudit_add.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


class EvidenceExportListView(ObjectListView):
    model = EvidenceExport
    queryset = EvidenceExport.objects.select_related("file", "created_by")
    default_order = "-created_at"
    template_name = "assurance/evidenceexport_list.html"
    columns = (
        Column("number", "Number (download)", order_by="number", link=True),
        Column("period_start", "From", order_by="period_start"),
        Column("period_end", "To"),
        Column("file.sha256", "ZIP SHA-256"),
        Column("chain_head_seq", "Chain head"),
        Column("created_by", "By"),
        Column("created_at", "When", order_by="created_at"),
    )

    def base_context(self, **extra: Any) -> dict[str, Any]:
        return super().base_context(**extra, **period_form_context())


@login_required
@require_http_methods(["POST"])
@recent_password_required
def evidence_export(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("assurance.export_evidenceexport"):
        raise PermissionDenied
    form = PeriodForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return HttpResponseRedirect(reverse("assurance:evidenceexport_list"))
    record = evidence.export(form.cleaned_data["period_start"], form.cleaned_data["period_end"])
    messages.success(request, f"{record.number} is ready: its SHA-256 is {record.file.sha256}.")
    return HttpResponseRedirect(reverse("assurance:evidenceexport_list"))


@login_required
@recent_password_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    if not request.user.has_perm("assurance.export_evidenceexport"):
        raise PermissionDenied
    record = get_object_or_404(EvidenceExport, pk=pk)
    audit.record("evidenceexport.downloaded", record, changes={"sha256": record.file.sha256})
    return FileResponse(record.file.open(), as_attachment=True, filename=record.file.name)


def period_form_context() -> dict[str, Any]:
    start, end = last_quarter()
    return {"period_form": PeriodForm(initial={"period_start": start, "period_end": end})}
