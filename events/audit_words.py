"""Program events' verbs in the audit trail (org/audit_trail.py)."""

VERBS = {
    "events.programevent": {"create": "recorded", "update": "corrected"},
}
