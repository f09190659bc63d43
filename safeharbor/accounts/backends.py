"""Password sign-in, with the agency membership loaded alongside the user on every request."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import router

from safeharbor.core.rows import RowReader, fetch_one

from .models import Membership, User

_USER = RowReader(User, "u")
_MEMBERSHIP = RowReader(Membership, "m")
# Names from the models' meta, values as parameters.
_USER_SQL = (
    f"SELECT {_USER.columns}, {_MEMBERSHIP.columns} "  # noqa: S608
    f'FROM "{User._meta.db_table}" u '
    f'LEFT OUTER JOIN "{Membership._meta.db_table}" m ON m."user_id" = u."id" '
    'WHERE u."id" = %s'
)


class MembershipModelBackend(ModelBackend):
    """Django's ``ModelBackend``, whose per-request ``get_user`` also joins the membership.

    Nearly every signed-in request asks the user's role and agency (navigation, the access
    policy); loading the membership with the user saves a query per request, a round trip on
    PostgreSQL. The statement is written by hand (``safeharbor.core.rows``): the instances are
    those of ``select_related("membership").get(pk=user_id)``, without building that query on
    every request."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        using = router.db_for_read(User)
        row = fetch_one(_USER_SQL, [pk], using)
        if row is None:
            return None
        user = _USER.build(row[: _USER.width], using)
        membership_values = row[_USER.width :]
        membership = (
            None if membership_values[0] is None else _MEMBERSHIP.build(membership_values, using)
        )
        # As select_related caches a reverse one-to-one: the membership, or None (then reading
        # ``user.membership`` raises DoesNotExist without a query).
        User.membership.related.set_cached_value(user, membership)
        if membership is not None:
            Membership.user.field.set_cached_value(membership, user)
        return user if self.user_can_authenticate(user) else None
