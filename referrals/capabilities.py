"""Capabilities of referrals, declared on referrals.Referral (see org/roles.py)."""

from org.roles import COORDINATOR

CAPABILITIES = [
    ("manage_referrals", "Can manage referral partners and types"),
]
GRANTS = {COORDINATOR: ["manage_referrals"]}
