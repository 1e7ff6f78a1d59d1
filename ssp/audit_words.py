"""Intake's verbs in the audit trail (org/audit_trail.py)."""

VERBS = {
    "ssp.visit": {"create": "logged", "update": "corrected"},
    "ssp.visitsupply": {"create": "added", "update": "corrected", "delete": "removed"},
    "ssp.participant": {"create": "first recorded"},
    "ssp.survey": {"create": "defined", "update": "changed"},
    "ssp.visitsurveyoffer": {"create": "offered", "update": "recorded answered"},
}
