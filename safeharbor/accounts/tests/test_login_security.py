"""Logging in: password, then TOTP; lockout after failed passwords; the idle timeout; MFA gates."""

from __future__ import annotations

import datetime
import os
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeharbor.accounts.choices import MFA_ROLES, AgencyKind
from safeharbor.accounts.models import User
from safeharbor.accounts.services import agency_create, user_create
from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.personas import PASSWORD, World, verified_client

WRONG_PASSWORD = "Tr0ub4dor&3-not-the-password"
LOGIN = "/accounts/login/"
MFA = "/accounts/mfa/"


def device_for(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code_now(device: TOTPDevice, drift: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """A code that matches no time step the device accepts (it tolerates one step either way)."""
    accepted = {code_now(device, drift) for drift in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(0, 10**6, 7919)) if c not in accepted)


def logged_in_past_password(user: User) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def events(action: str, user: User | None = None) -> list[AuditEvent]:
    queryset = AuditEvent.objects.filter(action=action)
    if user is not None:
        queryset = queryset.filter(actor=user)
    return list(queryset)


# --- Password, then MFA ---------------------------------------------------------------------
def test_the_password_leads_to_the_mfa_step_not_to_data(world: World) -> None:
    device_for(world.county_caseworker)
    client = Client()
    response = client.post(
        LOGIN, {"username": "county_caseworker", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[0] == (reverse("home"), 302)
    assert response.redirect_chain[-1][0].startswith(MFA)
    assert response.status_code == 200
    assert "Quillfeather" not in response.content.decode()
    assert client.session["_auth_user_id"] == str(world.county_caseworker.pk)
    assert len(events("login", world.county_caseworker)) == 1


def test_a_user_without_a_device_is_sent_to_enrol(world: World) -> None:
    client = logged_in_past_password(world.county_caseworker)
    response = client.get(MFA)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa_setup")


def test_a_wrong_code_is_refused_and_audited(world: World) -> None:
    device = device_for(world.county_caseworker)
    client = logged_in_past_password(world.county_caseworker)
    response = client.post(MFA, {"token": wrong_code(device)})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert len(events("mfa_failed", world.county_caseworker)) == 1
    assert events("mfa_verified") == []
    assert client.get("/youth/")["Location"].startswith(MFA)


def test_the_right_code_verifies_the_session_and_is_audited(world: World) -> None:
    device = device_for(world.county_caseworker)
    client = logged_in_past_password(world.county_caseworker)
    response = client.post(f"{MFA}?next=/youth/", {"token": code_now(device)})
    assert response.status_code == 302
    assert response["Location"] == "/youth/"
    assert len(events("mfa_verified", world.county_caseworker)) == 1
    assert events("mfa_failed") == []
    page = client.get("/youth/")
    assert page.status_code == 200
    assert "Quillfeather" in page.content.decode()


def test_a_code_cannot_be_used_twice(world: World) -> None:
    device = device_for(world.county_caseworker)
    code = code_now(device)
    first = logged_in_past_password(world.county_caseworker)
    assert first.post(MFA, {"token": code}).status_code == 302
    second = logged_in_past_password(world.county_caseworker)
    assert second.post(MFA, {"token": code}).status_code == 200
    assert len(events("mfa_failed", world.county_caseworker)) == 1


# --- Lockout ----------------------------------------------------------------------------------
def fail_password(client: Client, username: str) -> int:
    return client.post(LOGIN, {"username": username, "password": WRONG_PASSWORD}).status_code


def test_five_failed_passwords_lock_the_account(world: World) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    statuses = [fail_password(client, "county_caseworker") for _ in range(5)]
    assert statuses[:4] == [200] * 4  # the form again, with an error
    assert statuses[4] == 429  # the fifth failure locks
    assert len(events("lockout")) >= 1
    assert events("lockout")[0].actor_label == "county_caseworker"

    # The sixth attempt, even with the right password, is refused and logs no one in.
    response = client.post(LOGIN, {"username": "county_caseworker", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert events("login") == []
    # From another client too (the lock is on the account, not only on this browser).
    other = Client(REMOTE_ADDR="10.0.0.9")
    response = other.post(LOGIN, {"username": "county_caseworker", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in other.session


def test_fewer_failures_than_the_limit_do_not_lock(world: World) -> None:
    client = Client()
    for _ in range(4):
        fail_password(client, "county_caseworker")
    response = client.post(LOGIN, {"username": "county_caseworker", "password": PASSWORD})
    assert response.status_code == 302
    assert events("lockout") == []


def test_failed_logins_are_audited_without_the_password(world: World) -> None:
    client = Client()
    for _ in range(3):
        fail_password(client, "county_caseworker")
    failed = events("login_failed")
    assert len(failed) == 3
    assert {event.actor_label for event in failed} == {"county_caseworker"}
    for event in AuditEvent.objects.all():
        stored = " ".join(
            str(getattr(event, field.attname)) for field in AuditEvent._meta.concrete_fields
        )
        assert WRONG_PASSWORD not in stored
        assert PASSWORD not in stored
    for attempt in AccessAttempt.objects.all():
        assert WRONG_PASSWORD not in f"{attempt.get_data} {attempt.post_data}"


# --- Idle timeout -----------------------------------------------------------------------------
def test_the_session_expires_after_the_idle_timeout() -> None:
    assert settings.SESSION_COOKIE_AGE == settings.SAFEHARBOR_IDLE_TIMEOUT
    assert settings.SAFEHARBOR_SESSION_REFRESH_SECONDS <= 60


@pytest.mark.skipif(
    "SAFEHARBOR_IDLE_TIMEOUT" in os.environ, reason="SAFEHARBOR_IDLE_TIMEOUT is set here"
)
def test_the_default_idle_timeout_is_fifteen_minutes() -> None:
    assert settings.SAFEHARBOR_IDLE_TIMEOUT == 900
    assert settings.SESSION_COOKIE_AGE == 900


def _expiry(key: str) -> float:
    return Session.objects.get(session_key=key).expire_date.timestamp()


def test_a_request_pushes_the_expiry_back_once_the_refresh_interval_has_passed(
    world: World,
) -> None:
    client = verified_client(world.county_caseworker)
    key = client.session.session_key
    session = client.session
    session["_safeharbor_refreshed_at"] = int(time.time()) - 61  # last refreshed a minute ago
    session.save()
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=60)
    )
    started = time.time()
    assert client.get("/youth/").status_code == 200
    assert started + settings.SAFEHARBOR_IDLE_TIMEOUT - 5 <= _expiry(key)
    assert _expiry(key) <= time.time() + settings.SAFEHARBOR_IDLE_TIMEOUT + 5


def test_requests_within_the_refresh_interval_write_no_session(world: World) -> None:
    client = verified_client(world.county_caseworker)
    key = client.session.session_key
    assert client.get("/youth/").status_code == 200
    expiry = _expiry(key)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/youth/").status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"] and "SELECT" not in q["sql"]]
    assert _expiry(key) == expiry
    # Never late: the session still ends at most one interval before a full idle time from now.
    interval = settings.SAFEHARBOR_SESSION_REFRESH_SECONDS
    assert expiry >= time.time() + settings.SAFEHARBOR_IDLE_TIMEOUT - interval - 5


def test_signing_out_leaves_no_session_behind(world: World) -> None:
    client = verified_client(world.county_caseworker)
    key = client.session.session_key
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert not Session.objects.filter(expire_date__gt=timezone.now()).exists()


def test_an_idle_session_is_logged_out(world: World) -> None:
    client = verified_client(world.county_caseworker)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get("/youth/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# --- MFA gates pages and the API ---------------------------------------------------------------
@pytest.mark.parametrize("role", sorted(MFA_ROLES))
def test_no_role_that_needs_mfa_reaches_youth_data_without_it(world: World, role: str) -> None:
    agency = agency_create(name="Gate Agency", kind=AgencyKind.CHILD_WELFARE, county="Harbor")
    user = user_create(username=f"gate_{role}", password=PASSWORD, agency=agency, role=role)
    device_for(user)
    assert user.requires_mfa
    client = logged_in_past_password(user)
    for path in ("/youth/", f"/youth/{world.maya.pk}/", "/api/v1/youth/"):
        response = client.get(path)
        assert response.status_code in (302, 401, 403), path
        if response.status_code == 302:
            assert response["Location"].startswith(MFA), path
        assert "Quillfeather" not in response.content.decode()


def test_the_owner_needs_mfa_for_the_api_too(world: World) -> None:
    client = Client()
    client.force_login(world.county_caseworker)  # password passed, no MFA
    response = client.get("/api/v1/youth/")
    assert response.status_code != 200
    assert "Quillfeather" not in response.content.decode()
    assert verified_client(world.county_caseworker).get("/api/v1/youth/").status_code == 200


def test_the_api_refuses_an_unverified_session_even_without_the_mfa_middleware(
    world: World,
) -> None:
    """IsYouthDataUser checks MFA itself, so the API does not rest on the middleware alone."""
    middleware = [m for m in settings.MIDDLEWARE if not m.endswith("RequireMFAMiddleware")]
    client = Client()
    client.force_login(world.county_caseworker)
    with override_settings(MIDDLEWARE=middleware):
        response = client.get("/api/v1/youth/")
        assert response.status_code == 403
        assert "Quillfeather" not in response.content.decode()
        assert verified_client(world.county_caseworker).get("/api/v1/youth/").status_code == 200


@pytest.mark.parametrize(
    ("persona", "lands_on"),
    [("county_caseworker", "/youth/"), ("county_analyst", None), ("university_researcher", None)],
)
def test_home_sends_each_role_somewhere_it_may_go(world, persona, lands_on):
    from safeharbor.core.tests.personas import verified_client

    response = verified_client(getattr(world, persona)).get("/")
    if lands_on:
        assert response.status_code == 302
        assert response["Location"] == lands_on
    else:
        assert response.status_code == 200
        assert "does not open individual youth records" in response.content.decode()


def test_a_signed_in_request_loads_the_membership_with_the_user(world: World) -> None:
    client = verified_client(world.county_caseworker)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("youth:caseload"))
    assert response.status_code == 200
    assert response.wsgi_request.user.role == world.county_caseworker.role
    on_their_own = [q["sql"] for q in queries if 'FROM "accounts_membership"' in q["sql"]]
    assert on_their_own == []
