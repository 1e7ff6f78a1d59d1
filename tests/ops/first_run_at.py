"""A first run frozen at one moment: `migrate` then `seed_demo --if-empty` on the database
DATABASE_URL names, as `make run` does on a fresh clone; prints what the demo holds as
JSON for tests/ops/test_demo_any_hour.py to check.

    python tests/ops/first_run_at.py 2026-12-02T03:00:00-05:00
"""

import json
import sys
from datetime import datetime
from io import StringIO
from pathlib import Path

import time_machine

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(moment: datetime) -> dict:
    import django  # Django is set up here, under the frozen clock, like a real first run.

    django.setup()
    from django.core.management import call_command
    from django.db.models import Max

    from inventory.models import StockMovement
    from inventory.selectors import balance_drift
    from org.models import DemoSeed
    from referrals.models import Referral, ReferralStatusChange
    from ssp.models import Visit

    call_command("migrate", verbosity=0)
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    check = StringIO()
    call_command("check_stock", stdout=check)

    def latest(model, field):
        value = model.objects.aggregate(latest=Max(field))["latest"]
        return value.isoformat() if value is not None else None

    return {
        "output": out.getvalue(),
        "check_stock": check.getvalue(),
        "seeded_days": [seed.days for seed in DemoSeed.objects.all()],
        "visits": Visit.objects.count(),
        "referrals": Referral.objects.count(),
        "latest": {
            "visit occurred": latest(Visit, "occurred_at"),
            "visit recorded": latest(Visit, "recorded_at"),
            "movement occurred": latest(StockMovement, "occurred_at"),
            "movement recorded": latest(StockMovement, "recorded_at"),
            "referral made": latest(Referral, "created_at"),
            "referral status changed": latest(Referral, "status_changed_at"),
            "status change": latest(ReferralStatusChange, "changed_at"),
        },
        "referred_on_latest": latest(Referral, "referred_on"),
        "drift": len(balance_drift()),
    }


if __name__ == "__main__":
    moment = datetime.fromisoformat(sys.argv[1])
    with time_machine.travel(moment, tick=False):
        facts = main(moment)
    print(json.dumps(facts))
