from django.db import models
from django.utils.translation import gettext_lazy as _


class ConcernLevel(models.TextChoices):
    """What a screen found, by the instrument's own rule. Ordered from least to most concern.

    ``not_enough_information`` replaces only a "no concern" conclusion that too many unknown
    answers cannot support (see ``scoring.py``); it never hides a possible or clear concern.
    """

    NO_CONCERN = "no_concern", _("No concern")
    NOT_ENOUGH_INFORMATION = "not_enough_information", _("Not enough information")
    POSSIBLE_CONCERN = "possible_concern", _("Possible concern")
    CLEAR_CONCERN = "clear_concern", _("Clear concern")


# Rank of each level: a higher rank is more concern (used by the scoring engine and the chart).
LEVEL_RANK = {
    ConcernLevel.NO_CONCERN: 0,
    ConcernLevel.NOT_ENOUGH_INFORMATION: 1,
    ConcernLevel.POSSIBLE_CONCERN: 2,
    ConcernLevel.CLEAR_CONCERN: 3,
}


class InstrumentStatus(models.TextChoices):
    """FHIR ``PublicationStatus``."""

    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")
    UNKNOWN = "unknown", _("Unknown")


class CompletedBy(models.TextChoices):
    """Who fills an instrument in (our ``instrument-information`` extension, ``completedBy``)."""

    WORKER = "worker", _("A worker, from what is already known")
    YOUTH_INTERVIEW = "youth-interview", _("An interview with the youth")
    EITHER = "either", _("Either")


class ScreeningReason(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ROUTINE_RESCREEN = "routine_rescreen", _("Routine rescreen")
    ALLEGATION = "allegation", _("An allegation or report of concern")
    RETURN_FROM_MISSING = "return_from_missing", _("Return from a missing episode")
    RUNAWAY_HISTORY = "runaway_history", _("A runaway history came to light")
    CASE_OPENING_11_PLUS = "case_opening_11_plus", _("Case opening at age 11 or over")


class ScreeningMode(models.TextChoices):
    INTERVIEW_IN_PERSON = "interview_in_person", _("Interview with the youth, in person")
    INTERVIEW_REMOTE = "interview_remote", _("Interview with the youth, by phone or video")
    RECORD_REVIEW = "record_review", _("A worker, from what is already known")


INTERVIEW_MODES = frozenset({ScreeningMode.INTERVIEW_IN_PERSON, ScreeningMode.INTERVIEW_REMOTE})


class ScreeningLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")


class ScreeningStatus(models.TextChoices):
    DRAFT = "draft", _("Draft, not finished")
    COMPLETED = "completed", _("Completed")


class NextAction(models.TextChoices):
    NONE = "none", _("No further action now")
    MONITOR = "monitor", _("Keep in touch and rescreen later")
    FULL_ASSESSMENT = "full_assessment", _("Arrange a fuller assessment")
    REFER = "refer", _("Refer to specialised services")
    SAFETY_PLAN = "safety_plan", _("Make a safety plan now")


class TriggerKind(models.TextChoices):
    """Events after which a screen is due, and within how long (``TRIGGER_DUE_HOURS``)."""

    RETURN_FROM_MISSING = "return_from_missing", _("Returned from a missing episode")
    RUNAWAY_HISTORY = "runaway_history", _("A runaway history came to light")


TRIGGER_DUE_HOURS = {
    TriggerKind.RETURN_FROM_MISSING: 24,
    TriggerKind.RUNAWAY_HISTORY: 72,
}
# The reason a screening answers a trigger of each kind.
TRIGGER_REASON = {
    TriggerKind.RETURN_FROM_MISSING: ScreeningReason.RETURN_FROM_MISSING,
    TriggerKind.RUNAWAY_HISTORY: ScreeningReason.RUNAWAY_HISTORY,
}
# When a youth is identified as a victim, the report to law enforcement is due within this long.
LAW_ENFORCEMENT_REPORT_HOURS = 24
