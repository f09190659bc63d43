"""Screenings due, as rows of the "needs attention today" pages (registered with
``youth.attention`` in ``apps.py``): the report to law enforcement after identifying a victim
(24 hours), a screen after an event (24 or 72 hours), and routine rescreens by the agency's
interval. Listed from a day before they fall due; derived at read time like ``selectors``."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy

from safeharbor.access.choices import Category
from safeharbor.youth.attention import DEADLINE, LEGAL_DEADLINE, TASK, Due

from .choices import LAW_ENFORCEMENT_REPORT_HOURS, TRIGGER_DUE_HOURS, ScreeningStatus, TriggerKind
from .models import Instrument, RescreenInterval, Screening, TriggerEvent, VictimIdentification

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth

REPORT = "screening_report"
AFTER_EVENT = "screening_after_event"
RESCREEN = "screening_rescreen"
KINDS = (
    (REPORT, gettext_lazy("Report identification to law enforcement")),
    (AFTER_EVENT, gettext_lazy("Screen after an event")),
    (RESCREEN, gettext_lazy("Routine rescreen")),
)
_SOON = datetime.timedelta(days=1)
_CATEGORY = str(Category.SCREENING)


def _reports(scope: QuerySet[Youth], now: datetime.datetime) -> list[Due]:
    window = datetime.timedelta(hours=LAW_ENFORCEMENT_REPORT_HOURS)
    rows = VictimIdentification.objects.filter(
        youth__in=scope.values("pk"), reported_at__isnull=True, identified_at__lte=now + _SOON
    ).values_list("pk", "youth_id", "youth__record_number", "identified_at")
    return [
        Due(
            REPORT,
            youth_id,
            number,
            identified_at + window,
            _CATEGORY,
            LEGAL_DEADLINE,
            reverse_lazy("screening:report_new", args=[youth_id, pk]),
            gettext_lazy("Record the report"),
        )
        for pk, youth_id, number, identified_at in rows
    ]


def _after_events(scope: QuerySet[Youth]) -> list[Due]:
    met = Screening.objects.filter(
        youth=OuterRef("youth_id"),
        status=ScreeningStatus.COMPLETED,
        completed_at__gte=OuterRef("occurred_at"),
    )
    rows = (
        TriggerEvent.objects.filter(youth__in=scope.values("pk"))
        .exclude(Exists(met))
        .values_list("youth_id", "youth__record_number", "kind", "occurred_at")
    )
    return [
        Due(
            AFTER_EVENT,
            youth_id,
            number,
            occurred_at + datetime.timedelta(hours=TRIGGER_DUE_HOURS[TriggerKind(kind)]),
            _CATEGORY,
            DEADLINE,
            reverse_lazy("screening:new", args=[youth_id]),
            gettext_lazy("Screen"),
        )
        for youth_id, number, kind, occurred_at in rows
    ]


def _rescreens(scope: QuerySet[Youth], now: datetime.datetime) -> list[Due]:
    agencies = scope.order_by().values("owning_agency_id")
    items = []
    for interval in RescreenInterval.objects.filter(agency_id__in=agencies):
        versions = Instrument.objects.filter(url=interval.instrument_url).values("pk")
        every = datetime.timedelta(days=interval.days)
        completed = Screening.objects.filter(
            youth=OuterRef("pk"), status=ScreeningStatus.COMPLETED, instrument__in=versions
        )
        last = completed.order_by("-completed_at").values("completed_at")[:1]
        recent = Screening.objects.filter(
            status=ScreeningStatus.COMPLETED,
            instrument__in=versions,
            completed_at__gt=now + _SOON - every,
        ).values("youth_id")
        rows = (
            scope.filter(owning_agency_id=interval.agency_id)
            .exclude(pk__in=recent)
            .annotate(last_screened=Subquery(last))
            .values_list("pk", "record_number", "last_screened", "created_at")
        )
        # Never screened with it: due from the day the record was opened.
        for youth_id, number, last_at, created_at in rows:
            items.append(
                Due(
                    RESCREEN,
                    youth_id,
                    number,
                    last_at + every if last_at else created_at,
                    _CATEGORY,
                    TASK,
                    reverse_lazy("screening:new", args=[youth_id]),
                    gettext_lazy("Screen"),
                )
            )
    return items


def screenings_due(
    scope: QuerySet[Youth], now: datetime.datetime, _worker: User | None
) -> list[Due]:
    return _reports(scope, now) + _after_events(scope) + _rescreens(scope, now)
