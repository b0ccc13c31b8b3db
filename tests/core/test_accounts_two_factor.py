"""The optional second factor (ASVS V2.8, V2.6): set up an authenticator app with a QR
code or the secret, confirm it with a code, then sign-in asks for a code; recovery
codes work once; roles can be made to need it; administrators can reset it."""

from __future__ import annotations

import re
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.factories import PASSWORD, persona

from harken.accounts import twofactor
from harken.accounts.checks import check_account_settings
from harken.core.choices import Role
from harken.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def code_for(device, steps_ahead=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)  # a phone: no drift
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrolled(user):
    device = TOTPDevice.objects.create(user=user, name=twofactor.APP_DEVICE_NAME, confirmed=True)
    codes = [c.replace("-", "") for c in twofactor.new_recovery_codes(user)]
    return device, codes


def password_step(client, username="qm", next_url=""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


def test_setting_up_shows_a_qr_code_the_uri_and_the_secret(qm_client, quality_manager):
    response = qm_client.post("/accounts/two-factor/", {"action": "begin"})
    assert response["Location"] == "/accounts/two-factor/setup/"
    page = qm_client.get("/accounts/two-factor/setup/").content.decode()
    device = TOTPDevice.objects.get(user=quality_manager, confirmed=False)
    assert "<svg" in page and "<script" not in page.split("<svg")[1].split("</svg>")[0]
    assert "otpauth://totp/Harken%3Aqm?secret=" in page
    assert twofactor.secret_of(device) in page


def test_a_wrong_code_does_not_confirm_the_app(qm_client, quality_manager):
    qm_client.post("/accounts/two-factor/", {"action": "begin"})
    response = qm_client.post("/accounts/two-factor/setup/", {"code": "000000"})
    assert response.status_code == 422
    assert "That code is not right" in response.content.decode()
    assert not twofactor.is_enrolled(quality_manager)


def test_confirming_the_app_shows_ten_recovery_codes_once(qm_client, quality_manager):
    qm_client.post("/accounts/two-factor/", {"action": "begin"})
    device = TOTPDevice.objects.get(user=quality_manager)
    response = qm_client.post("/accounts/two-factor/setup/", {"code": code_for(device)})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="recovery-code"') == 10
    # Only hashes are stored: no code shown is in the database as it was shown.
    shown = {
        code.replace("-", "")
        for code in re.findall(r'data-testid="recovery-code"[^>]*>([^<]+)<', page)
    }
    assert len(shown) == 10
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert not shown & stored
    assert stored == {twofactor.stored_form(code) for code in shown}
    assert twofactor.is_enrolled(quality_manager)
    assert StaticToken.objects.filter(device__user=quality_manager).count() == 10
    event = AuditEvent.objects.get(action="auth.second_factor_enabled")
    assert event.changes == {"device": "Authenticator app", "recovery_codes": 10}
    # The codes are never shown again.
    status = qm_client.get("/accounts/two-factor/").content.decode()
    assert "Recovery codes left: <strong>10</strong>" in status
    assert StaticToken.objects.first().token not in status


def test_setting_up_needs_a_recent_password(qm_client):
    session = qm_client.session
    session["harken_password_at"] = int(time.time()) - 3600
    session.save()
    response = qm_client.post("/accounts/two-factor/", {"action": "begin"})
    assert response["Location"].startswith("/accounts/confirm/?next=%2Faccounts%2Ftwo-factor%2F")


def test_sign_in_asks_for_the_code_after_the_password(client, quality_manager):
    device, _ = enrolled(quality_manager)
    response = password_step(client, next_url="/customers/")
    assert response["Location"] == "/accounts/login/code/"
    # Not signed in yet.
    assert client.get("/")["Location"].startswith("/accounts/login/")
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    response = password_step(client, next_url="/customers/")
    response = client.post("/accounts/login/code/", {"code": code_for(device)})
    assert response["Location"] == "/customers/"
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor_label="qm").count() == 1


def test_a_code_is_accepted_only_once(client, quality_manager):
    device, _ = enrolled(quality_manager)
    code = code_for(device)
    password_step(client)
    assert client.post("/accounts/login/code/", {"code": code}).status_code == 302
    other = Client()
    password_step(other)
    assert other.post("/accounts/login/code/", {"code": code}).status_code == 422


def test_wrong_codes_count_towards_the_lock_out(client, quality_manager):
    enrolled(quality_manager)
    TOTPDevice.objects.update(throttling_failure_count=0)
    password_step(client)
    for _ in range(4):
        response = client.post("/accounts/login/code/", {"code": "000000"})
        assert response.status_code == 422
    response = client.post("/accounts/login/code/", {"code": "000000"})
    assert response["Location"] == "/accounts/login/"
    assert AuditEvent.objects.filter(action="auth.second_factor_failed").count() == 5
    assert AuditEvent.objects.filter(action="auth.locked_out", object_label="qm").exists()
    assert "locked" in password_step(client).content.decode()


def test_a_recovery_code_signs_in_once(client, quality_manager):
    _, codes = enrolled(quality_manager)
    password_step(client)
    response = client.post("/accounts/login/code/", {"code": codes[0].upper()})
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="auth.recovery_code_used").changes == {"left": 9}
    other = Client()
    password_step(other)
    assert other.post("/accounts/login/code/", {"code": codes[0]}).status_code == 422


def test_the_code_step_expires_after_five_minutes(client, quality_manager):
    device, _ = enrolled(quality_manager)
    password_step(client)
    session = client.session
    session["harken_pending_login"]["at"] -= 301
    session.save()
    response = client.post("/accounts/login/code/", {"code": code_for(device)})
    assert response["Location"] == "/accounts/login/"
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_the_code_step_without_a_password_step_goes_back_to_sign_in(client):
    assert client.get("/accounts/login/code/")["Location"] == "/accounts/login/"


def test_a_role_can_require_a_second_factor(settings, quality_manager):
    settings.OTP_REQUIRED_ROLES = [Role.QUALITY_MANAGER]
    client = Client()
    password_step(client)
    response = client.get("/customers/")
    assert response["Location"] == "/accounts/two-factor/"
    assert (
        "Your role requires a second factor" in client.get("/accounts/two-factor/").content.decode()
    )
    # People in other roles work as before.
    auditor = persona(Role.AUDITOR, "aud")
    other = Client()
    other.force_login(auditor)
    assert other.get("/customers/").status_code == 200
    # Once set up, the role's holder works as usual.
    enrolled(quality_manager)
    assert client.get("/customers/").status_code == 200


def test_a_required_second_factor_cannot_be_removed(settings, qm_client, quality_manager):
    enrolled(quality_manager)
    settings.OTP_REQUIRED_ROLES = [Role.QUALITY_MANAGER]
    qm_client.post("/accounts/two-factor/", {"action": "remove"})
    assert twofactor.is_enrolled(quality_manager)


def test_the_person_can_remove_an_optional_second_factor(qm_client, quality_manager):
    enrolled(quality_manager)
    qm_client.post("/accounts/two-factor/", {"action": "remove"})
    assert not twofactor.is_enrolled(quality_manager)
    assert not StaticToken.objects.exists()
    event = AuditEvent.objects.get(action="auth.second_factor_removed")
    assert event.changes == {"reason": "removed by the person"}


def test_renewing_recovery_codes_replaces_the_old_ones(qm_client, quality_manager):
    _, old = enrolled(quality_manager)
    page = qm_client.post("/accounts/two-factor/", {"action": "renew"}).content.decode()
    assert page.count('data-testid="recovery-code"') == 10
    assert not StaticToken.objects.filter(token__in=old).exists()


def test_an_administrator_resets_a_second_factor(administrator, quality_manager):
    enrolled(quality_manager)
    administrator.is_staff = True
    administrator.save()
    admin = Client()
    admin.force_login(administrator)
    response = admin.post(
        "/admin/core/user/",
        {"action": "reset_second_factor", "_selected_action": [quality_manager.pk]},
    )
    assert response.status_code == 302
    assert not twofactor.is_enrolled(quality_manager)
    event = AuditEvent.objects.get(action="auth.second_factor_removed")
    assert (event.actor_label, event.object_id) == ("administrator", str(quality_manager.pk))
    # Signing in asks for the password only, until a new app is set up.
    assert password_step(Client())["Location"] == "/"


def test_an_administrator_signs_a_person_out_everywhere(administrator, quality_manager):
    person = Client()
    password_step(person)
    administrator.is_staff = True
    administrator.save()
    admin = Client()
    admin.force_login(administrator)
    admin.post(
        "/admin/core/user/",
        {"action": "sign_out_everywhere", "_selected_action": [quality_manager.pk]},
    )
    assert person.get("/")["Location"].startswith("/accounts/login/")


def test_the_admin_never_shows_a_totp_secret(administrator, quality_manager):
    device, _ = enrolled(quality_manager)
    administrator.is_staff = True
    administrator.save()
    admin = Client()
    admin.force_login(administrator)
    page = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page


def test_an_unknown_role_in_the_setting_is_a_system_check_error(settings):
    settings.OTP_REQUIRED_ROLES = ["quality_manger"]
    errors = check_account_settings()
    assert [e.id for e in errors] == ["harken.accounts.E001"]
    assert "quality_manger" in errors[0].msg


def test_the_tick_reports_what_it_purged():
    out = __import__("io").StringIO()
    call_command("tick", stdout=out)
    assert "sessions and lock-outs" in out.getvalue()


def test_the_resetfactor_command_removes_the_app_and_ends_sessions(quality_manager):
    import io

    from django.core.management import CommandError

    device, _ = enrolled(quality_manager)
    person = Client()
    password_step(person)
    person.post("/accounts/login/code/", {"code": code_for(device)})
    out = io.StringIO()
    call_command("resetfactor", "qm", stdout=out)
    assert "ended 1 session(s)" in out.getvalue()
    assert not twofactor.is_enrolled(quality_manager)
    assert person.get("/")["Location"].startswith("/accounts/login/")
    event = AuditEvent.objects.get(action="auth.second_factor_removed")
    assert event.actor_label == "cli:resetfactor"
    with pytest.raises(CommandError, match="has no second factor"):
        call_command("resetfactor", "qm")
