"""The front desk of one site cannot learn any attribute of, or enumerate, the codes
seen only at another site: not through the look-up (API and page), its suggestions
and prefix matches, the participant API and page, the visit list's filters, or the
referral endpoints that take a code. It learns only that such a code exists (so the
visit is not counted as a new participant). Look-ups are limited per person (429)."""

import string
from datetime import date, datetime, time

import pytest
from django.utils import timezone

from referrals.models import NO_VISIT_YET, Referral, ReferralType
from referrals.services import referral_create
from ssp.models import ParticipantMerge, Visit
from ssp.selectors import near_matches, participants_by_prefix
from ssp.services import VisitNotAllowed, participant_merge

from ..factories import ParticipantFactory, VisitFactory

LOOKUP = "/api/v1/participants/lookup/"
ELSEWHERE = "EAST1980M"  # seen only at site B
ELSEWHERE_MERGED = "EAST1981M"  # merged into ELSEWHERE
OURS = "MAKO1993F"  # seen at site A
# What the look-up must not give away about ELSEWHERE. ZIP3 and a date nobody would guess.
SECRET_ZIP3 = "947"
SECRET_FIRST_SEEN = date(2019, 3, 17)


@pytest.fixture
def two_sites(site_a, site_b, front_desk_ana, front_desk_ben, admin_ada):
    elsewhere = ParticipantFactory(
        code=ELSEWHERE,
        gender="M",
        age_band="40-49",
        zip3=SECRET_ZIP3,
        first_seen_on=SECRET_FIRST_SEEN,
    )
    # First seen is the day of the first visit (kept true by the merge below).
    first_visit = timezone.make_aware(datetime.combine(SECRET_FIRST_SEEN, time(12)))
    VisitFactory(
        site=site_b, recorded_by=front_desk_ben, participant=elsewhere, occurred_at=first_visit
    )
    merged = ParticipantFactory(code=ELSEWHERE_MERGED)
    VisitFactory(site=site_b, recorded_by=front_desk_ben, participant=merged)
    participant_merge(merged=merged, kept=elsewhere, by=admin_ada, reason="year")
    # Three more codes seen only at site B, for the enumeration tests.
    for code in ("EASY1975F", "EAZE1990X", "ZOLA2001F"):
        VisitFactory(
            site=site_b, recorded_by=front_desk_ben, participant=ParticipantFactory(code=code)
        )
    ours = ParticipantFactory(code=OURS)
    VisitFactory(site=site_a, recorded_by=front_desk_ana, participant=ours)
    return {"elsewhere": elsewhere, "ours": ours}


SECRETS = (
    SECRET_ZIP3,
    SECRET_FIRST_SEEN.isoformat(),
    "40-49",
    "EAST",  # site B's code, and the prefix of every code seen only there
    "Eastside",
)


def _tells_nothing(text: str, *, typed: str) -> None:
    """Nothing of the other site's participant in `text`, beyond the code as typed."""
    text = text.replace(typed, "")
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked"


def _other_codes() -> set[str]:
    return {ELSEWHERE, ELSEWHERE_MERGED, "EASY1975F", "EAZE1990X", "ZOLA2001F"}


# --- The look-up API -----------------------------------------------------------------


@pytest.mark.parametrize("typed", [ELSEWHERE, ELSEWHERE.lower(), ELSEWHERE_MERGED])
def test_lookup_of_a_code_seen_elsewhere_says_only_that_it_exists(
    api_as, front_desk_ana, two_sites, typed
):
    response = api_as(front_desk_ana).get(LOOKUP, {"code": typed})
    assert response.status_code == 200
    body = response.json()
    assert body["known_elsewhere"] is True
    assert body["participant"] is None
    assert body["last_visit"] is None and body["visit_count"] == 0
    assert body["usual_supplies"] == [] and body["suggestions"] == []
    assert body["prefix_matches"] == []
    # Even that a merged code was merged, and into which code, stays at site B.
    assert body["typed_code_merged"] is False
    _tells_nothing(response.content.decode(), typed=typed.upper())
    assert ELSEWHERE not in response.content.decode().replace(typed.upper(), "")


def test_the_other_sites_front_desk_and_program_wide_staff_see_the_person(
    api_as, front_desk_ben, admin_ada, two_sites
):
    for user in (front_desk_ben, admin_ada):
        body = api_as(user).get(LOOKUP, {"code": ELSEWHERE}).json()
        assert body["known_elsewhere"] is False
        assert body["participant"]["zip3"] == SECRET_ZIP3
        assert body["participant"]["first_seen_on"] == SECRET_FIRST_SEEN.isoformat()


def test_lookup_of_a_code_seen_here_is_unchanged(api_as, front_desk_ana, two_sites):
    body = api_as(front_desk_ana).get(LOOKUP, {"code": OURS}).json()
    assert body["known_elsewhere"] is False
    assert body["participant"]["code"] == OURS
    assert body["visit_count"] == 1


def test_near_matches_offer_only_codes_seen_at_my_sites(
    api_as, front_desk_ana, front_desk_ben, two_sites
):
    one_off = "EAST1980F"  # one character from ELSEWHERE, unknown itself
    mine = api_as(front_desk_ana).get(LOOKUP, {"code": one_off}).json()
    assert mine["participant"] is None and mine["known_elsewhere"] is False
    assert mine["suggestions"] == []
    assert mine["prefix_matches"] == []
    theirs = api_as(front_desk_ben).get(LOOKUP, {"code": one_off}).json()
    assert [s["code"] for s in theirs["suggestions"]] == [ELSEWHERE]


def test_a_merged_away_code_seen_elsewhere_is_not_offered_as_a_near_match(
    front_desk_ana, front_desk_ben, two_sites
):
    # One character from ELSEWHERE_MERGED (two from its survivor, ELSEWHERE).
    typed = "EAST1981X"
    assert near_matches(typed, user=front_desk_ana) == []
    offered = near_matches(typed, user=front_desk_ben)
    assert [(s.code, s.reason) for s in offered] == [
        (ELSEWHERE, f"one letter different (merged into {ELSEWHERE})")
    ]


def test_prefix_look_ups_list_only_codes_seen_at_my_sites(
    api_as, front_desk_ana, front_desk_ben, admin_ada, two_sites
):
    assert api_as(front_desk_ana).get(LOOKUP, {"code": "EA"}).json()["prefix_matches"] == []
    assert api_as(front_desk_ana).get(LOOKUP, {"code": "MA"}).json()["prefix_matches"] == [OURS]
    ben = api_as(front_desk_ben).get(LOOKUP, {"code": "EA"}).json()["prefix_matches"]
    assert ben == [ELSEWHERE, "EASY1975F", "EAZE1990X"]
    everyone = api_as(admin_ada).get(LOOKUP, {"code": "EA"}).json()["prefix_matches"]
    assert everyone == [ELSEWHERE, "EASY1975F", "EAZE1990X"]


def test_no_prefix_enumerates_another_sites_codes(front_desk_ana, coordinator_cleo, two_sites):
    """Every two-letter start and every start of the other site's codes (what a scan
    would try), through the selector the API and pages use."""
    letters = string.ascii_uppercase
    starts = {a + b for a in letters for b in letters}
    starts |= {code[:n] for code in _other_codes() for n in range(2, len(code) + 1)}
    found = set()
    for start in sorted(starts):
        found |= {p.code for p in participants_by_prefix(start, user=front_desk_ana)}
    assert found == {OURS}
    # A program-wide role keeps seeing everything (merged-away codes are never listed).
    everyone = set()
    for start in ("EA", "ZO", "MA"):
        everyone |= {p.code for p in participants_by_prefix(start, user=coordinator_cleo)}
    assert everyone == _other_codes() - {ELSEWHERE_MERGED} | {OURS}


# --- Pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [ELSEWHERE, ELSEWHERE_MERGED])
def test_the_intake_panel_says_known_elsewhere_and_nothing_more(
    client, front_desk_ana, two_sites, typed
):
    client.force_login(front_desk_ana)
    response = client.get("/intake/lookup/", {"code": typed})
    assert response.status_code == 200
    panel = response.content.decode()
    assert f'data-known-elsewhere="{typed}"' in panel
    assert "Not a new participant" in panel
    assert "new code" not in panel and "referral-follow-ups" not in panel
    _tells_nothing(panel, typed=typed)


def test_the_intake_panel_offers_no_near_match_or_prefix_from_elsewhere(
    client, front_desk_ana, two_sites
):
    client.force_login(front_desk_ana)
    for typed in ("EAST1980F", "EAS", "EA"):
        panel = client.get("/intake/lookup/", {"code": typed}).content.decode()
        assert "use-code" not in panel, typed
        for code in _other_codes():
            assert code not in panel, (typed, code)


def test_the_participant_search_page_shows_nothing_from_elsewhere(
    client, front_desk_ana, two_sites
):
    client.force_login(front_desk_ana)
    exact = client.get("/intake/participants/", {"code": ELSEWHERE}).content.decode()
    assert "exists at another site" in exact
    assert f"/intake/participants/{ELSEWHERE}/" not in exact
    _tells_nothing(exact.split("<h1>", 1)[1], typed=ELSEWHERE)
    for typed in ("EA", "EAS", "EAST1980F", "ZO"):
        page = client.get("/intake/participants/", {"code": typed}).content.decode()
        for code in _other_codes():
            assert code not in page, (typed, code)


def test_the_participant_api_and_page_say_not_found(api_as, client, front_desk_ana, two_sites):
    for typed in (ELSEWHERE, ELSEWHERE_MERGED):
        assert api_as(front_desk_ana).get(f"/api/v1/participants/{typed}/").status_code == 404
        client.force_login(front_desk_ana)
        assert client.get(f"/intake/participants/{typed}/").status_code == 404


# --- Visit lists ---------------------------------------------------------------------


def test_visit_list_filters_find_nothing_of_the_other_site(
    api_as, client, front_desk_ana, site_b, two_sites
):
    api = api_as(front_desk_ana)
    for query in ({"code": ELSEWHERE}, {"code": ELSEWHERE_MERGED}, {"site": site_b.pk}):
        assert api.get("/api/v1/visits/", query).json()["count"] == 0, query
    client.force_login(front_desk_ana)
    page = client.get("/intake/visits/", {"code": ELSEWHERE}).content.decode()
    _tells_nothing(page.split("<h1>", 1)[1], typed=ELSEWHERE)


# --- Referrals that take a code ------------------------------------------------------


@pytest.fixture
def referral_elsewhere(two_sites, site_b, front_desk_ben):
    referral_type = ReferralType.objects.filter(is_active=True).order_by("pk").first()
    return referral_create(
        referral_type=referral_type,
        participant=two_sites["elsewhere"],
        site=site_b,
        by=front_desk_ben,
    )


def test_referral_list_and_follow_ups_show_nothing_of_the_other_site(
    api_as, client, front_desk_ana, front_desk_ben, referral_elsewhere
):
    for typed in (ELSEWHERE, ELSEWHERE_MERGED):
        listed = api_as(front_desk_ana).get("/api/v1/referrals/", {"code": typed}).json()
        assert listed["count"] == 0
        client.force_login(front_desk_ana)
        fragment = client.get("/referrals/follow-ups/", {"code": typed}).content.decode()
        assert str(referral_elsewhere.type) not in fragment
        assert f"/referrals/follow-ups/{referral_elsewhere.pk}/" not in fragment
    # The other site's desk does see it: the fixture is what the test thinks it is.
    ben = api_as(front_desk_ben).get("/api/v1/referrals/", {"code": ELSEWHERE}).json()
    assert ben["count"] == 1


UNKNOWN = "ZULU1999F"  # seen nowhere


def _refer(api, site, typed, **extra):
    referral_type = ReferralType.objects.filter(is_active=True).order_by("pk").first()
    body = {"code": typed, "site": site.pk, "type": referral_type.code, **extra}
    return api.post("/api/v1/referrals/", body, format="json")


@pytest.mark.parametrize("typed", [ELSEWHERE, ELSEWHERE_MERGED])
def test_a_referral_for_a_code_seen_elsewhere_is_refused_like_an_unknown_one(
    api_as, front_desk_ana, site_a, two_sites, typed
):
    api = api_as(front_desk_ana)
    refused, unknown = _refer(api, site_a, typed), _refer(api, site_a, UNKNOWN)
    assert refused.status_code == unknown.status_code == 400, refused.content
    assert refused.json() == unknown.json()
    assert refused.json()["errors"] == {"code": [NO_VISIT_YET]}
    _tells_nothing(refused.content.decode(), typed=typed)
    assert ELSEWHERE not in refused.content.decode().replace(typed, "")
    assert not Referral.objects.filter(site=site_a).exists()


def test_a_referral_at_another_sites_visit_is_no_visit_at_all(
    api_as, front_desk_ana, site_a, front_desk_ben, site_b, two_sites
):
    # With the other site's visit, a matching and a wrong code must answer alike: no oracle.
    visit = Visit.objects.filter(site=site_b, participant=two_sites["elsewhere"]).first()
    api = api_as(front_desk_ana)
    answers = [_refer(api, site_a, code, visit=str(visit.uuid)) for code in (ELSEWHERE, OURS)]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["errors"] == {"visit": ["No visit with this id."]}
    assert not Referral.objects.exists()


@pytest.mark.parametrize("typed", [ELSEWHERE, ELSEWHERE_MERGED])
def test_the_referral_page_refuses_a_code_seen_elsewhere_and_names_nothing(
    client, front_desk_ana, site_a, two_sites, typed
):
    referral_type = ReferralType.objects.filter(is_active=True).order_by("pk").first()
    client.force_login(front_desk_ana)
    response = client.post(
        "/referrals/new/",
        {"code": typed, "site": site_a.pk, "referral_type": referral_type.pk},
    )
    page = response.content.decode()
    assert str(NO_VISIT_YET) in page
    _tells_nothing(page.split("<h1>", 1)[1], typed=typed)
    assert ELSEWHERE not in page.replace(typed, "")
    assert not Referral.objects.exists()


def test_a_follow_up_answer_with_a_merged_code_names_nothing_of_elsewhere(
    client, front_desk_ana, site_a, two_sites
):
    referral_type = ReferralType.objects.filter(is_active=True).order_by("pk").first()
    ours = referral_create(
        referral_type=referral_type, participant=two_sites["ours"], site=site_a, by=front_desk_ana
    )
    client.force_login(front_desk_ana)
    # The prompt re-renders for the code posted with the answer, whatever code that is.
    response = client.post(
        f"/referrals/follow-ups/{ours.pk}/not-yet/",
        {"code": ELSEWHERE_MERGED},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "not yet" in fragment  # the answer was recorded and shown
    assert ELSEWHERE not in fragment.replace(ELSEWHERE_MERGED, "")
    _tells_nothing(fragment, typed=ELSEWHERE_MERGED)


# --- Merges --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [ELSEWHERE, ELSEWHERE_MERGED])
def test_a_manager_merging_a_code_seen_elsewhere_learns_nothing_of_it(
    api_as, client, manager_sam, two_sites, typed
):
    api = api_as(manager_sam)
    answers = [
        api.post("/api/v1/participants/merge/", {"merged": code, "kept": OURS}, format="json")
        for code in (typed, UNKNOWN)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json()["errors"] == {"merged": [f"Unknown code {typed} at your sites."]}
    assert answers[1].json()["errors"] == {"merged": [f"Unknown code {UNKNOWN} at your sites."]}
    _tells_nothing(answers[0].content.decode(), typed=typed)
    assert ELSEWHERE not in answers[0].content.decode().replace(typed, "")
    client.force_login(manager_sam)
    page = client.post("/intake/participants/merge/", {"merged": typed, "kept": OURS})
    text = page.content.decode().split("<h1>", 1)[1]
    assert f"Unknown code {typed} at your sites." in text
    _tells_nothing(text, typed=typed)
    assert ELSEWHERE not in text.replace(typed, "")
    assert not ParticipantMerge.objects.filter(kept=two_sites["ours"]).exists()


def test_the_merge_service_does_not_name_a_code_it_refuses(manager_sam, two_sites):
    with pytest.raises(VisitNotAllowed) as refused:
        participant_merge(merged=two_sites["elsewhere"], kept=two_sites["ours"], by=manager_sam)
    assert ELSEWHERE not in str(refused.value)


# --- The rate limit ------------------------------------------------------------------


def test_lookups_over_the_rate_get_a_429_in_the_error_body(
    api_as, client, settings, front_desk_ana, front_desk_ben, two_sites
):
    settings.SSP_LOOKUP_RATE = "3/min"
    api = api_as(front_desk_ana)
    for typed in ("EA", "EB", "EC"):
        assert api.get(LOOKUP, {"code": typed}).status_code == 200
    refused = api.get(LOOKUP, {"code": "ED"})
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "throttled"
    assert body["detail"].startswith("Too many code look-ups")
    assert body["errors"] == {}
    assert 0 < int(refused["Retry-After"]) <= 60
    # Every way of asking about a code shares the budget.
    assert api.get(f"/api/v1/participants/{OURS}/").status_code == 429
    assert api.post("/api/v1/participants/build-code/", {"parts": {}}).status_code == 429
    # The limit is per person.
    assert api_as(front_desk_ben).get(LOOKUP, {"code": "EA"}).status_code == 200


def test_the_intake_panel_and_search_page_share_the_limit_and_say_so(
    api_as, client, settings, front_desk_ana, two_sites
):
    settings.SSP_LOOKUP_RATE = "2/min"
    client.force_login(front_desk_ana)
    assert client.get("/intake/lookup/", {"code": OURS}).status_code == 200
    assert api_as(front_desk_ana).get(LOOKUP, {"code": OURS}).status_code == 200
    panel = client.get("/intake/lookup/", {"code": ELSEWHERE})
    assert panel.status_code == 429
    assert 0 < int(panel["Retry-After"]) <= 60
    text = panel.content.decode()
    assert "Too many code look-ups" in text and 'role="alert"' in text
    assert ELSEWHERE not in text
    page = client.get("/intake/participants/", {"code": ELSEWHERE})
    assert page.status_code == 429
    assert "Too many code look-ups" in page.content.decode()
