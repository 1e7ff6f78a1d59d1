"""org.serializers.FieldsBuiltOnce: a serializer's fields built once per class and copied
for each instance give the fields, answers and messages DRF's own building gives, and
nothing one instance binds or reads reaches another."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from org.serializers import FieldsBuiltOnce
from referrals.with_visit import VisitReferralMadeSerializer, VisitReferralSerializer
from ssp.serializers import (
    CodeLookupSerializer,
    LastVisitSerializer,
    ParticipantSerializer,
    SuggestionSerializer,
    SupplyLineInputSerializer,
    SupplyLineSerializer,
    VisitCorrectSerializer,
    VisitCreateSerializer,
    VisitRecordedSerializer,
    VisitSerializer,
    VisitServiceInputSerializer,
    VisitServiceSerializer,
)

from ..support.intake import new_uuid

# A related field's repr reads its queryset.
pytestmark = pytest.mark.django_db

BUILT_ONCE = [
    SupplyLineInputSerializer,
    SupplyLineSerializer,
    VisitServiceInputSerializer,
    VisitServiceSerializer,
    VisitSerializer,
    VisitRecordedSerializer,
    VisitCreateSerializer,
    VisitCorrectSerializer,
    VisitReferralSerializer,
    VisitReferralMadeSerializer,
    ParticipantSerializer,
    SuggestionSerializer,
    LastVisitSerializer,
    CodeLookupSerializer,
]


def drf_built(serializer) -> dict:
    """The fields as DRF itself builds them for this instance (the next get_fields)."""
    return super(FieldsBuiltOnce, serializer).get_fields()


@pytest.mark.parametrize("cls", BUILT_ONCE, ids=lambda cls: cls.__name__)
def test_the_fields_are_the_ones_drf_builds(cls):
    serializer = cls()
    ours = {name: repr(field) for name, field in serializer.fields.items()}
    theirs = {name: repr(field) for name, field in drf_built(cls()).items()}
    # VisitSerializer and VisitCreateSerializer add the upper apps' fields after.
    assert theirs and theirs.items() <= ours.items()
    assert set(ours) - set(theirs) <= {"referrals"}


@pytest.mark.parametrize("cls", BUILT_ONCE, ids=lambda cls: cls.__name__)
def test_each_instance_binds_its_own_copies(cls):
    first, second = cls(), cls()
    for name, field in first.fields.items():
        other = second.fields[name]
        assert field is not other
        assert (field.parent, other.parent) == (first, second)
        assert field.field_name == other.field_name == name
        for held in ("child", "child_relation"):
            if hasattr(field, held):
                assert getattr(field, held) is not getattr(other, held)
                assert getattr(field, held).root is first
    # What is kept for the class stays unbound.
    for field in cls._fields_built.values():
        assert field.parent is None


def test_a_subclass_keeps_its_own_fields():
    assert "notice" in VisitRecordedSerializer().fields
    assert "notice" not in VisitSerializer().fields
    assert VisitRecordedSerializer._fields_built is not VisitSerializer._fields_built


def test_nested_lines_read_their_own_serializers_context():
    catalog = {("item", "water"): object()}
    with_catalog = VisitCreateSerializer(context={"catalog": catalog})
    without = VisitCreateSerializer()
    assert with_catalog.fields["supplies"].context["catalog"] is catalog
    assert without.fields["supplies"].context == {}


def test_one_bodys_errors_never_reach_the_next(site_a, supplies):
    good = {
        "client_uuid": new_uuid(),
        "site": site_a.pk,
        "code": "MAKO1993F",
        "supplies": [{"item": "water", "quantity": 2}],
    }
    bad = {**good, "site": "x", "supplies": [{"item": "water", "quantity": 0}], "notes": ["x"]}

    def errors(body):
        serializer = VisitCreateSerializer(data=body)
        serializer.is_valid()
        return serializer.errors

    first = errors(bad)
    assert set(first) == {"site", "supplies", "notes"}
    assert errors(good) == {}
    assert errors(bad) == first
    assert VisitCreateSerializer(data=good).is_valid()


def test_bodies_checked_at_once_in_threads_keep_their_own_answers():
    """Copies of one class's fields, validated in threads (gunicorn's gthread, Celery's
    threads) without a database: each body's answer is its own."""

    def check(quantity):
        serializer = VisitServiceInputSerializer(data={"service": "hiv_test", "count": quantity})
        valid = serializer.is_valid()
        return quantity, valid, serializer.validated_data if valid else serializer.errors

    quantities = [n % 7 for n in range(400)]  # 0 is refused, 1-6 pass
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(check, quantities))
    for quantity, valid, answer in answers:
        assert valid == (quantity >= 1)
        if valid:
            assert answer == {"service": "hiv_test", "count": quantity}
        else:
            assert set(answer) == {"count"}
