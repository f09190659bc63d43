"""DRF permission classes that apply the policy, so a new endpoint is safe by default."""

from typing import Any

from rest_framework.permissions import BasePermission


class IsYouthDataUser(BasePermission):
    """Authenticated, with a role that works with youth records, and MFA-verified for sessions.

    Token clients are issued tokens by an administrator after MFA enrolment; a session that has
    not passed MFA cannot reach the API.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.works_with_youth_data):
            return False
        if request.auth is not None:
            return True
        # Session (or forced) authentication: only a session that passed MFA, when required.
        is_verified = getattr(user, "is_verified", None)
        return not user.requires_mfa or bool(is_verified and is_verified())
