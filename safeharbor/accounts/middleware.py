"""Users whose role requires MFA can reach nothing but the MFA pages until they pass it; an
active session's idle timeout slides forward."""

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import router
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.models import Device

from safeharbor.core.rows import RowReader, fetch_one

# Public pages (the resource finder and the HSDS API) never depend on who is signed in.
_OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/find/", "/api/hsds/")


class RequireMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.requires_mfa
            and not user.is_verified()  # type: ignore[attr-defined]
            and not request.path.startswith(_OPEN_PREFIXES)
            and not request.path.startswith(settings.STATIC_URL)
        ):
            return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
        return self.get_response(request)


# Where the session keeps the time (whole seconds) its expiry was last pushed back.
_REFRESHED_AT = "_safeharbor_refreshed_at"


def session_mark_refreshed(session: SessionBase) -> None:
    """Note that ``session``'s expiry is being pushed back now (it is about to be saved)."""
    session[_REFRESHED_AT] = int(time.time())


class SlidingSessionMiddleware:
    """Push an active session's expiry back at most once every
    ``SAFEHARBOR_SESSION_REFRESH_SECONDS`` instead of on every request.

    Saving the session on every request (``SESSION_SAVE_EVERY_REQUEST``) cost every page a write
    and, on PostgreSQL, its own synchronously committed transaction. Refreshed once a minute, the
    idle timeout ends at most that minute early, never late. Listed right after
    ``SessionMiddleware``, so that its response step runs just before the session is saved.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.interval = settings.SAFEHARBOR_SESSION_REFRESH_SECONDS

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        if session.is_empty():  # no session, or one that was just flushed (signed out)
            return response
        if session.modified or time.time() - session.get(_REFRESHED_AT, 0) >= self.interval:
            session_mark_refreshed(session)
        return response


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's middleware (``request.user.is_verified()``), reading the device the session
    names with a hand-written statement instead of building an ORM query on every request
    (``safeharbor.core.rows``). The checks that follow (the device belongs to this user and is
    confirmed, or the session forgets it) are django-otp's own."""

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        label, _slash, device_id = self._normalize_persistent_id(persistent_id).rpartition("/")
        try:
            reader = _device_reader(label)
            pk = int(device_id)
        except (ValueError, LookupError):
            return None
        using = router.db_for_read(reader.model)
        row = fetch_one(
            f'SELECT {reader.columns} FROM "{reader.model._meta.db_table}" d '  # noqa: S608
            'WHERE d."id" = %s',
            [pk],
            using,
        )
        return None if row is None else reader.build(row, using)


@cache
def _device_reader(label: str) -> RowReader[Any]:
    """The reader for a device model named ``app_label.model_name``; LookupError otherwise."""
    model = apps.get_model(label)
    if not issubclass(model, Device):
        raise LookupError(label)
    return RowReader(model, "d")
