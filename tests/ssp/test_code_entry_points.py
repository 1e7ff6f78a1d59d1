"""A code intake accepts is accepted by every other entry point that takes a code, in
every spelling intake accepts, and a merged-away code leads to the code kept."""

import copy
import re
from urllib.parse import quote
from uuid import uuid4

import pytest

from org import roles
from referrals.models import Referral, ReferralType
from ssp.codes import current_recipe, validate_code
from ssp.models import Participant, Visit
from ssp.services import participant_merge

from ..factories import ParticipantFactory, SiteFactory, VisitFactory, make_staff
from ..support.module_data import module_transaction

LIVE = "MAKO1993F"
TYPO = "MAKO1939F"  # merged into LIVE


def spellings(code: str) -> list[str]:
    """What staff type for one code, built from what codes.normalise forgives: case,
    dashes or spaces between the recipe's parts, whitespace around the code."""
    match = current_recipe().regex.fullmatch(code)
    assert match, f"{code} must fit the recipe"
    parts = list(match.groups())
    out = []
    for joined in ("".join(parts), "-".join(parts), " ".join(parts)):
        out += [joined, joined.lower(), joined.swapcase().title()]
    out += [f"  {code}  ", f"\t{code.lower()}\n", f" {'-'.join(parts).lower()} "]
    assert len(set(out)) == len(out)
    return out


CASES = [(typed, LIVE) for typed in spellings(LIVE)] + [
    (typed, "merged") for typed in spellings(TYPO)
]


@pytest.fixture(scope="module")
def entry_world(django_db_setup, django_db_blocker):
    """Site A, Ana, Sam and the three codes (one merged into LIVE), made once for the
    module's 18 spellings × 8 entry points, in a transaction rolled back at its end: each
    test's own transaction nests in it as a savepoint, so each starts from these rows, as
    when every test made them afresh."""
    with module_transaction(django_db_blocker):
        site_a = SiteFactory(name="Downtown drop-in", code="DTWN")  # conftest's personas
        front_desk_ana = make_staff("ana", roles.FRONT_DESK, [site_a])
        manager_sam = make_staff("sam", roles.MANAGER, [site_a])
        live = ParticipantFactory(code=LIVE)
        VisitFactory(site=site_a, recorded_by=front_desk_ana, participant=live)
        typo = ParticipantFactory(code=TYPO)
        VisitFactory(site=site_a, recorded_by=front_desk_ana, participant=typo)
        participant_merge(merged=typo, kept=live, by=manager_sam, reason="year")
        other = ParticipantFactory(code="JOLU1980M")
        VisitFactory(site=site_a, recorded_by=front_desk_ana, participant=other)
        yield {
            "site_a": site_a,
            "front_desk_ana": front_desk_ana,
            "manager_sam": manager_sam,
            "people": {"live": live, "other": other},
        }


@pytest.fixture
def this_tests_world(entry_world, db):
    """Copies of the module's objects for this test alone (as TestCase.setUpTestData's
    are): what a test changes on an object, a login's last_login, stays in its test."""
    return copy.deepcopy(entry_world)


@pytest.fixture
def site_a(this_tests_world):
    return this_tests_world["site_a"]


@pytest.fixture
def front_desk_ana(this_tests_world):
    return this_tests_world["front_desk_ana"]


@pytest.fixture
def manager_sam(this_tests_world):
    return this_tests_world["manager_sam"]


@pytest.fixture
def people(this_tests_world):
    return this_tests_world["people"]


@pytest.fixture
def hiv_testing(db):
    return ReferralType.objects.filter(is_active=True).order_by("pk").first()


def _path_code(typed: str) -> str:
    return quote(typed, safe="")


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_intake_accepts_the_spelling(typed, _kind):
    assert validate_code(typed) == re.sub(r"[^A-Z0-9]", "", typed.upper())


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_visit_api_logs_and_filters_under_the_code_kept(
    typed, _kind, people, api_as, front_desk_ana, site_a
):
    api = api_as(front_desk_ana)
    response = api.post(
        "/api/v1/visits/",
        {"client_uuid": str(uuid4()), "site": site_a.pk, "code": typed, "syringes_collected": 3},
        format="json",
    )
    assert response.status_code == 201, response.content
    visit = Visit.objects.get(uuid=response.json()["uuid"])
    assert visit.participant == people["live"]
    listed = api.get("/api/v1/visits/", {"code": typed}).json()["results"]
    assert str(visit.uuid) in {row["uuid"] for row in listed}


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_code_lookup_api_and_pages_find_the_code_kept(
    typed, _kind, people, api_as, client, front_desk_ana
):
    found = api_as(front_desk_ana).get("/api/v1/participants/lookup/", {"code": typed})
    assert found.status_code == 200
    assert found.json()["participant"]["code"] == LIVE

    client.force_login(front_desk_ana)
    search = client.get("/intake/participants/", {"code": typed})
    assert search.context["lookup"].participant == people["live"]
    panel = client.get("/intake/lookup/", {"code": typed})
    assert panel.context["lookup"].participant == people["live"]


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_participant_api_and_page_open_the_code_kept(
    typed, _kind, people, api_as, client, front_desk_ana
):
    read = api_as(front_desk_ana).get(f"/api/v1/participants/{_path_code(typed)}/")
    assert read.status_code == 200, read.content
    assert read.json()["code"] == LIVE

    client.force_login(front_desk_ana)
    page = client.get(f"/intake/participants/{_path_code(typed)}/", follow=True)
    assert page.status_code == 200
    assert page.context["participant"] == people["live"]


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_merge_page_previews_and_merges_into_the_code_kept(
    typed, _kind, people, client, manager_sam
):
    client.force_login(manager_sam)
    preview = client.post(
        "/intake/participants/merge/", {"merged": people["other"].code, "kept": typed}
    )
    assert preview.context["preview"]["kept"] == people["live"]
    done = client.post(
        "/intake/participants/merge/",
        {"merged": people["other"].code, "kept": typed, "confirm": f"JOLU1980M>{LIVE}"},
    )
    assert done.status_code == 302
    assert Participant.objects.get(code="JOLU1980M").merged_into == people["live"]


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_merge_page_reads_the_duplicate_however_it_is_typed(
    typed, _kind, people, client, manager_sam
):
    client.force_login(manager_sam)
    preview = client.post("/intake/participants/merge/", {"merged": typed, "kept": "JOLU1980M"})
    assert preview.context["preview"]["merged"] == people["live"]


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_merge_api_merges_into_the_code_kept(typed, _kind, people, api_as, manager_sam):
    response = api_as(manager_sam).post(
        "/api/v1/participants/merge/", {"merged": "jolu-1980-m", "kept": typed}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Participant.objects.get(code="JOLU1980M").merged_into == people["live"]


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_referral_api_creates_and_filters_under_the_code_kept(
    typed, _kind, people, api_as, front_desk_ana, site_a, hiv_testing
):
    api = api_as(front_desk_ana)
    response = api.post(
        "/api/v1/referrals/",
        {"code": typed, "site": site_a.pk, "type": hiv_testing.code},
        format="json",
    )
    assert response.status_code == 201, response.content
    referral = Referral.objects.get(pk=response.json()["id"])
    assert referral.participant == people["live"]
    listed = api.get("/api/v1/referrals/", {"code": typed}).json()
    assert [row["id"] for row in listed["results"]] == [referral.pk]


@pytest.mark.parametrize(("typed", "_kind"), CASES)
def test_referral_page_and_front_desk_prompt_take_the_code(
    typed, _kind, people, client, front_desk_ana, site_a, hiv_testing
):
    client.force_login(front_desk_ana)
    response = client.post(
        "/referrals/new/",
        {"code": typed, "site": site_a.pk, "referral_type": hiv_testing.pk},
    )
    assert response.status_code == 302, response.context["form"].errors
    referral = Referral.objects.get()
    assert referral.participant == people["live"]

    Referral.objects.filter(pk=referral.pk).update(follow_up_on=referral.referred_on)
    prompt = client.get("/referrals/follow-ups/", {"code": typed})
    assert prompt.context["follow_ups"].participant == people["live"]
    assert [r.pk for r in prompt.context["follow_ups"].due] == [referral.pk]
