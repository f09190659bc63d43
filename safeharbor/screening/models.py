"""Screening instruments (FHIR Questionnaires, as data), screenings, and the events that make a
screen or a report due."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from safeharbor.accounts.models import Agency
from safeharbor.core.fields import EncryptedCharField, EncryptedTextField
from safeharbor.core.models import TimeStampedModel
from safeharbor.youth.models import Youth

from .choices import (
    CompletedBy,
    ConcernLevel,
    InstrumentStatus,
    NextAction,
    ScreeningLanguage,
    ScreeningMode,
    ScreeningReason,
    ScreeningStatus,
    TriggerKind,
)
from .definition import Definition, parse


class Instrument(TimeStampedModel):
    """One version of a screening instrument: the FHIR Questionnaire JSON as imported.

    ``questionnaire`` is the instrument; the other columns are read from it on import so that
    lists and queries need not open the JSON. A version never changes once imported (screenings
    are scored against it); a new version is a new row. ``agency`` is None for the instruments
    Safe Harbor ships (open to every agency); otherwise only that agency, which holds the
    instrument's licence, may use it.
    """

    url = models.CharField(_("canonical URL"), max_length=255)
    version = models.CharField(_("version"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=InstrumentStatus.choices)
    publisher = models.CharField(_("publisher"), max_length=200)
    validated = models.BooleanField(_("validated"))
    completed_by = models.CharField(_("filled in by"), max_length=16, choices=CompletedBy.choices)
    languages = models.JSONField(_("languages"), default=list)
    questionnaire = models.JSONField(_("FHIR Questionnaire"))
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="screening_instruments",
        verbose_name=_("loaded by agency"),
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["title", "-created_at"]
        verbose_name = _("screening instrument")
        verbose_name_plural = _("screening instruments")
        constraints = [
            models.UniqueConstraint(
                fields=["url", "version"],
                condition=Q(agency__isnull=True),
                name="instrument_shipped_url_version_unique",
            ),
            models.UniqueConstraint(
                fields=["agency", "url", "version"], name="instrument_agency_url_version_unique"
            ),
        ]
        indexes = [models.Index(fields=["url", "version"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    @property
    def definition(self) -> Definition:
        """The parsed instrument, parsed once per row object (versions never change)."""
        cached: Definition | None = self.__dict__.get("_definition")
        if cached is None:
            cached = definition_for(self.pk, self.questionnaire)
            self.__dict__["_definition"] = cached
        return cached


_DEFINITIONS: dict[int, Definition] = {}


def definition_for(instrument_id: int, questionnaire: dict[str, Any]) -> Definition:
    """Parse an instrument once per process: a version never changes after import."""
    found = _DEFINITIONS.get(instrument_id)
    if found is None or found.canonical != f"{questionnaire['url']}|{questionnaire['version']}":
        found = parse(questionnaire)
        _DEFINITIONS[instrument_id] = found
    return found


class RescreenInterval(TimeStampedModel):
    """How often an agency rescreens its youth with an instrument (any version of its URL)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="rescreen_intervals")
    instrument_url = models.CharField(_("instrument"), max_length=255)
    days = models.PositiveIntegerField(_("rescreen every (days)"))

    class Meta:
        verbose_name = _("rescreen interval")
        verbose_name_plural = _("rescreen intervals")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "instrument_url"], name="rescreen_interval_unique"
            ),
            models.CheckConstraint(
                condition=Q(days__gte=1) & Q(days__lte=3650), name="rescreen_interval_days_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_url}: {self.days} days"


class TriggerEvent(TimeStampedModel):
    """Something that makes a screen due within hours: a return from a missing episode (24 h),
    or learning of a runaway history (72 h). Met by any screening completed after it.

    Recorded by hand until the contact app records missing episodes itself.
    """

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="screening_triggers")
    kind = models.CharField(_("what happened"), max_length=32, choices=TriggerKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("screening trigger")
        verbose_name_plural = _("screening triggers")
        indexes = [models.Index(fields=["youth", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class Screening(TimeStampedModel):
    """One administration of one instrument version to one youth.

    A draft keeps its answers as given; completing it scores them (``computed_level`` and
    ``score``, by ``scoring.score``) and keeps only the answers to enabled questions. A completed
    screening may be corrected in place during the edit window
    (``SAFEHARBOR_SCREENING_EDIT_WINDOW_DAYS`` after ``completed_at``); after that it is locked
    and a change is an amendment: a new screening that points at it (``amends``), the original
    kept as it was. The answers are encrypted: which indicators a youth endorsed is as sensitive
    as a case note.
    """

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="screenings")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="screenings")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=32, choices=ScreeningReason.choices)
    mode = models.CharField(_("how"), max_length=32, choices=ScreeningMode.choices)
    language = models.CharField(
        _("language"), max_length=8, choices=ScreeningLanguage.choices, default="en"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ScreeningStatus.choices, default="draft"
    )
    started_at = models.DateTimeField(_("started"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    answers_json = EncryptedTextField(_("answers"), default="{}")
    computed_level = models.CharField(
        _("computed level"), max_length=32, choices=ConcernLevel.choices, blank=True
    )
    score = models.JSONField(_("score"), default=dict, blank=True)
    override_level = models.CharField(
        _("worker's level"), max_length=32, choices=ConcernLevel.choices, blank=True
    )
    override_reason = EncryptedTextField(_("why the worker's level differs"), blank=True)
    next_action = models.CharField(
        _("next action"), max_length=32, choices=NextAction.choices, blank=True
    )
    next_action_note = EncryptedTextField(_("next action, details"), blank=True)
    amends = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendments",
        verbose_name=_("amends"),
        db_index=False,  # a partial index below: almost every row is NULL here
    )
    amendment_reason = EncryptedTextField(_("why it was amended"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        indexes = [
            # Both carry the status as a key column rather than as a partial-index condition:
            # the ORM binds ``status`` as a parameter, and SQLite then checks it against the
            # table row for every index entry (twice the time of the due list's query).
            # "Last completed screening of this youth with these versions" (once per youth due)
            # and "screened since" (event deadlines):
            models.Index(
                fields=["youth", "instrument", "status", "completed_at"],
                name="screening_completed_idx",
            ),
            # "Who was screened with these versions since": the due list's one range scan.
            models.Index(
                fields=["instrument", "status", "completed_at", "youth"],
                name="screening_recent_idx",
            ),
            models.Index(fields=["administered_by", "status"], name="screening_by_status_idx"),
            # Only amendments: a full index of a column that is nearly all NULL leads SQLite's
            # planner to scan the table instead.
            models.Index(
                fields=["amends"], condition=Q(amends__isnull=False), name="screening_amends_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status="draft", completed_at__isnull=True, computed_level="")
                    | (
                        Q(status="completed", completed_at__isnull=False)
                        & ~Q(computed_level="")
                        & Q(completed_at__gte=models.F("started_at"))
                    )
                ),
                name="screening_completed_fields",
            ),
            models.CheckConstraint(
                condition=Q(override_level="") | ~Q(override_reason=""),
                name="screening_override_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(amends__isnull=True) | ~Q(amendment_reason=""),
                name="screening_amendment_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.started_at:%Y-%m-%d}"

    @property
    def answers(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads(self.answers_json or "{}")
        return loaded

    @answers.setter
    def answers(self, value: dict[str, str]) -> None:
        self.answers_json = json.dumps(value, sort_keys=True, separators=(",", ":"))

    @property
    def level(self) -> str:
        """The level that counts: the worker's, where they overrode the computed one."""
        return self.override_level or self.computed_level

    def get_level_display(self) -> str:
        return str(ConcernLevel(self.level).label) if self.level else ""

    @property
    def is_completed(self) -> bool:
        return self.status == ScreeningStatus.COMPLETED

    def locks_at(self) -> datetime.datetime | None:
        if self.completed_at is None:
            return None
        return self.completed_at + datetime.timedelta(
            days=settings.SAFEHARBOR_SCREENING_EDIT_WINDOW_DAYS
        )

    def is_locked(self, now: datetime.datetime) -> bool:
        locks_at = self.locks_at()
        return locks_at is not None and now >= locks_at


class VictimIdentification(TimeStampedModel):
    """A youth identified as a victim of trafficking or exploitation, and the report to law
    enforcement that is then due within 24 hours (``LAW_ENFORCEMENT_REPORT_HOURS``).

    The report fields are filled together, when the report is made.
    """

    youth = models.ForeignKey(
        Youth, on_delete=models.CASCADE, related_name="victim_identifications"
    )
    identified_at = models.DateTimeField(_("identified at"))
    identified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    screening = models.ForeignKey(
        Screening, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported to law enforcement at"), null=True, blank=True)
    receiving_agency = models.CharField(_("law-enforcement agency"), max_length=200, blank=True)
    report_number = EncryptedCharField(_("report number"), max_length=100, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-identified_at"]
        verbose_name = _("victim identification")
        verbose_name_plural = _("victim identifications")
        indexes = [models.Index(fields=["agency", "reported_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(reported_at__isnull=True, receiving_agency="", reported_by__isnull=True)
                    | (
                        Q(reported_at__isnull=False, reported_by__isnull=False)
                        & ~Q(receiving_agency="")
                    )
                ),
                name="identification_report_fields_together",
            )
        ]

    def __str__(self) -> str:
        return f"{self.youth} {self.identified_at:%Y-%m-%d %H:%M}"


class LatestScreening(models.Model):
    """When a youth last completed any version of an instrument: the due list's index.

    Derived data, kept by ``services`` with every completed screening (and rebuilt from the
    screenings by ``services.latest_screenings_refresh``). With the youth's owning agency
    copied in (a record never changes agency), one index answers "who in this agency is due
    for this instrument, longest ago first" by a range scan instead of a look at every youth.
    """

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    instrument_url = models.CharField(_("instrument"), max_length=255)
    completed_at = models.DateTimeField(_("last completed"))

    class Meta:
        verbose_name = _("latest screening")
        verbose_name_plural = _("latest screenings")
        constraints = [
            models.UniqueConstraint(
                fields=["youth", "instrument_url"], name="latest_screening_once_per_youth"
            )
        ]
        indexes = [
            models.Index(
                fields=["agency", "instrument_url", "completed_at", "youth"],
                name="latest_screening_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_url}: {self.completed_at:%Y-%m-%d}"
