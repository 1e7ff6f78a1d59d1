"""Roles are Django groups; what each may do is a capability (a permission).

Capabilities are named in the program's own words rather than Django's per-model
add/change/delete, so a check reads like the rule it enforces. Each app declares its
own in `<app>/capabilities.py`:

    CAPABILITIES = [(codename, description), ...]   # on one of the app's models' Meta
    GRANTS = {role: [codename, ...]}                 # which roles hold them

`org.services.roles_sync` gathers every installed app's declarations; an admin holds
every capability of every app.
"""

from django.utils.translation import gettext_noop

# The group names stay English in the database; pages show them translated
# ({% translate group.name %}): gettext_noop only puts them in the catalogue.
FRONT_DESK = gettext_noop("Front desk")
MANAGER = gettext_noop("Manager")
COORDINATOR = gettext_noop("Coordinator")
ADMIN = gettext_noop("Admin")
ROLES = [FRONT_DESK, MANAGER, COORDINATOR, ADMIN]
