"""Review pages: series and where each stands, packs drafted, issued, verified and
downloaded, the slide view of the management review input, and meetings with their
minutes, decisions and approval.

Every change goes through `services` (or, for plain edits, a form and the automatic
audit trail); this module arranges records and the services' answers for people. An
issued pack, and a meeting whose minutes are approved, answer every change with 409
and a sentence saying why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views import View
from django.views.decorators.clickjacking import xframe_options_sameorigin

from harken.core.permissions import can
from harken.core.tables import Column
from harken.core.templatetags.harken import badge
from harken.core.views.generic import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
    ObjectTransitionView,
)
from harken.core.workflow import TransitionError, available_transitions

from . import filters, forms, services
from .choices import (
    MEETING_COLOURS,
    PACK_COLOURS,
    DecisionKind,
    MeetingStatus,
    PackKind,
    PackStatus,
)
from .models import ReviewMeeting, ReviewPack, ReviewSeries
from .pack import scope_labels
from .panels import period_text, state_badge, state_of, state_text, with_reviewed_to

# Packs and meetings shown on a series' page; the lists hold the rest.
RELATED_ROWS = 12
# A chain of revisions longer than this is a fault in the data, not a history.
MAX_REVISIONS = 100
SHA_PREFIX = 12
# The pack's document, shown in a frame or opened on its own, runs no script and loads
# nothing: its styles and SVG charts are inline.
DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)


def as_pk(value: Any) -> int:
    """A record id from a query string; anything else is a page that does not exist."""
    text = str(value).strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    raise Http404("No such record.")


def refused(request: HttpRequest, obj: Any, message: str, status: int = 409) -> HttpResponse:
    """A change the record's state no longer allows: nothing is saved, the page says why."""
    return render(
        request,
        "reviews/refused.html",
        {"object": obj, "message": message, "verbose_name": obj._meta.verbose_name},
        status=status,
    )


def redirect_to(obj: Any, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(obj.get_absolute_url() + (f"#{anchor}" if anchor else ""))


def describe_scope(scope: dict[str, Any]) -> str:
    """A stored scope in words: "Product lines: Industrial Valves; Regions: North"."""
    labels = scope_labels(scope or {})
    if not labels:
        return "Everything"
    return "; ".join(
        f"{key.replace('_', ' ').capitalize()}: {', '.join(values)}"
        for key, values in labels.items()
    )


# --------------------------------------------------------------------------------------
# Series
# --------------------------------------------------------------------------------------


def standing(series: Any) -> services.SeriesState:
    """The series' state, worked out once per row (its columns share it)."""
    state = getattr(series, "_review_state", None)
    if state is None:
        state = series._review_state = state_of(series, timezone.localdate())
    return state


class SeriesStateColumn(Column):
    """One part of the series' standing: `accessor` is "period", "due_on" or "state"."""

    def value(self, obj: Any) -> Any:
        state = standing(obj)
        if self.accessor == "period":
            return period_text(*state.period)
        if self.accessor == "due_on":
            return state.due_on
        return state_badge(state)


class SeriesStateTextColumn(SeriesStateColumn):
    """The same, in words for the exports."""

    def value(self, obj: Any) -> Any:
        if self.accessor == "state":
            return state_text(standing(obj))
        return super().value(obj)


class ScopeColumn(Column):
    def value(self, obj: Any) -> Any:
        return describe_scope(obj.scope)


SERIES_COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", order_by="name", link=True),
    Column("kind", "Produces", order_by="kind"),
    Column("cadence", "Cadence", order_by="cadence"),
    Column("owner", "Owner"),
    SeriesStateColumn("period", "Last period"),
    SeriesStateColumn("due_on", "Due on"),
    SeriesStateColumn("state", "State"),
    Column("active", "Active", order_by="active"),
)
SERIES_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("name", "Name"),
    Column("kind", "Produces"),
    Column("cadence", "Cadence"),
    Column("owner.username", "Owner"),
    Column("grace_days", "Days allowed after the period"),
    ScopeColumn("scope", "Scope"),
    SeriesStateTextColumn("period", "Last period"),
    SeriesStateTextColumn("due_on", "Due on"),
    SeriesStateTextColumn("state", "State"),
    Column("active", "Active"),
)


class ReviewSeriesListView(ObjectListView):
    model = ReviewSeries
    filterset_class = filters.ReviewSeriesFilterSet
    default_order = "name"
    columns = SERIES_COLUMNS
    export_columns = SERIES_EXPORT_COLUMNS

    def get_queryset(self) -> QuerySet:
        return with_reviewed_to(ReviewSeries.objects.select_related("owner"))


class ReviewSeriesDetailView(ObjectDetailView):
    model = ReviewSeries
    template_name = "reviews/reviewseries_detail.html"
    fields = (
        Column("kind", "Produces"),
        Column("cadence", "Cadence"),
        Column("owner", "Owner"),
        Column("grace_days", "Days allowed after the period"),
        ScopeColumn("scope", "Scope"),
        Column("active", "Active"),
    )

    def get_queryset(self) -> QuerySet:
        return with_reviewed_to(
            ReviewSeries.objects.select_related("owner", "created_by", "updated_by")
        )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        series: ReviewSeries = obj
        state = state_of(series, timezone.localdate())
        packs = list(
            series.packs.select_related("issued_by")
            .defer("content")
            .order_by("-period_end", "-revision")[:RELATED_ROWS]
        )
        meetings = list(
            series.meetings.select_related("pack", "chair")
            .defer("pack__content")
            .order_by("-held_on")[:RELATED_ROWS]
        )
        return {
            "state": state,
            "state_badge": state_badge(state),
            "state_period": period_text(*state.period),
            "packs": packs,
            "meetings": meetings,
            "pack_colours": PACK_COLOURS,
            "meeting_colours": MEETING_COLOURS,
            "packs_url": reverse("reviews:reviewpack_list") + f"?series={series.pk}",
            "meetings_url": reverse("reviews:reviewmeeting_list") + f"?series={series.pk}",
            "draft_url": reverse("reviews:reviewpack_add") + f"?series={series.pk}"
            if can(user, "add", ReviewPack)
            else "",
            "plan_url": reverse("reviews:reviewmeeting_add") + f"?series={series.pk}"
            if can(user, "add", ReviewMeeting)
            else "",
        }


class ReviewSeriesEditView(ObjectEditView):
    model = ReviewSeries
    form_class = forms.ReviewSeriesForm

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        if instance is None and data is None:
            return self.form_class(initial={"owner": self.request.user.pk})
        return super().get_form(instance, data=data, files=files)


# --------------------------------------------------------------------------------------
# Packs
# --------------------------------------------------------------------------------------


class PackStatusColumn(Column):
    def value(self, obj: Any) -> Any:
        return badge(obj.get_status_display(), PACK_COLOURS.get(obj.status, "secondary"))


class ShaPrefixColumn(Column):
    def value(self, obj: Any) -> Any:
        digest = getattr(obj, self.accessor, "")
        return f"{digest[:SHA_PREFIX]}…" if digest else None


PACK_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("kind", "Kind", order_by="kind"),
    Column("period_label", "Period", order_by="period_end"),
    Column("series", "Series"),
    PackStatusColumn("status", "Status", order_by="status"),
    Column("revision", "Revision", order_by="revision"),
    Column("issued_at", "Issued at", order_by="issued_at"),
    Column("issued_by", "Issued by"),
    ShaPrefixColumn("content_sha256", "Content SHA-256"),
)
PACK_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("kind", "Kind"),
    Column("period_start", "Period from"),
    Column("period_end", "Period to"),
    Column("series.name", "Series"),
    Column("status", "Status"),
    Column("revision", "Revision"),
    Column("replaces.number", "Replaces"),
    Column("issued_at", "Issued at"),
    Column("issued_by.username", "Issued by"),
    Column("content_sha256", "Content SHA-256"),
    Column("html_file.sha256", "HTML SHA-256"),
    Column("pdf_file.sha256", "PDF SHA-256"),
)


class ReviewPackListView(ObjectListView):
    model = ReviewPack
    queryset = ReviewPack.objects.select_related(
        "series", "issued_by", "replaces", "html_file", "pdf_file"
    ).defer("content", "replaces__content")
    filterset_class = filters.ReviewPackFilterSet
    template_name = "reviews/reviewpack_list.html"
    default_order = "-period_end"
    columns = PACK_COLUMNS
    export_columns = PACK_EXPORT_COLUMNS

    def base_context(self, **extra: Any) -> dict[str, Any]:
        context = super().base_context(**extra)
        # A pack is drafted from the data, not typed in: the button says so.
        context["can_draft"], context["can_add"] = context["can_add"], False
        return context


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    first = today.replace(day=1)
    return services.add_months(first, -1), first - dt.timedelta(days=1)


class ReviewPackDraftView(ObjectPermissionMixin, View):
    """Draft a pack for a period (`services.draft_pack` fills it from the data)."""

    model = ReviewPack
    required_verb = "add"
    template_name = "reviews/reviewpack_draft.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        start, end = last_month(today)
        initial: dict[str, Any] = {"period_start": start, "period_end": end, "anonymise": True}
        if series_id := request.GET.get("series"):
            series = get_object_or_404(ReviewSeries, pk=as_pk(series_id))
            start, end = services.last_period(series, today)
            initial.update(series=series.pk, period_start=start, period_end=end)
        return self.show(forms.DraftPackForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.DraftPackForm(request.POST)
        if not form.is_valid():
            return self.show(form, status=422)
        data = form.cleaned_data
        try:
            pack = services.draft_pack(
                actor=request.user,
                period_start=data["period_start"],
                period_end=data["period_end"],
                series=data["series"],
                kind=data["kind"] or None,
                anonymise=data["anonymise"],
            )
        except ValidationError as exc:
            forms.service_errors(form, exc)
            return self.show(form, status=422)
        messages.success(request, f"Drafted {pack.number} from the data.")
        return redirect_to(pack)

    def show(self, form: forms.DraftPackForm, status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, self.base_context(form=form), status=status)


def revision_chain(pack: ReviewPack) -> list[ReviewPack]:
    """Every revision of the pack's period, first to last: what it replaces, and what
    replaced it."""
    earlier: list[ReviewPack] = []
    current = pack
    while current.replaces_id and len(earlier) < MAX_REVISIONS:
        current = ReviewPack.objects.defer("content").get(pk=current.replaces_id)
        earlier.append(current)
    later: list[ReviewPack] = []
    current = pack
    while len(later) < MAX_REVISIONS:
        following = ReviewPack.objects.defer("content").filter(replaces=current).first()
        if following is None:
            break
        later.append(following)
        current = following
    return [*reversed(earlier), pack, *later]


class ReviewPackDetailView(ObjectDetailView):
    """A draft shows its document as it stands, its words to edit, refresh and issue; an
    issued pack shows its hashes, downloads, verification and revisions."""

    model = ReviewPack
    queryset = ReviewPack.objects.select_related(
        "series", "issued_by", "html_file", "pdf_file", "replaces", "created_by", "updated_by"
    ).defer("replaces__content")
    template_name = "reviews/reviewpack_detail.html"
    fields = (
        Column("kind", "Kind"),
        Column("series", "Series", link=True),
        Column("period_label", "Period"),
        Column("anonymise", "Customer names anonymised"),
        Column("revision", "Revision"),
    )
    # A bound text form to show again with its errors (set by the edit view).
    text_form: forms.PackTextForm | None = None

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        pack: ReviewPack = obj
        draft = pack.status == PackStatus.DRAFT
        chain = revision_chain(pack)
        revised = chain[-1] != pack
        generated = parse_datetime(str(pack.content.get("generated_at", "")))
        text_form = None
        if draft and can(user, "change", pack):
            text_form = self.text_form or forms.PackTextForm(instance=pack)
        return {
            "status_badge": badge(
                pack.get_status_display(), PACK_COLOURS.get(pack.status, "secondary")
            ),
            "draft": draft,
            "scope_text": describe_scope(pack.scope),
            "generated_at": generated,
            "text_form": text_form,
            "can_refresh": draft and can(user, "change", pack),
            "can_issue": draft and can(user, "issue", pack),
            "may_export": can(user, "export", pack),
            "can_revise": pack.status == PackStatus.ISSUED
            and not revised
            and can(user, "add", pack),
            "chain": chain if len(chain) > 1 else [],
            "meetings": list(pack.meetings.select_related("series").order_by("-held_on")),
            "can_plan": can(user, "add", ReviewMeeting),
            "evidence_files": [("HTML", "html", pack.html_file), ("PDF", "pdf", pack.pdf_file)],
        }


class ReviewPackEditView(ReviewPackDetailView):
    """Save a draft's words and rebuild it from the data; an issued pack refuses (409)."""

    http_method_names = ["post"]
    required_verb = "change"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pack = get_object_or_404(ReviewPack, pk=pk)
        if pack.is_frozen:
            return refused(request, pack, frozen_message(pack))
        form = forms.PackTextForm(request.POST, instance=pack)
        if not form.is_valid():
            self.text_form = form
            response = self.get(request, pk)
            response.status_code = 422
            return response
        with transaction.atomic():
            locked = ReviewPack.objects.select_for_update().get(pk=pk)
            if locked.is_frozen:
                return refused(request, locked, frozen_message(locked))
            for name in form.changed_data:
                setattr(locked, name, form.cleaned_data[name])
            locked.save(update_fields=list(form.fields))
            services.refresh(locked)
        messages.success(request, "Saved, and the pack is rebuilt from the data with your words.")
        return redirect_to(pack)


def frozen_message(pack: ReviewPack) -> str:
    return (
        f"{pack.number} is {pack.get_status_display().lower()}: its content is frozen and "
        "hashed, and nothing in it can change. Draft a revision to correct it."
    )


class ReviewPackRefreshView(ObjectPermissionMixin, View):
    model = ReviewPack
    required_verb = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pack = get_object_or_404(ReviewPack, pk=pk)
        if pack.is_frozen:
            return refused(request, pack, frozen_message(pack))
        services.refresh(pack)
        messages.success(request, f"{pack.number} is rebuilt from the data as it stands now.")
        return redirect_to(pack)


class ReviewPackIssueView(ObjectPermissionMixin, View):
    """Confirm, then issue: the content freezes, the HTML and PDF are stored with their
    SHA-256, and the pack never changes again."""

    model = ReviewPack
    required_verb = "issue"
    template_name = "reviews/reviewpack_issue.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        pack = get_object_or_404(
            ReviewPack.objects.select_related("replaces").defer("replaces__content"), pk=pk
        )
        if pack.is_frozen:
            return refused(request, pack, f"{pack.number} is issued already.")
        context = self.base_context(
            object=pack,
            generated_at=parse_datetime(str(pack.content.get("generated_at", ""))),
            can_refresh=can(request.user, "change", pack),
        )
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pack = get_object_or_404(ReviewPack, pk=pk)
        if pack.is_frozen:
            return refused(request, pack, f"{pack.number} is issued already.")
        try:
            services.issue(pack, actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect_to(pack)
        messages.success(
            request,
            f"Issued {pack.number}: content SHA-256 {pack.content_sha256[:SHA_PREFIX]}…",
        )
        return redirect_to(pack)


class ReviewPackReviseView(ObjectPermissionMixin, View):
    """A new draft revision of an issued pack; issuing it replaces the old one."""

    model = ReviewPack
    required_verb = "add"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pack = get_object_or_404(ReviewPack, pk=pk)
        try:
            revision = services.revise(pack, actor=request.user)
        except ValidationError as exc:
            return refused(request, pack, " ".join(exc.messages))
        messages.success(
            request, f"Drafted {revision.number}, revision {revision.revision} of {pack.number}."
        )
        return redirect_to(revision)


class ReviewPackVerifyView(ObjectPermissionMixin, View):
    """Recompute the content's and the files' SHA-256 (`services.verify`)."""

    model = ReviewPack

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        pack = get_object_or_404(ReviewPack.objects.select_related("html_file", "pdf_file"), pk=pk)
        context = self.base_context(
            object=pack, result=services.verify(pack), checked_at=timezone.now()
        )
        template = (
            "reviews/_verification.html"
            if request.htmx  # type: ignore[attr-defined]
            else "reviews/reviewpack_verify.html"
        )
        return render(request, template, context)


def missing_message(pack: ReviewPack, fmt: str) -> str:
    return f"The stored {fmt.upper()} of {pack.number} is missing from storage; verify the pack."


def read_stored(pack: ReviewPack, evidence: Any) -> bytes:
    try:
        with evidence.open() as handle:
            return handle.read()
    except OSError as exc:
        raise Http404(missing_message(pack, "html")) from exc


class ReviewPackDocumentView(ObjectPermissionMixin, View):
    """The pack as a document, for the frame on its page: an issued pack's stored HTML
    exactly as issued, a draft's rendered afresh from its content."""

    model = ReviewPack

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        pack = get_object_or_404(ReviewPack.objects.select_related("html_file"), pk=pk)
        if pack.html_file is not None:
            body = read_stored(pack, pack.html_file)
        else:
            body = services.render_html(pack).encode()
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = DOCUMENT_CSP
        return response

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return xframe_options_sameorigin(super().as_view(**initkwargs))


class ReviewPackDownloadView(ObjectPermissionMixin, View):
    """The stored HTML or PDF of an issued pack, byte for byte; the export is recorded."""

    model = ReviewPack
    required_verb = "export"
    FORMATS = {"html": "text/html", "pdf": "application/pdf"}

    def get(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
        if fmt not in self.FORMATS:
            raise Http404("Choose html or pdf.")
        pack = get_object_or_404(ReviewPack.objects.select_related("html_file", "pdf_file"), pk=pk)
        evidence = pack.html_file if fmt == "html" else pack.pdf_file
        if evidence is None:
            raise Http404(
                f"{pack.number} has no stored {fmt.upper()}"
                + (": a draft has none until it is issued." if not pack.is_frozen else ".")
            )
        try:
            handle = evidence.open()
        except OSError as exc:
            raise Http404(missing_message(pack, fmt)) from exc
        services.record_export(pack, fmt)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{pack.number}.{fmt}",
            content_type=self.FORMATS[fmt],
        )


class ReviewPackSlidesView(ObjectPermissionMixin, View):
    """The pack for a meeting room: one section per screen, large type, printable."""

    model = ReviewPack
    template_name = "reviews/reviewpack_slides.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        pack = get_object_or_404(ReviewPack.objects.select_related("pdf_file"), pk=pk)
        context = self.base_context(
            object=pack,
            c=pack.content,
            draft=pack.status == PackStatus.DRAFT,
            is_management=pack.kind == PackKind.MANAGEMENT,
            pdf_url=reverse("reviews:reviewpack_download", args=[pack.pk, "pdf"])
            if pack.pdf_file_id and can(request.user, "export", pack)
            else "",
        )
        return render(request, self.template_name, context)


# --------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------


class MeetingStatusColumn(Column):
    def value(self, obj: Any) -> Any:
        return badge(obj.get_status_display(), MEETING_COLOURS.get(obj.status, "secondary"))


class MeetingPeriodColumn(Column):
    def value(self, obj: Any) -> Any:
        return period_text(obj.period_start, obj.period_end)


MEETING_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("series", "Series"),
    Column("held_on", "Held on", order_by="held_on"),
    MeetingPeriodColumn("period_end", "Period reviewed", order_by="period_end"),
    Column("pack.number", "Pack"),
    Column("chair", "Chair"),
    MeetingStatusColumn("status", "Status", order_by="status"),
)
MEETING_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("series.name", "Series"),
    Column("held_on", "Held on"),
    Column("period_start", "Period from"),
    Column("period_end", "Period to"),
    Column("pack.number", "Pack"),
    Column("chair.username", "Chair"),
    Column("attendees", "Attendees"),
    Column("other_attendees", "Other attendees"),
    Column("status", "Status"),
    Column("approved_at", "Minutes approved at"),
    Column("minutes", "Minutes"),
    Column("follow_ups", "Follow-ups"),
)


class ReviewMeetingListView(ObjectListView):
    model = ReviewMeeting
    # The pack's content snapshot (charts and all) is not shown here: it stays behind.
    queryset = ReviewMeeting.objects.select_related("series", "pack", "chair").defer(
        "pack__content"
    )
    filterset_class = filters.ReviewMeetingFilterSet
    default_order = "-held_on"
    columns = MEETING_COLUMNS
    export_columns = MEETING_EXPORT_COLUMNS

    def get(self, request: HttpRequest) -> HttpResponseBase:
        if request.GET.get("export"):
            # The export names every attendee: one query for them all.
            self.queryset = self.queryset.prefetch_related("attendees")
        return super().get(request)


def approved_message(meeting: ReviewMeeting) -> str:
    return (
        f"The minutes of {meeting.number} are approved: the meeting is on the record as it "
        "was, and nothing in it can change."
    )


class ReviewMeetingDetailView(ObjectDetailView):
    """Who attended, the pack reviewed, the minutes, the decisions and what each made;
    forms for the minutes and decisions until the chair approves the minutes."""

    model = ReviewMeeting
    queryset = ReviewMeeting.objects.select_related(
        "series", "pack", "chair", "created_by", "updated_by"
    ).defer("pack__content")
    template_name = "reviews/reviewmeeting_detail.html"
    fields = (
        Column("series", "Series", link=True),
        Column("held_on", "Held on"),
        MeetingPeriodColumn("period_end", "Period reviewed"),
        Column("chair", "Chair"),
        Column("approved_at", "Minutes approved at"),
    )
    # Bound forms to show again with their errors (set by the posting views).
    minutes_form: forms.MinutesForm | None = None
    decision_form: forms.DecisionForm | None = None

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        meeting: ReviewMeeting = obj
        approved = meeting.status == MeetingStatus.APPROVED
        editable = not approved and can(user, "change", meeting)
        is_chair = user.pk == meeting.chair_id
        moves = [
            (transition, blockers)
            for transition, blockers in available_transitions(meeting, user)
            if transition.name != "approve" or is_chair
        ]
        decision_form = None
        if editable:
            decision_form = self.decision_form or forms.DecisionForm(
                initial=forms.DecisionForm.initial_for(user, timezone.localdate())
            )
        return {
            "status_badge": badge(
                meeting.get_status_display(), MEETING_COLOURS.get(meeting.status, "secondary")
            ),
            "approved": approved,
            "editable": editable,
            "is_chair": is_chair,
            "meeting_moves": moves,
            "waits_for_chair": meeting.status == MeetingStatus.HELD and not is_chair,
            "attendees": list(meeting.attendees.order_by("username")),
            "decisions": list(
                meeting.decisions.select_related(
                    "disposition", "disposition__theme", "action", "objective"
                )
            ),
            "minutes_form": (self.minutes_form or forms.MinutesForm(instance=meeting))
            if editable
            else None,
            "decision_form": decision_form,
            "meeting_edit_url": reverse("reviews:reviewmeeting_edit", args=[meeting.pk])
            if editable
            else "",
            "pack_colour": PACK_COLOURS.get(meeting.pack.status, "secondary")
            if meeting.pack
            else "",
        }

    def show_again(self, request: HttpRequest, pk: int, status: int) -> HttpResponse:
        response = self.get(request, pk)
        response.status_code = status
        return response


class ReviewMeetingEditView(ObjectEditView):
    """Plan a meeting (prefilled from `?series=` or `?pack=`) or correct one until its
    minutes are approved."""

    model = ReviewMeeting
    form_class = forms.ReviewMeetingForm

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        meeting = self.get_object()
        if meeting is not None and meeting.status == MeetingStatus.APPROVED:  # type: ignore[attr-defined]
            return refused(request, meeting, approved_message(meeting))  # type: ignore[arg-type]
        return super().get(request, pk)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        meeting = self.get_object()
        if meeting is not None and meeting.status == MeetingStatus.APPROVED:  # type: ignore[attr-defined]
            return refused(request, meeting, approved_message(meeting))  # type: ignore[arg-type]
        return super().post(request, pk)

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        if instance is None and data is None:
            return self.form_class(initial=self.prefill())
        return self.form_class(data=data, files=files, instance=instance)

    def save_form(self, form: Any) -> models.Model:
        if form.instance.pk is None:
            return form.save()
        # Only the form's fields are written, under a lock, so an approval that lands
        # meanwhile is neither overwritten nor edited after the fact.
        locked = ReviewMeeting.objects.select_for_update().get(pk=form.instance.pk)
        if locked.status == MeetingStatus.APPROVED:
            raise PermissionDenied(approved_message(locked))
        meeting = form.save(commit=False)
        meeting.save(update_fields=[f for f in form.fields if f != "attendees"])
        form.save_m2m()
        return meeting

    def prefill(self) -> dict[str, Any]:
        today = timezone.localdate()
        user = self.request.user
        initial: dict[str, Any] = {"held_on": today, "chair": user.pk, "attendees": [user.pk]}
        params = self.request.GET
        if pack_id := params.get("pack"):
            pack = get_object_or_404(ReviewPack, pk=as_pk(pack_id))
            initial.update(
                series=pack.series_id,
                pack=pack.pk,
                period_start=pack.period_start,
                period_end=pack.period_end,
            )
        elif series_id := params.get("series"):
            series = get_object_or_404(ReviewSeries, pk=as_pk(series_id))
            start, end = services.last_period(series, today)
            initial.update(series=series.pk, period_start=start, period_end=end)
            latest = (
                series.packs.filter(period_start=start, period_end=end)
                .exclude(status=PackStatus.REPLACED)
                .order_by("-revision", F("issued_at").desc(nulls_last=True))
                .first()
            )
            if latest is not None:
                initial["pack"] = latest.pk
        return initial


class ReviewMeetingMinutesView(ReviewMeetingDetailView):
    """Save the minutes and follow-ups (until approved)."""

    http_method_names = ["post"]
    required_verb = "change"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        meeting = get_object_or_404(ReviewMeeting, pk=pk)
        if meeting.status == MeetingStatus.APPROVED:
            return refused(request, meeting, approved_message(meeting))
        form = forms.MinutesForm(request.POST, instance=meeting)
        if not form.is_valid():
            self.minutes_form = form
            return self.show_again(request, pk, 422)
        with transaction.atomic():
            locked = ReviewMeeting.objects.select_for_update().get(pk=pk)
            if locked.status == MeetingStatus.APPROVED:
                return refused(request, locked, approved_message(locked))
            for name in form.fields:
                setattr(locked, name, form.cleaned_data[name])
            locked.save(update_fields=list(form.fields))
        messages.success(request, "Minutes saved.")
        return redirect_to(meeting, "minutes")


class ReviewMeetingDecideView(ReviewMeetingDetailView):
    """Record a decision and make what it decides (`services.record_decision`)."""

    http_method_names = ["post"]
    required_verb = "change"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        meeting = get_object_or_404(ReviewMeeting, pk=pk)
        if meeting.status == MeetingStatus.APPROVED:
            return refused(request, meeting, approved_message(meeting))
        form = forms.DecisionForm(request.POST)
        if not form.is_valid():
            return self.again(request, pk, form, 422)
        try:
            decision = services.record_decision(
                meeting, actor=request.user, **form.service_kwargs()
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or "Your role does not allow this decision.")
            return self.again(request, pk, form, 403)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict") and form.cleaned_data["kind"] == (
                DecisionKind.ACTION_CLOSED
            ):
                form.add_error("action", exc.messages)
            else:
                forms.service_errors(form, exc, form.aliases())
            return self.again(request, pk, form, 422)
        made = decision.action or decision.disposition or decision.objective
        messages.success(request, f"Decision recorded{f': {made}' if made else ''}.")
        return redirect_to(meeting, "decisions")

    def again(self, request: HttpRequest, pk: int, form: Any, status: int) -> HttpResponse:
        self.decision_form = form
        return self.show_again(request, pk, status)


class ReviewMeetingTransitionView(ObjectTransitionView):
    """Mark held (the minutes written), or approve the minutes: only the chair, through
    `services.approve_minutes`; anyone else is refused (403)."""

    model = ReviewMeeting

    def post(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        if name != "approve":
            return super().post(request, pk, name)
        meeting = get_object_or_404(ReviewMeeting, pk=pk)
        try:
            services.approve_minutes(meeting, actor=request.user)
        except TransitionError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"The minutes of {meeting.number} are approved.")
        return redirect_to(meeting)
