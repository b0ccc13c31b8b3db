"""How Harken configures its database connection from the environment."""

from __future__ import annotations

import pytest
from django.db import connection

from harken import settings as harken_settings


def test_postgresql_sessions_ask_for_no_parallel_workers_by_default(monkeypatch):
    monkeypatch.delenv("HARKEN_DB_PARALLEL_WORKERS", raising=False)
    config = harken_settings._database("postgres://harken@db.example:5432/harken")
    assert config["OPTIONS"]["options"] == "-c max_parallel_workers_per_gather=0"


def test_parallel_workers_can_be_raised_and_other_options_are_kept(monkeypatch):
    monkeypatch.setenv("HARKEN_DB_PARALLEL_WORKERS", "4")
    config = harken_settings._database(
        "postgres://harken@db.example:5432/harken?options=-c%20statement_timeout%3D5000"
    )
    assert config["OPTIONS"]["options"] == (
        "-c statement_timeout=5000 -c max_parallel_workers_per_gather=4"
    )


def test_sqlite_gets_no_postgresql_options():
    config = harken_settings._database("sqlite:////tmp/harken-settings-test.sqlite3")
    assert "options" not in config["OPTIONS"]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL session setting")
def test_the_live_session_has_the_setting():
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
