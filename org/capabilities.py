"""Capabilities of the ground floor, declared on org.Site (see org/roles.py)."""

from .roles import COORDINATOR

CAPABILITIES = [
    ("program_wide", "Sees and records at every site"),
    ("view_audit", "Can browse the audit trail"),
    ("manage_staff", "Resets staff passwords and revokes anyone's API tokens"),
]
GRANTS = {COORDINATOR: ["program_wide"]}
