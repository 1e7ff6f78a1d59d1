"""Capabilities of program events, declared on events.ProgramEvent (see org/roles.py)."""

from org.roles import COORDINATOR, FRONT_DESK, MANAGER

CAPABILITIES = [
    ("record_events", "Can record and correct own program events at their sites"),
    ("correct_any_event", "Can correct or void any program event at their sites"),
    ("view_events", "Can see the program events of their sites"),
]
GRANTS = {
    FRONT_DESK: ["record_events", "view_events"],
    MANAGER: ["record_events", "correct_any_event", "view_events"],
    # Coordinators read (program-wide); they do not record at a site.
    COORDINATOR: ["view_events"],
}
