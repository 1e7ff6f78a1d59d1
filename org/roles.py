"""Roles are Django groups; what each may do is a capability (a permission).

Capabilities are named in the program's own words rather than Django's per-model
add/change/delete, so a check reads like the rule it enforces. Each app declares its
own in `<app>/capabilities.py`:

    CAPABILITIES = [(codename, description), ...]   # on one of the app's models' Meta
    GRANTS = {role: [codename, ...]}                 # which roles hold them

`org.services.roles_sync` gathers every installed app's declarations; an admin holds
every capability of every app.
"""

FRONT_DESK = "Front desk"
MANAGER = "Manager"
COORDINATOR = "Coordinator"
ADMIN = "Admin"
ROLES = [FRONT_DESK, MANAGER, COORDINATOR, ADMIN]
