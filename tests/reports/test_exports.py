"""Published files are safe to open: no formula runs, no control character breaks the
build, and each file says what every line counts (definitions)."""

import csv
import io
from datetime import date

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from referrals.models import Referral, ReferralType
from reports.exports import safe_text
from reports.funder_templates import TEMPLATES
from reports.metrics import DEFINITIONS
from reports.models import ReportStatus

from ..support.reports import built_report, january_visits

pytestmark = [pytest.mark.django_db, pytest.mark.figures]

FORMULA = '=HYPERLINK("http://x","y")'
CONTROL = "Detox\u0001 unit"


@pytest.fixture
def typed_names(site_a, site_b, coordinator_cleo):
    """Referral types named by a person: a formula and a control character, with
    enough referrals in January that their lines are published."""
    visits = [v for v in january_visits(site_a, site_b) if v.participant_id]
    for n, name in enumerate((FORMULA, CONTROL, "+1 housing", "@home care", "-minus")):
        kind = ReferralType.objects.create(code=f"typed-{n}", name=name, group="care")
        for visit in visits:
            Referral.objects.create(
                participant=visit.participant,
                visit=visit,
                site=visit.site,
                type=kind,
                status="referred",
                referred_on=date(2026, 1, 15),
                follow_up_on=date(2026, 2, 15),
                status_changed_at=timezone.now(),
                created_by=coordinator_cleo,
            )


def test_names_with_a_formula_or_a_control_character_build_in_every_template(
    typed_names, coordinator_cleo
):
    for template in TEMPLATES:
        snapshot = built_report(coordinator_cleo, template)
        assert snapshot.status == ReportStatus.READY, snapshot.error
        workbook = load_workbook(io.BytesIO(snapshot.xlsx_file.open("rb").read()))
        cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
        assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
        assert "\u0001" not in snapshot.csv_file.open("rb").read().decode("utf-8-sig")


def test_a_name_that_is_a_formula_is_published_as_text(typed_names, coordinator_cleo):
    # The state layout prints the bare type name as the line ("Referred: " removed).
    snapshot = built_report(coordinator_cleo, "state_ssp")
    assert snapshot.status == ReportStatus.READY, snapshot.error

    workbook = load_workbook(io.BytesIO(snapshot.xlsx_file.open("rb").read()))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "'" + FORMULA in texts and "Detox unit" in texts
    assert {"'+1 housing", "'@home care", "'-minus"} <= set(texts)
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r"))]

    text = snapshot.csv_file.open("rb").read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    labels = [row[0] for row in rows if row]
    assert "'" + FORMULA in labels and "'+1 housing" in labels
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@"))]
    assert "\u0001" not in text


def test_safe_text_escapes_every_formula_start_and_strips_what_xlsx_cannot_hold():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_text(f"{start}1+1") == f"'{start}1+1"
    assert safe_text("a\u0000b\u0008c\u000bd\u001fe") == "abcde"
    assert safe_text("\u0001=SUM(A1)") == "'=SUM(A1)"  # stripped first, then escaped
    assert safe_text("<11") == "<11" and safe_text("Syringes – 1 mL") == "Syringes – 1 mL"


def test_the_xlsx_has_a_definitions_sheet_and_the_csv_a_definitions_block(
    site_a, site_b, coordinator_cleo
):
    january_visits(site_a, site_b)
    snapshot = built_report(coordinator_cleo)

    workbook = load_workbook(io.BytesIO(snapshot.xlsx_file.open("rb").read()), read_only=True)
    assert workbook.sheetnames == ["Report", "Definitions"]
    rows = list(workbook["Definitions"].iter_rows(values_only=True))
    assert rows[0] == ("Line", "Definition")
    defined = dict(rows[1:])
    assert defined["New participants (first visit ever)"] == DEFINITIONS["new_participants"]
    assert (
        "Loose needles are not included"
        in defined["Syringes distributed (loose needles not included)"]
    )
    assert "WHO/UNAIDS" in defined["Syringes distributed per unique participant, per year"]
    assert all(text for _label, text in rows[1:])

    text = snapshot.csv_file.open("rb").read().decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(text)))
    start = csv_rows.index(["Definitions"])
    assert dict(csv_rows[start + 1 :]) == defined
