"""TOTP enrolment and verification on top of django-otp."""

from __future__ import annotations

from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record

from .models import User


def totp_device_confirmed(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def totp_device_pending(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (one per user, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def mfa_verify(*, request: HttpRequest, user: User, token: str) -> bool:
    """Check a code against the user's confirmed devices; on success mark the session verified."""
    device = match_token(user, token.strip())
    if device is None:
        record(
            actor=user,
            action=AuditAction.MFA_FAILED,
            object_type="accounts.user",
            object_id=user.pk,
            request=request,
        )
        return False
    otp_login(request, device)
    record(
        actor=user,
        action=AuditAction.MFA_VERIFIED,
        object_type="accounts.user",
        object_id=user.pk,
        request=request,
    )
    return True


def mfa_enrol_confirm(*, request: HttpRequest, user: User, token: str) -> bool:
    """Confirm the pending device with a first code; the session is then verified."""
    device = totp_device_pending(user)
    if not device.verify_token(token.strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    otp_login(request, device)
    record(
        actor=user,
        action=AuditAction.MFA_ENROLLED,
        object_type="accounts.user",
        object_id=user.pk,
        request=request,
    )
    return True
