"""The access policy: who may see or change which data category of which youth.

Every read of youth data passes through here, through ``visible_youth`` (which records a user may
know of) and ``access_for``/``can`` (what they may do with one record's data categories). One
condition per line, so that the test matrix and coverage prove each branch.

A user sees a youth when (design.md §3):
- their agency owns the record, or
- they are on the youth's current care team (for a victim-service provider's record, only its own
  staff: others need consent), or
- a live consent names their agency (for the categories it lists, view only), or
- they hold an open break-glass access (view only, expires on its own; never to a
  victim-service provider's record, which opens to outsiders only through consent).
Role gates apply on top: law enforcement never sees notes or clinical notes; clinical notes are for
clinicians; the contact plan is for the care team only; agency admins see identity only (to answer
"who accessed this record") and change nothing; analysts and researchers see no individual record.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import Q, QuerySet

from safeharbor.accounts.choices import YOUTH_DATA_ROLES, Role
from safeharbor.core import clock

from .choices import Action, Category

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth

ALL_CATEGORIES = frozenset(Category.values)
CARE_TEAM_ONLY = frozenset({Category.CONTACT_PLAN})
_ROLE_EXCLUDED: dict[str, frozenset[str]] = {
    Role.LAW_ENFORCEMENT: frozenset({Category.NOTES, Category.CLINICAL_NOTES}),
    Role.AGENCY_ADMIN: ALL_CATEGORIES - {Category.IDENTITY},
}


def _role_allows(role: str | None, category: str) -> bool:
    if role not in YOUTH_DATA_ROLES:
        return False
    if category in _ROLE_EXCLUDED.get(role, frozenset()):
        return False
    if category == Category.CLINICAL_NOTES and role != Role.CLINICIAN:
        return False
    return True


def _youth_model() -> Any:
    return apps.get_model("youth", "Youth")


def active_care_team(user: User, today: datetime.date) -> Q:
    """The user's own care-team rows that are current today (for CareTeamMember filters)."""
    return (
        Q(user=user) & Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    )


def _live_consent(agency_id: int, today: datetime.date) -> Q:
    return (
        Q(recipient_agency_id=agency_id)
        & Q(revoked_at__isnull=True)
        & Q(valid_from__lte=today)
        & Q(expires_on__gte=today)
    )


@dataclass(frozen=True)
class YouthAccess:
    """What one user may do with one youth's record, computed once per request."""

    role: str | None
    owns: bool
    on_care_team: bool
    consented: frozenset[str]
    break_glass: bool

    @property
    def sees_record(self) -> bool:
        return self.role in YOUTH_DATA_ROLES and (
            self.owns or self.on_care_team or bool(self.consented) or self.break_glass
        )

    def allows(self, action: str, category: str) -> bool:
        if not _role_allows(self.role, category):
            return False
        if category in CARE_TEAM_ONLY:
            return self.on_care_team
        if action == Action.CHANGE and self.role == Role.AGENCY_ADMIN:
            return False
        if action == Action.CHANGE:
            return self.owns or self.on_care_team
        if self.owns or self.on_care_team:
            return True
        if category in self.consented:
            return True
        return self.break_glass

    def categories(self, action: str = Action.VIEW) -> frozenset[str]:
        return frozenset(c for c in ALL_CATEGORIES if self.allows(action, c))


NO_ACCESS = YouthAccess(
    role=None, owns=False, on_care_team=False, consented=frozenset(), break_glass=False
)


def access_for_many(user: User, youths: Iterable[Youth]) -> dict[Any, YouthAccess]:
    """What the user may do with each youth (by id), in at most three queries for any number.

    The youths must carry ``owning_agency`` (``select_related``) to avoid one query each.
    """
    youths = list(youths)
    role = user.role if user.is_authenticated else None
    agency_id = user.agency_id_or_none if user.is_authenticated else None
    if role not in YOUTH_DATA_ROLES or agency_id is None or not youths:
        return {youth.pk: NO_ACCESS for youth in youths}
    if role == Role.AGENCY_ADMIN:
        return {
            youth.pk: YouthAccess(
                role, youth.owning_agency_id == agency_id, False, frozenset(), False
            )
            for youth in youths
        }
    today = clock.today()
    now = clock.now()
    ids = [youth.pk for youth in youths]
    on_team_ids = set(
        apps.get_model("youth", "CareTeamMember")
        .objects.filter(active_care_team(user, today), youth_id__in=ids)
        .values_list("youth_id", flat=True)
    )
    consented: dict[Any, set[str]] = {pk: set() for pk in ids}
    for youth_id, categories in (
        apps.get_model("youth", "ConsentToShare")
        .objects.filter(_live_consent(agency_id, today), youth_id__in=ids)
        .values_list("youth_id", "categories")
    ):
        consented[youth_id].update(categories)
    break_glass_ids = set(
        apps.get_model("access", "BreakGlassAccess")
        .objects.filter(user=user, youth_id__in=ids, opened_at__lte=now, expires_at__gt=now)
        .values_list("youth_id", flat=True)
    )
    result = {}
    for youth in youths:
        owns = youth.owning_agency_id == agency_id
        # A victim-service provider's record opens to outsiders only through consent.
        outsiders_may_relate = owns or not youth.owning_agency.is_victim_service_provider
        result[youth.pk] = YouthAccess(
            role=role,
            owns=owns,
            on_care_team=outsiders_may_relate and youth.pk in on_team_ids,
            consented=frozenset(consented[youth.pk]),
            break_glass=outsiders_may_relate and youth.pk in break_glass_ids,
        )
    return result


def access_for(user: User, youth: Youth) -> YouthAccess:
    """Everything the policy needs about one user and one youth."""
    return access_for_many(user, [youth])[youth.pk]


def can(user: User, action: str, youth: Youth, category: str) -> bool:
    return access_for(user, youth).allows(action, category)


def visible_youth(user: User) -> QuerySet[Youth]:
    """Every youth record the user may know of; the start of every selector."""
    youth_model = _youth_model()
    role = user.role if user.is_authenticated else None
    agency_id = user.agency_id_or_none if user.is_authenticated else None
    if role not in YOUTH_DATA_ROLES or agency_id is None:
        return youth_model.objects.none()
    if role == Role.AGENCY_ADMIN:
        return youth_model.objects.filter(owning_agency_id=agency_id)
    today = clock.today()
    now = clock.now()
    # Each way in is a subquery that does not depend on the row (the actor's memberships, the
    # consents naming the agency, the actor's open break-glass): computed once per query and
    # probed per row, instead of an EXISTS re-run for every youth row of the agency.
    care_team = (
        apps.get_model("youth", "CareTeamMember")
        .objects.filter(active_care_team(user, today))
        .values("youth_id")
    )
    consent = (
        apps.get_model("youth", "ConsentToShare")
        .objects.filter(_live_consent(agency_id, today))
        .values("youth_id")
    )
    break_glass = (
        apps.get_model("access", "BreakGlassAccess")
        .objects.filter(user=user, opened_at__lte=now, expires_at__gt=now)
        .values("youth_id")
    )
    return youth_model.objects.filter(
        Q(owning_agency_id=agency_id)
        | (Q(pk__in=care_team) & Q(owning_agency__is_victim_service_provider=False))
        | Q(pk__in=consent)
        | (Q(pk__in=break_glass) & Q(owning_agency__is_victim_service_provider=False))
    )


def can_view_access_log(user: User, youth: Youth) -> bool:
    """ "Who accessed this record": the owning agency's admins and supervisors."""
    if not user.is_authenticated:
        return False
    if user.role not in (Role.AGENCY_ADMIN, Role.SUPERVISOR):
        return False
    return youth.owning_agency_id == user.agency_id_or_none


def can_create_youth(user: User) -> bool:
    """Workers with a youth-data role create records for their agency; admins do not."""
    if not user.is_authenticated:
        return False
    return user.role in YOUTH_DATA_ROLES and user.role != Role.AGENCY_ADMIN


def can_open_break_glass(user: User) -> bool:
    """Any worker with a youth-data role, except agency admins, may open break-glass access."""
    if not user.is_authenticated:
        return False
    return user.role in YOUTH_DATA_ROLES and user.role != Role.AGENCY_ADMIN


def can_review_break_glass(user: User) -> bool:
    if not user.is_authenticated:
        return False
    return user.role in (Role.SUPERVISOR, Role.AGENCY_ADMIN)


def can_answer_referrals(user: User, receiving_agency_id: int | None) -> bool:
    """Staff of the agency a referral was sent to answer it (accept, decline, complete).

    Answering shows the referral's de-identified core; what it shows of the youth beyond that is
    ``access_for`` (a live consent naming the agency), like any other read of the record."""
    if not user.is_authenticated or receiving_agency_id is None:
        return False
    if user.role not in YOUTH_DATA_ROLES or user.role == Role.AGENCY_ADMIN:
        return False
    return user.agency_id_or_none == receiving_agency_id


def can_manage_programs(user: User, agency_id: int | None) -> bool:
    """An agency's supervisors and administrators set up its programs and their funding."""
    if not user.is_authenticated or agency_id is None:
        return False
    return user.role in (Role.SUPERVISOR, Role.AGENCY_ADMIN) and user.agency_id_or_none == agency_id


def can_view_program_figures(user: User, agency_id: int | None) -> bool:
    """A program's aggregate figures (dashboard, funder report): never a youth's identity, so
    analysts may see them too. Only for the agency's own programs."""
    if not user.is_authenticated or agency_id is None:
        return False
    if user.role not in (Role.SUPERVISOR, Role.ANALYST, Role.AGENCY_ADMIN):
        return False
    return user.agency_id_or_none == agency_id


def can_view_county_figures(user: User) -> bool:
    """The county across agencies: de-identified, small cells suppressed."""
    if not user.is_authenticated or user.agency_id_or_none is None:
        return False
    return user.role in (Role.SUPERVISOR, Role.ANALYST)
