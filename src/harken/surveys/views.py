"""Survey pages for staff: the builder and preview, sending, invitations, responses,
results, opt-outs, and the rules and cases of closing the loop.

Each page is a few attributes on the generic views; what a page does beyond showing
and editing goes through `services` and `loop`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from harken.core.models import AuditEvent
from harken.core.permissions import can
from harken.core.tables import Column
from harken.core.templatetags.harken import badge
from harken.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
    redirect_to,
)
from harken.core.workflow import TransitionError, apply_transition
from harken.feedback.models import FeedbackItem

from . import config, filters, forms, loop, rounds, services
from . import public as public_pages
from .choices import (
    FOLLOW_UP_COLOURS,
    INVITATION_COLOURS,
    OUTCOME_COLOURS,
    SURVEY_COLOURS,
    InvitationStatus,
    SurveyStatus,
    Trigger,
)
from .models import Invitation, LoopCase, LoopRule, OptOut, Question, Survey, SurveyResponse


@dataclass(frozen=True)
class BadgeColumn(Column):
    """A choice field shown as a coloured badge."""

    colours: tuple[tuple[str, str], ...] = ()

    def value(self, obj: Any) -> Any:
        code = getattr(obj, self.accessor)
        if not code:
            return None
        label = getattr(obj, f"get_{self.accessor}_display")()
        return badge(label, dict(self.colours).get(code, "secondary"))


def colours(mapping: dict[Any, str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), colour) for key, colour in mapping.items())


# --------------------------------------------------------------------------------------
# Surveys: list, builder, settings, texts, questions, preview
# --------------------------------------------------------------------------------------

SURVEY_COLUMNS = (
    Column("number", "Number", order_by="number", link=True),
    Column("title", "Title", order_by="title", link=True),
    Column("kind", "Kind", order_by="kind"),
    Column("trigger", "Trigger", order_by="trigger"),
    Column("source.name", "Source"),
    BadgeColumn("status", "Status", order_by="status", colours=colours(SURVEY_COLOURS)),
    Column("opened_at", "Opened", order_by="opened_at"),
)


class SurveyListView(ObjectListView):
    model = Survey
    queryset = Survey.objects.select_related("source")
    filterset_class = filters.SurveyFilterSet
    default_order = "-created_at"
    columns = SURVEY_COLUMNS
    export_columns = (
        Column("number", "Number"),
        Column("title", "Title"),
        Column("kind", "Kind"),
        Column("trigger", "Trigger"),
        Column("source.name", "Source"),
        Column("status", "Status"),
        Column("languages", "Languages"),
        Column("opened_at", "Opened at"),
        Column("closed_at", "Closed at"),
        Column("nonresponse_note", "Non-response note"),
    )


class SurveyDetailView(ObjectDetailView):
    """The builder: settings, texts per language, questions, and what to do next."""

    model = Survey
    queryset = Survey.objects.select_related("source", "created_by", "updated_by")
    template_name = "surveys/survey_detail.html"
    fields = (
        Column("kind", "Kind"),
        Column("trigger", "Trigger"),
        Column("source", "Perception source", link=True),
        Column("languages", "Languages"),
        Column("default_language", "Default language"),
        Column("reminder_after_days", "Remind after (days)"),
        Column("valid_days", "Links valid for (days)"),
        Column("open_link", "Anonymous open link"),
        Column("repeat_months", "New round every (months)"),
        Column("round", "Round"),
        Column("previous_round", "Previous round", link=True),
        Column("opened_at", "Opened"),
        Column("closed_at", "Closed"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        questions = list(obj.questions.order_by("position", "pk"))
        editable = obj.status == SurveyStatus.DRAFT and can(user, "change", obj)
        open_url = ""
        if obj.open_link:
            open_url = config.public_url() + obj.public_open_url()
        return {
            "status_colour": SURVEY_COLOURS.get(obj.status, "secondary"),
            "questions": [(q, q.label(obj.default_language)) for q in questions],
            "editable": editable,
            "can_change": can(user, "change", obj),
            "can_invite": can(user, "add", Invitation) and obj.status == SurveyStatus.OPEN,
            "languages": obj.languages or [obj.default_language],
            "language_rows": [
                (lang, (obj.texts.get(lang) or {}).get("title", ""))
                for lang in obj.languages or [obj.default_language]
            ],
            "blockers": services.open_blockers(obj) if obj.status == SurveyStatus.DRAFT else [],
            "figures": services.survey_figures(obj),
            "open_url": open_url,
            "schedule": schedule_of(obj),
        }


def schedule_of(survey: Survey) -> dict[str, Any] | None:
    """What runs the survey by itself: its next relationship round, or after-delivery invitations."""
    if survey.trigger == Trigger.AFTER_DELIVERY:
        return {"kind": "after_delivery"}
    if survey.trigger != Trigger.RELATIONSHIP or not (survey.repeat_months or survey.round > 1):
        return None
    return {
        "kind": "rounds",
        "next_round": Survey.objects.filter(previous_round=survey).first(),
        "due": rounds.next_round_at(survey) if survey.status != SurveyStatus.DRAFT else None,
        "audience_missing": rounds.audience_of(survey) is None,
    }


class SurveyAddView(ObjectEditView):
    model = Survey
    form_class = forms.SurveyAddForm  # type: ignore[assignment]
    template_name = "surveys/survey_add.html"

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        initial = {}
        trigger = self.request.GET.get("trigger")
        if trigger:
            initial["trigger"] = trigger
        return forms.SurveyAddForm(data=data, initial=initial)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        form = forms.SurveyAddForm(data=request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                survey = services.create_survey(
                    actor=request.user,
                    title=data["title"],
                    source=data["source"],
                    kind=data["kind"],
                    trigger=data["trigger"],
                    languages=data["languages"],
                    default_language=data["default_language"],
                    reminder_after_days=data["reminder_after_days"],
                    valid_days=data["valid_days"],
                    open_link=data["open_link"],
                    repeat_months=data["repeat_months"] or 0,
                    invite_after_days=3
                    if data["invite_after_days"] is None
                    else data["invite_after_days"],
                )
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(request, f"Created {survey.number}: add and word its questions.")
                return redirect_to(request, survey.get_absolute_url())
        return self.render_form(form, None, status=422)  # type: ignore[arg-type]


class SurveyEditView(ObjectEditView):
    model = Survey
    form_class = forms.SurveySettingsForm


class SurveyTransitionView(ObjectPermissionMixin, View):
    """Open, close or reopen a survey through its service (which stamps the times)."""

    model = Survey
    required_verb = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        survey = get_object_or_404(Survey, pk=pk)
        try:
            if name == "open":
                services.open_survey(survey, actor=request.user)
            elif name == "close":
                services.close_survey(survey, actor=request.user)
            else:
                apply_transition(survey, name, actor=request.user)
        except TransitionError as exc:
            for message in exc.messages:
                messages.error(request, message)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, f"{survey.number} is now {survey.get_status_display()}.")
        return HttpResponseRedirect(survey.get_absolute_url())


class SurveyTextsView(ObjectPermissionMixin, View):
    """The survey's texts in one language (a new code adds the language to a draft)."""

    model = Survey
    required_verb = "change"
    template_name = "surveys/survey_texts.html"

    def language(self, survey: Survey) -> str:
        lang = (self.request.GET.get("lang") or self.request.POST.get("lang") or "").strip().lower()
        lang = lang or survey.default_language
        if not forms.LANGUAGE_CODE.match(lang):
            raise Http404("Not a language code.")
        return lang

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = get_object_or_404(Survey, pk=pk)
        lang = self.language(survey)
        initial = dict(survey.texts.get(lang) or {})
        if not initial:
            from django.conf import settings as django_settings

            from . import texts as wording

            initial = wording.survey_defaults(
                lang, survey.kind, survey.title, django_settings.COMPANY_NAME
            )
        return self.render_form(survey, lang, forms.SurveyTextsForm(initial=initial))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = get_object_or_404(Survey, pk=pk)
        lang = self.language(survey)
        form = forms.SurveyTextsForm(request.POST)
        if form.is_valid():
            try:
                services.update_texts(
                    survey, actor=request.user, language=lang, values=form.cleaned_data
                )
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(request, f"Saved the {lang} texts of {survey.number}.")
                return redirect_to(request, survey.get_absolute_url())
        return self.render_form(survey, lang, form, status=422)

    def render_form(self, survey: Survey, lang: str, form: Any, status: int = 200) -> HttpResponse:
        context = self.base_context(object=survey, form=form, lang=lang)
        return render(self.request, self.template_name, context, status=status)


class QuestionEditView(ObjectPermissionMixin, View):
    """Add a question to a draft survey (`?survey=`) or change one, in every language."""

    model = Survey
    required_verb = "change"
    template_name = "surveys/question_edit.html"

    def objects(self, pk: int | None) -> tuple[Survey, Question | None]:
        if pk is not None:
            question = get_object_or_404(Question.objects.select_related("survey"), pk=pk)
            return question.survey, question
        survey_id = self.request.GET.get("survey") or self.request.POST.get("survey")
        if not survey_id or not str(survey_id).isdigit():
            raise Http404("Which survey?")
        return get_object_or_404(Survey, pk=survey_id), None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        survey, question = self.objects(pk)
        return self.render_form(
            forms.QuestionForm(survey=survey, question=question), survey, question
        )

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        survey, question = self.objects(pk)
        form = forms.QuestionForm(request.POST, survey=survey, question=question)
        if form.is_valid():
            try:
                if question is None:
                    services.add_question(survey, actor=request.user, **form.values())
                else:
                    services.update_question(question, actor=request.user, **form.values())
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(request, "Saved the question.")
                return redirect_to(request, survey.get_absolute_url())
        return self.render_form(form, survey, question, status=422)

    def render_form(
        self, form: Any, survey: Survey, question: Question | None, status: int = 200
    ) -> HttpResponse:
        context = self.base_context(object=survey, question=question, form=form)
        return render(self.request, self.template_name, context, status=status)


class QuestionActionView(ObjectPermissionMixin, View):
    """POST: delete a question, or move it up or down."""

    model = Survey
    required_verb = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, verb: str) -> HttpResponse:
        question = get_object_or_404(Question.objects.select_related("survey"), pk=pk)
        try:
            if verb == "delete":
                services.delete_question(question, actor=request.user)
            elif verb in {"up", "down"}:
                services.move_question(question, actor=request.user, up=verb == "up")
            else:
                raise Http404
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        return HttpResponseRedirect(question.survey.get_absolute_url())


class SurveyPreviewView(ObjectPermissionMixin, View):
    """The public page as a respondent sees it, in any of the survey's languages."""

    model = Survey

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = get_object_or_404(Survey, pk=pk)
        lang = request.GET.get("lang") or survey.default_language
        if lang not in (survey.languages or [survey.default_language]):
            lang = survey.default_language
        context = public_pages.form_context(survey, lang, preview=True, action="")
        context["languages"] = survey.languages
        return render(request, "surveys/public/form.html", context)


class OpenLinkQrView(ObjectPermissionMixin, View):
    """The open link as a QR code (SVG) to print on delivery notes."""

    model = Survey

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = get_object_or_404(Survey, pk=pk, open_link=True)
        try:
            import segno
        except ImportError as exc:  # an optional extra: the link still works without it
            raise Http404("QR codes need the segno package.") from exc
        import io

        out = io.BytesIO()
        segno.make(config.public_url() + survey.public_open_url(), error="m").save(
            out, kind="svg", scale=6, title=f"{survey.number} {survey.title}"
        )
        response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
        response["Content-Disposition"] = f'inline; filename="{survey.number}-qr.svg"'
        return response


# --------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------


class SurveySendView(ObjectPermissionMixin, View):
    """Choose the contacts (filters or a CSV list), preview who is invited and who is not
    and why, then queue the invitations and send them."""

    model = Invitation
    required_verb = "add"
    template_name = "surveys/survey_send.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = get_object_or_404(Survey, pk=pk)
        return self.render_page(survey, forms.AudienceForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = get_object_or_404(Survey, pk=pk)
        form = forms.AudienceForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(survey, form, status=422)
        data = form.cleaned_data
        audience = services.Audience(
            segments=list(data["segments"]),
            regions=[r.pk for r in data["regions"]],
            product_lines=[p.pk for p in data["product_lines"]],
            primary_only=data["primary_only"],
        )
        csv_errors: list[str] = []
        missing: list[str] = []
        if data.get("csv_file"):
            parsed = services.read_contact_csv(data["csv_file"].read())
            csv_errors = parsed.errors
            audience.emails = parsed.emails
            if not parsed.emails:
                form.add_error("csv_file", "The file has no e-mail address.")
                return self.render_page(survey, form, csv_errors=csv_errors, status=422)
        contacts = list(services.contacts_for(audience))
        if audience.emails:
            found = {c.email.lower() for c in contacts}
            missing = [e for e in dict.fromkeys(audience.emails) if e not in found]
        dry_run = request.POST.get("confirm") != "1"
        try:
            plan = services.invite(
                survey,
                contacts,
                actor=request.user,
                dry_run=dry_run,
                audience=audience,
                missing_emails=missing,
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return HttpResponseRedirect(survey.get_absolute_url())
        if dry_run:
            return self.render_page(survey, form, plan=plan, csv_errors=csv_errors)
        report = services.send_due(survey=survey)
        messages.success(
            request,
            f"Queued {len(plan.created)} invitations ({len(plan.skipped)} not invited); "
            f"{report}. Anything not sent now is retried by the tick.",
        )
        return HttpResponseRedirect(reverse("surveys:invitation_list") + f"?survey={survey.pk}")

    def render_page(
        self,
        survey: Survey,
        form: Any,
        *,
        plan: services.InvitePlan | None = None,
        csv_errors: list[str] | None = None,
        status: int = 200,
    ) -> HttpResponse:
        context = self.base_context(
            object=survey,
            form=form,
            plan=plan,
            csv_errors=csv_errors or [],
            throttle_days=config.throttle_days(),
            survey_open=survey.status == SurveyStatus.OPEN,
        )
        return render(self.request, self.template_name, context, status=status)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


class SurveyResultsView(ObjectPermissionMixin, View):
    """Response rate, non-response and opt-outs, the score distribution, the answers."""

    model = Survey
    template_name = "surveys/survey_results.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        survey = get_object_or_404(Survey.objects.select_related("source"), pk=pk)
        distribution = services.score_distribution(survey)
        chart = {
            "labels": [str(v) for v, _ in distribution["counts"]],
            "counts": [c for _, c in distribution["counts"]],
            "scale": distribution["scale"],
        }
        choices = []
        for question in survey.questions.filter(kind__in=["choice", "multiple"]).order_by(
            "position"
        ):
            tally: dict[str, int] = dict.fromkeys(question.options, 0)
            answers = survey.responses.filter(status="submitted").values_list("answers", flat=True)
            for answer in answers.iterator(chunk_size=2000):
                value = (answer or {}).get(str(question.pk))
                for code in value if isinstance(value, list) else [value] if value else []:
                    if code in tally:
                        tally[code] += 1
            choices.append(
                (
                    question.label(survey.default_language),
                    [
                        (question.option_label(survey.default_language, c), n)
                        for c, n in tally.items()
                    ],
                )
            )
        comments = (
            survey.responses.filter(status="submitted")
            .exclude(comment="")
            .select_related("customer")
            .order_by("-submitted_at")[:20]
        )
        context = self.base_context(
            object=survey,
            figures=services.survey_figures(survey),
            distribution=distribution,
            chart=chart,
            choices=choices,
            comments=comments,
            can_change=can(request.user, "change", survey),
            low_rate=int(services.LOW_RESPONSE_RATE * 100),
        )
        return render(request, self.template_name, context)


# --------------------------------------------------------------------------------------
# Invitations and responses
# --------------------------------------------------------------------------------------

INVITATION_COLUMNS = (
    Column("survey.number", "Survey", order_by="survey__number"),
    Column("contact.name", "Contact", link=True),
    Column("email", "E-mail", order_by="email"),
    Column("customer.name", "Customer"),
    BadgeColumn("status", "Status", order_by="status", colours=colours(INVITATION_COLOURS)),
    Column("sent_at", "Sent", order_by="sent_at"),
    Column("reminded_at", "Reminded", order_by="reminded_at"),
    Column("responded_at", "Responded", order_by="responded_at"),
    Column("attempts", "Attempts", order_by="attempts"),
    Column("trigger_ref", "Triggered by"),
)


class InvitationListView(ObjectListView):
    model = Invitation
    queryset = Invitation.objects.select_related("survey", "contact", "customer")
    filterset_class = filters.InvitationFilterSet
    template_name = "surveys/invitation_list.html"
    default_order = "-created_at"
    columns = INVITATION_COLUMNS
    export_columns = (
        Column("survey.number", "Survey"),
        Column("contact.name", "Contact"),
        Column("email", "E-mail"),
        Column("customer.number", "Customer number"),
        Column("customer.name", "Customer"),
        Column("language", "Language"),
        Column("status", "Status"),
        Column("created_at", "Queued at"),
        Column("sent_at", "Sent at"),
        Column("expires_at", "Link valid until"),
        Column("reminded_at", "Reminded at"),
        Column("opened_at", "Opened at"),
        Column("responded_at", "Responded at"),
        Column("bounced_at", "Bounced at"),
        Column("opted_out_at", "Opted out at"),
        Column("attempts", "Attempts"),
        Column("last_error", "Last error"),
        Column("trigger_ref", "Triggered by"),
    )

    def base_context(self, **extra: Any) -> dict[str, Any]:
        counts = None
        survey_id = self.request.GET.get("survey")
        if survey_id and survey_id.isdigit():
            counts = services.status_counts(Invitation.objects.filter(survey_id=survey_id))
        return super().base_context(
            status_counts=[
                (s, label, (counts or {}).get(s, 0)) for s, label in InvitationStatus.choices
            ]
            if counts
            else [],
            **extra,
        )


class InvitationDetailView(ObjectDetailView):
    model = Invitation
    queryset = Invitation.objects.select_related(
        "survey", "contact", "customer", "trigger_item", "created_by", "updated_by"
    )
    template_name = "surveys/invitation_detail.html"
    fields = (
        Column("survey", "Survey", link=True),
        Column("contact", "Contact", link=True),
        Column("customer", "Customer", link=True),
        Column("email", "E-mail"),
        Column("language", "Language"),
        Column("status", "Status"),
        Column("sent_at", "Sent"),
        Column("expires_at", "Link valid until"),
        Column("reminded_at", "Reminded"),
        Column("opened_at", "Opened"),
        Column("responded_at", "Responded"),
        Column("bounced_at", "Bounced"),
        Column("opted_out_at", "Opted out"),
        Column("attempts", "Sending attempts"),
        Column("next_attempt_at", "Next attempt"),
        Column("last_error", "Last error"),
        Column("trigger_item", "Triggered by (feedback)", link=True),
        Column("trigger_ref", "Triggered by (reference)"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        response = (
            SurveyResponse.objects.filter(invitation=obj).select_related("feedback_item").first()
        )
        # The answer's event is written on the response and names the invitation's move.
        events: Any = []
        if response is not None:
            events = AuditEvent.objects.filter(
                object_type="surveys.surveyresponse", object_id=str(response.pk)
            ).order_by("seq")
        return {
            "response": response,
            "response_events": events,
            "status_colour": INVITATION_COLOURS.get(obj.status, "secondary"),
            "can_bounce": can(self.request.user, "change", obj)
            and obj.status in {InvitationStatus.SENT, InvitationStatus.OPENED},
            "bounce_form": forms.BounceForm(),
        }


class InvitationBounceView(ObjectPermissionMixin, View):
    model = Invitation
    required_verb = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invitation = get_object_or_404(Invitation, pk=pk)
        try:
            services.mark_bounced(
                invitation, actor=request.user, reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, f"Recorded the bounce of {invitation.email}.")
        return HttpResponseRedirect(invitation.get_absolute_url())


RESPONSE_COLUMNS = (
    Column("survey.number", "Survey", order_by="survey__number"),
    Column("contact", "Respondent", link=True),
    Column("customer.name", "Customer"),
    Column("status", "Status", order_by="status"),
    Column("score", "Score", order_by="score"),
    Column("submitted_at", "Submitted", order_by="submitted_at"),
    Column("feedback_item.number", "Feedback item"),
)


class ResponseColumn(Column):
    def value(self, obj: Any) -> Any:
        return obj.contact.name if obj.contact_id else "anonymous (open link)"


class SurveyResponseListView(ObjectListView):
    model = SurveyResponse
    queryset = SurveyResponse.objects.select_related(
        "survey", "contact", "customer", "feedback_item"
    )
    filterset_class = filters.SurveyResponseFilterSet
    default_order = "-created_at"
    columns = (
        RESPONSE_COLUMNS[0],
        ResponseColumn("contact", "Respondent", link=True),
        *RESPONSE_COLUMNS[2:],
    )
    export_columns = (
        Column("survey.number", "Survey"),
        Column("contact.name", "Contact"),
        Column("customer.number", "Customer number"),
        Column("customer.name", "Customer"),
        Column("language", "Language"),
        Column("status", "Status"),
        Column("score", "Score"),
        Column("comment", "Comment"),
        Column("answers", "Answers"),
        Column("submitted_at", "Submitted at"),
        Column("feedback_item.number", "Feedback item"),
    )


class SurveyResponseDetailView(ObjectDetailView):
    model = SurveyResponse
    queryset = SurveyResponse.objects.select_related(
        "survey", "invitation", "contact", "customer", "feedback_item"
    )
    template_name = "surveys/surveyresponse_detail.html"
    fields = (
        Column("survey", "Survey", link=True),
        Column("invitation", "Invitation", link=True),
        Column("contact", "Contact", link=True),
        Column("customer", "Customer", link=True),
        Column("language", "Language"),
        Column("status", "Status"),
        Column("score", "Score"),
        Column("submitted_at", "Submitted"),
        Column("feedback_item", "Feedback item", link=True),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {"answers": list(services.labelled_answers(obj).items())}


# --------------------------------------------------------------------------------------
# Opt-outs
# --------------------------------------------------------------------------------------


class OptOutListView(ObjectListView):
    model = OptOut
    queryset = OptOut.objects.select_related("contact__customer", "invitation__survey")
    filterset_class = filters.OptOutFilterSet
    default_order = "-opted_out_at"
    template_name = "surveys/optout_list.html"
    columns = (
        Column("email", "E-mail", order_by="email", link=True),
        Column("contact.customer.name", "Customer"),
        Column("via", "How", order_by="via"),
        Column("opted_out_at", "When", order_by="opted_out_at"),
        Column("invitation.survey.number", "From the survey"),
        Column("note", "Note"),
    )


class OptOutDetailView(ObjectDetailView):
    model = OptOut
    queryset = OptOut.objects.select_related("contact", "invitation__survey")
    template_name = "surveys/optout_detail.html"
    fields = (
        Column("contact", "Contact", link=True),
        Column("via", "How"),
        Column("opted_out_at", "When"),
        Column("invitation", "From the invitation", link=True),
        Column("note", "Note"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {"can_withdraw": can(self.request.user, "delete", obj)}


class OptOutAddView(ObjectEditView):
    model = OptOut
    form_class = forms.OptOutForm  # type: ignore[assignment]

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        return forms.OptOutForm(data=data)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        form = forms.OptOutForm(request.POST)
        if form.is_valid():
            try:
                record = services.record_opt_out(
                    form.cleaned_data["email"], actor=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(request, f"{record.email} will not be invited to surveys.")
                return redirect_to(request, record.get_absolute_url())
        return self.render_form(form, None, status=422)  # type: ignore[arg-type]


class OptOutDeleteView(ObjectDeleteView):
    """Withdraw an opt-out (the person asked to hear from us again)."""

    model = OptOut

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = get_object_or_404(OptOut, pk=pk)
        services.withdraw_opt_out(record, actor=request.user)
        messages.success(request, f"{record.email} may be invited to surveys again.")
        return HttpResponseRedirect(reverse("surveys:optout_list"))


# --------------------------------------------------------------------------------------
# Closing the loop
# --------------------------------------------------------------------------------------


class LoopRuleListView(ObjectListView):
    model = LoopRule
    queryset = LoopRule.objects.select_related("source", "outcome_template", "follow_up_survey")
    filterset_class = filters.LoopRuleFilterSet
    default_order = "source__name"
    template_name = "surveys/looprule_list.html"
    columns = (
        Column("source.name", "Complaints of", order_by="source__name", link=True),
        Column("active", "Active", order_by="active"),
        Column("send_outcome", "Outcome message"),
        Column("outcome_template", "Template"),
        Column("follow_up_survey", "Follow-up survey"),
        Column("follow_up_delay_days", "After (days)"),
        Column("applies_from", "Applies from"),
    )

    def base_context(self, **extra: Any) -> dict[str, Any]:
        from harken.documents.models import Document

        return super().base_context(
            can_create_template=can(self.request.user, "add", Document), **extra
        )


class LoopRuleDetailView(ObjectDetailView):
    model = LoopRule
    queryset = LoopRule.objects.select_related("source", "outcome_template", "follow_up_survey")
    template_name = "surveys/looprule_detail.html"
    fields = (
        Column("source", "Complaints of", link=True),
        Column("active", "Active"),
        Column("send_outcome", "Send the outcome message"),
        Column("outcome_template", "Outcome template", link=True),
        Column("follow_up_survey", "Follow-up survey", link=True),
        Column("follow_up_delay_days", "Follow-up after (days)"),
        Column("applies_from", "For complaints resolved from"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        version = loop.approved_template(obj)
        cases = obj.cases.select_related("complaint", "invitation__response").order_by(
            "-resolved_at"
        )[:20]
        return {
            "template_version": version,
            "cases": cases,
            "outcome_colours": OUTCOME_COLOURS,
            "follow_up_colours": FOLLOW_UP_COLOURS,
        }


class LoopRuleEditView(ObjectEditView):
    model = LoopRule
    form_class = forms.LoopRuleForm

    def save_form(self, form: Any) -> Any:
        data = form.cleaned_data
        try:
            return loop.save_rule(
                actor=self.request.user,
                source=form.instance.source if form.instance.pk else data["source"],
                rule=form.instance if form.instance.pk else None,
                active=data["active"],
                send_outcome=data["send_outcome"],
                outcome_template=data["outcome_template"],
                follow_up_survey=data["follow_up_survey"],
                follow_up_delay_days=data["follow_up_delay_days"],
            )
        except ValidationError as exc:
            raise _FormError(exc) from exc

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        try:
            return super().post(request, pk)
        except _FormError as exc:
            obj = self.get_object()
            form = self.get_form(obj, data=request.POST)
            form.is_valid()
            forms.field_errors(form, exc.error)
            return self.render_form(form, obj, status=422)


class _FormError(Exception):
    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error


class OutcomeTemplateCreateView(ObjectPermissionMixin, View):
    """POST: a draft outcome-message template in the documents register."""

    model = LoopRule
    required_verb = "view"
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            document = loop.create_outcome_template(actor=request.user)
        except PermissionDenied:
            raise
        messages.success(
            request, f"Created {document.number} as a draft: edit, review and approve it."
        )
        return HttpResponseRedirect(document.get_absolute_url())


LOOPCASE_COLUMNS = (
    Column("complaint", "Complaint", link=True),
    Column("complaint.customer.name", "Customer"),
    Column("resolved_at", "Resolved", order_by="resolved_at"),
    BadgeColumn(
        "outcome_status",
        "Outcome message",
        order_by="outcome_status",
        colours=colours(OUTCOME_COLOURS),
    ),
    Column("outcome_sent_at", "Customer informed", order_by="outcome_sent_at"),
    BadgeColumn(
        "follow_up_status",
        "Follow-up",
        order_by="follow_up_status",
        colours=colours(FOLLOW_UP_COLOURS),
    ),
    Column("follow_up_due_at", "Follow-up due", order_by="follow_up_due_at"),
)


class FollowUpResultColumn(Column):
    def value(self, obj: Any) -> Any:
        response = obj.follow_up_response
        return response.score if response is not None else None


class LoopCaseListView(ObjectListView):
    model = LoopCase
    queryset = LoopCase.objects.select_related(
        "complaint__customer", "invitation__response", "rule__source"
    )
    filterset_class = filters.LoopCaseFilterSet
    default_order = "-resolved_at"
    columns = (*LOOPCASE_COLUMNS, FollowUpResultColumn("invitation", "Follow-up score"))


class LoopCaseDetailView(ObjectDetailView):
    model = LoopCase
    queryset = LoopCase.objects.select_related(
        "complaint__customer", "rule__source", "contact", "communication", "invitation__survey"
    )
    template_name = "surveys/loopcase_detail.html"
    fields = (
        Column("complaint", "Complaint", link=True),
        Column("rule", "Rule", link=True),
        Column("contact", "Contact", link=True),
        Column("resolved_at", "Resolved"),
        Column("outcome_status", "Outcome message"),
        Column("outcome_sent_at", "Customer informed at"),
        Column("communication", "Message in the communication log", link=True),
        Column("follow_up_status", "Follow-up survey"),
        Column("follow_up_due_at", "Follow-up due"),
        Column("invitation", "Follow-up invitation", link=True),
        Column("note", "Note"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {
            "follow_up": obj.follow_up_response,
            "can_send": can(self.request.user, "change", obj) and obj.outcome_status == "pending",
        }


class LoopCaseSendView(ObjectPermissionMixin, View):
    """POST: try the outcome message of a pending case now instead of at the next tick."""

    model = LoopCase
    required_verb = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = get_object_or_404(
            LoopCase.objects.select_related("rule", "complaint", "contact"), pk=pk
        )
        status = loop.send_outcome(case)
        if status == "sent":
            messages.success(request, "The customer was told the outcome.")
        else:
            messages.warning(request, case.note or "Not sent.")
        return HttpResponseRedirect(case.get_absolute_url())


class ComplaintLoopView(ObjectPermissionMixin, View):
    """From a complaint's page: its loop case, or why it has none."""

    model = LoopCase

    def get(self, request: HttpRequest) -> HttpResponse:
        complaint_id = request.GET.get("complaint", "")
        if not complaint_id.isdigit():
            raise Http404("Which complaint?")
        complaint = get_object_or_404(
            FeedbackItem.objects.select_related("source"), pk=complaint_id
        )
        case = LoopCase.objects.filter(complaint=complaint).first()
        if case is not None:
            return HttpResponseRedirect(case.get_absolute_url())
        rule = LoopRule.objects.filter(source_id=complaint.source_id).first()
        context = self.base_context(complaint=complaint, rule=rule, now=timezone.now())
        return render(request, "surveys/complaint_loop.html", context)
