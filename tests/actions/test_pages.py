"""Action pages: the board and table, an action from its evidence to its verdict, themes
and dispositions, the proposals queue and the decision rules, each with the personas who
may and the ones who must be refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import FeedbackItemFactory, ProductLineFactory, UserFactory

from harken import urls as site_urls
from harken.actions import services
from harken.actions.choices import (
    ActionStatus,
    CheckMetric,
    DispositionDecision,
    ProposalStatus,
    RootCauseMethod,
    TargetKind,
    Verdict,
)
from harken.actions.links import LINKS, register_links
from harken.actions.models import Action, DecisionRule, Disposition, Proposal, Theme
from harken.core.models import AuditEvent, User
from harken.core.registry import registry
from harken.core.workflow import apply_transition
from harken.feedback.models import Category, FeedbackItem
from harken.insights.choices import Metric, SignalKind, SignalStatus
from harken.insights.models import Signal


def routed_urlpatterns() -> list[Any]:
    """The site's URLs, with the actions pages added until harken/urls.py includes them."""
    patterns = list(site_urls.urlpatterns)
    if not any(getattr(p, "namespace", None) == "actions" for p in patterns):
        patterns.append(path("actions/", include("harken.actions.urls")))
    return patterns


urlpatterns = routed_urlpatterns()

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def action_links() -> Iterator[None]:
    """The buttons the app offers on signals, items and themes, for these tests only
    until ActionsConfig.ready() registers them for good."""
    added = [link for link in LINKS if link not in registry.object_links]
    register_links()
    yield
    for link in added:
        registry.object_links.remove(link)


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def told(client: Any, url: str, data: dict[str, Any] | None = None) -> list[str]:
    """Post, follow the redirect, and return the messages the next page shows."""
    response = client.post(url, data or {}, follow=True)
    assert response.redirect_chain, response.status_code
    return [str(m) for m in response.context["messages"]]


def today() -> dt.date:
    return timezone.localdate()


def months_before(day: dt.date, count: int) -> dt.date:
    month = day.month - 1 - count
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def new_action(actor: Any, owner: Any, **kwargs: Any) -> Action:
    return services.open_action(
        actor=actor,
        kind=kwargs.pop("kind", "corrective"),
        title=kwargs.pop("title", "Restore on-time delivery"),
        problem_statement="Delivery complaints doubled.",
        owner=owner,
        due_date=kwargs.pop("due_date", today() + dt.timedelta(days=30)),
        **kwargs,
    )


def past_windows() -> dict[str, Any]:
    """A baseline and an evaluation window that have both ended."""
    this_month = today().replace(day=1)
    return {
        "baseline": (months_before(this_month, 6), months_before(this_month, 3) - dt.timedelta(1)),
        "evaluation": (months_before(this_month, 3), this_month - dt.timedelta(1)),
    }


def analysed(action: Action, actor: Any) -> Action:
    services.record_root_cause(
        action,
        actor=actor,
        method=RootCauseMethod.FIVE_WHYS,
        whys=["Why late? Held at the hub.", "Why held? Weekly consolidation."],
        root_cause="The carrier consolidates loads weekly.",
    )
    apply_transition(action, "root_cause", actor=actor)
    return action


def implementing(action: Action, actor: Any) -> Action:
    analysed(action, actor)
    services.add_step(
        action, actor=actor, description="Daily pick-up", owner=actor, due_date=action.due_date
    )
    apply_transition(action, "implement", actor=actor)
    return action


def define_past_check(action: Action, actor: Any) -> Any:
    windows = past_windows()
    return services.define_check(
        action,
        actor=actor,
        metric=CheckMetric.COMPLAINTS,
        scope={},
        baseline=windows["baseline"],
        evaluation=windows["evaluation"],
        target_kind=TargetKind.RELATIVE_REDUCTION,
        target_value=40,
    )


def verifying(action: Action, actor: Any) -> Action:
    implementing(action, actor)
    for step in action.steps.all():
        services.complete_step(step, actor=actor)
    services.compute_check(define_past_check(action, actor))
    apply_transition(action, "verify", actor=actor)
    return action


def closed(action: Action, actor: Any) -> Action:
    verifying(action, actor)
    check = action.effectiveness_check
    check.refresh_from_db()
    services.confirm_verdict(check, actor=actor, verdict=Verdict.INCONCLUSIVE)
    services.close_action(action, actor=actor)
    return action


def make_signal(**extra: Any) -> Signal:
    return Signal.objects.create(
        kind=SignalKind.CONTROL_CHART,
        metric=Metric.COMPLAINT_RATE,
        title="Valves — Delivery: point beyond the upper control limit",
        description="The control chart of valve delivery complaints flags September.",
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2026, 9, 30),
        rule="nelson_1",
        fingerprint=extra.pop("fingerprint", "fp-valves"),
        **extra,
    )


@pytest.fixture
def delivery() -> Category:
    return Category.objects.get(code="delivery")


@pytest.fixture
def action(quality_manager: Any, owner: Any) -> Action:
    return new_action(quality_manager, owner)


# --------------------------------------------------------------------------------------
# Who may open which page
# --------------------------------------------------------------------------------------

VIEW = {"qm": 200, "analyst": 200, "owner": 200, "auditor": 200, "staff": 403, "outsider": 403}
CHANGE = {"qm": 200, "analyst": 200, "owner": 200, "auditor": 403, "staff": 403, "outsider": 403}
CLASSIFY = {"qm": 200, "analyst": 200, "owner": 403, "auditor": 403, "staff": 403, "outsider": 403}

PAGES = [
    ("/actions/", VIEW),
    ("/actions/?view=table", VIEW),
    ("/actions/{action}/", VIEW),
    ("/actions/{action}/history/", VIEW),
    ("/actions/add/", CHANGE),
    ("/actions/{action}/edit/", CHANGE),
    ("/actions/{action}/root-cause/", CHANGE),
    ("/actions/{action}/check/", CHANGE),
    ("/actions/themes/", VIEW),
    ("/actions/themes/{theme}/", VIEW),
    ("/actions/themes/candidates/", VIEW),
    ("/actions/themes/add/", CHANGE),
    ("/actions/themes/{theme}/link/", CHANGE),
    ("/actions/proposals/", VIEW),
    ("/actions/proposals/{proposal}/", VIEW),
    ("/actions/proposals/{proposal}/accept/", CLASSIFY),
    ("/actions/rules/", VIEW),
    ("/actions/rules/{rule}/", VIEW),
    # The matrix gives action owners add and change on the whole actions app.
    ("/actions/rules/add/", CHANGE),
]


@pytest.fixture
def records(quality_manager: Any, owner: Any) -> dict[str, int]:
    action = new_action(quality_manager, owner)
    theme = Theme.objects.create(title="Late valves")
    rule = DecisionRule.objects.order_by("pk").first()
    assert rule is not None
    proposal = Proposal.objects.create(
        rule=rule, kind="corrective", title="Late valves", reason="5 complaints", fingerprint="p1"
    )
    return {"action": action.pk, "theme": theme.pk, "proposal": proposal.pk, "rule": rule.pk}


@pytest.mark.parametrize("persona", ["qm", "analyst", "owner", "auditor", "staff", "outsider"])
def test_each_page_answers_each_persona_as_the_matrix_says(
    persona, records, analyst, auditor, staff, outsider
):
    client = client_for(User.objects.get(username=persona))
    answers = {url: client.get(url.format(**records)).status_code for url, _ in PAGES}
    assert answers == {url: expected[persona] for url, expected in PAGES}


def test_anonymous_visitors_are_sent_to_sign_in(client, records):
    response = client.get("/actions/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --------------------------------------------------------------------------------------
# The board and the table
# --------------------------------------------------------------------------------------


def test_board_shows_each_action_in_its_state_column_with_overdue_dates_in_red(
    quality_manager, owner
):
    late = new_action(
        quality_manager, owner, title="Late one", due_date=today() - dt.timedelta(days=2)
    )
    contained = new_action(quality_manager, owner, title="Contained one")
    contained.containment = "Express shipping for open orders."
    contained.save(update_fields=["containment"])
    apply_transition(contained, "contain", actor=quality_manager)

    content = client_for(quality_manager).get("/actions/").content.decode()

    def column(state: str) -> str:
        start = content.index(f'data-testid="column-{state}"')
        return content[start : content.index("</section>", start)]

    assert late.number in column("open") and "Late one" in column("open")
    assert "— overdue" in column("open") and "text-danger" in column("open")
    assert contained.number in column("contained") and "overdue" not in column("contained")
    assert late.number not in column("contained")
    assert owner.get_full_name() in column("open")


def test_board_and_table_filter_by_owner_and_overdue(quality_manager, owner, analyst):
    mine = new_action(quality_manager, owner, title="Owner's", due_date=today() - dt.timedelta(1))
    theirs = new_action(quality_manager, analyst, title="Analyst's")
    client = client_for(quality_manager)

    board = client.get(f"/actions/?owner={analyst.pk}").content.decode()
    assert theirs.number in board and mine.number not in board

    table = client.get("/actions/?view=table&overdue=1").content.decode()
    assert 'data-testid="object-table"' in table
    assert mine.number in table and theirs.number not in table


def test_board_costs_the_same_queries_for_one_action_as_for_three(quality_manager, owner):
    client = client_for(quality_manager)
    new_action(quality_manager, owner)
    client.get("/actions/")  # warm the session and the role cache
    with CaptureQueriesContext(connection) as one:
        assert client.get("/actions/").status_code == 200
    new_action(quality_manager, owner, title="Second")
    new_action(quality_manager, UserFactory(username="someone"), title="Third")
    with CaptureQueriesContext(connection) as three:
        content = client.get("/actions/").content.decode()
    assert content.count('data-testid="card"') == 3
    assert len(three) == len(one)


def test_table_exports_csv_for_the_auditor_and_refuses_the_action_owner(
    quality_manager, owner, auditor
):
    action = new_action(quality_manager, owner)
    response = client_for(auditor).get("/actions/?export=csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].lstrip("\ufeff").startswith("Number,Title,Kind,State,Owner")
    assert action.number in body
    assert AuditEvent.objects.filter(action="action.exported").count() == 1
    assert client_for(owner).get("/actions/?export=csv").status_code == 403


# --------------------------------------------------------------------------------------
# Opening an action
# --------------------------------------------------------------------------------------


def action_form(owner: Any, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "corrective",
        "title": "Stop late valve deliveries",
        "problem_statement": "Twelve late deliveries in September.",
        "owner": owner.pk,
        "due_date": (today() + dt.timedelta(days=30)).isoformat(),
        "priority": "high",
        **extra,
    }


def test_turn_a_signal_into_an_action_prefills_it_and_marks_the_signal_actioned(
    quality_manager, owner, delivery
):
    line = ProductLineFactory(code="VAL", name="Valves")
    behind = [
        FeedbackItemFactory(category=delivery, product_line=line, received_at=timezone.now())
        for _ in range(2)
    ]
    FeedbackItemFactory(category=delivery)  # another product line: not behind the signal
    signal = make_signal(
        evidence={"filter": {"product_line": [line.pk], "category": [delivery.pk]}}
    )
    client = client_for(quality_manager)

    page = client.get(f"/actions/add/?signal={signal.pk}").content.decode()
    assert 'value="Valves — Delivery: point beyond the upper control limit"' in page
    assert "The control chart of valve delivery complaints flags September." in page
    assert f"Signal {signal.number}" in page
    assert "Also cite the 2 feedback items behind the linked signals and themes" in page
    assert re.search(r'name="cite_records"[^>]*checked', page)

    response = client.post(
        "/actions/add/",
        action_form(
            owner, signals=[signal.pk], cite_records="on", origin=f"Signal {signal.number}"
        ),
    )
    action = Action.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/actions/{action.pk}/"
    assert list(action.signals.all()) == [signal]
    assert set(action.items.all()) == set(behind)
    signal.refresh_from_db()
    assert signal.status == SignalStatus.ACTIONED
    assert AuditEvent.objects.filter(action="action.created", object_id=str(action.pk)).count() == 1


def test_open_an_action_from_a_feedback_item_cites_it(quality_manager, owner):
    item = FeedbackItemFactory(text="The valve arrived two weeks late.", title="Late valve")
    client = client_for(quality_manager)
    page = client.get(f"/actions/add/?item={item.pk}").content.decode()
    assert item.number in page and "The valve arrived two weeks late." in page

    client.post("/actions/add/", action_form(owner, evidence=item.number))
    assert list(Action.objects.get().items.all()) == [item]


def test_open_an_action_from_a_theme_links_it_and_cites_its_items(quality_manager, owner):
    theme = Theme.objects.create(title="Late valves", description="Valves arrive late.")
    items = [FeedbackItemFactory() for _ in range(3)]
    theme.items.add(*items)
    client = client_for(quality_manager)
    page = client.get(f"/actions/add/?theme={theme.pk}").content.decode()
    assert "3 feedback items" in page and 'value="Late valves"' in page

    client.post("/actions/add/", action_form(owner, themes=[theme.pk], cite_records="on"))
    action = Action.objects.get()
    assert list(action.themes.all()) == [theme]
    assert set(action.items.all()) == set(items)


def test_new_action_form_names_unknown_feedback_numbers_and_missing_fields(quality_manager):
    response = client_for(quality_manager).post(
        "/actions/add/", {"kind": "corrective", "evidence": "FB-1999-0001"}
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "No feedback item has the number FB-1999-0001." in content
    for name in ("title", "problem_statement", "owner", "due_date"):
        assert f'data-field="{name}"' in content
    assert not Action.objects.exists()


def test_auditor_cannot_open_an_action(auditor, owner):
    response = client_for(auditor).post("/actions/add/", action_form(owner))
    assert response.status_code == 403
    assert not Action.objects.exists()


def test_new_action_for_a_proposal_goes_to_accepting_it(quality_manager, records):
    response = client_for(quality_manager).get(f"/actions/add/?proposal={records['proposal']}")
    assert response.status_code == 302
    assert response["Location"] == f"/actions/proposals/{records['proposal']}/accept/"


def test_signal_item_and_theme_pages_offer_their_action_button_to_who_may_open_one(
    quality_manager, auditor
):
    signal = make_signal()
    item = FeedbackItemFactory()
    theme = Theme.objects.create(title="Late valves")
    pages = {
        f"/insights/signals/{signal.pk}/": f"/actions/add/?signal={signal.pk}",
        f"/feedback/items/{item.pk}/": f"/actions/add/?item={item.pk}",
        f"/actions/themes/{theme.pk}/": f"/actions/add/?theme={theme.pk}",
    }
    for url, link in pages.items():
        assert link in client_for(quality_manager).get(url).content.decode(), url
        assert link not in client_for(auditor).get(url).content.decode(), url


# --------------------------------------------------------------------------------------
# An action's page and its parts
# --------------------------------------------------------------------------------------


def test_action_page_shows_the_problem_with_its_evidence(quality_manager, owner, delivery):
    line = ProductLineFactory(code="PMP", name="Pumps")
    items = [
        FeedbackItemFactory(category=delivery, product_line=line, text=f"Late pump order {i}")
        for i in range(3)
    ]
    theme = Theme.objects.create(title="Late pumps")
    signal = make_signal()
    action = new_action(quality_manager, owner, items=items, themes=[theme], signals=[signal])

    content = client_for(quality_manager).get(f"/actions/{action.pk}/").content.decode()
    assert "Delivery complaints doubled." in content
    assert "3 feedback items cited, by category" in content
    assert re.search(r"<td>Delivery</td><td class=\"text-end\">3</td>", content)
    assert re.search(r"<td>Pumps</td><td class=\"text-end\">3</td>", content)
    assert content.count('data-testid="excerpt"') == 3
    assert "Late pump order 2" in content
    assert theme.number in content and signal.number in content


def test_each_guarded_transition_refuses_with_its_reason(quality_manager, owner):
    client = client_for(quality_manager)

    def attempt(action: Action, name: str, **data: str) -> list[str]:
        return told(client, f"/actions/{action.pk}/transition/{name}/", data)

    action = new_action(quality_manager, owner)
    assert attempt(action, "contain") == ["Describe the containment."]
    assert attempt(action, "root_cause") == [
        "Record the root cause analysis (at least two whys, a fishbone or a text)."
    ]
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN

    analysed(action, quality_manager)
    assert attempt(action, "implement") == ["Plan at least one step."]

    second = implementing(new_action(quality_manager, owner, title="Second"), quality_manager)
    assert attempt(second, "verify") == [
        "Define how effectiveness will be checked.",
        "Finish every step first.",
    ]
    define_past_check(second, quality_manager)
    assert attempt(second, "verify") == ["Finish every step first."]

    third = verifying(new_action(quality_manager, owner, title="Third"), quality_manager)
    assert attempt(third, "close_effective") == [
        "A quality role must confirm the effectiveness verdict first."
    ]
    assert attempt(third, "close_not_effective") == [
        "A quality role must confirm the effectiveness verdict first."
    ]

    fourth = closed(new_action(quality_manager, owner, title="Fourth"), quality_manager)
    assert attempt(fourth, "reopen") == ["Say why it is reopened."]
    assert attempt(fourth, "reopen", reopen_reason="Complaints came back in March.") == [
        f"{fourth} is now Reopened."
    ]
    fourth.refresh_from_db()
    assert fourth.status == ActionStatus.REOPENED
    assert fourth.reopen_reason == "Complaints came back in March."


def test_closing_through_the_page_follows_the_confirmed_verdict_and_stamps_the_time(
    quality_manager, owner
):
    action = verifying(new_action(quality_manager, owner), quality_manager)
    check = action.effectiveness_check
    check.refresh_from_db()
    services.confirm_verdict(check, actor=quality_manager, verdict=Verdict.NOT_EFFECTIVE)
    client = client_for(quality_manager)

    refused = told(client, f"/actions/{action.pk}/transition/close_effective/")
    assert refused == ["The confirmed verdict is not effective."]
    client.post(f"/actions/{action.pk}/transition/close_not_effective/")
    action.refresh_from_db()
    assert action.status == ActionStatus.CLOSED_NOT_EFFECTIVE
    assert action.closed_at is not None


def test_an_action_owner_cannot_close_an_action(quality_manager, owner):
    action = verifying(new_action(quality_manager, owner), quality_manager)
    check = action.effectiveness_check
    check.refresh_from_db()
    services.confirm_verdict(check, actor=quality_manager, verdict=Verdict.INCONCLUSIVE)
    response = client_for(owner).post(f"/actions/{action.pk}/transition/close_not_effective/")
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.status == ActionStatus.VERIFYING


def test_containment_is_recorded_from_the_action_page(action, owner):
    client = client_for(owner)
    assert client.post(f"/actions/{action.pk}/containment/", {"containment": ""}).status_code == 422
    client.post(f"/actions/{action.pk}/containment/", {"containment": "Sort the stock."})
    action.refresh_from_db()
    assert action.containment == "Sort the stock."
    client.post(f"/actions/{action.pk}/transition/contain/")
    action.refresh_from_db()
    assert action.status == ActionStatus.CONTAINED


def test_five_whys_are_recorded_in_order_and_shown_as_a_list(action, owner):
    client = client_for(owner)
    response = client.post(
        f"/actions/{action.pk}/root-cause/",
        {
            "root_cause_method": "five_whys",
            "why_1": "Why late? Held at the hub.",
            "why_2": "Why held? Weekly consolidation.",
            "why_3": "Why weekly? Economy service.",
            "root_cause": "The carrier was chosen on price alone.",
        },
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.root_cause_method == RootCauseMethod.FIVE_WHYS
    assert action.whys == [
        "Why late? Held at the hub.",
        "Why held? Weekly consolidation.",
        "Why weekly? Economy service.",
    ]
    assert AuditEvent.objects.filter(action="action.root_cause_recorded").count() == 1
    content = client.get(f"/actions/{action.pk}/").content.decode()
    whys = content[content.index('data-testid="whys"') :]
    assert whys.index("Held at the hub") < whys.index("Weekly consolidation")


def test_the_analysis_file_is_uploaded_with_the_form_and_served_back(action, owner, auditor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"%PDF-1.4 an 8D report"
    response = client_for(owner).post(
        f"/actions/{action.pk}/root-cause/",
        {
            "root_cause_method": "free_text",
            "root_cause": "The carrier was chosen on price alone.",
            "root_cause_file": SimpleUploadedFile("8d-report.pdf", content, "application/pdf"),
        },
    )
    assert response.status_code == 302
    action.refresh_from_db()
    evidence = action.root_cause_file
    assert evidence.name == "8d-report.pdf"
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    page = client_for(auditor).get(f"/actions/{action.pk}/").content.decode()
    assert "8d-report.pdf" in page and evidence.sha256[:12] in page
    served = client_for(auditor).get(f"/actions/{action.pk}/root-cause/file/")
    assert b"".join(served.streaming_content) == content

    # Disposed of under a retention rule: the download says so (410 Gone), no error.
    type(evidence).objects.filter(pk=evidence.pk).update(disposed_at=timezone.now())
    gone = client_for(auditor).get(f"/actions/{action.pk}/root-cause/file/")
    assert gone.status_code == 410
    assert "8d-report.pdf was disposed of on" in gone.content.decode()


def test_root_cause_form_names_what_is_missing(action, owner):
    response = client_for(owner).post(
        f"/actions/{action.pk}/root-cause/",
        {"root_cause_method": "five_whys", "why_1": "Only one why.", "root_cause": "Something."},
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "Ask why at least twice." in content and 'data-field="why_1"' in content
    fishbone = client_for(owner).post(
        f"/actions/{action.pk}/root-cause/",
        {"root_cause_method": "fishbone", "root_cause": "Something."},
    )
    assert "Name at least one cause." in fishbone.content.decode()
    action.refresh_from_db()
    assert action.root_cause == ""


def test_fishbone_causes_are_kept_by_branch(action, owner):
    client_for(owner).post(
        f"/actions/{action.pk}/root-cause/",
        {
            "root_cause_method": "fishbone",
            "fishbone_method": "No queue for queries\nNo target",
            "fishbone_manpower": "One engineer",
            "root_cause": "Queries wait in one inbox.",
        },
    )
    action.refresh_from_db()
    assert action.fishbone == {
        "Method": ["No queue for queries", "No target"],
        "Manpower": ["One engineer"],
    }


def test_steps_are_added_and_marked_done_by_the_owner_and_refused_to_the_auditor(
    action, owner, auditor
):
    client = client_for(owner)
    due = (today() + dt.timedelta(days=7)).isoformat()
    client.post(
        f"/actions/{action.pk}/steps/add/",
        {"description": "Change the carrier contract", "owner": owner.pk, "due_date": due},
    )
    step = action.steps.get()
    assert step.description == "Change the carrier contract"
    refused = client_for(auditor).post(f"/actions/{action.pk}/steps/{step.pk}/done/")
    assert refused.status_code == 403
    client.post(f"/actions/{action.pk}/steps/{step.pk}/done/", {"outcome": "Signed."})
    step.refresh_from_db()
    assert step.done_at is not None and step.outcome == "Signed."
    again = client.post(f"/actions/{action.pk}/steps/{step.pk}/done/", {"outcome": "Again."})
    assert again.status_code == 422 and "The step is done already." in again.content.decode()


# --------------------------------------------------------------------------------------
# The effectiveness check
# --------------------------------------------------------------------------------------


def check_form(**extra: Any) -> dict[str, Any]:
    windows = past_windows()
    return {
        "metric": CheckMetric.COMPLAINTS,
        "baseline_from": windows["baseline"][0].isoformat(),
        "baseline_to": windows["baseline"][1].isoformat(),
        "evaluation_from": windows["evaluation"][0].isoformat(),
        "evaluation_to": windows["evaluation"][1].isoformat(),
        "target_kind": TargetKind.RELATIVE_REDUCTION,
        "target_value": "40",
        **extra,
    }


def test_check_form_refuses_overlapping_windows(action, owner):
    windows = past_windows()
    response = client_for(owner).post(
        f"/actions/{action.pk}/check/",
        check_form(evaluation_from=windows["baseline"][1].isoformat()),
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "The evaluation window must start after the baseline." in content
    assert 'data-field="evaluation_from"' in content
    assert not hasattr(Action.objects.get(pk=action.pk), "effectiveness_check")


def test_check_form_refuses_a_relative_target_over_100(action, owner):
    response = client_for(owner).post(
        f"/actions/{action.pk}/check/", check_form(target_value="150")
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "A relative target is a percentage between 0 and 100." in content
    assert 'data-field="target_value"' in content


def test_defining_a_check_computes_it_and_the_page_charts_it_with_both_windows(
    action, owner, delivery
):
    windows = past_windows()
    base_day = windows["baseline"][0] + dt.timedelta(days=3)
    for index in range(6):
        FeedbackItemFactory(
            category=delivery,
            received_at=timezone.make_aware(dt.datetime.combine(base_day, dt.time(10 + index))),
        )
    client = client_for(owner)
    response = client.post(f"/actions/{action.pk}/check/", check_form(categories=[delivery.pk]))
    assert response.status_code == 302
    check = Action.objects.get(pk=action.pk).effectiveness_check
    assert check.scope == {"categories": [delivery.pk]}
    assert check.computed_at is not None
    assert check.result["baseline"]["n"] == 6
    assert check.result["evaluation"]["n"] == 0
    assert check.proposed_verdict == Verdict.EFFECTIVE

    content = client.get(f"/actions/{action.pk}/").content.decode()
    chart = json.loads(
        re.search(
            r'<script id="effectiveness-chart" type="application/json">(.*?)</script>', content
        ).group(1)
    )
    first = months_before(windows["baseline"][0], 6)
    assert chart["labels"][0] == first.isoformat()
    # Six months before, the two windows (six months), one month after.
    assert len(chart["labels"]) == 6 + 6 + 1
    assert chart["baseline"] == [
        windows["baseline"][0].isoformat(),
        windows["baseline"][1].replace(day=1).isoformat(),
    ]
    assert chart["values"][6] == 6.0
    assert chart["values"][-1] in (0.0, None)  # this month: measured so far, or to come
    assert "Proposed verdict" in content and "Effective" in content


def test_a_check_whose_evaluation_window_is_still_to_come_waits_to_be_computed(action, owner):
    start = today().replace(day=1)
    later = today() + dt.timedelta(days=40)
    messages = told(
        client_for(owner),
        f"/actions/{action.pk}/check/",
        check_form(
            baseline_from=months_before(start, 3).isoformat(),
            baseline_to=(start - dt.timedelta(days=1)).isoformat(),
            evaluation_from=later.isoformat(),
            evaluation_to=(later + dt.timedelta(days=90)).isoformat(),
        ),
    )
    assert messages == [
        f"Effectiveness check defined. It is computed from {later:%d %B %Y}, "
        "when the evaluation window opens."
    ]
    check = Action.objects.get(pk=action.pk).effectiveness_check
    assert check.computed_at is None
    content = client_for(owner).get(f"/actions/{action.pk}/").content.decode()
    assert 'data-testid="not-computed"' in content and "Recompute" not in content


def test_verdict_is_confirmed_by_a_quality_manager_and_refused_to_the_action_owner(
    action, quality_manager, owner
):
    services.compute_check(define_past_check(action, quality_manager))
    refused = client_for(owner).post(
        f"/actions/{action.pk}/check/confirm/", {"verdict": Verdict.INCONCLUSIVE}
    )
    assert refused.status_code == 403
    client_for(quality_manager).post(
        f"/actions/{action.pk}/check/confirm/",
        {"verdict": Verdict.NOT_EFFECTIVE, "note": "Too few complaints to tell; treat as not."},
    )
    check = Action.objects.get(pk=action.pk).effectiveness_check
    assert check.verdict == Verdict.NOT_EFFECTIVE
    assert check.verdict_by == quality_manager
    assert AuditEvent.objects.filter(action="effectivenesscheck.override").count() == 1


def test_verdict_waits_for_the_evaluation_window_to_end(action, quality_manager):
    start = today().replace(day=1)
    check = services.define_check(
        action,
        actor=quality_manager,
        metric=CheckMetric.COMPLAINTS,
        scope={},
        baseline=(months_before(start, 3), start - dt.timedelta(days=1)),
        evaluation=(start, today() + dt.timedelta(days=60)),
        target_kind=TargetKind.NO_RECURRENCE,
        target_value=None,
    )
    services.compute_check(check)
    client = client_for(quality_manager)
    content = client.get(f"/actions/{action.pk}/").content.decode()
    assert "provisional" in content
    assert "The verdict can be confirmed once the evaluation window has ended" in content
    response = client.post(f"/actions/{action.pk}/check/confirm/", {"verdict": "effective"})
    assert response.status_code == 422
    assert f"The evaluation window runs until {check.evaluation_to}." in response.content.decode()


def test_recompute_refreshes_the_figures(action, owner, quality_manager):
    check = define_past_check(action, quality_manager)
    assert check.computed_at is None
    client_for(owner).post(f"/actions/{action.pk}/check/compute/")
    check.refresh_from_db()
    assert check.computed_at is not None
    assert check.proposed_verdict == Verdict.INCONCLUSIVE


# --------------------------------------------------------------------------------------
# Themes and dispositions
# --------------------------------------------------------------------------------------


def test_theme_list_highlights_themes_without_a_disposition(quality_manager, delivery):
    bare = Theme.objects.create(title="Nobody decided", category=delivery)
    decided = Theme.objects.create(title="Decided")
    bare.items.add(*[FeedbackItemFactory() for _ in range(2)])
    services.dispose(decided, actor=quality_manager, decision="monitor", rationale="Rare.")
    content = client_for(quality_manager).get("/actions/themes/").content.decode()
    rows = {
        m.group(1): m.group(0) for m in re.finditer(r"<tr>.*?(THM-\d+-\d+).*?</tr>", content, re.S)
    }
    assert "no disposition" in rows[bare.number] and "text-bg-danger" in rows[bare.number]
    assert "<td>2</td>" in rows[bare.number]
    assert "Monitor" in rows[decided.number]
    only_bare = client_for(quality_manager).get("/actions/themes/?disposition=none")
    assert bare.number in only_bare.content.decode()
    assert decided.number not in only_bare.content.decode()


def test_a_new_disposition_keeps_the_old_one_on_the_record(quality_manager):
    theme = Theme.objects.create(title="Late valves")
    client = client_for(quality_manager)
    client.post(
        f"/actions/themes/{theme.pk}/dispose/",
        {
            "decision": "monitor",
            "rationale": "Two complaints; watch it.",
            "decided_on": "2026-01-10",
        },
    )
    client.post(
        f"/actions/themes/{theme.pk}/dispose/",
        {"decision": "fix", "rationale": "Now a contract breach.", "decided_on": "2026-03-02"},
    )
    assert list(theme.dispositions.values_list("decision", flat=True)) == [
        DispositionDecision.FIX,
        DispositionDecision.MONITOR,
    ]
    content = client.get(f"/actions/themes/{theme.pk}/").content.decode()
    history = content[content.index('data-testid="dispositions"') :]
    assert history.index("Now a contract breach.") < history.index("Two complaints; watch it.")
    assert "(current)" in history
    assert Disposition.objects.get(decision="monitor").rationale == "Two complaints; watch it."


def test_dispositions_need_the_dispose_verb_and_a_rationale(quality_manager, analyst):
    theme = Theme.objects.create(title="Late valves")
    refused = client_for(analyst).post(
        f"/actions/themes/{theme.pk}/dispose/", {"decision": "fix", "rationale": "Because."}
    )
    assert refused.status_code == 403
    assert 'data-testid="disposition-form"' not in (
        client_for(analyst).get(f"/actions/themes/{theme.pk}/").content.decode()
    )
    empty = client_for(quality_manager).post(
        f"/actions/themes/{theme.pk}/dispose/", {"decision": "fix", "rationale": "  "}
    )
    assert empty.status_code == 422
    assert 'data-field="rationale"' in empty.content.decode()
    assert not Disposition.objects.exists()


def test_feedback_is_linked_to_a_theme_by_its_numbers(owner):
    theme = Theme.objects.create(title="Late valves")
    first, second = FeedbackItemFactory(), FeedbackItemFactory()
    client = client_for(owner)
    client.post(
        f"/actions/themes/{theme.pk}/link/", {"numbers": f"{first.number}, {second.number}"}
    )
    assert set(theme.items.all()) == {first, second}
    wrong = client.post(f"/actions/themes/{theme.pk}/link/", {"numbers": "FB-1900-0001"})
    assert wrong.status_code == 422
    assert "No feedback item has the number FB-1900-0001." in wrong.content.decode()


def test_a_candidate_becomes_a_theme_with_its_complaints_in_one_click(
    quality_manager, auditor, delivery
):
    line = ProductLineFactory(code="VAL", name="Valves")
    complaints = [
        FeedbackItemFactory(category=delivery, product_line=line, received_at=timezone.now())
        for _ in range(3)
    ]
    page = client_for(quality_manager).get("/actions/themes/candidates/").content.decode()
    assert "Make it a theme" in page and "Valves" in page
    assert (
        "Make it a theme"
        not in client_for(auditor).get("/actions/themes/candidates/").content.decode()
    )
    data = {"category": delivery.pk, "product_line": line.pk, "days": 90}
    assert client_for(auditor).post("/actions/themes/candidates/", data).status_code == 403

    response = client_for(quality_manager).post("/actions/themes/candidates/", data)
    theme = Theme.objects.get()
    assert response["Location"] == f"/actions/themes/{theme.pk}/"
    assert theme.title == f"{delivery.name} complaints on Valves"
    assert set(theme.items.all()) == set(complaints)
    assert services.theme_candidates() == []


def test_theme_detail_charts_its_items_per_month(quality_manager):
    theme = Theme.objects.create(title="Late valves")
    now = timezone.now()
    theme.items.add(FeedbackItemFactory(received_at=now), FeedbackItemFactory(received_at=now))
    content = client_for(quality_manager).get(f"/actions/themes/{theme.pk}/").content.decode()
    trend = json.loads(
        re.search(
            r'<script id="theme-trend" type="application/json">(.*?)</script>', content
        ).group(1)
    )
    assert trend["labels"][-1] == today().replace(day=1).isoformat()
    assert trend["counts"][-1] == 2


def test_theme_list_costs_the_same_queries_for_one_theme_as_for_three(quality_manager):
    client = client_for(quality_manager)
    Theme.objects.create(title="One").items.add(FeedbackItemFactory())
    client.get("/actions/themes/")
    with CaptureQueriesContext(connection) as one:
        client.get("/actions/themes/")
    for title in ("Two", "Three"):
        theme = Theme.objects.create(title=title)
        theme.items.add(FeedbackItemFactory())
        services.dispose(theme, actor=quality_manager, decision="fix", rationale="Yes.")
    with CaptureQueriesContext(connection) as three:
        client.get("/actions/themes/")
    assert len(three) == len(one)


# --------------------------------------------------------------------------------------
# Proposals and decision rules
# --------------------------------------------------------------------------------------


@pytest.fixture
def proposal(delivery) -> Proposal:
    rule = DecisionRule.objects.get(condition="recurring")
    signal = make_signal(fingerprint="fp-proposal")
    found = Proposal.objects.create(
        rule=rule,
        kind="corrective",
        title="Recurring delivery complaints on Valves",
        reason="5 delivery complaints on Valves in the last 30 days.",
        fingerprint="p-valves",
        category=delivery,
        signal=signal,
    )
    found.items.add(*[FeedbackItemFactory(category=delivery) for _ in range(5)])
    return found


def test_accepting_a_proposal_opens_the_action_with_its_evidence(proposal, analyst, owner):
    due = (today() + dt.timedelta(days=20)).isoformat()
    response = client_for(analyst).post(
        f"/actions/proposals/{proposal.pk}/accept/", {"owner": owner.pk, "due_date": due}
    )
    action = Action.objects.get()
    assert response["Location"] == f"/actions/{action.pk}/"
    assert action.title == "Recurring delivery complaints on Valves"
    assert action.problem_statement == "5 delivery complaints on Valves in the last 30 days."
    assert action.owner == owner
    assert set(action.items.all()) == set(proposal.items.all())
    assert list(action.signals.all()) == [proposal.signal]
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED
    assert proposal.action == action
    assert proposal.decided_by == analyst


def test_action_owner_cannot_accept_a_proposal(proposal, owner):
    response = client_for(owner).post(
        f"/actions/proposals/{proposal.pk}/accept/",
        {"owner": owner.pk, "due_date": today().isoformat()},
    )
    assert response.status_code == 403
    assert not Action.objects.exists()


def test_rejecting_a_proposal_needs_a_reason(proposal, quality_manager):
    client = client_for(quality_manager)
    empty = client.post(f"/actions/proposals/{proposal.pk}/reject/", {"rejection_reason": ""})
    assert empty.status_code == 422
    client.post(
        f"/actions/proposals/{proposal.pk}/reject/",
        {"rejection_reason": "Covered by ACT-2026-0001 already."},
    )
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REJECTED
    assert proposal.rejection_reason == "Covered by ACT-2026-0001 already."
    again = client.post(
        f"/actions/proposals/{proposal.pk}/accept/",
        {"owner": quality_manager.pk, "due_date": today().isoformat()},
    )
    assert again.status_code == 422 and "The proposal is rejected." in again.content.decode()


def test_proposal_queue_lists_pending_ones_first_with_their_forms(proposal, quality_manager):
    decided = Proposal.objects.create(
        rule=proposal.rule, kind="corrective", title="Old news", reason="…", fingerprint="p-old"
    )
    services.reject_proposal(decided, actor=quality_manager, reason="Not ours.")
    content = client_for(quality_manager).get("/actions/proposals/").content.decode()
    pending = content[content.index('data-testid="pending"') : content.index("All proposals")]
    assert proposal.title in pending and "Old news" not in pending
    assert 'data-testid="accept-form"' in pending and 'data-testid="reject-form"' in pending
    assert "5 feedback items" in pending
    assert "Old news" in content[content.index("All proposals") :]


def test_the_decision_rules_run_from_the_queue_for_a_quality_role_only(analyst, owner, delivery):
    line = ProductLineFactory(code="VAL", name="Valves")
    for _ in range(5):
        FeedbackItemFactory(category=delivery, product_line=line, received_at=timezone.now())
    assert client_for(owner).post("/actions/proposals/run/").status_code == 403
    response = client_for(analyst).post("/actions/proposals/run/")
    assert response["Location"] == "/actions/proposals/"
    created = Proposal.objects.get()
    assert messages_of(response) == [f"1 new proposal: {created.title}"]
    assert told(client_for(analyst), "/actions/proposals/run/") == ["No new proposals."]


def test_proposal_list_costs_the_same_queries_for_one_as_for_three(proposal, quality_manager):
    client = client_for(quality_manager)
    client.get("/actions/proposals/")
    with CaptureQueriesContext(connection) as one:
        client.get("/actions/proposals/")
    for index in range(2):
        Proposal.objects.create(
            rule=proposal.rule,
            kind="corrective",
            title=f"P{index}",
            reason="r",
            fingerprint=f"q{index}",
        ).items.add(FeedbackItemFactory())
    with CaptureQueriesContext(connection) as three:
        client.get("/actions/proposals/")
    assert len(three) == len(one)


def test_decision_rules_are_added_and_edited_and_refused_to_the_auditor(quality_manager, auditor):
    data = {
        "name": "Three billing complaints in a fortnight",
        "condition": "recurring",
        "proposes": "improvement",
        "threshold": 3,
        "window_days": 14,
        "active": "on",
    }
    assert client_for(auditor).post("/actions/rules/add/", data).status_code == 403
    response = client_for(quality_manager).post("/actions/rules/add/", data)
    rule = DecisionRule.objects.get(name=data["name"])
    assert response["Location"] == f"/actions/rules/{rule.pk}/"
    client_for(quality_manager).post(
        f"/actions/rules/{rule.pk}/edit/", {**data, "threshold": 4, "active": ""}
    )
    rule.refresh_from_db()
    assert (rule.threshold, rule.active) == (4, False)
    assert (
        AuditEvent.objects.filter(action="decisionrule.updated", object_id=str(rule.pk)).count()
        == 1
    )


def test_evidence_counts_feedback_without_category_or_product_line(quality_manager, owner):
    item = FeedbackItemFactory(category=None)
    action = new_action(quality_manager, owner, items=[item])
    content = client_for(quality_manager).get(f"/actions/{action.pk}/").content.decode()
    assert "(not classified)" in content and "(no product line)" in content
    assert FeedbackItem.objects.count() == 1
