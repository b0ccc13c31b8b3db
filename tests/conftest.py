"""Shared fixtures: personas (one per role, plus an outsider with none), clients, Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from tests.factories import PASSWORD, ROLE_PERSONAS, persona

ON_POSTGRES = os.environ.get("HARKEN_TEST_ENGINE") == "postgres"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    skip_pg = pytest.mark.skip(reason="PostgreSQL only (set HARKEN_TEST_ENGINE=postgres)")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)


@pytest.fixture
def quality_manager(db: Any) -> Any:
    return persona(ROLE_PERSONAS["quality_manager"], "qm")


@pytest.fixture
def analyst(db: Any) -> Any:
    return persona(ROLE_PERSONAS["analyst"], "analyst")


@pytest.fixture
def staff(db: Any) -> Any:
    return persona(ROLE_PERSONAS["staff"], "staff")


@pytest.fixture
def owner(db: Any) -> Any:
    return persona(ROLE_PERSONAS["owner"], "owner")


@pytest.fixture
def auditor(db: Any) -> Any:
    return persona(ROLE_PERSONAS["auditor"], "auditor")


@pytest.fixture
def administrator(db: Any) -> Any:
    return persona(ROLE_PERSONAS["administrator"], "administrator")


@pytest.fixture
def outsider(db: Any) -> Any:
    return persona(None, "outsider")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def qm_client(quality_manager: Any) -> Client:
    return client_for(quality_manager)


@pytest.fixture
def auditor_client(auditor: Any) -> Client:
    return client_for(auditor)


@pytest.fixture
def password() -> str:
    return PASSWORD


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (make test installs it as root)")
    # Playwright's sync API runs an event loop in this thread; the live server's
    # database work happens in its own thread, so Django's async guard can stand down.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


def login(page: Any, live_server: Any, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


# Hypothesis: in CI (CI=true) every run tries the same derandomised examples, so a red run
# can be repeated; locally each run explores new ones. HYPOTHESIS_PROFILE picks one by name.
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev")
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
