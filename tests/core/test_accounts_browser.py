"""In a real browser: set up an authenticator app, sign in with a code, see one's
sessions and sign the other browser out."""

from __future__ import annotations

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect
from tests.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_for(device, steps_ahead=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)  # a phone: no drift
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def test_two_factor_sign_in_and_the_sessions_page(browser, page, live_server, quality_manager):
    login(page, live_server, "qm")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    device = TOTPDevice.objects.get(user=quality_manager, confirmed=False)
    assert secret.replace(" ", "") in device.config_url
    page.get_by_label("Code").fill(code_for(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("recovery-code")).to_have_count(10)
    page.get_by_role("link", name="I have kept them").click()
    expect(page.get_by_test_id("two-factor-state")).to_contain_text(
        "An authenticator app is set up"
    )

    # Sign out, then in again: the password alone is not enough.
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    page.get_by_label("Username").fill("qm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/login/code/")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    # django-otp waits a second after a wrong code; the next time step's code is good.
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    page.get_by_label("Code").fill(code_for(device, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/")

    # A second browser signs in too (with the code after that).
    other_context = browser.new_context()
    other = other_context.new_page()
    other.goto(f"{live_server.url}/accounts/login/")
    other.get_by_label("Username").fill("qm")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url("**/accounts/login/code/")
    device.refresh_from_db()
    other.get_by_label("Code").fill(code_for(device, steps_ahead=2))
    other.get_by_role("button", name="Verify").click()
    other.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/accounts/sessions/")
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    expect(page.get_by_text("This session")).to_have_count(1)
    page.get_by_role("button", name="Sign out the other sessions (1)").click()
    expect(page.get_by_text("Signed out of 1 other session(s).")).to_be_visible()
    expect(page.get_by_test_id("session-row")).to_have_count(1)

    other.goto(f"{live_server.url}/customers/")
    other.wait_for_url("**/accounts/login/?next=/customers/")
    other_context.close()


def test_password_fields_can_be_shown_and_a_new_one_is_rated(
    browser, page, live_server, quality_manager
):
    page.goto(f"{live_server.url}/accounts/login/")
    password = page.locator("#id_password")
    expect(password).to_have_attribute("type", "password")
    page.get_by_label("Show what I type").check()
    expect(password).to_have_attribute("type", "text")

    login(page, live_server, "qm")
    page.goto(f"{live_server.url}/accounts/password_change/")
    new = page.locator("#id_new_password1")
    meter = page.get_by_test_id("password-strength")
    new.fill("short")
    expect(meter).to_have_text("Too short: at least 12 characters.")
    new.fill("aaaaaaaaaaaaaaaa")
    expect(meter).to_have_text("Weak: too few different characters.")
    new.fill("violet-harbour-Lantern-42")
    expect(meter).to_have_text("Strong.")
    page.get_by_label("Show what I type").check()
    expect(page.locator('input[name="new_password2"]')).to_have_attribute("type", "text")
