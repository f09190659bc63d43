"""The database session store, reading a request's session with one hand-written statement.

Django's store builds an ORM query for it on every request (see ``safeharbor.core.rows``);
everything else (saving, expiry, cycling the key, clearing) is Django's."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from safeharbor.core.rows import fetch_one


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        model = self.model
        using = router.db_for_read(model)
        key: str | None = self.session_key  # None when the cookie is not a valid key
        row = (
            fetch_one(
                f'SELECT "session_data" FROM "{model._meta.db_table}" '  # noqa: S608
                'WHERE "session_key" = %s AND "expire_date" > %s',
                [key, connections[using].ops.adapt_datetimefield_value(timezone.now())],
                using,
            )
            if key
            else None
        )
        if key is None or row is None:
            self._session_key = None
            return None
        return model(session_key=key, session_data=row[0])
