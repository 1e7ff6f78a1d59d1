"""Roles are Django groups; what each may do is a permission on `ssp.Site`.

The permissions are capabilities in the program's own words rather than Django's
per-model add/change/delete, so a check reads like the rule it enforces.
"""

FRONT_DESK = "Front desk"
MANAGER = "Manager"
COORDINATOR = "Coordinator"
ADMIN = "Admin"

# (codename, description) — declared on ssp.Site.Meta.permissions.
CAPABILITIES = [
    ("log_visit", "Can log and correct own visits"),
    ("correct_any_visit", "Can correct or void any visit at their sites"),
    ("merge_participants", "Can merge two participant codes"),
    ("manage_stock", "Can receive, transfer, adjust and count stock"),
    ("manage_referrals", "Can manage referral partners and types"),
    ("view_reports", "Can view and generate funder reports"),
    ("view_unsuppressed", "Can view unsuppressed report figures in the app"),
    ("program_wide", "Sees and records at every site"),
    ("view_audit", "Can browse the audit trail"),
]

ROLE_CAPABILITIES = {
    FRONT_DESK: ["log_visit"],
    MANAGER: ["log_visit", "correct_any_visit", "merge_participants", "manage_stock"],
    COORDINATOR: ["view_reports", "view_unsuppressed", "program_wide", "manage_referrals"],
    ADMIN: [codename for codename, _ in CAPABILITIES],
}
