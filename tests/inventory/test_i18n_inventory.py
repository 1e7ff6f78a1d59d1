"""The stock pages in Spanish: a manager whose language is "es" reads the pages, the
menus' choices, the services' refusals, the success messages and the alert digest in
Spanish; the API answers in the request's language; funders' category names stay English."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import translation

from inventory.alerts import alerts_scan, alerts_send_digest
from inventory.models import AdjustmentReason, Category, MovementKind, StockMovement

from ..support.alerts import dispense, receive, stock_dropping_below_reorder_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam_es(client, manager_sam):
    manager_sam.language = "es"
    manager_sam.save(update_fields=["language"])
    client.force_login(manager_sam)
    return client


@pytest.fixture
def shelf(downtown, syringe, naloxone, fund, admin_ada, today):
    """Downtown: syringes dropping below their reorder point, naloxone lot NX-1."""
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=admin_ada, fund=fund)
    dispense(downtown, syringe, quantity, by=admin_ada)
    receive(
        downtown,
        naloxone,
        6,
        by=admin_ada,
        fund=fund,
        lot_number="NX-1",
        expires_on=today + timedelta(days=30),
    )
    return downtown


def page(client, path, **query) -> str:
    response = client.get(path, query)
    assert response.status_code == 200, path
    html = response.content.decode()
    assert '<html lang="es">' in html
    return html


def assert_spanish(html: str, spanish: tuple[str, ...], english: tuple[str, ...]) -> None:
    for word in spanish:
        assert word in html, word
    for word in english:
        assert word not in html, word


def test_stock_on_hand_is_in_spanish(sam_es, shelf):
    html = page(sam_es, "/inventory/")
    assert_spanish(
        html,
        (
            "Existencias",
            "Tarjeta de inventario",
            "Meses de existencias",
            "Punto de pedido",
            "Jeringa",
            "Naloxona",
            "Todas las categorías",
            "Descargar CSV",
            "Trasladar",
        ),
        (
            "Stock on hand",
            "Months of stock",
            "Reorder point",
            "All categories",
            "Download CSV",
            ">Syringe<",
        ),
    )


def test_item_detail_and_stock_card_are_in_spanish(sam_es, shelf, naloxone):
    html = page(sam_es, f"/inventory/items/{naloxone.pk}/")
    assert_spanish(
        html,
        (
            "Categoría",
            "Lotes y vencimiento",
            "Se controla por lote",
            "Aerosol nasal de 4 mg",
            "2 dosis por",
            "Existencias por lugar y lote",
            "Fuente de financiamiento",
        ),
        ("Lots and expiry", "Funding source", "Nasal spray 4 mg", "Never received."),
    )
    # The chart's legend comes with its data, already translated (item_trend.js).
    legend = sam_es.get(f"/inventory/items/{naloxone.pk}/").context["trend"]["legend"]
    assert legend == {"on_hand": "En existencia", "dispensed": "Entregadas"}
    card = page(sam_es, "/inventory/card/", location=shelf.pk, item=naloxone.pk)
    assert_spanish(
        card,
        (
            "Tarjeta de inventario: Naloxone nasal 4 mg en Downtown storeroom",
            "Recepción de mercancía",
            "Saldo",
            "en existencia ahora",
            "1 movimiento.",
        ),
        ("on hand now", "Receipt", "Balance"),
    )


def test_the_forms_are_in_spanish(sam_es, shelf):
    receive_page = page(sam_es, "/inventory/receive/")
    assert_spanish(
        receive_page,
        (
            "Recibir un envío",
            "Recibir en",
            "Comprado con",
            "Unidades sueltas",
            "(por lote)",
            "Costo por unidad",
            "Agregar una línea",
            "Número de lista de empaque",
        ),
        ("Receive a shipment", "Bought with", "Single units", "(by lot)", "Add a line"),
    )
    transfer_page = page(sam_es, "/inventory/transfer/")
    assert_spanish(
        transfer_page,
        ("Trasladar existencias", "Origen", "Destino", "Líneas para trasladar"),
        ("Transfer stock", "Lines to transfer"),
    )
    adjust_page = page(sam_es, "/inventory/adjust/")
    assert_spanish(
        adjust_page,
        ("Registrar un ajuste", "Motivo", "Dañado", "Perdido o robado", "Corrección"),
        ("Record an adjustment", "Lost or stolen", "Damaged"),
    )


def test_the_count_sheet_and_its_preview_are_in_spanish(sam_es, shelf):
    choose = page(sam_es, "/inventory/count/")
    assert_spanish(choose, ("Conteo físico", "Abrir la hoja de conteo"), ("Physical count",))
    response = sam_es.get("/inventory/count/", {"location": shelf.pk})
    sheet = response.content.decode()
    assert_spanish(
        sheet,
        ("Hoja de conteo: Downtown storeroom", "Fuente de financiamiento", "Revisar diferencias"),
        ("Count sheet", "Funding source", "Check differences"),
    )
    lots = [row["lot"].pk for row in response.context["rows"]]
    data = {
        "location": shelf.pk,
        "action": "preview",
        "lines-TOTAL_FORMS": str(len(lots)),
        "lines-INITIAL_FORMS": str(len(lots)),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, lot in enumerate(lots):
        data[f"lines-{index}-lot"] = lot
    data["lines-0-counted"] = "0"
    preview = sam_es.post("/inventory/count/", data).content.decode()
    assert_spanish(
        preview,
        (
            "Revisar el conteo: Downtown storeroom",
            "1 línea contada;",
            "no coincide",
            "Según los registros",
            "Registrar el conteo",
            "Volver a la hoja",
        ),
        ("Check the count", "line counted", "Books say", "Record the count"),
    )


def test_a_refusal_and_a_success_are_in_spanish(sam_es, shelf, syringe, fund):
    refused = sam_es.post(
        "/inventory/transfer/",
        {
            "from_location": shelf.pk,
            "to_location": shelf.pk,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-item": syringe.pk,
            "lines-0-quantity": "5",
        },
    )
    assert refused.context["form"].errors["to_location"] == ["Elija otro lugar de destino."]
    before = StockMovement.objects.count()
    received = sam_es.post(
        "/inventory/receive/",
        {
            "location": shelf.pk,
            "funding_source": fund.pk,
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-item": syringe.pk,
            "lines-0-quantity": "40",
        },
        follow=True,
    )
    assert StockMovement.objects.count() == before + 1
    assert "Se recibieron 40 unidades en 1 línea de lote en Downtown storeroom." in (
        received.content.decode()
    )


def test_the_alerts_page_is_in_spanish(sam_es, shelf):
    alerts_scan()
    html = page(sam_es, "/inventory/alerts/")
    assert_spanish(
        html,
        (
            "Alertas de inventario",
            "Gravedad",
            "Poca existencia",
            "Vencimiento",
            "Por debajo del punto de pedido",
            "Lote por vencer",
            "2 alertas",
            "Confirmar",
            "Actuales (abiertas o confirmadas)",
        ),
        ("Stock alerts", "Below reorder point", "Lot expiring soon", ">Acknowledge<"),
    )


def test_the_api_answers_in_the_requests_language(api_as, manager_sam, shelf, syringe):
    api = api_as(manager_sam)
    body = {
        "from_location": shelf.pk,
        "to_location": shelf.pk,
        "lines": [{"item": syringe.pk, "quantity": 5}],
    }
    spanish = api.post(
        "/api/v1/inventory/transfers/", body, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert spanish.status_code == 400
    assert "Elija otro lugar de destino." in str(spanish.json())
    english = api.post(
        "/api/v1/inventory/transfers/", body, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Choose a different location to send to." in str(english.json())


def test_funders_category_names_stay_english_while_stock_words_follow_the_language():
    with translation.override("es"):
        # Reports build their figures' names from these labels (reports/metrics.py).
        assert dict(Category.choices)[Category.SYRINGE] == "Syringe"
        assert str(dict(MovementKind.choices)[MovementKind.COUNT]) == "Conteo físico"
        assert str(AdjustmentReason.LOST.label) == "Perdido o robado"


def test_each_manager_reads_the_alert_digest_in_their_language(shelf, manager_sam, admin_ada):
    manager_sam.language = "es"
    manager_sam.email = "sam@program.example"
    manager_sam.save(update_fields=["language", "email"])
    alerts_scan()
    alerts_send_digest()
    (email,) = mail.outbox
    assert email.subject == "Alertas de inventario: 2 nuevas"
    assert_spanish(
        email.body,
        (
            "Hola, sam:",
            "2 alertas de inventario nuevas",
            "Por debajo del punto de pedido",
            "Véalas y confírmelas en http://",
            "no contiene información de participantes",
        ),
        ("Hello", "Below reorder point", "See and acknowledge"),
    )
