"""Referral vocabularies. Statuses are the FHIR R4 Task status codes that the Gravity Project's
closed-loop referral guide uses; priorities are FHIR's request priorities."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from safeharbor.directory import taxonomy


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft (not sent)")
    REQUESTED = "requested", _("Sent")
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Declined by the service")
    IN_PROGRESS = "in-progress", _("In progress")
    ON_HOLD = "on-hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Could not be carried out")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


class Priority(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    ASAP = "asap", _("As soon as possible")
    STAT = "stat", _("Emergency: right away")


class Outcome(models.TextChoices):
    GOT_HELP = "got_help", _("Got help")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    NO_CAPACITY = "no_capacity", _("No capacity")
    COULD_NOT_CONTACT = "could_not_contact", _("Could not contact the youth")
    DECLINED = "declined", _("The youth declined")
    REFERRED_ELSEWHERE = "referred_elsewhere", _("Referred elsewhere")


# A referral is for one of the directory's needs (the children of its ``need`` term).
NEED_CHOICES = [(term.code, term.label) for term in taxonomy.NEED_TERMS]
