"""The daily digest: count each worker's items and tell them, without naming any youth.

``manage.py send_attention_digest`` runs it (daily, from cron or a scheduler). Each user with
something due or overdue gets one in-app notification a day, and, through background tasks,
the same words by e-mail and (if they asked) by text message. The counts are computed by the
same query as the "needs attention today" page, at the moment the digest is made.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from safeharbor.accounts.choices import Role
from safeharbor.accounts.models import User
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core import clock

from . import attention
from .models import Notification
from .tasks import send_notification_email, send_notification_sms

# Roles that have caseloads or a team; analysts, researchers and admins get no digest.
DIGEST_ROLES = (
    Role.CASEWORKER,
    Role.SUPERVISOR,
    Role.CLINICIAN,
    Role.ADVOCATE,
    Role.LAW_ENFORCEMENT,
)


def digest_text(counts: attention.Counts) -> str:
    """Only numbers: "You have 2 overdue items and 1 due today." Never a name or record number."""
    overdue = ngettext(
        "You have %(count)d overdue item", "You have %(count)d overdue items", counts.overdue
    ) % {"count": counts.overdue}
    if not counts.due_soon:
        return overdue + "."
    due = ngettext("%(count)d item due today", "%(count)d items due today", counts.due_soon) % {
        "count": counts.due_soon
    }
    return _("%(overdue)s and %(due)s.") % {"overdue": overdue, "due": due}


@dataclass
class DigestResult:
    users_checked: int = 0
    notified: int = 0
    already_sent: int = 0


def _digest_for(user: User, now: datetime.datetime) -> attention.Counts:
    team = user.role == Role.SUPERVISOR
    items = attention.items_for(actor=user, team=team, now=now)
    return attention.counts(items, now)


def _enqueue(notification_id: int) -> None:
    """After the commit, so the worker finds the notification it is given."""
    send_notification_email.enqueue(notification_id)
    send_notification_sms.enqueue(notification_id)


def attention_digest_send(*, users: list[User] | None = None) -> DigestResult:
    """Make today's digest for every worker (or ``users``) who has anything due."""
    now = clock.now()
    today = clock.today()
    result = DigestResult()
    candidates = (
        users
        if users is not None
        else list(
            User.objects.filter(
                is_active=True, membership__is_active=True, membership__role__in=DIGEST_ROLES
            )
            .select_related("membership")
            .order_by("pk")
        )
    )
    for user in candidates:
        if user.role not in DIGEST_ROLES:
            continue
        result.users_checked += 1
        if Notification.objects.filter(user=user, digest_on=today).exists():
            result.already_sent += 1
            continue
        counts = _digest_for(user, now)
        if not counts.total:
            continue
        url = reverse(
            "contact:attention_team" if user.role == Role.SUPERVISOR else "contact:attention"
        )
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    user=user, text=digest_text(counts), url=url, digest_on=today
                )
                record(
                    actor=None,
                    actor_label="send_attention_digest",
                    action=AuditAction.CREATE,
                    object_type="contact.notification",
                    object_id=notification.pk,
                    reason=f"digest for user {user.pk}: {counts.overdue} overdue, "
                    f"{counts.due_soon} due",
                )
                transaction.on_commit(partial(_enqueue, notification.pk))
        except IntegrityError:  # another run made today's digest first
            result.already_sent += 1
            continue
        result.notified += 1
    return result
