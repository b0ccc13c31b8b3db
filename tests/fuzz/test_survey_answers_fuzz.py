"""Survey answers under generated input: checking keeps every valid answer exactly and names
every invalid one by its question, and the public answer page answers any form it is sent
with a page (never a server error), storing only what was valid."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.surveys.factories import sent_invitation, survey

from harken.surveys.answers import MAX_TEXT, SCALE_BOUNDS, QuestionSpec, check
from harken.surveys.models import SurveyResponse
from harken.surveys.services import CsvList, read_contact_csv

FAST = settings(max_examples=150, deadline=None)
OPTIONS = ("Price", "Delivery", "Quality", "Ärger")
RAW = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.integers(min_value=-50, max_value=50).map(str),
    st.sampled_from(OPTIONS),
    st.lists(st.one_of(st.sampled_from(OPTIONS), st.text(max_size=8)), max_size=4),
)
QUESTION = st.builds(
    QuestionSpec,
    id=st.integers(min_value=1, max_value=10**6),
    kind=st.sampled_from(["score", "rating", "choice", "multiple", "text", "why"]),
    required=st.booleans(),
    scale=st.sampled_from(["", *SCALE_BOUNDS]),
    options=st.just(OPTIONS),
)


@given(st.lists(QUESTION, max_size=6, unique_by=lambda q: q.id), st.data(), st.booleans())
@FAST
def test_every_answer_is_kept_clean_or_named_by_its_question(
    questions: list[QuestionSpec], data: st.DataObject, final: bool
) -> None:
    form = {q.key: data.draw(RAW) for q in questions}
    form["unknown-field"] = data.draw(RAW)
    result = check(questions, form, final=final)
    by_id = {str(q.id): q for q in questions}
    assert set(result.values) | set(result.errors) <= set(by_id)
    assert not set(result.values) & set(result.errors)
    for key, value in result.values.items():
        q = by_id[key]
        if q.kind in ("score", "rating"):
            low, high = SCALE_BOUNDS.get(q.scale, (0, 10))
            assert isinstance(value, int) and low <= value <= high
        elif q.kind == "choice":
            assert value in OPTIONS
        elif q.kind == "multiple":
            assert value and set(value) <= set(OPTIONS)
        else:
            assert isinstance(value, str) and value == value.strip() and len(value) <= MAX_TEXT
    for key, (code, _params) in result.errors.items():
        assert code in ("required", "range", "choice", "too_long")
        if code == "required":
            assert final and by_id[key].required
    if final:
        for q in questions:
            if q.required:
                assert str(q.id) in result.values or str(q.id) in result.errors


@given(st.lists(QUESTION, min_size=1, max_size=6, unique_by=lambda q: q.id), st.data())
@FAST
def test_valid_answers_are_all_kept(questions: list[QuestionSpec], data: st.DataObject) -> None:
    form: dict[str, Any] = {}
    for q in questions:
        if q.kind in ("score", "rating"):
            low, high = SCALE_BOUNDS.get(q.scale, (0, 10))
            form[q.key] = str(data.draw(st.integers(min_value=low, max_value=high)))
        elif q.kind == "choice":
            form[q.key] = data.draw(st.sampled_from(OPTIONS))
        elif q.kind == "multiple":
            form[q.key] = data.draw(st.lists(st.sampled_from(OPTIONS), min_size=1, unique=True))
        else:
            # A text answer is valid when something is left once NULs (dropped: nothing a
            # respondent meant) and surrounding space are taken away.
            form[q.key] = data.draw(
                st.text(min_size=1, max_size=50).filter(lambda t: t.replace("\x00", "").strip())
            )
    result = check(questions, form, final=True)
    assert result.ok
    assert set(result.values) == {str(q.id) for q in questions}


@given(st.binary(max_size=600))
@FAST
def test_a_contact_list_of_any_bytes_gives_addresses_and_numbered_errors(data: bytes) -> None:
    result = read_contact_csv(data)
    assert all("@" in email for email in result.emails)
    assert all(error.startswith(("Line ", "The file")) for error in result.errors)


@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\A[a-z]{1,8}@[a-z]{1,8}\.example\Z"),
            st.text(alphabet="abcxyz@. ", max_size=10),
        ),
        max_size=8,
    ),
    st.sampled_from([",", ";", "\t"]),
)
@FAST
def test_a_contact_list_keeps_every_address_and_numbers_every_bad_line(
    cells: list[str], delimiter: str
) -> None:
    lines = [f"email{delimiter}note", *(f"{cell}{delimiter}x" for cell in cells)]
    result = read_contact_csv("\n".join(lines).encode())
    filled = {number: cell.strip() for number, cell in enumerate(cells, start=2) if cell.strip()}
    assert len(result.emails) + len(result.errors) == len(filled)
    for error in result.errors:
        number = int(error.split(":")[0].removeprefix("Line "))
        assert filled[number].lower() not in result.emails
    for cell in filled.values():
        if cell.endswith(".example") and cell.count("@") == 1 and " " not in cell:
            assert cell.lower() in result.emails


FORM_VALUE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["0", "10", "11", "-1", "7", "1e3", "", " ", "\x00", "9" * 50]),
)


@pytest.mark.django_db
@given(st.data())
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_the_answer_page_takes_any_form_without_a_server_error(data: st.DataObject) -> None:
    with transaction.atomic():  # each example on its own: rolled back at the end
        invitation, token = sent_invitation(survey())
        keys = [f"q{q.pk}" for q in invitation.survey.questions.all()]
        form = {key: data.draw(FORM_VALUE) for key in keys}
        form["action"] = data.draw(st.sampled_from(["submit", "save", "other"]))
        form[data.draw(st.text(max_size=8))] = data.draw(FORM_VALUE)
        response = Client().post(f"/surveys/r/{token}/", form)
        assert response.status_code in (204, 303, 422), response.status_code
        stored = SurveyResponse.objects.filter(invitation=invitation).first()
        if response.status_code == 422:
            assert stored is None or stored.status == "partial"
        if stored is not None:
            text = " ".join(str(v) for v in stored.answers.values())
            assert "\x00" not in text
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_an_answer_with_a_nul_character_is_stored_without_it() -> None:
    # Regression: PostgreSQL refuses NUL in JSON, so such an answer gave a server error.
    invitation, token = sent_invitation(survey())
    why = next(q for q in invitation.survey.questions.all() if q.kind == "why")
    score = next(q for q in invitation.survey.questions.all() if q.kind == "score")
    response = Client().post(
        f"/surveys/r/{token}/",
        {f"q{score.pk}": "9", f"q{why.pk}": "Fast\x00 delivery", "action": "submit"},
    )
    assert response.status_code == 303
    stored = SurveyResponse.objects.get(invitation=invitation)
    assert stored.answers[str(why.pk)] == "Fast delivery"


def test_a_contact_list_with_a_stray_carriage_return_is_read() -> None:
    # Regression: a lone CR (old Mac line ends) made the csv module raise, a server error.
    assert read_contact_csv(b"email\ra@customer.example\rb@customer.example\r") == CsvList(
        ["a@customer.example", "b@customer.example"], []
    )
    assert read_contact_csv(b"\r\x00").errors == ["Line 2: '\\x00' is not an e-mail address."]
