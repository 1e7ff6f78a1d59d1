"""Referrals' verbs in the audit trail (org/audit_trail.py)."""

VERBS = {
    "referrals.referral": {"create": "made", "update": "updated"},
    "referrals.referralstatuschange": {"create": "recorded"},
}
