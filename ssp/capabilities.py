"""Capabilities of intake, declared on ssp.Visit and ssp.Survey (see org/roles.py)."""

from org.roles import COORDINATOR, FRONT_DESK, MANAGER

CAPABILITIES = [
    ("log_visit", "Can log and correct own visits"),
    ("correct_any_visit", "Can correct or void any visit at their sites"),
    ("merge_participants", "Can merge two participant codes"),
]
# Offering a survey and recording its answers is part of logging a visit (log_visit).
SURVEY_CAPABILITIES = [
    ("manage_surveys", "Can define the periodic anonymous survey and read its totals"),
]
GRANTS = {
    FRONT_DESK: ["log_visit"],
    MANAGER: ["log_visit", "correct_any_visit", "merge_participants"],
    COORDINATOR: ["manage_surveys"],
}
