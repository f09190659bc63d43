"""Referrals waiting too long, as rows of the "needs attention today" pages (registered with
``youth.attention`` in ``apps.py``): a referral the service has not answered within the reply
time, or taken on without an outcome after the outcome time. Listed from a day before."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy

from safeharbor.access.choices import Category
from safeharbor.youth.attention import TASK, Due

from . import deadlines, workflow
from .models import Referral

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth

NO_ANSWER = "referral_no_answer"
NO_OUTCOME = "referral_no_outcome"
KINDS = (
    (NO_ANSWER, gettext_lazy("Referral without an answer")),
    (NO_OUTCOME, gettext_lazy("Referral without an outcome")),
)
_SOON = datetime.timedelta(days=1)


def waiting_referrals(
    scope: QuerySet[Youth], now: datetime.datetime, _worker: User | None
) -> list[Due]:
    """Every referral of a youth in scope that waits too long, or will within a day."""
    rows = (
        Referral.objects.filter(deadlines.waiting_q(now + _SOON), youth__in=scope.values("pk"))
        .order_by()
        .values_list("pk", "youth_id", "youth__record_number", "status", "sent_at", "accepted_at")
    )
    items = []
    for pk, youth_id, number, status, sent_at, accepted_at in rows:
        assert sent_at is not None  # noqa: S101  (a referral waiting was sent)
        if status in workflow.AWAITING_REPLY:
            kind, due = NO_ANSWER, sent_at + deadlines.reply_within()
        else:
            kind, due = NO_OUTCOME, (accepted_at or sent_at) + deadlines.outcome_within()
        url = reverse_lazy("referrals:detail", args=[pk])
        items.append(
            Due(
                kind,
                youth_id,
                number,
                due,
                Category.REFERRALS,
                TASK,
                url,
                gettext_lazy("Follow up"),
            )
        )
    return items
