"""The demo step: partners, and referrals on demo visits whose outcomes agree with history."""

from datetime import timedelta

import pytest
from django.db.models import Count, Max
from django.utils import timezone

from org.demo import seed_sites_and_staff
from org.models import Site, User
from referrals.demo import seed_referrals
from referrals.models import Partner, Referral
from referrals.services import can_record_at

from ..factories import ParticipantFactory, VisitFactory

pytestmark = pytest.mark.django_db


def test_demo_referrals_spread_over_the_year_with_realistic_outcomes():
    seed_sites_and_staff(log=lambda *a: None)
    sites = list(Site.objects.order_by("code"))  # DTWN, EAST, OUTR, VAN1
    # Who records where, as on the demo rota; the front desk also "recorded" some
    # Eastside visits, a site they no longer work at (a program-wide colleague refers).
    frontdesk, outreach, manager = (
        User.objects.get(username=name) for name in ("frontdesk", "outreach", "manager")
    )
    recorder = {"DTWN": frontdesk, "EAST": manager, "OUTR": outreach, "VAN1": outreach}
    people = [ParticipantFactory() for _ in range(60)]
    now = timezone.now()
    for n in range(900):
        site = sites[n % len(sites)]
        VisitFactory(
            site=site,
            participant=people[n % len(people)],
            recorded_by=frontdesk if site.code == "EAST" and n % 3 == 0 else recorder[site.code],
            occurred_at=now - timedelta(days=(n * 7) % 365, hours=n % 5),
        )
    VisitFactory(site=sites[0], participant=None, recorded_by=frontdesk)  # anonymous
    lines = []
    seed_referrals(log=lines.append)

    assert Partner.objects.count() == 10
    assert all(p.types.exists() for p in Partner.objects.all())
    total = Referral.objects.count()
    assert 40 <= total <= 140, total
    by_status = dict(Referral.objects.values_list("status").annotate(n=Count("pk")))
    for status in ("linked", "lost", "declined", "referred"):
        assert by_status.get(status, 0) > 0, (status, by_status)
    assert 0.2 < by_status["linked"] / total < 0.7
    assert Referral.objects.dates("referred_on", "month").count() >= 10
    assert set(Referral.objects.values_list("site__code", flat=True)) == set(recorder)
    for referral in Referral.objects.prefetch_related("history"):
        history = list(referral.history.all())
        assert history[-1].to_status == referral.status
        assert can_record_at(referral.created_by, referral.site_id)
        assert referral.visit.participant_id == referral.participant_id
        assert referral.partner is None or referral.partner.types.filter(pk=referral.type_id)
    last_change = Referral.objects.aggregate(m=Max("history__changed_at"))["m"]
    assert last_change <= timezone.now()
    assert "linked" in lines[-1]

    seed_referrals(log=lines.append)  # a second run adds nothing
    assert Referral.objects.count() == total
    assert Partner.objects.count() == 10
