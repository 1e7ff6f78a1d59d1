"""Least privilege: the app's database role does what the app does and cannot rewrite
history, change the schema or switch the ledger's trigger off (issue 15, item 4).

The suite runs as the test database's owner; these tests give a role of their own the
grants `manage.py db_roles` gives DATABASE_URL's role, then connect as it.
"""

import contextlib
import io

import pytest
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django.urls import reverse
from psycopg import sql

from inventory.models import AlertRecheck, StockBalance, StockMovement
from inventory.selectors import balance_drift
from inventory.services.common import rechecks_mark
from inventory.tasks import alerts_check, alerts_scan
from org.db_roles import grant
from outbox.services import jobs_prune
from ssp.models import Visit
from ssp.services import visit_correct, visit_record, visit_void

from ..factories import PASSWORD
from ..support.intake import item_line, kit_line, new_uuid, on_hand, receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app_role(transactional_db):
    """A login role named after the test database, so parallel runs never share one."""
    name = f"{connection.settings_dict['NAME']}_app"[:63]
    plan = grant(app_role=name, owner_alias="default")
    yield name, plan
    with connection.cursor() as cursor:
        # DROP OWNED takes back its grants and default privileges in this database.
        cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@contextlib.contextmanager
def connected_as(role: str):
    """The app's own connection, logged in as `role` until the block ends."""
    original = connection.settings_dict["USER"]
    connection.close()
    connection.settings_dict["USER"] = role
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["USER"] = original


def refused(statement: str) -> str:
    """Run one statement in a savepoint; the database's refusal, or '' if it ran."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except ProgrammingError as error:
        return str(error)
    return ""


def test_the_plan_keeps_the_ledger_append_only_and_balances_undeletable(app_role):
    _, plan = app_role
    assert plan.tables["inventory_stockmovement"] == ("SELECT", "INSERT")
    assert plan.tables["inventory_stockbalance"] == ("SELECT", "INSERT", "UPDATE")
    assert plan.tables["auditlog_logentry"] == ("SELECT", "INSERT")
    assert "DELETE" in plan.tables["django_session"]
    assert "DELETE" in plan.tables["ssp_visitsupply"]
    assert "DELETE" not in plan.tables["ssp_visit"]


def test_the_app_role_cannot_rewrite_the_ledger_nor_switch_its_trigger_off(
    app_role, front_desk_ana, site_a, stocked, supplies
):
    role, _ = app_role
    visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        lines=[item_line(supplies["syringe"], 5)],
    )
    ledger_rows = StockMovement.objects.count()
    with connected_as(role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_setting('is_superuser')")
            assert cursor.fetchone() == (role, "off")
        ledger = "inventory_stockmovement"
        assert "permission denied" in refused(f"UPDATE {ledger} SET quantity = quantity + 1")
        assert "permission denied" in refused(f"DELETE FROM {ledger}")
        assert "permission denied" in refused(f"TRUNCATE {ledger}")
        # pgtrigger's escape hatch is a setting anyone may set: the grants still hold.
        assert "permission denied" in refused(
            f"SET LOCAL pgtrigger.ignore = '{{pgtrigger_ledger_append_only_d4d61}}'; "
            f"DELETE FROM {ledger}"
        )
        assert "must be owner" in refused(f"ALTER TABLE {ledger} DISABLE TRIGGER ALL")
        assert "permission denied" in refused("SET session_replication_role = replica")
        assert "must be owner" in refused(f"ALTER TABLE {ledger} ADD COLUMN note text")
        assert "must be owner" in refused(f"DROP TABLE {ledger}")
        assert "permission denied" in refused("CREATE TABLE scratch (id int)")
        assert "permission denied" in refused("DELETE FROM inventory_stockbalance")
        assert "permission denied" in refused("TRUNCATE inventory_stockbalance")
        assert "permission denied" in refused("DELETE FROM auditlog_logentry")
    assert StockMovement.objects.count() == ledger_rows


def test_the_app_role_still_does_what_the_app_does(
    app_role, client, front_desk_ana, manager_sam, site_a, stocked, supplies, injection_kit
):
    role, _ = app_role
    syringe = supplies["syringe"]
    with connected_as(role):
        # A login and a logout write and delete a session (and axes' records).
        response = client.post(
            reverse("login"), {"username": front_desk_ana.username, "password": PASSWORD}
        )
        assert response.status_code == 302
        visit, _ = visit_record(
            site=site_a, by=front_desk_ana, client_uuid=new_uuid(), lines=[kit_line(injection_kit)]
        )
        # A correction replaces the visit's lines (DELETE on its supplies) and moves stock.
        visit_correct(visit=visit, by=front_desk_ana, lines=[item_line(syringe, 3)])
        visit_void(visit=Visit.objects.get(pk=visit.pk), by=manager_sam, reason="Entered twice")
        receive(stocked, {syringe: 10}, manager_sam)
        jobs_prune(older_than_days=0)
        # The alert re-check and the hourly scan remove re-check marks (a DELETE): run
        # here, not only by on-commit sends, whose errors are logged, not raised.
        for run in (
            lambda: alerts_check.run(pairs=[[stocked.pk, syringe.pk]]),
            lambda: alerts_scan.run(digest=False),
        ):
            with transaction.atomic():
                rechecks_mark({(stocked.pk, syringe.pk)})
            run()
            assert not AlertRecheck.objects.exists()
        out = io.StringIO()
        call_command("check_stock", stdout=out)
        assert "0 drift" in out.getvalue()
        assert client.post(reverse("logout")).status_code == 302
        assert on_hand(stocked, syringe) == 1010
        assert balance_drift() == []
        assert StockBalance.objects.filter(location=stocked).exists()


def test_the_app_role_records_a_stock_shortfall(
    app_role, front_desk_ana, site_a, stocked, supplies
):
    # The first shortfall of an item makes its placeholder lot (and the "unrecorded"
    # funding source) and a balance row at the location: inserts the app may make.
    role, _ = app_role
    naloxone = supplies["naloxone"]
    with connected_as(role):
        visit, _ = visit_record(
            site=site_a, by=front_desk_ana, client_uuid=new_uuid(), lines=[item_line(naloxone, 2)]
        )
        assert "2 × Naloxone" in visit.stock_notice
        visit_void(visit=Visit.objects.get(pk=visit.pk), by=front_desk_ana, reason="twice")
        assert on_hand(stocked, naloxone) == 0
        assert balance_drift() == []


def test_the_app_role_syncs_a_batch_with_its_group_commit(
    app_role, api_as, front_desk_ana, site_a, stocked, supplies
):
    # The batch's records commit without waiting for the disk and one flush ends it
    # (ssp/sync.py): a session setting and a WAL message any role may write.
    role, _ = app_role
    bodies = [
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "anonymous": True,
            "supplies": [{"item": "water", "quantity": 1}],
        }
        for _ in range(2)
    ]
    records = [{"kind": "visit", "client_uuid": b["client_uuid"], "body": b} for b in bodies]
    with connected_as(role):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            before = cursor.fetchone()[0]
        response = api_as(front_desk_ana).post("/api/v1/sync/", {"records": records}, format="json")
        assert [row["status"] for row in response.json()["results"]] == ["created"] * 2
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == before  # put back as it was
    assert on_hand(stocked, supplies["water"]) == 1000 - 2
