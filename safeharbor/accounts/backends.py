"""Password sign-in, with the agency membership loaded alongside the user on every request."""

from typing import Any

from django.contrib.auth.backends import ModelBackend

from .models import User


class MembershipModelBackend(ModelBackend):
    """Django's ``ModelBackend``, whose per-request ``get_user`` also joins the membership.

    Nearly every signed-in request asks the user's role and agency (navigation, the access
    policy); loading the membership with the user saves a query per request, a round trip on
    PostgreSQL."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("membership").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
