"""Insights pages: the dashboard and its JSON, explore and its exports, signals,
quality objectives and exposure (with the CSV import), each with the personas who
may and the ones who must be refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import ProductLineFactory, RegionFactory
from tests.feedback.factories import PerceptionSourceFactory

from harken.core.models import AuditEvent
from harken.feedback.choices import ItemKind, SourceKind
from harken.feedback.models import Category
from harken.feedback.services import Intake, record_feedback
from harken.insights.choices import ExposureKind, Metric, SignalKind, SignalStatus
from harken.insights.forms import preset_period
from harken.insights.models import Exposure, QualityObjective, Signal

pytestmark = pytest.mark.django_db

NPS_SCORES = (10, 9, 10, 9, 10, 7, 8, 0, 3, 6)  # 5 promoters, 2 passives, 3 detractors: NPS 20


def quarter() -> tuple[dt.date, dt.date]:
    return preset_period("last_quarter", timezone.localdate())


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


class World:
    """A small company: NPS answers, complaints on two product lines, orders shipped."""

    def __init__(self, complaints: int = 4) -> None:
        start, end = quarter()
        self.start, self.end = start, end
        self.survey = PerceptionSourceFactory(
            name="Relationship survey", default_kind=ItemKind.SURVEY_RESPONSE, default_scale="nps"
        )
        self.inbox = PerceptionSourceFactory(
            name="Complaints inbox",
            kind=SourceKind.COMPLAINTS_INBOX,
            structured=False,
            default_kind=ItemKind.COMPLAINT,
        )
        self.valves = ProductLineFactory(code="VAL", name="Valves")
        self.pumps = ProductLineFactory(code="PMP", name="Pumps")
        self.region = RegionFactory(code="EU", name="Europe")
        for index, score in enumerate(NPS_SCORES):
            record_feedback(
                Intake(
                    source=self.survey,
                    score=score,
                    received_at=at(start + dt.timedelta(days=index)),
                    external_id=f"nps-{index}",
                )
            )
        self.complaints = []
        for index in range(complaints):
            line = self.valves if index % 4 != 3 else self.pumps
            item, _ = record_feedback(
                Intake(
                    source=self.inbox,
                    text=f"Delivery {index} arrived late again",
                    received_at=at(start + dt.timedelta(days=20 + index % 40)),
                    product_line=line,
                    region=self.region,
                    external_id=f"cmp-{index}",
                )
            )
            self.complaints.append(item)
        # One complaint in the previous period of equal length.
        previous_day = start - dt.timedelta(days=10)
        record_feedback(
            Intake(
                source=self.inbox,
                text="The pump was defective",
                received_at=at(previous_day),
                product_line=self.pumps,
                external_id="cmp-before",
            )
        )
        month = start
        while month <= end:
            Exposure.objects.create(month=month, kind=ExposureKind.ORDERS_SHIPPED, value=1000)
            month = (month + dt.timedelta(days=32)).replace(day=1)


@pytest.fixture
def world(db: Any) -> World:
    return World()


# --------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------


def card(content: str, testid: str) -> str:
    """The HTML of one dashboard card."""
    begin = content.index(f'data-testid="{testid}"')
    following = content.find('data-testid="figure-', begin + 10)
    return content[begin : following if following != -1 else begin + 3000]


@pytest.mark.parametrize("persona", ["quality_manager", "analyst", "auditor"])
def test_dashboard_shows_the_built_nps_and_complaints(world, persona, request):
    response = client_for(request.getfixturevalue(persona)).get("/insights/")
    assert response.status_code == 200
    content = response.content.decode()
    nps = card(content, "figure-nps")
    assert re.search(r">\s*20\.0\s*</a>", nps)
    assert "n = 10" in nps
    complaints = card(content, "figure-complaints")
    assert re.search(r">\s*4\s*</a>", complaints)
    assert "Before: 1 (+3)" in complaints
    rate = card(content, "figure-complaint_rate")
    assert re.search(r">\s*1\.33\s*</a>", rate)  # 4 complaints per 3,000 orders
    assert "Answers per score: 0: 1 · 1: 0 · 2: 0 · 3: 1" in content
    assert "6: 1 · 7: 1 · 8: 1 · 9: 2 · 10: 3" in content


@pytest.mark.parametrize("persona", ["staff", "outsider"])
def test_dashboard_refuses_staff_and_outsiders(persona, request):
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/insights/").status_code == 403
    assert client.get("/insights/data/").status_code == 403
    assert client.get("/insights/explore/").status_code == 403


def test_dashboard_asks_anonymous_visitors_to_sign_in(client):
    response = client.get("/insights/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_dashboard_json_carries_the_same_numbers(world, auditor):
    response = client_for(auditor).get("/insights/data/")
    assert response.status_code == 200
    data = response.json()
    figures = {f["metric"]: f for f in data["headline"]}
    assert figures["nps"]["value"] == 20.0
    assert figures["nps"]["n"] == 10
    assert figures["nps"]["warning"] == "Only 10 answers: too few to read as a score"
    assert figures["complaints"]["value"] == 4.0
    assert figures["complaints"]["previous"] == 1.0
    assert figures["complaint_rate"]["value"] == 1.33
    assert data["nps_distribution"]["counts"] == [1, 0, 0, 1, 0, 0, 1, 1, 1, 2, 3]
    assert data["scope"]["date_from"] == world.start.isoformat()
    assert data["scope"]["date_to"] == world.end.isoformat()
    delivery = Category.objects.get(code="delivery")
    assert [(r["label"], r["count"], r["cumulative_percent"]) for r in data["pareto"]] == [
        ("Delivery", 4, 100.0)
    ]
    assert f"category={delivery.pk}" in data["pareto"][0]["url"]
    assert [
        (r["product_line"], r["category"], r["count"], r["previous"]) for r in data["top_issues"]
    ] == [
        ("Valves", "Delivery", 3, 0),
        ("Pumps", "Delivery", 1, 0),
    ]
    page = client_for(auditor).get("/insights/")
    assert page.context["data"]["headline"] == data["headline"]


def test_dashboard_json_names_the_bad_parameter(world, auditor):
    response = client_for(auditor).get("/insights/data/?period=custom&date_from=2026-02-01")
    assert response.status_code == 400
    assert response.json()["errors"]["date_to"][0]["message"] == "Give the last day of the period."


def test_each_number_links_to_the_records_behind_it(world, quality_manager):
    client = client_for(quality_manager)
    data = client.get("/insights/data/").json()
    url = {f["metric"]: f for f in data["headline"]}["complaints"]["url"]
    assert "kind=complaint" in url
    listing = client.get(url).content.decode()
    for item in world.complaints:
        assert item.complaint_number in listing
    assert "cmp-before" not in listing
    numbers = set(re.findall(r"CMP-\d{4}-\d{4}", listing))
    assert numbers == {item.complaint_number for item in world.complaints}


def test_a_filtered_dashboard_counts_only_that_product_line(world, auditor):
    data = client_for(auditor).get(f"/insights/data/?product_line={world.pumps.pk}").json()
    figures = {f["metric"]: f for f in data["headline"]}
    assert figures["complaints"]["value"] == 1.0
    assert f"product_line={world.pumps.pk}" in figures["complaints"]["url"]


def test_dashboard_custom_period_and_presets(world, auditor):
    client = client_for(auditor)
    start, end = world.start, world.start + dt.timedelta(days=9)
    data = client.get(f"/insights/data/?period=custom&date_from={start}&date_to={end}").json()
    assert {f["metric"]: f["n"] for f in data["headline"]}["nps"] == 10
    month = client.get("/insights/data/?period=last_month").json()
    first, last = preset_period("last_month", timezone.localdate())
    assert (month["scope"]["date_from"], month["scope"]["date_to"]) == (
        first.isoformat(),
        last.isoformat(),
    )


def test_dashboard_lists_open_signals_and_overdue_complaints(world, quality_manager):
    signal = Signal.objects.create(
        kind=SignalKind.CONTROL_CHART,
        metric=Metric.COMPLAINT_RATE,
        title="Valves: point beyond the upper control limit",
        description="Too many complaints.",
        period_start=world.start,
        period_end=world.end,
        fingerprint="test-1",
        evidence={"filter": {"product_line": [world.valves.pk], "kind": "complaint"}},
    )
    content = client_for(quality_manager).get("/insights/").content.decode()
    signals = content[content.index('data-testid="open-signals"') :]
    assert f'href="/insights/signals/{signal.pk}/"' in signals
    assert "Valves: point beyond the upper control limit" in signals
    overdue = card(content, "overdue")
    assert 'href="/feedback/items/?overdue=1"' in overdue


def dashboard_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/insights/").status_code == 200
    return len(queries)


def test_dashboard_query_count_does_not_grow_with_items(quality_manager):
    client = client_for(quality_manager)
    World(complaints=1)
    client.get("/insights/")  # warm the session
    one = dashboard_queries(client)
    source = PerceptionSourceFactory(name="Complaints inbox")
    start, _ = quarter()
    for index in range(29):
        record_feedback(
            Intake(
                source=source,
                kind=ItemKind.COMPLAINT,
                text=f"Shipment {index} late",
                received_at=at(start + dt.timedelta(days=index)),
                external_id=f"more-{index}",
            )
        )
    assert dashboard_queries(client) == one


# --------------------------------------------------------------------------------------
# Explore and its exports
# --------------------------------------------------------------------------------------


def test_explore_splits_complaints_by_product_line(world, analyst):
    url = (
        "/insights/explore/?metric=complaints&grain=quarter&split=product_line"
        f"&period=custom&date_from={world.start}&date_to={world.end}"
    )
    response = client_for(analyst).get(url)
    assert response.status_code == 200
    table = response.context["table"]
    assert table.labels == ["Pumps", "Valves", "(none)"]
    [row] = table.rows
    assert row["period"] == world.start.isoformat()
    assert [(c["value"], c["n"]) for c in row["cells"]] == [(1.0, 1), (3.0, 3), (0.0, 0)]
    assert f"product_line={world.valves.pk}" in row["cells"][1]["url"]
    assert 'data-testid="explore-table"' in response.content.decode()


def test_explore_nps_cell_has_its_interval(world, analyst):
    url = (
        f"/insights/explore/?metric=nps&grain=quarter&period=custom"
        f"&date_from={world.start}&date_to={world.end}"
    )
    [row] = client_for(analyst).get(url).context["table"].rows
    [cell] = row["cells"]
    assert cell["value"] == 20.0
    assert cell["n"] == 10
    assert cell["lower"] < 20.0 < cell["upper"]


def test_explore_exports_csv_with_an_audit_event(world, auditor):
    url = (
        "/insights/explore/?metric=complaints&grain=quarter&split=product_line"
        f"&period=custom&date_from={world.start}&date_to={world.end}&export=csv"
    )
    response = client_for(auditor).get(url)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Period start",
        "Period end",
        "Split",
        "Value",
        "Lower 95%",
        "Upper 95%",
        "n",
        "Warning",
    ]
    assert [r[2:4] + r[6:7] for r in rows[1:]] == [
        ["Pumps", "1.0", "1"],
        ["Valves", "3.0", "3"],
        ["(none)", "0.0", "0"],
    ]
    assert rows[1][:2] == [world.start.isoformat(), world.end.isoformat()]
    event = AuditEvent.objects.get(action="insights.exported")
    assert event.actor_label == "auditor"
    assert event.changes["format"] == "csv"
    assert event.changes["split"] == "product_line"
    assert event.changes["rows"] == 3
    xlsx = client_for(auditor).get(url.replace("export=csv", "export=xlsx"))
    assert xlsx.status_code == 200
    # Read it to the end: the test client then closes it without closing the connection.
    b"".join(xlsx.streaming_content)
    assert AuditEvent.objects.filter(action="insights.exported").count() == 2


def test_explore_export_neutralises_formula_labels(world, auditor):
    Category.objects.filter(code="delivery").update(name="=HYPERLINK(1)")
    url = (
        "/insights/explore/?metric=complaints&grain=quarter&split=category"
        f"&period=custom&date_from={world.start}&date_to={world.end}&export=csv"
    )
    content = client_for(auditor).get(url).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in content


# --------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------


@pytest.fixture
def signal(db: Any) -> Signal:
    line = ProductLineFactory(code="VAL", name="Valves")
    return Signal.objects.create(
        kind=SignalKind.CONTROL_CHART,
        metric=Metric.COMPLAINT_RATE,
        title="Valves — Delivery: point beyond the upper control limit",
        description="The control chart flags September.",
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2026, 9, 30),
        rule="nelson_1",
        fingerprint="fp-valves",
        evidence={
            "unit": "complaints per 1,000 orders",
            "points": [
                {"month": "2026-09-01", "count": 12, "value": 12.13, "centre": 4.0, "ucl": 10.05}
            ],
            "filter": {
                "product_line": [line.pk],
                "kind": "complaint",
                "received_from": "2026-09-01",
                "received_to": "2026-09-30",
            },
        },
    )


def test_signal_list_and_detail_show_status_evidence_and_records_link(signal, auditor):
    client = client_for(auditor)
    listing = client.get("/insights/signals/").content.decode()
    assert signal.number in listing
    assert '<span class="badge text-bg-danger">Open</span>' in listing
    detail = client.get(f"/insights/signals/{signal.pk}/").content.decode()
    assert "The control chart flags September." in detail
    evidence = detail[detail.index('data-testid="evidence"') :]
    assert re.search(r"2026-09</td><td[^>]*>12</td><td[^>]*>12\.13</td>", evidence)
    link = re.search(r'href="([^"]+)" data-testid="records-link"', detail).group(1)
    assert link.startswith("/feedback/items/?")
    assert f"product_line={signal.evidence['filter']['product_line'][0]}" in link
    assert "kind=complaint" in link
    assert "2026-09-01" in link and "2026-09-30" in link
    # The auditor reads; moving a signal is for the quality roles.
    assert "Acknowledge" not in detail


@pytest.mark.parametrize("persona", ["staff", "outsider"])
def test_signals_are_refused_to_staff_and_outsiders(signal, persona, request):
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/insights/signals/").status_code == 403
    assert client.get(f"/insights/signals/{signal.pk}/").status_code == 403


def test_dismissing_a_signal_needs_a_reason(signal, analyst):
    client = client_for(analyst)
    url = f"/insights/signals/{signal.pk}/transition/dismiss/"
    response = client.post(url, {"dismissal_reason": "   "})
    assert response.status_code == 302
    assert messages_of(response) == ["Say why it is dismissed."]
    signal.refresh_from_db()
    assert signal.status == SignalStatus.OPEN
    response = client.post(url, {"dismissal_reason": "A one-off carrier strike."})
    signal.refresh_from_db()
    assert signal.status == SignalStatus.DISMISSED
    assert signal.dismissal_reason == "A one-off carrier strike."
    event = AuditEvent.objects.get(action="signal.dismiss")
    assert event.changes["status"] == ["open", "dismissed"]
    client.post(f"/insights/signals/{signal.pk}/transition/reopen/")
    signal.refresh_from_db()
    assert signal.status == SignalStatus.OPEN


def test_acknowledging_is_refused_to_the_auditor(signal, auditor, quality_manager):
    url = f"/insights/signals/{signal.pk}/transition/acknowledge/"
    assert client_for(auditor).post(url).status_code == 403
    client_for(quality_manager).post(url)
    signal.refresh_from_db()
    assert signal.status == SignalStatus.ACKNOWLEDGED


def test_looking_for_signals_now_needs_the_classify_permission(world, auditor, analyst):
    assert client_for(auditor).post("/insights/signals/detect/").status_code == 403
    response = client_for(analyst).post("/insights/signals/detect/")
    assert response.status_code == 302
    assert response["Location"] == "/insights/signals/"
    assert client_for(analyst).get("/insights/signals/detect/").status_code == 405


# --------------------------------------------------------------------------------------
# Quality objectives
# --------------------------------------------------------------------------------------


def objective_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "NPS at least 30 for key accounts",
        "metric": Metric.NPS,
        "comparator": ">=",
        "target": "30",
        "segments": ["key_account"],
        "frequency": "quarterly",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_objective_form_names_each_bad_field(quality_manager):
    client = client_for(quality_manager)
    response = client.post(
        "/insights/objectives/add/", objective_data(name="", target="150", owner="")
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert errors["name"] == ["This field is required."]
    assert errors["target"] == ["A NPS target is between -100 and 100."]
    assert errors["owner"] == ["This field is required."]
    response = client.post(
        "/insights/objectives/add/",
        objective_data(metric=Metric.CES, target="9", owner=quality_manager.pk),
    )
    assert response.context["form"].errors["target"] == ["A CES target is between 1 and 7."]
    assert QualityObjective.objects.count() == 0


def test_objective_is_added_with_its_scope_edited_and_deleted(quality_manager, analyst):
    line = ProductLineFactory(code="VAL", name="Valves")
    response = client_for(analyst).post(
        "/insights/objectives/add/",
        objective_data(owner=analyst.pk, product_lines=[line.pk], per_product_line="on"),
    )
    assert response.status_code == 302
    objective = QualityObjective.objects.get()
    assert objective.scope == {"segments": ["key_account"], "product_lines": [line.pk]}
    assert objective.per_product_line is True
    assert AuditEvent.objects.filter(action="qualityobjective.created").count() == 1
    edit = client_for(analyst).get(f"/insights/objectives/{objective.pk}/edit/")
    assert edit.context["form"].initial["segments"] == ["key_account"]
    detail = client_for(analyst).get(f"/insights/objectives/{objective.pk}/").content.decode()
    assert "Valves" in detail and "Key account" in detail
    listing = client_for(analyst).get("/insights/objectives/").content.decode()
    assert "Valves: no data" in listing
    # Deleting is the quality manager's.
    assert (
        client_for(analyst).post(f"/insights/objectives/{objective.pk}/delete/").status_code == 403
    )
    client_for(quality_manager).post(f"/insights/objectives/{objective.pk}/delete/")
    assert QualityObjective.objects.count() == 0


def test_objective_standing_on_the_list(world, quality_manager):
    QualityObjective.objects.create(
        name="NPS at least 10",
        metric=Metric.NPS,
        comparator=">=",
        target=10,
        owner=quality_manager,
        frequency="quarterly",
    )
    QualityObjective.objects.create(
        name="NPS at least 50",
        metric=Metric.NPS,
        comparator=">=",
        target=50,
        owner=quality_manager,
        frequency="quarterly",
    )
    listing = client_for(quality_manager).get("/insights/objectives/?sort=name").content.decode()
    first = listing.index("NPS at least 10")
    second = listing.index("NPS at least 50")
    assert "All: on target" in listing[first:second]
    assert "All: off target" in listing[second:]


def test_objectives_are_refused_to_staff(staff):
    assert client_for(staff).get("/insights/objectives/").status_code == 403


# --------------------------------------------------------------------------------------
# Exposure
# --------------------------------------------------------------------------------------

GOOD_AND_BAD = (
    "month,kind,product_line,region,value\n"
    "2026-01,orders_shipped,VAL,,912\n"
    "2026-01,Deliveries,Valves,EU,1180\n"
    "2026-13,orders_shipped,,,6120\n"
    "2026-02,orders_shipped,NOPE,,1\n"
    "2026-02,orders_shipped,,,-5\n"
    "2026-02,orders_shipped,,,6120\n"
)


def upload(text: str, **extra: Any) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("exposure.csv", text.encode(), "text/csv"), **extra}


def test_exposure_import_lands_good_rows_and_reports_bad_ones(analyst):
    line = ProductLineFactory(code="VAL", name="Valves")
    region = RegionFactory(code="EU", name="Europe")
    client = client_for(analyst)
    response = client.post("/insights/exposure/import/", upload(GOOD_AND_BAD))
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.created, result.changed, result.unchanged) == (3, 0, 0)
    assert result.rejected == [
        (4, "month '2026-13' is not a month written YYYY-MM."),
        (5, "product_line 'NOPE' matches no product line's code or name."),
        (6, "value -5 must be zero or more."),
    ]
    content = response.content.decode()
    assert "product_line &#x27;NOPE&#x27; matches no product line" in content
    figures = {
        (e.month, e.kind, e.product_line_id, e.region_id): e.value for e in Exposure.objects.all()
    }
    assert figures == {
        (dt.date(2026, 1, 1), "orders_shipped", line.pk, None): 912.0,
        (dt.date(2026, 1, 1), "deliveries", line.pk, region.pk): 1180.0,
        (dt.date(2026, 2, 1), "orders_shipped", None, None): 6120.0,
    }
    assert AuditEvent.objects.filter(action="exposure.created").count() == 3
    summary = AuditEvent.objects.get(action="exposure.imported")
    assert summary.changes["created"] == 3
    assert len(summary.changes["rejected"]) == 3

    again = client.post("/insights/exposure/import/", upload(GOOD_AND_BAD)).context["result"]
    assert (again.created, again.changed, again.unchanged) == (0, 0, 3)
    assert Exposure.objects.count() == 3
    assert (
        AuditEvent.objects.filter(action__in=["exposure.created", "exposure.updated"]).count() == 3
    )

    changed = client.post(
        "/insights/exposure/import/",
        upload("month,kind,product_line,region,value\n2026-02,orders_shipped,,,6200\n"),
    ).context["result"]
    assert (changed.created, changed.changed) == (0, 1)
    event = AuditEvent.objects.get(action="exposure.updated")
    assert event.changes == {"value": [6120.0, 6200.0]}


def test_exposure_import_refuses_a_file_without_the_columns(analyst):
    response = client_for(analyst).post("/insights/exposure/import/", upload("when,what\n1,2\n"))
    assert response.status_code == 422
    assert response.context["form"].errors["file"] == [
        "The header lacks the column(s) month, kind, value."
    ]


def test_exposure_import_is_refused_to_the_auditor(auditor):
    assert client_for(auditor).get("/insights/exposure/import/").status_code == 403
    assert client_for(auditor).get("/insights/exposure/").status_code == 200


def test_exposure_command_dry_run_stores_nothing(tmp_path, db):
    ProductLineFactory(code="VAL", name="Valves")
    RegionFactory(code="EU", name="Europe")
    file = tmp_path / "exposure.csv"
    file.write_text(GOOD_AND_BAD)
    out = io.StringIO()
    call_command("exposure", "import", str(file), "--dry-run", stdout=out)
    assert Exposure.objects.count() == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "line 4: month '2026-13' is not a month written YYYY-MM."
    assert lines[-1] == (
        "Dry run: 3 rows accepted: 3 new figures, 0 changed, 0 already as in the file; "
        "3 rejected. Nothing was stored (check only)."
    )
    call_command("exposure", "import", str(file), stdout=io.StringIO())
    assert Exposure.objects.count() == 3
    assert AuditEvent.objects.get(action="exposure.imported").actor_label == "cli:exposure"


def test_exposure_form_refuses_a_second_company_wide_figure(analyst):
    Exposure.objects.create(month=dt.date(2026, 1, 1), kind=ExposureKind.ORDERS_SHIPPED, value=10)
    response = client_for(analyst).post(
        "/insights/exposure/add/", {"month": "2026-01", "kind": "orders_shipped", "value": "12"}
    )
    assert response.status_code == 422
    assert response.context["form"].non_field_errors() == [
        "There is already a figure for this month, kind, product line and region."
    ]
    response = client_for(analyst).post(
        "/insights/exposure/add/", {"month": "2026-02", "kind": "orders_shipped", "value": "12"}
    )
    assert response.status_code == 302
    assert Exposure.objects.get(month=dt.date(2026, 2, 1)).value == 12.0


def test_exposure_list_filters_by_month_range_and_kind(auditor):
    for month in (1, 2, 3):
        Exposure.objects.create(
            month=dt.date(2026, month, 1), kind=ExposureKind.ORDERS_SHIPPED, value=month * 100
        )
    Exposure.objects.create(month=dt.date(2026, 2, 1), kind=ExposureKind.DELIVERIES, value=7)
    content = (
        client_for(auditor)
        .get("/insights/exposure/?month_from=2026-02&month_to=2026-02&kind=orders_shipped")
        .content.decode()
    )
    table = content[content.index('data-testid="object-table"') :]
    assert re.findall(r">(2026-\d\d)</a>", table) == ["2026-02"]
    assert ">200.0<" in table


@pytest.mark.parametrize("rows", [1, 3])
def test_exposure_list_query_count_does_not_grow_with_rows(
    auditor, rows, django_assert_max_num_queries
):
    line = ProductLineFactory(code="VAL", name="Valves")
    for month in range(1, rows + 1):
        Exposure.objects.create(
            month=dt.date(2026, month, 1), kind="orders_shipped", product_line=line, value=1
        )
    client = client_for(auditor)
    client.get("/insights/exposure/")
    with django_assert_max_num_queries(8):
        assert client.get("/insights/exposure/").status_code == 200


def test_json_values_are_plain_json(world, auditor):
    raw = client_for(auditor).get("/insights/data/").content
    assert json.loads(raw)["headline"][0]["metric"] == "nps"
