"""Every login, failed login, logout and lockout goes into the audit trail."""

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(
        actor=user,
        action=AuditAction.LOGIN,
        object_type="accounts.user",
        object_id=user.pk,
        request=request,
    )


@receiver(user_logged_out)
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(
            actor=user,
            action=AuditAction.LOGOUT,
            object_type="accounts.user",
            object_id=user.pk,
            request=request,
        )


@receiver(user_login_failed)
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Only the username that was tried; never the password.
    record(
        actor=None,
        actor_label=str(credentials.get("username", ""))[:150],
        action=AuditAction.LOGIN_FAILED,
        object_type="accounts.user",
        request=request,
    )


@receiver(user_locked_out)
def audit_lockout(sender: Any, request: Any, username: str | None = None, **kwargs: Any) -> None:
    record(
        actor=None,
        actor_label=(username or "")[:150],
        action=AuditAction.LOCKOUT,
        object_type="accounts.user",
        request=request,
    )
