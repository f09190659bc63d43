"""Programs, enrolments, services delivered and outcome observations.

Everything about a youth here is the ``services`` data category of the access policy. Figures
(effectiveness, dashboards, funder reports) are computed from these rows, and from the other
capabilities' rows, when asked (``effectiveness.py``, ``reports.py``); nothing derived is stored.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from safeharbor.accounts.models import Agency
from safeharbor.core.fields import EncryptedTextField
from safeharbor.core.models import TimeStampedModel
from safeharbor.youth.models import Youth

from .choices import (
    DeliveryMode,
    ExitReason,
    FunderKind,
    MeasureKind,
    ProgramKind,
    ReferralSource,
    ServiceType,
    TraffickingType,
    YesNoUnknown,
)

# A single service contact longer than a day is a typing mistake.
MAX_SERVICE_MINUTES = 24 * 60


class Program(TimeStampedModel):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=ProgramKind.choices)
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("started"))
    ends_on = models.DateField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("program")
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="program_name_per_agency"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="program_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FundingSource(TimeStampedModel):
    """A grant or other funding of a program, with its period (funder reports follow it)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="funding")
    funder = models.CharField(_("funder"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=FunderKind.choices)
    award_number = models.CharField(_("award number"), max_length=100, blank=True)
    starts_on = models.DateField(_("grant starts"))
    ends_on = models.DateField(_("grant ends"))

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("funding source")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="funding_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.funder} {self.award_number}".strip()


class Enrolment(TimeStampedModel):
    """A youth in a program, from a start to an exit (with its reason). What a funder asks
    about the youth at intake (trafficking type, referral source, disability) is recorded here,
    as reported at enrolment."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="enrolments")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrolments")
    starts_on = models.DateField(_("enrolled"))
    ends_on = models.DateField(_("exited"), null=True, blank=True)
    exit_reason = models.CharField(
        _("reason for leaving"), max_length=16, choices=ExitReason.choices, blank=True
    )
    trafficking_type = models.CharField(
        _("type of exploitation"),
        max_length=16,
        choices=TraffickingType.choices,
        default=TraffickingType.UNKNOWN,
    )
    referral_source = models.CharField(
        _("referred by"), max_length=24, choices=ReferralSource.choices
    )
    has_disability = models.CharField(
        _("disability"), max_length=8, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("enrolment")
        indexes = [
            models.Index(fields=["program", "starts_on"], name="enrolment_program_start"),
            models.Index(fields=["youth", "starts_on"], name="enrolment_youth_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="enrolment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=(Q(ends_on__isnull=True) & Q(exit_reason=""))
                | (Q(ends_on__isnull=False) & ~Q(exit_reason="")),
                name="enrolment_exit_has_reason",
                violation_error_message=_("An exit date needs its reason, and only an exit."),
            ),
        ]

    def __str__(self) -> str:
        return f"enrolment {self.pk}"


class ServiceDelivery(models.Model):
    """One service delivered to a youth: what, when, how long, by whom, how."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="services_delivered")
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, null=True, blank=True, related_name="services"
    )
    service_type = models.CharField(_("service"), max_length=24, choices=ServiceType.choices)
    delivered_on = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(
        _("minutes"), validators=[MinValueValidator(1), MaxValueValidator(MAX_SERVICE_MINUTES)]
    )
    mode = models.CharField(_("how"), max_length=16, choices=DeliveryMode.choices)
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-delivered_on", "-pk"]
        verbose_name = _("service delivered")
        verbose_name_plural = _("services delivered")
        indexes = [
            # Covering: the reports and the dashboard add up a program's services of a period
            # (who, what, how long) from the index alone. Key columns rather than INCLUDE, which
            # SQLite lacks, so that one index covers on both databases (docs/performance.md).
            models.Index(
                fields=["program", "delivered_on", "youth", "service_type", "minutes"],
                name="service_program_date_cover",
            ),
            models.Index(fields=["youth", "delivered_on"], name="service_youth_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=MAX_SERVICE_MINUTES),
                name="service_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} {self.delivered_on}"


class OutcomeMeasure(TimeStampedModel):
    """An outcome measure as data: what it is, its type, and how to collect it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=8, choices=MeasureKind.choices)
    description = models.TextField(_("what it measures"))
    how_to_collect = models.TextField(_("how to collect it"))
    scale_min = models.IntegerField(null=True, blank=True)
    scale_max = models.IntegerField(null=True, blank=True)
    # For a stage measure: its stages in order, as [[code, label], ...].
    stages = models.JSONField(default=list, blank=True)
    # Better is higher (engagement) or lower (arrests): how a change reads.
    higher_is_better = models.BooleanField(default=True)
    shipped = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("outcome measure")

    def __str__(self) -> str:
        return self.name

    @property
    def stage_codes(self) -> list[str]:
        return [code for code, _label in self.stages]


class OutcomeObservation(models.Model):
    """One observation of a measure for a youth: a number (count, 0/1, scale value) or a
    stage's position (1 = the first stage), so that change is arithmetic for every kind."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="observations")
    measure = models.ForeignKey(
        OutcomeMeasure, on_delete=models.PROTECT, related_name="observations"
    )
    observed_on = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=9, decimal_places=2)
    note = EncryptedTextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_on", "-pk"]
        verbose_name = _("outcome observation")
        indexes = [
            models.Index(fields=["measure", "observed_on"], name="observation_measure_date"),
            models.Index(fields=["youth", "measure", "observed_on"], name="observation_youth"),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} {self.observed_on}"
