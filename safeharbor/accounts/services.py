"""Writes for agencies, users and memberships."""

from __future__ import annotations

from django.db import transaction

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record

from .models import Agency, Membership, User


@transaction.atomic
def agency_create(
    *, name: str, kind: str, county: str, is_victim_service_provider: bool = False
) -> Agency:
    agency = Agency(
        name=name, kind=kind, county=county, is_victim_service_provider=is_victim_service_provider
    )
    agency.full_clean()
    agency.save()
    return agency


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    agency: Agency | None,
    role: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    actor: User | None = None,
) -> User:
    """Create a user and, when an agency is given, their membership there."""
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_password(password)
    user.full_clean()
    user.save()
    if agency is not None:
        if role is None:
            raise ValueError("A user who belongs to an agency needs a role there.")
        membership = Membership(user=user, agency=agency, role=role)
        membership.full_clean()
        membership.save()
    record(actor=actor, action=AuditAction.CREATE, object_type="accounts.user", object_id=user.pk)
    return user
