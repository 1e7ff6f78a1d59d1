"""The stock alert digest is written in each manager's language: Spanish for a manager
who chose it, English (the program's) for one who chose none."""

import pytest
from django.core import mail

from inventory.alerts import alerts_scan, alerts_send_digest
from org import roles

from ..factories import make_staff
from ..support.alerts import dispense, stock_dropping_below_reorder_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_marisol(site_a):
    """Manages site A too, and reads the app in Spanish."""
    person = make_staff("marisol", roles.MANAGER, [site_a])
    person.email, person.language = "marisol@program.example", "es"
    person.save()
    return person


def test_each_manager_reads_the_digest_in_their_own_language(
    downtown, syringe, fund, manager_sam, manager_marisol
):
    manager_sam.email = "sam@program.example"
    manager_sam.save()
    dispense(
        downtown,
        syringe,
        stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund),
        by=manager_sam,
    )
    alerts_scan()

    alerts_send_digest()

    by_person = {email.to[0]: email for email in mail.outbox}
    spanish = by_person["marisol@program.example"]
    assert spanish.subject == "Alertas de inventario: 1 nueva"
    assert spanish.body.startswith("Hola, marisol:")
    assert "1 alerta de inventario nueva desde el último resumen:" in spanish.body
    assert "Véalas y confírmelas en http://127.0.0.1:8000/inventory/alerts/" in spanish.body
    assert "no contiene información de participantes" in spanish.body
    assert "Hello" not in spanish.body and "since the last digest" not in spanish.body
    # The item's name is the program's own data: never translated.
    assert syringe.name in spanish.body

    english = by_person["sam@program.example"]
    assert english.subject == "Stock alerts: 1 new"
    assert english.body.startswith("Hello sam,")
    assert "1 new stock alert since the last digest:" in english.body
