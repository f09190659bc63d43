"""The access policy, proved as a matrix: role x relationship x data category x action.

The expected answer comes from the small tables below, written from the rules in
``access.policy``'s docstring (design.md §3), never from the policy itself. Each case builds its
own small world through the services, then asks ``can()``, ``visible_youth()`` and the
``youth_get`` selector, which must all agree with the tables.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import override_settings

from safeharbor.access.choices import Action, Category
from safeharbor.access.models import BreakGlassAccess
from safeharbor.access.policy import can, visible_youth
from safeharbor.access.services import break_glass_open
from safeharbor.accounts.choices import AgencyKind, Role
from safeharbor.accounts.models import Agency, User
from safeharbor.accounts.services import agency_create, user_create
from safeharbor.core import clock
from safeharbor.youth.models import Youth
from safeharbor.youth.selectors import youth_get
from safeharbor.youth.services import (
    care_team_add,
    consent_grant,
    consent_revoke,
    youth_create,
)

pytestmark = pytest.mark.django_db

# A fixed "now" (local noon, far from any day boundary), so dates in the cases never drift.
LOCAL = ZoneInfo("America/Los_Angeles")
NOW = datetime.datetime(2025, 3, 14, 12, 0, tzinfo=LOCAL)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)

C = Category
ALL = frozenset(Category.values)
NONE: frozenset[str] = frozenset()
# What the consent in the "consented" cases names: it includes the contact plan (which consent
# can never open) and missing-from-care episodes (which law enforcement may see: they locate
# youth), and leaves out referrals and services (which must stay closed).
CONSENTED = frozenset(
    {C.IDENTITY, C.SCREENING, C.CONTACT_PLAN, C.NOTES, C.CLINICAL_NOTES, C.MISSING_EPISODES}
)

# --- The expected answers -------------------------------------------------------------------
# Which categories each role may ever touch (the role gates in the policy docstring). Law
# enforcement keeps missing-from-care episodes (to locate a youth) but never notes of any kind.
ROLE_GATE: dict[str, frozenset[str]] = {
    Role.CASEWORKER: ALL - {C.CLINICAL_NOTES},
    Role.SUPERVISOR: ALL - {C.CLINICAL_NOTES},
    Role.ADVOCATE: ALL - {C.CLINICAL_NOTES},
    Role.CLINICIAN: ALL,
    Role.LAW_ENFORCEMENT: ALL - {C.NOTES, C.CLINICAL_NOTES},
    Role.AGENCY_ADMIN: frozenset({C.IDENTITY}),
    Role.ANALYST: NONE,
    Role.RESEARCHER: NONE,
}
assert set(ROLE_GATE) == set(Role.values), "every role needs a row in ROLE_GATE"

# What each relationship opens, before role gates: (view, change).
RELATIONSHIP_GRANTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # Owning agency: everything but the contact plan (care team only), view and change.
    "owner": (ALL - {C.CONTACT_PLAN}, ALL - {C.CONTACT_PLAN}),
    # Current care team: everything, view and change.
    "care_team": (ALL, ALL),
    # Live consent: the categories it names, view only, never the contact plan.
    "consent": (CONSENTED - {C.CONTACT_PLAN}, NONE),
    # Open break-glass: every category but the contact plan, view only.
    "break_glass": (ALL - {C.CONTACT_PLAN}, NONE),
    # A victim-service provider's record: an outside care-team member sees only what consent names.
    "vsp_team_with_consent": (CONSENTED - {C.CONTACT_PLAN}, NONE),
    # Denials.
    "unrelated": (NONE, NONE),
    "consent_expired": (NONE, NONE),
    "consent_revoked": (NONE, NONE),
    "consent_not_yet_valid": (NONE, NONE),
    "care_team_ended": (NONE, NONE),
    "vsp_team_without_consent": (NONE, NONE),
    # Victim-service providers share nothing identifying without consent, even in an emergency.
    "vsp_break_glass": (NONE, NONE),
}
# Agency admins answer "who accessed this record" for their own agency only: no other
# relationship (care team, consent, break-glass) opens anything to them.
ADMIN_RELATIONSHIPS = frozenset({"owner"})


def expected(role: str, relationship: str, action: str, category: str) -> bool:
    if role == Role.AGENCY_ADMIN and relationship not in ADMIN_RELATIONSHIPS:
        return False
    if role == Role.AGENCY_ADMIN and action == Action.CHANGE:
        return False  # admins manage accounts and read the access log; they change no record
    view, change = RELATIONSHIP_GRANTS[relationship]
    granted = view if action == Action.VIEW else change
    return category in ROLE_GATE[role] and category in granted


def expected_visible(role: str, relationship: str) -> bool:
    return any(expected(role, relationship, Action.VIEW, c) for c in ALL)


# --- Building each case through the services ------------------------------------------------
@dataclass
class Case:
    subject: User
    youth: Youth
    owner_worker: User
    outside: Agency


def _agency(name: str, kind: str, vsp: bool = False) -> Agency:
    return agency_create(name=name, kind=kind, county="Harbor", is_victim_service_provider=vsp)


def _user(username: str, agency: Agency, role: str) -> User:
    return user_create(username=username, password="pw-not-used-here", agency=agency, role=role)


def _consent(case: Case, valid_from: datetime.date, expires_on: datetime.date) -> None:
    consent_grant(
        actor=case.owner_worker,
        youth=case.youth,
        signer_kind="youth",
        signer_name="Test Youth",
        signer_is_suspected_exploiter=False,
        recipient_agency=case.outside,
        categories=sorted(CONSENTED),
        purpose="Coordinated care",
        valid_from=valid_from,
        expires_on=expires_on,
    )


def _team(case: Case, starts_on: datetime.date, ends_on: datetime.date | None = None) -> None:
    care_team_add(
        actor=case.owner_worker,
        youth=case.youth,
        user=case.subject,
        team_role="caseworker",
        starts_on=starts_on,
        ends_on=ends_on,
    )


def _break_glass_row(case: Case) -> None:
    """A break-glass row the service would refuse to open (see the tests at the end): one left
    from an earlier role, say. It must still open nothing, so it is written directly."""
    BreakGlassAccess.objects.create(
        user=case.subject,
        youth=case.youth,
        reason="Left over from an earlier role",
        opened_at=clock.now(),
        expires_at=clock.now() + datetime.timedelta(minutes=60),
    )


def _open_break_glass(case: Case) -> None:
    if case.subject.role in (Role.AGENCY_ADMIN, Role.ANALYST, Role.RESEARCHER):
        _break_glass_row(case)
        return
    break_glass_open(actor=case.subject, youth=case.youth, reason="Youth missing, police on scene")


def _revoked_consent(case: Case) -> None:
    _consent(case, TODAY - 10 * DAY, TODAY + 30 * DAY)
    consent_revoke(
        actor=case.owner_worker, consent=case.youth.consents.get(), reason="Youth withdrew"
    )


def _vsp_team_with_consent(case: Case) -> None:
    _team(case, TODAY - 10 * DAY)
    _consent(case, TODAY - 10 * DAY, TODAY + 30 * DAY)


SETUP: dict[str, Callable[[Case], None]] = {
    "owner": lambda case: None,
    "unrelated": lambda case: None,
    "care_team": lambda case: _team(case, TODAY - 10 * DAY),
    "care_team_ended": lambda case: _team(case, TODAY - 30 * DAY, TODAY - DAY),
    "consent": lambda case: _consent(case, TODAY - 10 * DAY, TODAY + 30 * DAY),
    "consent_expired": lambda case: _consent(case, TODAY - 60 * DAY, TODAY - DAY),
    "consent_not_yet_valid": lambda case: _consent(case, TODAY + DAY, TODAY + 30 * DAY),
    "consent_revoked": _revoked_consent,
    "break_glass": _open_break_glass,
    "vsp_team_without_consent": lambda case: _team(case, TODAY - 10 * DAY),
    "vsp_team_with_consent": _vsp_team_with_consent,
    "vsp_break_glass": _break_glass_row,
}
assert set(SETUP) == set(RELATIONSHIP_GRANTS)


@pytest.fixture
def frozen_clock() -> Iterator[mock.MagicMock]:
    with mock.patch("safeharbor.core.clock.now", return_value=NOW) as patched:
        yield patched


def build_case(role: str, relationship: str) -> Case:
    """Three agencies; the youth is owned by the county (or the victim-service provider)."""
    county = _agency("Harbor County Children's Services", AgencyKind.CHILD_WELFARE)
    outside = _agency("Bayside Youth Clinic", AgencyKind.HEALTH)
    lighthouse = _agency("Lighthouse Advocates", AgencyKind.ADVOCACY, vsp=True)
    owner_agency = lighthouse if relationship.startswith("vsp_") else county
    owner_worker = _user("owner_worker", owner_agency, Role.CASEWORKER)
    subject = _user("subject", county if relationship == "owner" else outside, role)
    youth = youth_create(
        actor=owner_worker,
        owning_agency=owner_agency,
        given_name="Maya",
        family_name="Quillfeather",
        date_of_birth=datetime.date(2010, 4, 2),
        county="Harbor",
    )
    case = Case(subject=subject, youth=youth, owner_worker=owner_worker, outside=outside)
    SETUP[relationship](case)
    # Fresh objects, as a request would load them (no cached membership or relations).
    case.subject = User.objects.get(pk=subject.pk)
    case.youth = Youth.objects.get(pk=youth.pk)
    return case


ROLES = list(Role.values)
RELATIONSHIPS = list(RELATIONSHIP_GRANTS)
CELLS = [(a, c) for a in Action.values for c in Category.values]


@pytest.mark.parametrize("relationship", RELATIONSHIPS)
@pytest.mark.parametrize("role", ROLES)
def test_policy_matrix(frozen_clock: mock.MagicMock, role: str, relationship: str) -> None:
    """One case per role and relationship; every (action, category) cell is checked in it."""
    case = build_case(role, relationship)

    answers = {f"{a}:{c}": can(case.subject, a, case.youth, c) for a, c in CELLS}
    wanted = {f"{a}:{c}": expected(role, relationship, a, c) for a, c in CELLS}
    assert answers == wanted

    visible = set(visible_youth(case.subject).values_list("pk", flat=True))
    assert visible == ({case.youth.pk} if expected_visible(role, relationship) else set())

    if expected_visible(role, relationship):
        youth, access = youth_get(actor=case.subject, youth_id=case.youth.pk)
        assert youth.pk == case.youth.pk
        assert access.categories(Action.VIEW) == {
            c for c in ALL if expected(role, relationship, Action.VIEW, c)
        }
    else:
        with pytest.raises(Http404):
            youth_get(actor=case.subject, youth_id=case.youth.pk)


def test_matrix_covers_every_role_relationship_category_and_action() -> None:
    cases = set(itertools.product(ROLES, RELATIONSHIPS, Action.values, Category.values))
    assert len(cases) == len(Role.values) * len(RELATIONSHIP_GRANTS) * 2 * len(Category.values)
    # The matrix holds denials as well as grants, for view and for change.
    outcomes = {expected(*cell) for cell in cases}
    assert outcomes == {True, False}
    assert any(expected(r, "care_team", Action.CHANGE, c) for r in ROLES for c in ALL)


def test_law_enforcement_sees_missing_episodes_but_never_notes() -> None:
    """The new category, spelled out: an officer whose agency holds consent (or break-glass)
    sees the episode; no relationship ever opens notes or clinical notes to them."""
    officer = Role.LAW_ENFORCEMENT
    for relationship in ("consent", "break_glass", "care_team", "owner"):
        assert expected(officer, relationship, Action.VIEW, C.MISSING_EPISODES)
    for relationship in RELATIONSHIPS:
        for category in (C.NOTES, C.CLINICAL_NOTES):
            assert not expected(officer, relationship, Action.VIEW, category)
    assert not expected(officer, "unrelated", Action.VIEW, C.MISSING_EPISODES)
    assert not expected(Role.AGENCY_ADMIN, "owner", Action.VIEW, C.MISSING_EPISODES)


def test_anonymous_user_sees_nothing(frozen_clock: mock.MagicMock) -> None:
    from django.contrib.auth.models import AnonymousUser

    case = build_case(Role.CASEWORKER, "owner")
    anonymous = AnonymousUser()
    assert not any(can(anonymous, a, case.youth, c) for a, c in CELLS)  # type: ignore[arg-type]
    assert not visible_youth(anonymous).exists()  # type: ignore[arg-type]


def test_inactive_membership_sees_nothing(frozen_clock: mock.MagicMock) -> None:
    case = build_case(Role.CASEWORKER, "care_team")
    case.subject.membership.is_active = False
    case.subject.membership.save(update_fields=["is_active"])
    subject = User.objects.get(pk=case.subject.pk)
    assert not any(can(subject, a, case.youth, c) for a, c in CELLS)
    assert not visible_youth(subject).exists()


@pytest.mark.parametrize("role", [Role.AGENCY_ADMIN, Role.ANALYST, Role.RESEARCHER])
def test_break_glass_refused_to_roles_without_it(frozen_clock: mock.MagicMock, role: str) -> None:
    case = build_case(role, "unrelated")
    with pytest.raises(PermissionDenied):
        break_glass_open(actor=case.subject, youth=case.youth, reason="I would like to look")
    assert not BreakGlassAccess.objects.exists()


def test_break_glass_refused_on_a_victim_service_providers_record(
    frozen_clock: mock.MagicMock,
) -> None:
    case = build_case(Role.CASEWORKER, "vsp_team_without_consent")
    with pytest.raises(PermissionDenied):
        break_glass_open(
            actor=case.subject, youth=case.youth, reason="Youth missing, police on scene"
        )
    assert not BreakGlassAccess.objects.exists()


# --- Time boundaries (clock patched) ---------------------------------------------------------
def _at(moment: datetime.datetime) -> AbstractContextManager[Any]:
    return mock.patch("safeharbor.core.clock.now", return_value=moment)


def _sees(user: User, youth: Youth, category: str = C.IDENTITY) -> bool:
    in_list = visible_youth(user).filter(pk=youth.pk).exists()
    allowed = can(user, Action.VIEW, youth, category)
    assert in_list == allowed, "visible_youth and can() disagree"
    return allowed


def test_consent_is_live_from_its_first_day_through_its_expiry_date(
    frozen_clock: mock.MagicMock,
) -> None:
    case = build_case(Role.CASEWORKER, "unrelated")
    _consent(case, valid_from=TODAY + DAY, expires_on=TODAY + 10 * DAY)
    first_day = NOW + DAY
    last_day = NOW + 10 * DAY
    with _at(first_day - DAY):
        assert not _sees(case.subject, case.youth)
    with _at(first_day.replace(hour=0, minute=0)):
        assert _sees(case.subject, case.youth)
    with _at(last_day.replace(hour=23, minute=59, second=59)):
        assert _sees(case.subject, case.youth)
        assert not can(case.subject, Action.VIEW, case.youth, C.REFERRALS)
    with _at(last_day.replace(hour=0, minute=0) + DAY):
        assert not _sees(case.subject, case.youth)


def test_care_team_membership_lasts_through_its_end_date(frozen_clock: mock.MagicMock) -> None:
    case = build_case(Role.CASEWORKER, "unrelated")
    _team(case, starts_on=TODAY, ends_on=TODAY + 5 * DAY)
    with _at(NOW - DAY):
        assert not _sees(case.subject, case.youth)
    with _at(NOW + 5 * DAY):
        assert _sees(case.subject, case.youth)
        assert can(case.subject, Action.CHANGE, case.youth, C.CONTACT_PLAN)
    with _at(NOW + 6 * DAY):
        assert not _sees(case.subject, case.youth)
        assert not can(case.subject, Action.CHANGE, case.youth, C.CONTACT_PLAN)


@override_settings(SAFEHARBOR_BREAK_GLASS_MINUTES=30)
def test_break_glass_expires_after_its_minutes(frozen_clock: mock.MagicMock) -> None:
    case = build_case(Role.CASEWORKER, "unrelated")
    assert not _sees(case.subject, case.youth)
    access = break_glass_open(
        actor=case.subject, youth=case.youth, reason="Youth missing, police on scene"
    )
    assert access.expires_at == NOW + datetime.timedelta(minutes=30)
    assert _sees(case.subject, case.youth, C.NOTES)
    assert not can(case.subject, Action.CHANGE, case.youth, C.NOTES)
    with _at(NOW + datetime.timedelta(minutes=30) - datetime.timedelta(microseconds=1)):
        assert _sees(case.subject, case.youth, C.NOTES)
    with _at(NOW + datetime.timedelta(minutes=30)):
        assert not _sees(case.subject, case.youth, C.NOTES)
    with _at(NOW - datetime.timedelta(seconds=1)):
        assert not _sees(case.subject, case.youth), "not before it was opened"
