"""Break-glass: opened with a reason, reviewed once, by someone else in the worker's agency."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from safeharbor.access.selectors import break_glass_review_list
from safeharbor.access.services import break_glass_open, break_glass_review
from safeharbor.accounts.choices import Role
from safeharbor.accounts.services import user_create
from safeharbor.audit.models import AuditEvent

REASON = "Youth reported missing tonight; need contact details"


def test_a_short_reason_is_refused(world):
    with pytest.raises(ValidationError) as error:
        break_glass_open(actor=world.other_caseworker, youth=world.maya, reason="need it")
    assert "reason" in error.value.message_dict


def test_review_is_once_by_another_person_of_the_same_agency(world):
    valley_supervisor = user_create(
        username="valley_supervisor", password="x" * 20, agency=world.valley, role=Role.SUPERVISOR
    )
    access = break_glass_open(actor=world.other_caseworker, youth=world.maya, reason=REASON)
    assert list(break_glass_review_list(actor=valley_supervisor)) == [access]
    assert list(break_glass_review_list(actor=world.county_supervisor)) == []
    with pytest.raises(PermissionDenied):
        break_glass_review(actor=world.county_supervisor, access=access, note="Checked")
    with pytest.raises(ValidationError):
        break_glass_review(actor=valley_supervisor, access=access, note="  ")
    break_glass_review(actor=valley_supervisor, access=access, note="Justified: missing youth")
    with pytest.raises(ValidationError):
        break_glass_review(actor=valley_supervisor, access=access, note="Again")
    assert AuditEvent.objects.filter(action="break_glass_review").count() == 1


def test_nobody_reviews_their_own_access(world):
    access = break_glass_open(actor=world.county_supervisor, youth=world.maya, reason=REASON)
    with pytest.raises(ValidationError):
        break_glass_review(actor=world.county_supervisor, access=access, note="Fine by me")
