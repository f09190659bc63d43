"""Reads for break-glass review."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from .models import BreakGlassAccess
from .policy import can_review_break_glass

if TYPE_CHECKING:
    from safeharbor.accounts.models import User


def break_glass_review_list(*, actor: User) -> QuerySet[BreakGlassAccess]:
    """Break-glass accesses opened by staff of the reviewer's agency, unreviewed first."""
    if not can_review_break_glass(actor):
        return BreakGlassAccess.objects.none()
    return (
        BreakGlassAccess.objects.filter(user__membership__agency_id=actor.agency_id_or_none or 0)
        .select_related("user", "youth", "reviewed_by")
        .order_by("reviewed_at", "-opened_at")
    )


def break_glass_get(*, actor: User, access_id: int) -> BreakGlassAccess:
    try:
        return break_glass_review_list(actor=actor).get(pk=access_id)
    except BreakGlassAccess.DoesNotExist as exc:
        raise Http404 from exc
