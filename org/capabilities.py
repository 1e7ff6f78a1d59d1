"""Capabilities of the ground floor, declared on org.Site (see org/roles.py)."""

from .roles import COORDINATOR

CAPABILITIES = [
    ("program_wide", "Sees and records at every site"),
    ("view_audit", "Can browse the audit trail"),
]
GRANTS = {COORDINATOR: ["program_wide"]}
