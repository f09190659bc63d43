from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Ways to reach a youth, as a contact plan lists them (in the youth's order)."""

    PHONE = "phone", _("Phone call")
    TEXT = "text", _("Text message")
    EMAIL = "email", _("Email")
    SOCIAL = "social", _("Social media")
    IN_PERSON = "in_person", _("In person")
    TRUSTED_ADULT = "trusted_adult", _("Through a trusted adult")


class Outcome(models.TextChoices):
    """What came of one attempt to reach the youth."""

    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    LEFT_MESSAGE = "left_message", _("Left a message")
    UNSAFE_TO_TALK = "unsafe", _("Unsafe to talk")
    DECLINED = "declined", _("Declined to talk")
    WRONG_NUMBER = "wrong_number", _("Wrong or disconnected number")


# Only a conversation with the youth counts as contact for the lost-contact rule: "unsafe to
# talk" is a warning sign, and "declined" tells us little about how the youth is.
SUCCESSFUL_OUTCOMES = frozenset({Outcome.REACHED})


class ReportTo(models.TextChoices):
    """Where a missing-from-care episode must be reported within 24 hours (P.L. 113-183)."""

    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    NCMEC = "ncmec", _("NCMEC")


class AttentionKind(models.TextChoices):
    """The kinds of row on the "needs attention today" pages."""

    REPORT_LAW_ENFORCEMENT = "report_law_enforcement", _("Report to law enforcement")
    REPORT_NCMEC = "report_ncmec", _("Report to NCMEC")
    RETURN_SCREENING = "return_screening", _("Screening after return")
    LOCATION_ATTEMPT = "location_attempt", _("Location attempt")
    STABILISATION = "stabilisation", _("Stabilisation contact")
    LOST_CONTACT = "lost_contact", _("Lost contact")
