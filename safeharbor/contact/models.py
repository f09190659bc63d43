"""Staying in touch: contact plans, the contact log, check-ins, missing-from-care episodes, the
agency's rules, and notifications. Free text and identifiers are encrypted at rest.

Nothing here stores a derived state: who has lost contact, which deadline is overdue, which
task is open are computed from these timestamps and the agency's rule when a page asks
(``contact.attention``)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from safeharbor.accounts.models import Agency
from safeharbor.core.fields import EncryptedCharField, EncryptedTextField
from safeharbor.core.models import TimeStampedModel
from safeharbor.youth.models import Youth

from .choices import Channel, Outcome

DEFAULT_LOST_CONTACT_DAYS = 14
DEFAULT_STABILISATION_HOURS = 72
DEFAULT_LOCATION_ATTEMPT_DAYS = 30


class ContactRule(TimeStampedModel):
    """An agency's rules for staying in touch; an agency without a row uses the defaults."""

    agency = models.OneToOneField(
        Agency, on_delete=models.CASCADE, related_name="contact_rule", verbose_name=_("agency")
    )
    lost_contact_days = models.PositiveSmallIntegerField(
        _("days without successful contact before a youth is flagged"),
        default=DEFAULT_LOST_CONTACT_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    stabilisation_hours = models.PositiveSmallIntegerField(
        _("hours a newly assigned advocate or mentor has to reach the youth"),
        default=DEFAULT_STABILISATION_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(336)],
    )
    location_attempt_days = models.PositiveSmallIntegerField(
        _("days between location attempts while a youth is missing"),
        default=DEFAULT_LOCATION_ATTEMPT_DAYS,
        help_text=_("At least monthly: 30 days at most."),
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )

    class Meta:
        verbose_name = _("contact rule")
        verbose_name_plural = _("contact rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(lost_contact_days__gte=1) & Q(lost_contact_days__lte=90),
                name="contact_rule_lost_contact_days_range",
            ),
            models.CheckConstraint(
                condition=Q(stabilisation_hours__gte=1) & Q(stabilisation_hours__lte=336),
                name="contact_rule_stabilisation_hours_range",
            ),
            models.CheckConstraint(
                condition=Q(location_attempt_days__gte=1) & Q(location_attempt_days__lte=30),
                name="contact_rule_location_attempt_at_least_monthly",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency}: {self.lost_contact_days} days"


class ContactPlan(TimeStampedModel):
    """How to reach a youth safely. For the care team only (the ``contact_plan`` category)."""

    youth = models.OneToOneField(Youth, on_delete=models.CASCADE, related_name="contact_plan")
    safe_times = EncryptedTextField(_("safe times to reach them"), blank=True)
    code_word = EncryptedCharField(_("code word"), max_length=100, blank=True)
    never_use = EncryptedTextField(_("numbers, accounts and people never to use"), blank=True)
    trusted_adults = EncryptedTextField(_("trusted adults"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("contact plan")
        verbose_name_plural = _("contact plans")

    def __str__(self) -> str:
        return f"contact plan {self.pk}"


class ContactMethod(models.Model):
    """One safe way to reach the youth; ``position`` 1 is the one to try first."""

    plan = models.ForeignKey(ContactPlan, on_delete=models.CASCADE, related_name="methods")
    position = models.PositiveSmallIntegerField(_("order"))
    channel = models.CharField(_("way"), max_length=16, choices=Channel.choices)
    # The number, handle, address, place or trusted adult to go through.
    detail = EncryptedCharField(_("number, handle, place or person"), max_length=200, blank=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="contact_method_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="contact_method_from_one"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_channel_display()}"


class ContactAttempt(models.Model):
    """One attempt to reach the youth: when, by whom, how, and what came of it."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="contact_attempts")
    attempted_at = models.DateTimeField(_("when"))
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("way"), max_length=16, choices=Channel.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    note = EncryptedTextField(_("short note"), blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["-attempted_at", "-pk"]
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        indexes = [
            # The last successful contact of each youth (lost contact), and the log page.
            models.Index(
                fields=["youth", "outcome", "-attempted_at"], name="contact_att_youth_out"
            ),
            models.Index(fields=["youth", "-attempted_at"], name="contact_att_youth_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_outcome_display()}"


class CheckIn(TimeStampedModel):
    """A check-in a worker has scheduled with the youth (shown on the youth page and the feed)."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="check_ins")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="check_ins"
    )
    scheduled_for = models.DateTimeField(_("when"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("minutes"), default=30, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    channel = models.CharField(_("way"), max_length=16, choices=Channel.choices)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        ordering = ["scheduled_for"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        indexes = [
            models.Index(fields=["worker", "scheduled_for"], name="contact_checkin_worker"),
            models.Index(fields=["youth", "scheduled_for"], name="contact_checkin_youth"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5) & Q(duration_minutes__lte=480),
                name="contact_checkin_duration_range",
            )
        ]

    def __str__(self) -> str:
        return f"check-in {self.scheduled_for:%Y-%m-%d %H:%M}"


class MissingEpisode(TimeStampedModel):
    """A youth missing from care, from when they went missing until they returned.

    The 24-hour deadlines to report to law enforcement and to NCMEC (P.L. 113-183) run from
    ``learned_at``, when the agency received the information; they are computed, never stored.
    """

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="missing_episodes")
    started_at = models.DateTimeField(_("missing since"))
    learned_at = models.DateTimeField(_("agency learned of it"))
    ended_at = models.DateTimeField(_("returned"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_seen_where = EncryptedTextField(_("last seen where"), blank=True)
    last_seen_with = EncryptedTextField(_("last seen with whom"), blank=True)
    clothing = EncryptedTextField(_("clothing"), blank=True)
    description = EncryptedTextField(_("description (height, hair, tattoos, marks)"), blank=True)
    medical_needs = EncryptedTextField(_("medical needs"), blank=True)
    mental_health_needs = EncryptedTextField(_("mental-health needs"), blank=True)
    police_agency = models.CharField(_("police agency"), max_length=200, blank=True)
    police_officer = models.CharField(_("officer"), max_length=200, blank=True)
    police_case_number = EncryptedCharField(_("police case number"), max_length=100, blank=True)
    ncmec_case_number = EncryptedCharField(_("NCMEC case number"), max_length=100, blank=True)
    ncic_entry_confirmation = EncryptedCharField(
        _("NCIC entry confirmation"), max_length=100, blank=True
    )
    reported_to_law_enforcement_at = models.DateTimeField(
        _("reported to law enforcement"), null=True, blank=True
    )
    reported_to_law_enforcement_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_to_ncmec_at = models.DateTimeField(_("reported to NCMEC"), null=True, blank=True)
    reported_to_ncmec_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_screening_at = models.DateTimeField(_("screened after return"), null=True, blank=True)
    return_screening_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("missing-from-care episode")
        verbose_name_plural = _("missing-from-care episodes")
        indexes = [
            models.Index(fields=["youth", "ended_at"], name="contact_missing_youth"),
            # The few episodes that still need something (open, or back but not yet screened):
            # what "needs attention today" reads, without scanning the closed ones.
            models.Index(
                fields=["youth"],
                condition=Q(ended_at__isnull=True) | Q(return_screening_at__isnull=True),
                name="contact_missing_pending",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["youth"],
                condition=Q(ended_at__isnull=True),
                name="contact_missing_one_open_per_youth",
            ),
            models.CheckConstraint(
                condition=Q(learned_at__gte=F("started_at")),
                name="contact_missing_learned_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="contact_missing_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(reported_to_law_enforcement_at__isnull=True)
                | Q(reported_to_law_enforcement_at__gte=F("started_at")),
                name="contact_missing_le_report_after_start",
            ),
            models.CheckConstraint(
                condition=Q(reported_to_ncmec_at__isnull=True)
                | Q(reported_to_ncmec_at__gte=F("started_at")),
                name="contact_missing_ncmec_report_after_start",
            ),
            models.CheckConstraint(
                condition=(
                    Q(reported_to_law_enforcement_at__isnull=True)
                    & Q(reported_to_law_enforcement_by__isnull=True)
                )
                | (
                    Q(reported_to_law_enforcement_at__isnull=False)
                    & Q(reported_to_law_enforcement_by__isnull=False)
                ),
                name="contact_missing_le_report_has_reporter",
            ),
            models.CheckConstraint(
                condition=(
                    Q(reported_to_ncmec_at__isnull=True) & Q(reported_to_ncmec_by__isnull=True)
                )
                | (Q(reported_to_ncmec_at__isnull=False) & Q(reported_to_ncmec_by__isnull=False)),
                name="contact_missing_ncmec_report_has_reporter",
            ),
            models.CheckConstraint(
                condition=Q(return_screening_at__isnull=True)
                | (Q(ended_at__isnull=False) & Q(return_screening_at__gte=F("ended_at"))),
                name="contact_missing_screening_after_return",
            ),
        ]

    def __str__(self) -> str:
        return f"missing episode {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class LocationAttempt(models.Model):
    """Something done to locate a youth while missing (at least monthly)."""

    episode = models.ForeignKey(
        MissingEpisode, on_delete=models.CASCADE, related_name="location_attempts"
    )
    attempted_at = models.DateTimeField(_("when"))
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    what_was_done = EncryptedTextField(_("what was done"))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["-attempted_at"]
        verbose_name = _("location attempt")
        verbose_name_plural = _("location attempts")
        indexes = [models.Index(fields=["episode", "-attempted_at"], name="contact_locate_ep")]

    def __str__(self) -> str:
        return f"location attempt {self.attempted_at:%Y-%m-%d}"


class ReturnInterview(TimeStampedModel):
    """After a return: why the youth left, what happened while away, and placement changes.

    Advocacy and case notes (the ``notes`` category): law enforcement never sees it."""

    episode = models.OneToOneField(
        MissingEpisode, on_delete=models.CASCADE, related_name="return_interview"
    )
    interviewed_at = models.DateTimeField(_("interviewed"))
    interviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    why_left = EncryptedTextField(_("why the youth left"))
    what_happened = EncryptedTextField(_("what happened while away"))
    placement_changes = EncryptedTextField(_("placement changes made in response"), blank=True)

    class Meta:
        verbose_name = _("return interview")
        verbose_name_plural = _("return interviews")

    def __str__(self) -> str:
        return f"return interview {self.pk}"


class Notification(models.Model):
    """An in-app message to one user. Its text never names a youth ("you have 2 overdue items")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(_("text"), max_length=200)
    url = models.CharField(_("link"), max_length=200, blank=True)
    # Set for the daily digest: one per user per day.
    digest_on = models.DateField(_("digest of"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"], name="contact_notif_user")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "digest_on"],
                condition=Q(digest_on__isnull=False),
                name="contact_notif_one_digest_a_day",
            )
        ]

    def __str__(self) -> str:
        return self.text


class NotificationPreference(TimeStampedModel):
    """How a user wants the daily digest: in the app always, by e-mail and by text message."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    by_email = models.BooleanField(_("send the digest by e-mail"), default=True)
    by_sms = models.BooleanField(_("send the digest by text message"), default=False)
    sms_number = EncryptedCharField(_("mobile number for text messages"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"preferences of user {self.user_id}"


class CalendarFeed(TimeStampedModel):
    """A worker's private iCalendar feed; only the SHA-256 of its token is stored."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of user {self.user_id}"
