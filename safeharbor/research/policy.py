"""Who may see or do what in a research study. Not the youth policy: a separate world.

A study is visible only to its study team. Any team member sees it (viewer and up); coders and
the lead code; only the lead manages the study (team, participants, consent, codebook structure,
imports, withdrawal) and exports it. Coders and the lead may redact a transcript (names, places,
agencies, phone numbers replaced by placeholders); only the lead sees the redaction key that
says which original words each placeholder replaced. Only users whose role is researcher may
start a study. Users of other roles reach a study only if a lead put them on its team. One
condition per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import QuerySet

from safeharbor.accounts.choices import Role

from .choices import TeamRole
from .models import Study, StudyMember

if TYPE_CHECKING:
    from safeharbor.accounts.models import User


class StudyAction(models.TextChoices):
    VIEW = "view"
    CODE = "code"
    MANAGE = "manage"
    EXPORT = "export"
    REDACT = "redact"
    REDACTION_KEY = "redaction_key"


_ALLOWED: dict[str, frozenset[str]] = {
    StudyAction.VIEW: frozenset({TeamRole.LEAD, TeamRole.CODER, TeamRole.VIEWER}),
    StudyAction.CODE: frozenset({TeamRole.LEAD, TeamRole.CODER}),
    StudyAction.MANAGE: frozenset({TeamRole.LEAD}),
    StudyAction.EXPORT: frozenset({TeamRole.LEAD}),
    StudyAction.REDACT: frozenset({TeamRole.LEAD, TeamRole.CODER}),
    StudyAction.REDACTION_KEY: frozenset({TeamRole.LEAD}),
}


def _active(user: User | None) -> bool:
    if user is None:
        return False
    if not user.is_authenticated:
        return False
    return bool(user.is_active)


def can_create_study(user: User | None) -> bool:
    if not _active(user):
        return False
    assert user is not None  # noqa: S101  (narrowed by _active)
    return user.role == Role.RESEARCHER


def visible_studies(user: User | None) -> QuerySet[Study]:
    """Every study the user is on the team of; nothing for anyone else."""
    if not _active(user):
        return Study.objects.none()
    return Study.objects.filter(members__user=user)


@dataclass(frozen=True)
class StudyAccess:
    """What one user may do in one study."""

    role: str | None

    def allows(self, action: str) -> bool:
        if self.role is None:
            return False
        return self.role in _ALLOWED.get(action, frozenset())

    @property
    def can_code(self) -> bool:
        return self.allows(StudyAction.CODE)

    @property
    def can_manage(self) -> bool:
        return self.allows(StudyAction.MANAGE)

    @property
    def can_export(self) -> bool:
        return self.allows(StudyAction.EXPORT)

    @property
    def can_redact(self) -> bool:
        return self.allows(StudyAction.REDACT)

    @property
    def can_see_redaction_key(self) -> bool:
        return self.allows(StudyAction.REDACTION_KEY)


NO_ACCESS = StudyAccess(role=None)


def study_access(user: User | None, study: Study) -> StudyAccess:
    if not _active(user):
        return NO_ACCESS
    role = StudyMember.objects.filter(study=study, user=user).values_list("role", flat=True).first()
    return StudyAccess(role=role)


def study_with_access(user: User | None, study_id: int) -> tuple[Study, StudyAccess] | None:
    """The study and the user's access to it in one query; None when the user is not on its
    team (or is not active): the same answer as ``visible_studies`` and ``study_access``."""
    if not _active(user):
        return None
    member = (
        StudyMember.objects.select_related("study").filter(study_id=study_id, user=user).first()
    )
    if member is None:
        return None
    return member.study, StudyAccess(role=member.role)


def access_for_role(user: User | None, role: str | None) -> StudyAccess:
    """The access of a user whose team role in a study was read by the caller (in a query
    that fetched more at once); the same answer as ``study_access`` for that role."""
    if not _active(user):
        return NO_ACCESS
    return StudyAccess(role=role)


def can(user: User | None, action: str, study: Study) -> bool:
    return study_access(user, study).allows(action)
