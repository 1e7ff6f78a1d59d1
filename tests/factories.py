"""factory-boy factories, one per domain record. Capabilities add theirs below."""

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from org.models import ServiceModel, Site, User
from org.services import roles_sync

PASSWORD = "correct-horse-battery"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Site {n}")
    code = factory.Sequence(lambda n: f"S{n}")
    service_model = ServiceModel.FIXED


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    password = factory.django.Password(PASSWORD)
    last_login = factory.LazyFunction(timezone.now)


def make_staff(username: str, role: str, sites=()):
    roles_sync()
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    user.sites.set(sites)
    return user


# --- Participants and visits (plain rows; services build the real thing) -----------


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ssp.Participant"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TEST{n:04d}F")
    first_seen_on = factory.LazyFunction(timezone.localdate)


def _site_location(visit):
    from inventory.models import Location

    location, _ = Location.objects.get_or_create(
        name=f"{visit.site.code} storeroom", defaults={"kind": "site", "site": visit.site}
    )
    return location


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ssp.Visit"

    site = factory.SubFactory(SiteFactory)
    location = factory.LazyAttribute(_site_location)
    occurred_at = factory.LazyFunction(timezone.now)
    recorded_by = factory.SubFactory(UserFactory)
    participant = factory.SubFactory(ParticipantFactory)
    service_model = ServiceModel.FIXED


# --- Referrals -------------------------------------------------------------------


class PartnerFactory(factory.django.DjangoModelFactory):
    """A partner organisation; pass types=[...] for the referral types it accepts."""

    class Meta:
        model = "referrals.Partner"
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partner clinic {n}")
    address = "12 Main St"
    phone = "555-0100"
    hours = "Mon–Fri 9–17"

    @factory.post_generation
    def types(self, create, extracted, **kwargs):
        if create and extracted:
            self.types.set(extracted)


# --- Inventory -------------------------------------------------------------------


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.Item"
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Item {n}")
    code = factory.Sequence(lambda n: f"item-{n}")
    category = "injection"
    base_unit = "unit"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.Location"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Location {n}")
    kind = "site"
    site = factory.SubFactory(SiteFactory)


class FundingSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.FundingSource"
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Fund {n}")
    code = factory.Sequence(lambda n: f"fund-{n}")


class KitFactory(factory.django.DjangoModelFactory):
    """A kit; pass components=[(item, quantity), ...]."""

    class Meta:
        model = "inventory.Kit"
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Kit {n}")
    code = factory.Sequence(lambda n: f"kit-{n}")

    @factory.post_generation
    def components(self, create, extracted, **kwargs):
        for item, quantity in extracted or ():
            self.components.create(item=item, quantity=quantity)
