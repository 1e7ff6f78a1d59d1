"""The alert digest: one email per manager per run, each alert announced once."""

from datetime import timedelta

import pytest
from django.core import mail

from inventory.alerts import alerts_scan, alerts_send_digest
from inventory.models import AlertDigest, StockAlert
from org import roles

from ..factories import make_staff
from ..support.alerts import dispense, receive, stock_dropping_below_reorder_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_mo(site_b):
    """Manages site B (Eastside)."""
    return make_staff("mo", roles.MANAGER, [site_b])


@pytest.fixture
def with_emails(manager_sam, manager_mo, admin_ada):
    for user in (manager_sam, manager_mo, admin_ada):
        user.email = f"{user.username}@program.example"
        user.save()


def _short_at(location, item, by, fund):
    quantity = stock_dropping_below_reorder_point(location, item, by=by, fund=fund)
    dispense(location, item, quantity, by=by)


def test_digest_lists_new_alerts_once(
    downtown, syringe, naloxone, fund, manager_sam, with_emails, today
):
    _short_at(downtown, syringe, manager_sam, fund)
    receive(
        downtown,
        naloxone,
        10,
        by=manager_sam,
        fund=fund,
        lot_number="NX-7",
        expires_on=today + timedelta(days=20),
    )
    alerts_scan()

    digest = alerts_send_digest()
    assert digest.alert_count == 2 and digest.email_count == 1
    (email,) = mail.outbox
    assert email.to == ["sam@program.example"]
    assert email.subject == "Stock alerts: 2 new"
    assert "Below reorder point: 1 mL 28G syringe" in email.body
    assert "Lot NX-7: 10 expire on" in email.body
    assert "http://127.0.0.1:8000/inventory/alerts/" in email.body

    alerts_scan()
    assert alerts_send_digest() is None  # nothing new: no email, no empty digest
    assert len(mail.outbox) == 1
    assert AlertDigest.objects.count() == 1
    assert set(StockAlert.objects.values_list("digest", flat=True)) == {digest.pk}


def test_each_manager_hears_only_of_their_own_sites(
    downtown, eastside, syringe, fund, admin_ada, manager_sam, manager_mo, with_emails
):
    _short_at(downtown, syringe, admin_ada, fund)
    _short_at(eastside, syringe, admin_ada, fund)
    alerts_scan()
    alerts_send_digest()
    by_recipient = {email.to[0]: email for email in mail.outbox}
    assert set(by_recipient) == {"sam@program.example", "mo@program.example"}
    assert "Downtown storeroom" in by_recipient["sam@program.example"].body
    assert "Eastside storeroom" not in by_recipient["sam@program.example"].body
    assert "Eastside storeroom" in by_recipient["mo@program.example"].body


def test_central_store_alerts_go_to_program_wide_managers(
    central, syringe, fund, admin_ada, manager_sam, with_emails
):
    _short_at(central, syringe, admin_ada, fund)
    alerts_scan()
    alerts_send_digest()
    (email,) = mail.outbox
    assert email.to == ["ada@program.example"]
    assert "Central store" in email.body


def test_a_site_without_a_manager_falls_back_to_program_wide_managers(
    eastside, syringe, fund, admin_ada, with_emails, manager_mo
):
    manager_mo.sites.clear()
    _short_at(eastside, syringe, admin_ada, fund)
    alerts_scan()
    alerts_send_digest()
    assert [email.to for email in mail.outbox] == [["ada@program.example"]]


def test_new_alerts_after_a_digest_make_the_next_one(
    downtown, syringe, naloxone, fund, manager_sam, with_emails, today
):
    _short_at(downtown, syringe, manager_sam, fund)
    alerts_scan()
    alerts_send_digest()
    receive(
        downtown,
        naloxone,
        10,
        by=manager_sam,
        fund=fund,
        lot_number="NX-8",
        expires_on=today + timedelta(days=5),
    )
    alerts_scan()
    second = alerts_send_digest()
    assert second.alert_count == 1
    assert len(mail.outbox) == 2
    assert "NX-8" in mail.outbox[1].body
    assert "1 mL 28G syringe" not in mail.outbox[1].body


def test_an_alert_that_cleared_before_the_digest_is_not_announced(
    downtown, syringe, fund, manager_sam, with_emails
):
    _short_at(downtown, syringe, manager_sam, fund)
    alerts_scan()
    receive(downtown, syringe, 500, by=manager_sam, fund=fund)
    alerts_scan()
    assert alerts_send_digest() is None
    assert mail.outbox == []


def test_a_failed_send_leaves_the_alerts_for_the_next_run(
    downtown, syringe, fund, manager_sam, with_emails, monkeypatch
):
    _short_at(downtown, syringe, manager_sam, fund)
    alerts_scan()

    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailBackend, "send_messages", refuse)
        with pytest.raises(ConnectionRefusedError):
            alerts_send_digest()
    assert StockAlert.objects.get().digest is None
    assert not AlertDigest.objects.exists()

    assert alerts_send_digest().alert_count == 1
    assert len(mail.outbox) == 1
