"""Vocabularies of the outcomes app. Service types map to the categories funders ask for
(``FUNDER_CATEGORY``): the federal OVC TIMS performance measures' service areas, which the HHS
OTIP and California CSEC Program reports use in the same or a coarser form."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProgramKind(models.TextChoices):
    CASE_MANAGEMENT = "case_management", _("Case management")
    MENTORING = "mentoring", _("Survivor mentoring / advocacy")
    RESIDENTIAL = "residential", _("Residential / shelter")
    DROP_IN = "drop_in", _("Drop-in centre")
    CLINICAL = "clinical", _("Clinical / therapy")
    PREVENTION = "prevention", _("Prevention and education")
    OTHER = "other", _("Other")


class FunderKind(models.TextChoices):
    FEDERAL = "federal", _("Federal")
    STATE = "state", _("State")
    COUNTY = "county", _("County")
    PRIVATE = "private", _("Private foundation or donor")
    OTHER = "other", _("Other")


class ExitReason(models.TextChoices):
    COMPLETED = "completed", _("Completed the program")
    GOALS_MET = "goals_met", _("Goals met before the end")
    TRANSFERRED = "transferred", _("Transferred to another program")
    MOVED = "moved", _("Moved away")
    DECLINED = "declined", _("The youth chose to leave")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    AGED_OUT = "aged_out", _("Aged out")
    OTHER = "other", _("Other")


# Exits that end engagement before its time (the "event" of the retention curve); the others
# censor it: the youth left for a reason that says nothing about losing them.
DISENGAGED = frozenset({ExitReason.DECLINED, ExitReason.LOST_CONTACT})


class TraffickingType(models.TextChoices):
    SEX = "sex", _("Sex trafficking / sexual exploitation")
    LABOR = "labor", _("Labor trafficking")
    BOTH = "both", _("Both")
    AT_RISK = "at_risk", _("At risk (not identified)")
    UNKNOWN = "unknown", _("Not known")


class ReferralSource(models.TextChoices):
    CHILD_WELFARE = "child_welfare", _("Child welfare")
    PROBATION = "probation", _("Probation")
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    HEALTH = "health", _("Health provider")
    SCHOOL = "school", _("School")
    COMMUNITY = "community", _("Community organisation")
    HOTLINE = "hotline", _("Hotline")
    SELF = "self", _("Self or family")
    OTHER = "other", _("Other")


class YesNoUnknown(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Not known")


class ServiceType(models.TextChoices):
    CASE_MANAGEMENT = "case_management", _("Case management")
    CRISIS = "crisis", _("Crisis intervention")
    COUNSELING = "counseling", _("Counselling / therapy")
    MEDICAL = "medical", _("Medical or dental care")
    SHELTER = "shelter", _("Emergency shelter")
    HOUSING = "housing", _("Housing")
    LEGAL = "legal", _("Legal advocacy")
    EDUCATION = "education", _("Education support")
    EMPLOYMENT = "employment", _("Employment / life skills")
    SUBSTANCE_USE = "substance_use", _("Substance-use treatment")
    MENTORING = "mentoring", _("Mentoring / peer support")
    BASIC_NEEDS = "basic_needs", _("Basic needs (food, clothing)")
    TRANSPORTATION = "transportation", _("Transportation")
    INTERPRETATION = "interpretation", _("Interpretation")


# The service area each type is reported under (OVC TIMS service categories).
FUNDER_CATEGORY = {
    ServiceType.CASE_MANAGEMENT: "Case management",
    ServiceType.CRISIS: "Crisis intervention",
    ServiceType.COUNSELING: "Mental health treatment",
    ServiceType.MEDICAL: "Medical and dental care",
    ServiceType.SHELTER: "Housing/shelter",
    ServiceType.HOUSING: "Housing/shelter",
    ServiceType.LEGAL: "Legal services",
    ServiceType.EDUCATION: "Education",
    ServiceType.EMPLOYMENT: "Employment and life skills",
    ServiceType.SUBSTANCE_USE: "Substance abuse treatment",
    ServiceType.MENTORING: "Mentoring and peer support",
    ServiceType.BASIC_NEEDS: "Personal items and basic needs",
    ServiceType.TRANSPORTATION: "Transportation",
    ServiceType.INTERPRETATION: "Interpretation/translation",
}


class DeliveryMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    REMOTE = "remote", _("Remote (phone or video)")


class MeasureKind(models.TextChoices):
    COUNT = "count", pgettext_lazy("kind of measure", "Count")
    YES_NO = "yes_no", _("Yes / no")
    SCALE = "scale", _("Scale")
    STAGE = "stage", _("Stage")


class ChangeStage(models.TextChoices):
    """Stages of change (Prochaska and DiClemente), in order."""

    PRECONTEMPLATION = "precontemplation", _("Pre-contemplation")
    CONTEMPLATION = "contemplation", _("Contemplation")
    PREPARATION = "preparation", _("Preparation")
    ACTION = "action", _("Action")
    MAINTENANCE = "maintenance", _("Maintenance")
