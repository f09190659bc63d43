"""The reads every signed-in request makes (its session, its user with their membership, the
session's second factor) are hand-written statements: they must give what the ORM gives, and
refuse what Django and django-otp refuse."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeharbor.accounts.backends import MembershipModelBackend
from safeharbor.accounts.models import Membership, User
from safeharbor.accounts.session_store import SessionStore
from safeharbor.core.tests.personas import World, verified_client

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in User._meta.concrete_fields]
MEMBERSHIP_FIELDS = [f.attname for f in Membership._meta.concrete_fields]


def test_the_user_and_membership_are_the_orm_s_own(world: World) -> None:
    user = world.county_caseworker
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    expected = User.objects.select_related("membership").get(pk=user.pk)

    loaded = MembershipModelBackend().get_user(user.pk)

    assert loaded is not None
    assert [getattr(loaded, f) for f in FIELDS] == [getattr(expected, f) for f in FIELDS]
    assert isinstance(loaded.date_joined, datetime.datetime)
    assert loaded.date_joined.tzinfo
    assert loaded.is_active is True  # a bool on SQLite too, not 1
    assert not loaded._state.adding
    assert loaded._state.db == "default"
    with CaptureQueriesContext(connection) as queries:
        membership = loaded.membership
        assert membership.user is loaded
    assert len(queries) == 0
    assert [getattr(membership, f) for f in MEMBERSHIP_FIELDS] == [
        getattr(expected.membership, f) for f in MEMBERSHIP_FIELDS
    ]
    assert loaded.role == expected.role


def test_a_user_without_membership_reads_none_without_a_query(world: World) -> None:
    loner = User.objects.create_user(username="loner", password="a long enough password")
    loaded = MembershipModelBackend().get_user(loner.pk)
    assert loaded is not None
    with CaptureQueriesContext(connection) as queries:
        assert loaded.agency_membership is None
    assert len(queries) == 0


def test_inactive_missing_and_malformed_users_are_none(world: World) -> None:
    backend = MembershipModelBackend()
    world.county_admin.is_active = False
    world.county_admin.save(update_fields=["is_active"])
    assert backend.get_user(world.county_admin.pk) is None
    assert ModelBackend().get_user(world.county_admin.pk) is None  # Django's answer too
    assert backend.get_user(10**9) is None
    assert backend.get_user("not-a-number") is None


def test_the_session_reads_only_live_sessions(world: World) -> None:
    store = SessionStore()
    store[SESSION_KEY] = str(world.county_caseworker.pk)
    store.create()
    key = store.session_key

    assert SessionStore(key).load()[SESSION_KEY] == str(world.county_caseworker.pk)

    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    expired = SessionStore(key)
    assert expired.load() == {}
    assert expired.session_key is None  # a new key is made if anything is stored

    assert SessionStore("short").load() == {}  # not a valid key: no statement, nothing loaded
    assert SessionStore("x" * 32).load() == {}  # no such session


def _is_verified(client: Client) -> bool:
    response = client.get("/")
    return response.wsgi_request.user.is_verified()  # type: ignore[union-attr]


def test_a_verified_session_stays_verified_and_reads_its_device(world: World) -> None:
    client = verified_client(world.county_caseworker)
    device = TOTPDevice.objects.get(user=world.county_caseworker)
    response = client.get("/")
    assert response.wsgi_request.user.is_verified()  # type: ignore[union-attr]
    loaded = response.wsgi_request.user.otp_device  # type: ignore[union-attr]
    assert isinstance(loaded, TOTPDevice)
    assert (loaded.pk, loaded.key, loaded.confirmed) == (device.pk, device.key, True)


@pytest.mark.parametrize(
    "spoil",
    [
        "another user's device",
        "unconfirmed",
        "deleted",
        "not a device model",
        "malformed id",
        "unknown model",
    ],
)
def test_a_session_whose_device_does_not_hold_is_not_verified(world: World, spoil: str) -> None:
    client = verified_client(world.county_caseworker)
    device = TOTPDevice.objects.get(user=world.county_caseworker)
    session = client.session
    if spoil == "another user's device":
        other = TOTPDevice.objects.create(user=world.county_admin, name="x", confirmed=True)
        session["otp_device_id"] = other.persistent_id
    elif spoil == "unconfirmed":
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    elif spoil == "deleted":
        device.delete()
    elif spoil == "not a device model":
        session["otp_device_id"] = f"accounts.user/{world.county_caseworker.pk}"
    elif spoil == "malformed id":
        session["otp_device_id"] = "otp_totp.totpdevice/abc"
    else:
        session["otp_device_id"] = "nowhere.nothing/1"
    session.save()

    assert not _is_verified(client)
    if spoil in ("another user's device", "unconfirmed", "deleted"):
        assert "otp_device_id" not in client.session  # django-otp forgets it, as before


def test_requests_use_these_reads() -> None:
    assert "safeharbor.accounts.middleware.OTPMiddleware" in settings.MIDDLEWARE
    assert "django_otp.middleware.OTPMiddleware" not in settings.MIDDLEWARE
    assert settings.SESSION_ENGINE == "safeharbor.accounts.session_store"
