"""Demo sites and one account per role. Run through `manage.py seed_demo`."""

from .models import ServiceModel, Site, User
from .roles import ADMIN, COORDINATOR, FRONT_DESK, MANAGER
from .services import staff_create

DEMO_PASSWORD = "harm-reduction-2026"

DEMO_SITES = [
    ("Downtown drop-in", "DTWN", ServiceModel.FIXED),
    ("Eastside clinic", "EAST", ServiceModel.FIXED),
    ("Northside van", "VAN1", ServiceModel.MOBILE),
    ("Street outreach team", "OUTR", ServiceModel.OUTREACH),
]

# username, role, site codes (program-wide roles see every site anyway)
DEMO_STAFF = [
    ("frontdesk", FRONT_DESK, ["DTWN"]),
    ("outreach", FRONT_DESK, ["VAN1", "OUTR"]),
    ("manager", MANAGER, ["DTWN", "EAST", "VAN1", "OUTR"]),
    ("coordinator", COORDINATOR, []),
    ("admin", ADMIN, []),
]


def seed_sites_and_staff(*, log) -> None:
    for name, code, model in DEMO_SITES:
        Site.objects.get_or_create(code=code, defaults={"name": name, "service_model": model})
    for username, role, codes in DEMO_STAFF:
        if User.objects.filter(username=username).exists():
            continue
        staff_create(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            sites=Site.objects.filter(code__in=codes),
            is_superuser=role == ADMIN,
        )
    log(f"Sites: {Site.objects.count()}. Demo staff (password '{DEMO_PASSWORD}'):")
    for username, role, codes in DEMO_STAFF:
        log(f"  {username:<12} {role:<12} {', '.join(codes) or 'all sites'}")


def seed(*, log, days: int) -> None:
    seed_sites_and_staff(log=log)
