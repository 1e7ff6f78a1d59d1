"""Capabilities of funder reports, declared on reports.ReportSnapshot (see org/roles.py)."""

from org.roles import COORDINATOR

CAPABILITIES = [
    ("view_reports", "Can view and generate funder reports"),
    ("view_unsuppressed", "Can view unsuppressed report figures in the app"),
]
GRANTS = {COORDINATOR: ["view_reports", "view_unsuppressed"]}
