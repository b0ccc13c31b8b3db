import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import PerceptionSourceFactory

from harken.feedback.services import Intake, record_feedback

pytestmark = pytest.mark.django_db


@pytest.fixture
def answers():
    source = PerceptionSourceFactory(
        name="NPS", structured=True, default_kind="survey_response", default_scale="nps"
    )
    for i, score in enumerate((10, 9, 8, 3)):
        record_feedback(
            Intake(
                source=source,
                score=score,
                received_at=timezone.make_aware(dt.datetime(2026, 2, 2 + i, 9)),
            )
        )


def test_metrics_endpoint_returns_the_figures(answers, analyst):
    body = client_for(analyst).get("/api/metrics/?metric=nps&from=2026-02-01&to=2026-02-28").json()
    assert body["total"]["value"] == 25.0
    assert body["total"]["n"] == 4
    assert body["series"][0]["points"][0]["period"] == "2026-02-01"


def test_metrics_endpoint_names_bad_parameters(analyst):
    response = client_for(analyst).get("/api/metrics/?metric=mood&grain=day&from=nope")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"metric", "grain", "from"}


def test_metrics_endpoint_refuses_staff(staff):
    assert client_for(staff).get("/api/metrics/?metric=nps").status_code == 403


def test_metrics_command_prints_the_same_figure(answers, capsys):
    call_command("metrics", "--from", "2026-02-01", "--to", "2026-02-28", "--metric", "nps")
    assert "nps              25.0" in capsys.readouterr().out


def test_exposure_month_must_be_a_first_day(quality_manager):
    response = client_for(quality_manager).post(
        "/api/exposures/",
        {"month": "2026-02-03", "kind": "orders_shipped", "value": 5},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["month"] == ["Give the first day of the month."]


def test_signal_detection_needs_the_classify_verb(auditor, quality_manager):
    assert client_for(auditor).post("/api/signals/detect/").status_code == 403
    assert client_for(quality_manager).post("/api/signals/detect/").status_code == 200
