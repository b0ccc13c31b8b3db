"""A person hears about changes to how they sign in (ASVS 2.2.3): a new password, a second
factor set up or removed, new recovery codes — mailed to their own address after the
change is committed, never when it is rolled back."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.factories import PASSWORD

from harken.accounts import twofactor

pytestmark = pytest.mark.django_db(transaction=True)

STRONG = "violet-harbour-lantern-42"


def test_a_new_password_is_told_to_the_person(auditor):
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.force_login(auditor)
    client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [auditor.email]
    assert message.subject == "Your Harken password was changed"
    assert f"account {auditor.get_username()} was changed on" in message.body
    assert "from the address 198.51.100.7" in message.body
    assert "tell your administrator" in message.body


def test_second_factor_changes_are_told(qm_client, quality_manager):
    from tests.core.test_accounts_two_factor import code_for

    mail.outbox.clear()
    qm_client.post("/accounts/two-factor/", {"action": "begin"})
    device = TOTPDevice.objects.get(user=quality_manager)
    qm_client.post("/accounts/two-factor/setup/", {"code": code_for(device)})
    twofactor.new_recovery_codes(quality_manager)
    twofactor.remove(quality_manager, reason="lost phone")
    assert [m.subject for m in mail.outbox] == [
        "A second factor was set up for your Harken account",
        "New recovery codes for your Harken account",
        "The second factor of your Harken account was removed",
    ]


def test_nothing_is_told_when_the_change_is_rolled_back(quality_manager):
    mail.outbox.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        twofactor.new_recovery_codes(quality_manager)
        raise RuntimeError("something later failed")
    assert mail.outbox == []


def test_a_person_without_an_address_gets_no_mail(quality_manager):
    quality_manager.email = ""
    quality_manager.save()
    mail.outbox.clear()
    twofactor.new_recovery_codes(quality_manager)
    assert mail.outbox == []
