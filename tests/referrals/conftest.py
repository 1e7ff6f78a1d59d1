"""Fixtures of the referral tests: a fixed, hand-countable quarter of referrals."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from referrals import services
from referrals.models import ReferralType

from ..factories import ParticipantFactory, VisitFactory

NY = ZoneInfo("America/New_York")


def rtype(code: str) -> ReferralType:
    return ReferralType.objects.get(code=code)


@pytest.fixture
def fixed_dataset(site_a, site_b, front_desk_ana, front_desk_ben, coordinator_cleo):
    """A quarter's referrals, hand-countable (Q2 2026 = April–June):

    site A  hcv-testing  4 referred in Q2: 2 linked (Apr, May), 1 declined, 1 open
    site A  housing      2 referred in Q2: 1 lost, 1 linked (in July, after the quarter)
    site A  housing      1 referred in March, linked in April (counts as linked in Q2)
    site B  hcv-testing  3 referred in Q2: 1 linked (June), 1 not needed, 1 open
    site B  hiv-testing  1 referred in Q2 at a visit later voided (never counted)
    """
    hcv, housing, hiv = rtype("hcv-testing"), rtype("housing"), rtype("hiv-testing")

    def make(rt, site, by, on, outcome=None, linked_on=None):
        with time_machine.travel(datetime.combine(on, datetime.min.time(), NY), tick=False):
            r = services.referral_create(
                referral_type=rt, participant=ParticipantFactory(), site=site, by=by
            )
        if outcome is None:
            return r
        moment = linked_on or on
        with time_machine.travel(datetime.combine(moment, datetime.min.time(), NY), tick=False):
            if outcome == "linked":
                services.referral_mark_linked(referral=r, linked_on=linked_on, by=by)
            else:
                getattr(services, f"referral_mark_{outcome}")(referral=r, by=by)
        return r

    ana, ben = front_desk_ana, front_desk_ben
    make(hcv, site_a, ana, date(2026, 4, 2), "linked", date(2026, 4, 20))
    make(hcv, site_a, ana, date(2026, 4, 9), "linked", date(2026, 5, 5))
    make(hcv, site_a, ana, date(2026, 5, 1), "declined")
    make(hcv, site_a, ana, date(2026, 6, 30))
    make(housing, site_a, ana, date(2026, 4, 15), "lost")
    make(housing, site_a, ana, date(2026, 6, 1), "linked", date(2026, 7, 2))
    make(housing, site_a, ana, date(2026, 3, 20), "linked", date(2026, 4, 3))
    make(hcv, site_b, ben, date(2026, 4, 1), "linked", date(2026, 6, 10))
    make(hcv, site_b, ben, date(2026, 5, 20), "not_needed")
    make(hcv, site_b, ben, date(2026, 6, 12))
    voided = VisitFactory(site=site_b, occurred_at=datetime(2026, 5, 5, 12, tzinfo=NY))
    with time_machine.travel(datetime(2026, 5, 5, 13, tzinfo=NY), tick=False):
        services.referral_create(referral_type=hiv, visit=voided, by=ben)
    voided.voided_at = datetime(2026, 5, 6, tzinfo=NY)
    voided.save()
