"""The ground floor: sites and the staff who work at them.

Every other app stands on these two models; nothing here knows of stock, visits,
referrals or reports.
"""

from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .capabilities import CAPABILITIES
from .lookups import prepared_cursor


class ServiceModel(models.TextChoices):
    FIXED = "fixed", gettext_noop("Fixed site")
    MOBILE = "mobile", gettext_noop("Mobile van")
    OUTREACH = "outreach", gettext_noop("Street outreach")
    MAIL = "mail", gettext_noop("Mail")
    PEER = "peer", gettext_noop("Peer delivery")


class Site(models.Model):
    """A place or programme arm where visits happen: a storefront, a van, a route."""

    name = models.CharField(max_length=100, unique=True)
    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9-]+$", "Use capital letters, digits and '-'.")],
        help_text="Short code shown in lists and reports, e.g. DTWN or VAN1.",
    )
    service_model = models.CharField(max_length=12, choices=ServiceModel.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = CAPABILITIES

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A staff account. Staff belong to sites; program-wide roles see every site."""

    sites = models.ManyToManyField(Site, blank=True, related_name="staff")
    # API tokens made before this moment are refused (org.authentication).
    password_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by an admin's reset: every page but the password change waits for a new one.
    must_change_password = models.BooleanField(
        default=False, help_text="Asked for a new password at the next page they open."
    )
    # Blank: the browser's language (Accept-Language), until the person picks one.
    language = models.CharField(
        _("language"), max_length=8, blank=True, choices=settings.LANGUAGES, default=""
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def is_program_wide(self) -> bool:
        return self.has_perm("org.program_wide")

    def accessible_site_ids(self) -> set[int]:
        """Ids of the sites this person may see and record at (cached per request)."""
        if not hasattr(self, "_accessible_site_ids"):
            access_load(self)
        return self._accessible_site_ids

    def can_access_site(self, site_id: int) -> bool:
        return site_id in self.accessible_site_ids()

    def set_password(self, raw_password):
        # Every way of changing a password ends here (the account page, an admin's
        # reset, the Django admin's form, `changepassword`), so the moment that outdates
        # the person's API tokens is stamped here. The first password is not a change.
        if self.password and self.has_usable_password():
            self.password_changed_at = timezone.now()
        super().set_password(raw_password)


PROGRAM_WIDE = "org.program_wide"


@cache
def _access_sql() -> str:
    permission = Permission._meta.db_table
    content_type = ContentType._meta.db_table
    own_permissions = User.user_permissions.through._meta.db_table
    own_groups = User.groups.through._meta.db_table
    group_permissions = Group.permissions.through._meta.db_table
    own_sites = User.sites.through._meta.db_table
    site = Site._meta.db_table
    # Rows are ("p", "app.codename"), ("s", own site id) and ("a", any site id); the
    # handful of sites is cheaper to read every time than to ask a second question
    # for program-wide people.
    return f"""
        SELECT 'p', ct.app_label || '.' || p.codename
          FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id
         WHERE p.id IN (SELECT permission_id FROM {own_permissions} WHERE user_id = %s
                        UNION
                        SELECT gp.permission_id FROM {group_permissions} gp
                          JOIN {own_groups} ug ON ug.group_id = gp.group_id
                         WHERE ug.user_id = %s)
        UNION ALL
        SELECT 's', CAST(site_id AS TEXT) FROM {own_sites} WHERE user_id = %s
        UNION ALL
        SELECT 'a', CAST(id AS TEXT) FROM {site}
    """


def access_load(user: User) -> None:
    """Read a person's capabilities and site ids in one query, kept on the user object.

    They fill ModelBackend's permission cache (`org.backends.CapabilityBackend`) and the
    site scoping. Authentication loads the user afresh for every request (session or
    token), so nothing outlives the request: a role revoked between two requests is
    refused at the next one.
    """
    # Prepared (parsed and planned once per connection): every request pays this read,
    # and planning the union cost more than running it (bench/README.md, stop 28).
    with prepared_cursor() as cursor:
        cursor.execute(_access_sql(), [user.pk] * 3)
        rows = cursor.fetchall()
    permissions = {value for kind, value in rows if kind == "p"}
    user._perm_cache = permissions if user.is_active else set()
    program_wide = user.is_active and (user.is_superuser or PROGRAM_WIDE in permissions)
    kind = "a" if program_wide else "s"
    user._accessible_site_ids = {int(value) for row_kind, value in rows if row_kind == kind}


class DemoSeed(models.Model):
    """Written last by `seed_demo`: its presence means the demo data are complete.

    A seed that failed half-way leaves no row, so the next `make run` starts it over
    instead of skipping a half-filled database.
    """

    completed_at = models.DateTimeField()
    days = models.PositiveIntegerField()

    def __str__(self):
        return f"Demo seeded {self.completed_at:%Y-%m-%d %H:%M} ({self.days} days)"
