"""The public survey pages: no login, the link's token opens the survey.

Every answer goes through `services.submit` (or `submit_open`); these views only
translate outcomes into pages. Each outcome has its own clear page and status: an
unknown link 404, an expired or closed one 410, a used one 409 for a second
submission, too many open-link answers 429, answers with errors 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import services
from . import texts as wording
from .choices import OptOutVia, QuestionKind, ResponseStatus
from .models import Question, Survey
from .services import Outcome, Visit

PAGE_STATUS = {
    Outcome.UNKNOWN: 404,
    Outcome.EXPIRED: 410,
    Outcome.CLOSED: 410,
    Outcome.ANSWERED: 409,
    Outcome.LIMITED: 429,
    Outcome.INVALID: 422,
}


def posted(data: QueryDict) -> dict[str, list[str]]:
    """The form as lists of values (multiple choice sends a field several times)."""
    return {key: data.getlist(key) for key in data}


def question_rows(
    survey: Survey,
    language: str,
    values: Mapping[str, Any],
    errors: Mapping[str, tuple[str, dict[str, Any]]],
) -> list[dict[str, Any]]:
    """What the form template needs of each question, in `language`."""
    rows = []
    questions = list(Question.objects.filter(survey=survey).order_by("position", "pk"))
    for q in questions:
        text = q.wording(language)
        key = str(q.pk)
        value = values.get(key)
        error = errors.get(key)
        row: dict[str, Any] = {
            "id": q.pk,
            "name": f"q{q.pk}",
            "kind": q.kind,
            "label": text.get("label", ""),
            "help": text.get("help", ""),
            "required": q.required,
            "error": wording.ui(language, error[0], **error[1]) if error else "",
            "value": "" if value is None or isinstance(value, list) else str(value),
            "values": [str(v) for v in value] if isinstance(value, list) else [],
        }
        if q.kind in {QuestionKind.SCORE, QuestionKind.RATING} and q.bounds:
            low, high = q.bounds
            row["points"] = list(range(low, high + 1))
            row["low"] = text.get("low", "")
            row["high"] = text.get("high", "")
            row["low_value"], row["high_value"] = low, high
            row["stars"] = q.scale == "stars"
        if q.kind in {QuestionKind.CHOICE, QuestionKind.MULTIPLE}:
            row["options"] = [(code, q.option_label(language, code)) for code in q.options]
        rows.append(row)
    return rows


def raw_values(data: Mapping[str, list[str]]) -> dict[str, Any]:
    """Submitted fields keyed by question id, as typed (to show them back with errors)."""
    values: dict[str, Any] = {}
    for key, items in data.items():
        if key.startswith("q") and key[1:].isdigit():
            values[key[1:]] = items if len(items) != 1 else items[0]
    return values


def form_context(
    survey: Survey,
    language: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
    action: str = "",
    preview: bool = False,
    can_save: bool = True,
    saved: bool = False,
) -> dict[str, Any]:
    rows = question_rows(survey, language, values or {}, errors or {})
    return {
        "survey": survey,
        "lang": language,
        "ui": wording.ui_all(language),
        "title": survey.text(language, "title") or survey.title,
        "intro": survey.text(language, "intro"),
        "questions": rows,
        "problems": [row for row in rows if row["error"]],
        "action": action,
        "preview": preview,
        "can_save": can_save,
        "saved": saved,
        "company_name": settings.COMPANY_NAME,
    }


def message_page(
    request: HttpRequest, visit: Visit, *, title_key: str, text_key: str, status: int, **params: Any
) -> HttpResponse:
    language = visit.language
    survey = visit.survey
    text = wording.ui(language, text_key, **params)
    if text_key == "thanks" and survey is not None:
        text = survey.text(language, "thanks") or text
    context = {
        "lang": language,
        "ui": wording.ui_all(language),
        "title": wording.ui(language, title_key),
        "text": text,
        "survey_title": survey.text(language, "title") if survey else "",
        "company_name": settings.COMPANY_NAME,
    }
    return render(request, "surveys/public/message.html", context, status=status)


def outcome_page(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The page of an outcome that shows no form."""
    outcome = visit.outcome
    status = PAGE_STATUS.get(outcome, 200)
    if outcome == Outcome.ANSWERED:
        answered = visit.invitation.responded_at if visit.invitation else None
        date = f"{timezone.localtime(answered):%Y-%m-%d %H:%M}" if answered else ""
        if request.method == "GET":
            status = 200
        return message_page(
            request, visit, title_key="already_title", text_key="already", status=status, date=date
        )
    if outcome == Outcome.EXPIRED:
        expires = visit.invitation.expires_at if visit.invitation else None
        date = f"{timezone.localtime(expires):%Y-%m-%d}" if expires else ""
        return message_page(
            request, visit, title_key="expired_title", text_key="expired", status=status, date=date
        )
    if outcome == Outcome.CLOSED:
        return message_page(
            request, visit, title_key="closed_title", text_key="closed", status=status
        )
    if outcome == Outcome.LIMITED:
        return message_page(
            request, visit, title_key="limited_title", text_key="limited", status=status
        )
    return message_page(request, visit, title_key="unknown_title", text_key="unknown", status=404)


def thanks_page(request: HttpRequest, visit: Visit) -> HttpResponse:
    return message_page(request, visit, title_key="thanks_title", text_key="thanks", status=200)


@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    """The survey behind a personal link: answer, save for later, or see why not."""
    if request.method == "POST":
        data = posted(request.POST)
        final = request.POST.get("action") != "save"
        visit = services.submit(token, data, final=final)
        if visit.outcome == Outcome.SUBMITTED:
            return HttpResponseRedirect("?thanks=1", status=303)
        if visit.outcome == Outcome.SAVED:
            if request.headers.get("X-Autosave"):
                return HttpResponse(status=204)
            return HttpResponseRedirect("?saved=1", status=303)
        if visit.outcome == Outcome.INVALID:
            assert visit.survey is not None and visit.checked is not None  # noqa: S101
            context = form_context(
                visit.survey,
                visit.language,
                values=raw_values(data),
                errors=visit.checked.errors,
                action=request.path,
            )
            return render(request, "surveys/public/form.html", context, status=422)
        return outcome_page(request, visit)
    visit = services.visit(token)
    if visit.outcome == Outcome.ANSWERED and request.GET.get("thanks"):
        return thanks_page(request, visit)
    if visit.outcome != Outcome.OK:
        return outcome_page(request, visit)
    assert visit.survey is not None  # noqa: S101 - an OK visit has its survey
    response = visit.response
    values = response.answers if response and response.status == ResponseStatus.PARTIAL else {}
    context = form_context(
        visit.survey,
        visit.language,
        values=values,
        action=request.path,
        saved=bool(request.GET.get("saved")) and bool(values),
    )
    return render(request, "surveys/public/form.html", context)


def client_address(request: HttpRequest) -> str:
    """The respondent's address; behind the proxy, the one the proxy saw."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


@require_http_methods(["GET", "POST"])
def open_link(request: HttpRequest, key: str) -> HttpResponse:
    """A survey anyone with the link may answer (once per visit, N per address and hour)."""
    survey = services.find_open_survey(key)
    if survey is None:
        return outcome_page(request, Visit(Outcome.UNKNOWN))
    language = (
        survey.language_for(request.GET.get("lang", ""))
        if request.GET.get("lang")
        else survey.default_language
    )
    if request.method == "POST":
        data = posted(request.POST)
        visit = services.submit_open(survey, data, address=client_address(request))
        if visit.outcome == Outcome.SUBMITTED:
            return HttpResponseRedirect("?thanks=1", status=303)
        if visit.outcome == Outcome.INVALID:
            assert visit.checked is not None  # noqa: S101
            context = form_context(
                survey,
                language,
                values=raw_values(data),
                errors=visit.checked.errors,
                action=request.get_full_path(),
                can_save=False,
            )
            return render(request, "surveys/public/form.html", context, status=422)
        return outcome_page(request, visit)
    visit = Visit(Outcome.OK, survey=survey, language=language)
    if request.GET.get("thanks"):
        return thanks_page(request, visit)
    if not survey.is_open:
        return outcome_page(request, Visit(Outcome.CLOSED, survey=survey, language=language))
    context = form_context(survey, language, action=request.get_full_path(), can_save=False)
    return render(request, "surveys/public/form.html", context)


# RFC 8058 one-click unsubscribe: mail providers POST "List-Unsubscribe=One-Click" to
# the link in the List-Unsubscribe header, with no cookie and so no CSRF token. The
# link's unguessable token is the authorisation, and the only effect is that fewer
# e-mails are sent, so a forged request can do no harm: CSRF protection stands down
# for this one view.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop survey e-mails to the invitation's address (a confirmation first on GET)."""
    invitation = services.find_invitation(token)
    if invitation is None:
        return outcome_page(request, Visit(Outcome.UNKNOWN))
    language = invitation.language
    visit = Visit(Outcome.OK, invitation, invitation.survey, language=language)
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        services.opt_out_by_token(token, via=OptOutVia.ONE_CLICK if one_click else OptOutVia.LINK)
        return message_page(
            request,
            visit,
            title_key="unsubscribed_title",
            text_key="unsubscribed",
            status=200,
            email=invitation.email,
        )
    context = {
        "lang": language,
        "ui": wording.ui_all(language),
        "title": wording.ui(language, "unsubscribe_title"),
        "question": wording.ui(language, "unsubscribe_ask", email=invitation.email),
        "action": request.path,
        "company_name": settings.COMPANY_NAME,
    }
    return render(request, "surveys/public/unsubscribe.html", context)
