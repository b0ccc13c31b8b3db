import pytest
from django.utils import timezone
from tests.factories import CustomerFactory

from harken.core.numbering import format_number, next_number

pytestmark = pytest.mark.django_db


def test_numbers_count_up_per_prefix_and_year():
    assert next_number("CMP", year=2026) == "CMP-2026-0001"
    assert next_number("CMP", year=2026) == "CMP-2026-0002"
    assert next_number("ACT", year=2026) == "ACT-2026-0001"
    assert next_number("CMP", year=2027) == "CMP-2027-0001"


def test_numbers_grow_past_four_digits():
    assert format_number("ORD", 2026, 12345) == "ORD-2026-12345"


def test_a_record_gets_its_number_once_on_creation():
    customer = CustomerFactory()
    year = timezone.localdate().year
    assert customer.number == f"CUS-{year}-0001"
    customer.name = "Renamed"
    customer.save()
    customer.refresh_from_db()
    assert customer.number == f"CUS-{year}-0001"
    assert CustomerFactory().number == f"CUS-{year}-0002"


def test_a_deleted_records_number_is_not_reused():
    first = CustomerFactory()
    number = first.number
    first.delete()
    assert CustomerFactory().number != number


def test_prefix_is_required():
    with pytest.raises(ValueError, match="number_prefix"):
        next_number("")
