"""The email digest: each new alert announced once, one email per manager per run."""

from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from ..models import AlertDigest, AlertSeverity, StockAlert

# --- Digest ------------------------------------------------------------------------

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _recipients(site_ids: set[int | None]) -> dict[int | None, list]:
    """Managers to tell about each site's alerts: the site's own stock managers, or the
    program-wide ones where a site has none (and for the central store)."""
    User = get_user_model()
    managers = list(
        User.objects.with_perm("inventory.manage_stock", backend=MODEL_BACKEND)
        .exclude(email="")
        .prefetch_related("sites")
        .order_by("pk")
    )
    program_wide = set(
        User.objects.with_perm("org.program_wide", backend=MODEL_BACKEND).values_list(
            "pk", flat=True
        )
    )
    fallback = [u for u in managers if u.pk in program_wide] or managers
    recipients = {}
    for site_id in site_ids:
        own = [u for u in managers if any(s.pk == site_id for s in u.sites.all())]
        recipients[site_id] = own or fallback
    return recipients


def alerts_send_digest() -> AlertDigest | None:
    """Email each manager the alerts raised at their sites since the last digest.

    One email per manager per run, never one per alert; each alert is announced once:
    the run claims the alerts with a conditional UPDATE and sends only what it claimed.
    The claim commits with the sending, so a failed send leaves them for the next run.
    """
    with transaction.atomic():
        # Locked in primary-key order like the scan's updates, so the two never deadlock;
        # a concurrent run waits here, then finds every row claimed.
        candidates = list(
            StockAlert.objects.select_for_update()
            .filter(digest__isnull=True, resolved_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not candidates:
            return None
        digest = AlertDigest.objects.create()
        claimed = StockAlert.objects.filter(pk__in=candidates, digest__isnull=True).update(
            digest=digest
        )
        if claimed == 0:
            transaction.set_rollback(True)
            return None
        alerts = list(
            StockAlert.objects.filter(digest=digest)
            .select_related("location__site", "item", "lot")
            .order_by("location__name", "severity", "item__name")
        )
        by_site = defaultdict(list)
        for alert in alerts:
            by_site[alert.location.site_id].append(alert)
        per_user: dict[int, tuple] = {}
        for site_id, recipients in _recipients(set(by_site)).items():
            for user in recipients:
                per_user.setdefault(user.pk, (user, []))[1].extend(by_site[site_id])
        messages = [_digest_email(user, user_alerts) for user, user_alerts in per_user.values()]
        if messages:
            get_connection().send_messages(messages)
        digest.alert_count = claimed
        digest.email_count = len(messages)
        digest.sent_at = timezone.now()
        digest.save(update_fields=["alert_count", "email_count", "sent_at"])
        return digest


def _digest_email(user, alerts: list[StockAlert]) -> EmailMessage:
    """One manager's digest, in the language saved on their account (blank: the site's)."""
    alerts = sorted(alerts, key=lambda a: (a.location.name, a.severity, a.item.name))
    emergencies = sum(a.severity == AlertSeverity.EMERGENCY for a in alerts)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = ngettext(
            "Stock alerts: %(count)s new", "Stock alerts: %(count)s new", len(alerts)
        ) % {"count": len(alerts)}
        if emergencies:
            subject += ngettext(", %(count)s emergency", ", %(count)s emergencies", emergencies) % {
                "count": emergencies
            }
        body = render_to_string(
            "inventory/alert_digest_email.txt",
            {
                "user": user,
                "alerts": alerts,
                "url": settings.SITE_BASE_URL.rstrip("/") + reverse("inventory:alerts"),
            },
        )
    return EmailMessage(subject=subject, body=body, to=[user.email])
