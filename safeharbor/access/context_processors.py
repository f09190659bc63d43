"""Role-aware navigation for the base layout."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from safeharbor.accounts.choices import Role

from .policy import (
    can_create_youth,
    can_manage_programs,
    can_open_break_glass,
    can_view_program_figures,
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if user.requires_mfa and not user.is_verified():
        return {"nav_items": []}  # nothing to navigate to before MFA
    items = []
    if user.works_with_youth_data:
        items.append((reverse("youth:caseload"), _("My youth")))
        items.append((reverse("contact:attention"), _("Needs attention")))
        items.append((reverse("screening:due"), _("Screening")))
        if user.role != Role.AGENCY_ADMIN:
            items.append((reverse("referrals:sent"), _("Referrals")))
    if can_open_break_glass(user):
        items.append((reverse("youth:search"), _("Find a youth")))
    if can_create_youth(user):
        items.append((reverse("youth:create"), _("New youth record")))
    if user.role in (Role.SUPERVISOR, Role.AGENCY_ADMIN):
        items.append((reverse("access:break_glass_review"), _("Break-glass review")))
    if user.role == Role.RESEARCHER or user.study_memberships.exists():
        items.append((reverse("research:studies"), _("Research studies")))
    agency_id = user.agency_id_or_none
    if can_view_program_figures(user, agency_id) or can_manage_programs(user, agency_id):
        items.append((reverse("outcomes:programs"), _("Programs")))
    items.append((reverse("directory:search"), _("Resource directory")))
    items.append((reverse("accounts:mfa_setup"), _("Security")))
    return {"nav_items": items}
