"""Closed-loop referrals from a youth's record to a directory service.

What a referral carries to the receiving agency is decided when it is read, by the policy: the
youth's identity and the referral note only while a live consent names that agency for those
categories (``selectors.received_view``). Nothing derived is stored: "matched within 48 hours"
and "waiting too long" come from ``sent_at``, ``accepted_at`` and the clock.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from safeharbor.accounts.models import Agency
from safeharbor.core.fields import EncryptedTextField
from safeharbor.core.models import TimeStampedModel
from safeharbor.directory.models import Service
from safeharbor.youth.models import Youth

from . import workflow
from .choices import NEED_CHOICES, Outcome, Priority, Status

MAX_REASON = 500


class Referral(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="referrals")
    # The directory may drop a service; the referral keeps its names.
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    service_name = models.TextField(_("service"))
    organization_name = models.TextField(_("organisation"))
    referring_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="referrals_sent"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made"
    )
    # The agency that answers in Safe Harbor; empty for a service that is not on the platform.
    receiving_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_received",
    )
    need = models.CharField(_("need"), max_length=40, choices=NEED_CHOICES)
    priority = models.CharField(
        _("urgency"), max_length=8, choices=Priority.choices, default=Priority.ROUTINE
    )
    note = EncryptedTextField(_("note for the service"), blank=True)
    callback = EncryptedTextField(_("how the service reaches the referring worker"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    status_reason = models.CharField(_("reason"), max_length=MAX_REASON, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    outcome_note = EncryptedTextField(_("about the outcome"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # When the referring side last looked after the service answered: unseen outcomes stand out.
    outcome_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["youth", "-created_at"], name="referral_youth_created"),
            models.Index(fields=["receiving_agency", "status"], name="referral_inbox"),
            models.Index(fields=["referring_agency", "status", "sent_at"], name="referral_sent"),
            models.Index(fields=["created_by", "status"], name="referral_worker"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=sorted(workflow.NEEDS_OUTCOME)) | ~Q(outcome=""),
                name="referral_closed_with_outcome",
                violation_error_message=_("A referral is closed only with an outcome."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=sorted(workflow.NEEDS_REASON)) | ~Q(status_reason=""),
                name="referral_reason_where_required",
                violation_error_message=_("This status needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(status=Status.DRAFT)
                | Q(sent_at__isnull=False)
                | Q(status=Status.ENTERED_IN_ERROR),
                name="referral_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk}"

    @property
    def on_platform(self) -> bool:
        return self.receiving_agency_id is not None

    @property
    def is_open(self) -> bool:
        return self.status in workflow.OPEN


class ReferralEvent(models.Model):
    """One step of a referral's history: who moved it, from which status to which, and why."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=MAX_REASON, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    note = EncryptedTextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"
