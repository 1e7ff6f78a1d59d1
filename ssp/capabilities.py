"""Capabilities of intake, declared on ssp.Visit (see org/roles.py)."""

from org.roles import FRONT_DESK, MANAGER

CAPABILITIES = [
    ("log_visit", "Can log and correct own visits"),
    ("correct_any_visit", "Can correct or void any visit at their sites"),
    ("merge_participants", "Can merge two participant codes"),
]
GRANTS = {
    FRONT_DESK: ["log_visit"],
    MANAGER: ["log_visit", "correct_any_visit", "merge_participants"],
}
