"""The home page: today's numbers for each role the person holds.

Each app may have a `home.py` with `tiles(request, role) -> list[HomeTile]`, giving
the tiles it owns for that role (figures from its own selectors); `home_sections`
gathers them as the menu gathers navigation.py. A tile says one number in the
program's words, links to where it is dealt with, and may carry a breakdown."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import roles
from .plugins import app_modules
from .selectors import active_staff_count, locked_out_usernames

ROLE_HEADINGS = {
    roles.FRONT_DESK: _("At the front desk today"),
    roles.MANAGER: _("Stock and alerts"),
    roles.COORDINATOR: _("The program this month"),
    roles.ADMIN: _("Accounts and jobs"),
}


class Tone:
    NONE = ""
    WARN = "warn"  # something waits for someone
    BAD = "bad"  # act now (emergency stock, lock-outs, failed jobs)


@dataclass(frozen=True)
class HomeTile:
    label: str
    value: int | str
    url: str = ""
    note: str = ""
    tone: str = Tone.NONE
    # (label, number) pairs shown under the number, e.g. alerts by severity.
    parts: tuple = field(default_factory=tuple)
    order: int = 50


@dataclass(frozen=True)
class HomeSection:
    role: str
    heading: str
    tiles: list[HomeTile]


def home_roles(user) -> list[str]:
    """The roles this person holds, in the program's order; a superuser is an admin."""
    held = set(user.groups.values_list("name", flat=True))
    if user.is_superuser:
        held.add(roles.ADMIN)
    return [role for role in roles.ROLES if role in held]


def home_sections(request) -> list[HomeSection]:
    """One section per role of the person, each with the tiles every app gives it."""
    modules = list(app_modules("home"))
    sections = []
    for role in home_roles(request.user):
        tiles = [tile for module in modules for tile in module.tiles(request, role)]
        if tiles:
            sections.append(
                HomeSection(
                    role=role,
                    heading=str(ROLE_HEADINGS[role]),
                    tiles=sorted(tiles, key=lambda tile: tile.order),
                )
            )
    return sections


def tone_for(number: int, tone: str) -> str:
    """A tile's tone only when there is something to see: zero is calm."""
    return tone if number else Tone.NONE


def tiles(request, role) -> list[HomeTile]:
    """The ground floor's own tiles: staff accounts and lock-outs, for admins."""
    if role != roles.ADMIN:
        return []
    locked = locked_out_usernames()
    may_manage = request.user.has_perm("org.manage_staff")
    return [
        HomeTile(
            _("Active staff accounts"),
            active_staff_count(),
            url=reverse("org:staff-list") if may_manage else "",
            order=10,
        ),
        HomeTile(
            _("Locked-out accounts"),
            len(locked),
            note=", ".join(locked) if locked else str(_("Nobody is locked out.")),
            tone=tone_for(len(locked), Tone.BAD),
            order=11,
        ),
    ]
