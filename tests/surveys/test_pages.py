"""Survey pages for staff: builder, preview, sending, invitations, results, opt-outs and
loop rules, each with the persona who may and the one who must be refused."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.conftest import client_for
from tests.factories import ContactFactory, CustomerFactory, RegionFactory
from tests.feedback.factories import PerceptionSourceFactory
from tests.surveys.factories import OptOutFactory, SurveyResponseFactory, sent_invitation, survey

from harken.core.models import AuditEvent
from harken.feedback.choices import SourceKind
from harken.surveys.choices import InvitationStatus, SurveyStatus
from harken.surveys.models import Invitation, LoopRule, OptOut, Question, Survey, SurveyResponse

pytestmark = pytest.mark.django_db


def test_building_a_survey_from_scratch_to_open(quality_manager, analyst):
    source = PerceptionSourceFactory(name="Annual NPS", kind=SourceKind.SURVEY, structured=True)
    client = client_for(analyst)
    response = client.post(
        "/surveys/add/",
        {
            "title": "Annual NPS 2026",
            "kind": "nps",
            "trigger": "relationship",
            "source": source.pk,
            "default_language": "en",
            "languages": "de",
            "reminder_after_days": 5,
            "valid_days": 30,
        },
    )
    srv = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/surveys/{srv.pk}/"
    assert srv.number.startswith("SRV-")
    assert (srv.languages, srv.status) == (["en", "de"], SurveyStatus.DRAFT)
    assert [q.kind for q in srv.questions.order_by("position")] == ["score", "why"]

    page = client.get(f"/surveys/{srv.pk}/").content.decode()
    assert "Add a question" in page

    added = client.post(
        f"/surveys/questions/add/?survey={srv.pk}",
        {
            "survey": srv.pk,
            "kind": "choice",
            "label_en": "What do you buy from us most?",
            "label_de": "Was kaufen Sie am meisten bei uns?",
            "options": "valves = Valves\nfittings = Fittings",
            "options_de": "valves = Ventile\nfittings = Armaturen",
        },
    )
    assert added.status_code == 302
    question = srv.questions.get(kind="choice")
    assert question.options == ["valves", "fittings"]
    assert question.texts["de"]["options"] == {"valves": "Ventile", "fittings": "Armaturen"}

    preview = client.get(f"/surveys/{srv.pk}/preview/?lang=de").content.decode()
    assert "Ventile" in preview and "Preview: answers given here are not recorded." in preview

    opened = client.post(f"/surveys/{srv.pk}/transition/open/")
    assert opened.status_code == 302
    srv.refresh_from_db()
    assert srv.status == SurveyStatus.OPEN and srv.opened_at is not None
    # Once open the questions are fixed.
    refused = client.post(f"/surveys/questions/{question.pk}/delete/")
    assert refused.status_code == 302
    assert Question.objects.filter(pk=question.pk).exists()
    actions = set(
        AuditEvent.objects.filter(object_type="surveys.survey").values_list("action", flat=True)
    )
    assert {"survey.created", "survey.open"} <= actions


def test_a_survey_with_an_unworded_language_cannot_open(analyst):
    srv = survey(open_it=False)
    client = client_for(analyst)
    client.post(
        f"/surveys/{srv.pk}/texts/?lang=fr",
        {
            "lang": "fr",
            "title": "Enquête",
            "invitation_subject": "Votre avis",
            "invitation_body": "Bonjour $contact: $link",
        },
    )
    srv.refresh_from_db()
    assert srv.languages == ["en", "fr"]
    page = client.get(f"/surveys/{srv.pk}/").content.decode()
    assert "Questions 1, 2 are not worded in fr." in page
    client.post(f"/surveys/{srv.pk}/transition/open/")
    srv.refresh_from_db()
    assert srv.status == SurveyStatus.DRAFT


def test_texts_must_carry_the_personal_link(analyst):
    srv = survey(open_it=False)
    response = client_for(analyst).post(
        f"/surveys/{srv.pk}/texts/?lang=en",
        {"title": "T", "invitation_subject": "S", "invitation_body": "No link here"},
    )
    assert response.status_code == 422
    assert "The invitation must contain $link" in response.content.decode()


def test_staff_may_look_at_surveys_but_not_build_or_send(staff, outsider):
    srv = survey()
    client = client_for(staff)
    assert client.get("/surveys/").status_code == 200
    assert client.get(f"/surveys/{srv.pk}/").status_code == 200
    assert client.get(f"/surveys/{srv.pk}/results/").status_code == 200
    assert client.get("/surveys/add/").status_code == 403
    assert client.get(f"/surveys/{srv.pk}/send/").status_code == 403
    assert client.post(f"/surveys/{srv.pk}/transition/close/").status_code == 403
    assert client_for(outsider).get("/surveys/").status_code == 403
    assert client_for(outsider).get(f"/surveys/{srv.pk}/results/").status_code == 403


def test_the_send_page_previews_who_and_why_not_then_sends(quality_manager):
    srv = survey()
    north = RegionFactory(code="N", name="North")
    yes = ContactFactory(customer=CustomerFactory(region=north), email="yes@north.example")
    ContactFactory(customer=CustomerFactory(), email="elsewhere@south.example")
    out = ContactFactory(customer=CustomerFactory(region=north), email="out@north.example")
    OptOutFactory(email="out@north.example")
    client = client_for(quality_manager)

    preview = client.post(f"/surveys/{srv.pk}/send/", {"regions": [north.pk], "confirm": "0"})
    content = preview.content.decode()
    assert preview.status_code == 200
    assert re.search(r'data-testid="invite-count">1<', content)
    assert re.search(r'data-testid="skip-count">1<', content)
    assert "opted out of surveys" in content
    assert Invitation.objects.count() == 0

    sent = client.post(f"/surveys/{srv.pk}/send/", {"regions": [north.pk], "confirm": "1"})
    assert sent.status_code == 302
    assert sent["Location"] == f"/surveys/invitations/?survey={srv.pk}"
    invitation = Invitation.objects.get()
    assert (invitation.contact, invitation.status) == (yes, InvitationStatus.SENT)
    assert not Invitation.objects.filter(contact=out).exists()
    srv.refresh_from_db()
    assert srv.audience["regions"] == [north.pk]


def test_the_send_page_takes_a_csv_list_and_names_its_bad_lines(quality_manager):
    srv = survey()
    ContactFactory(email="anna@one.example")
    upload = SimpleUploadedFile(
        "list.csv",
        b"Name;E-mail\nAnna;ANNA@one.example\nBob;not-an-address\nCarl;carl@nowhere.example\n",
    )
    response = client_for(quality_manager).post(
        f"/surveys/{srv.pk}/send/", {"csv_file": upload, "confirm": "0"}
    )
    content = response.content.decode()
    assert "Line 3: &#x27;not-an-address&#x27; is not an e-mail address." in content
    assert "no active contact has this address" in content
    assert re.search(r'data-testid="invite-count">1<', content)


def test_invitation_list_shows_statuses_and_exports(quality_manager, auditor):
    srv = survey()
    sent_invitation(srv)
    invitation, _ = sent_invitation(srv)
    Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.BOUNCED)
    content = (
        client_for(quality_manager).get(f"/surveys/invitations/?survey={srv.pk}").content.decode()
    )
    assert "Bounced</a>: 1" in content and "Sent</a>: 1" in content
    export = client_for(auditor).get(f"/surveys/invitations/?survey={srv.pk}&export=csv")
    assert export.status_code == 200
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("Survey,Contact,E-mail,Customer number")
    assert len(body.strip().splitlines()) == 3


def test_results_show_rate_non_response_opt_outs_and_the_distribution(quality_manager):
    srv = survey()
    for score in (10, 9, 9, 6):
        invitation, _ = sent_invitation(srv)
        Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.RESPONDED)
        SurveyResponseFactory(survey=srv, invitation=invitation, status="submitted", score=score)
    for status in (
        [InvitationStatus.SENT] * 20 + [InvitationStatus.OPTED_OUT] * 2 + [InvitationStatus.BOUNCED]
    ):
        invitation, _ = sent_invitation(srv)
        Invitation.objects.filter(pk=invitation.pk).update(status=status)
    content = client_for(quality_manager).get(f"/surveys/{srv.pk}/results/").content.decode()
    assert re.search(r'data-testid="delivered">26<', content)
    assert re.search(r'data-testid="responded">4<', content)
    assert re.search(r'data-testid="non-response">22<', content)
    assert re.search(r'data-testid="opted-out">2<', content)
    assert re.search(r'data-testid="rate">15%<', content)
    assert "add a non-response note" in content
    assert "NPS 50.0" in content
    assert '<script id="results-data" type="application/json">' in content
    srv.nonresponse_note = "Small customers rarely answer; checked by segment."
    srv.save()
    content = client_for(quality_manager).get(f"/surveys/{srv.pk}/results/").content.decode()
    assert "Non-response note: Small customers rarely answer; checked by segment." in content


def test_opt_outs_are_recorded_by_hand_and_withdrawn_by_the_quality_manager(
    quality_manager, analyst
):
    client = client_for(analyst)
    response = client.post(
        "/surveys/opt-outs/add/", {"email": "Sam@Buyer.example", "note": "Asked by phone"}
    )
    record = OptOut.objects.get()
    assert response.status_code == 302
    assert (record.email, record.via) == ("sam@buyer.example", "by_hand")
    assert client.post(f"/surveys/opt-outs/{record.pk}/delete/").status_code == 403
    assert (
        client_for(quality_manager).post(f"/surveys/opt-outs/{record.pk}/delete/").status_code
        == 302
    )
    assert not OptOut.objects.exists()


def test_a_loop_rule_is_added_through_its_page(quality_manager):
    from tests.documents.factories import DocumentFactory, approved

    from harken.documents.choices import DocumentKind

    source = PerceptionSourceFactory(kind=SourceKind.COMPLAINTS_INBOX, structured=False)
    document = DocumentFactory(kind=DocumentKind.NOTICE_TEMPLATE)
    approved(document, "1.0", body="Dear $contact")
    follow_up = survey(kind="csat", trigger="after_resolution")
    response = client_for(quality_manager).post(
        "/surveys/loop/rules/add/",
        {
            "source": source.pk,
            "active": "on",
            "send_outcome": "on",
            "outcome_template": document.pk,
            "follow_up_survey": follow_up.pk,
            "follow_up_delay_days": 10,
        },
    )
    rule = LoopRule.objects.get()
    assert response.status_code == 302
    assert (rule.follow_up_delay_days, rule.outcome_template) == (10, document)
    page = client_for(quality_manager).get(f"/surveys/loop/rules/{rule.pk}/").content.decode()
    assert "(approved, current)" in page


def test_the_invitation_page_records_a_later_bounce(quality_manager):
    invitation, _ = sent_invitation()
    client = client_for(quality_manager)
    assert (
        "Record the bounce" in client.get(f"/surveys/invitations/{invitation.pk}/").content.decode()
    )
    client.post(f"/surveys/invitations/{invitation.pk}/bounce/", {"reason": "550 mailbox full"})
    invitation.refresh_from_db()
    assert (invitation.status, invitation.last_error) == (
        InvitationStatus.BOUNCED,
        "550 mailbox full",
    )


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/surveys/", lambda: survey(open_it=False)),
        ("/surveys/invitations/", lambda: sent_invitation()[0]),
        ("/surveys/responses/", lambda: SurveyResponseFactory(invitation=sent_invitation()[0])),
        ("/surveys/opt-outs/", lambda: OptOutFactory()),
    ],
)
def test_lists_cost_the_same_queries_for_one_row_and_three(quality_manager, url, make):
    client = client_for(quality_manager)
    make()
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    make()
    make()
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).status_code == 200
    assert len(three) == len(one)


def test_every_survey_menu_page_answers_each_role(
    quality_manager, analyst, staff, owner, auditor, outsider
):
    from django.urls import reverse

    from harken.core.registry import registry

    items = [item for item in registry.menu if item.section == "Surveys"]
    assert len(items) == 6
    for user in (quality_manager, analyst, staff, owner, auditor, outsider):
        client = client_for(user)
        for item in items:
            expected = 200 if user.has_perm(item.permission) else 403
            assert client.get(reverse(item.url_name)).status_code == expected, (item.url_name, user)


def test_the_home_page_shows_the_open_surveys(quality_manager):
    srv = survey(title="Relationship NPS 2026 Q2")
    sent_invitation(srv)
    content = client_for(quality_manager).get("/").content.decode()
    assert 'data-testid="surveys-panel"' in content
    assert srv.number in content


def test_a_response_page_shows_the_answers_by_their_wording(quality_manager):
    invitation, _ = sent_invitation()
    srv = invitation.survey
    score = srv.questions.get(kind="score")
    response = SurveyResponseFactory(
        survey=srv, invitation=invitation, status="submitted", answers={str(score.pk): 8}, score=8
    )
    content = client_for(quality_manager).get(f"/surveys/responses/{response.pk}/").content.decode()
    assert "How likely is it that you would recommend Test Company to a colleague?" in content
    assert SurveyResponse.objects.count() == 1


def test_the_invitation_page_shows_the_answer_and_its_audit_events(quality_manager, client):
    invitation, token = sent_invitation()
    from tests.surveys.factories import answers_of

    client.post(
        f"/surveys/r/{token}/", {**answers_of(invitation.survey, score=8), "action": "submit"}
    )
    content = (
        client_for(quality_manager).get(f"/surveys/invitations/{invitation.pk}/").content.decode()
    )
    assert "surveyresponse.submitted by survey:" in content
    assert "Submitted</a>, score 8" in content
