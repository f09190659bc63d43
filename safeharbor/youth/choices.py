from django.db import models
from django.utils.translation import gettext_lazy as _


class GenderIdentity(models.TextChoices):
    GIRL = "girl", _("Girl / young woman")
    BOY = "boy", _("Boy / young man")
    TRANSGENDER_GIRL = "trans_girl", _("Transgender girl / young woman")
    TRANSGENDER_BOY = "trans_boy", _("Transgender boy / young man")
    NONBINARY = "nonbinary", _("Non-binary")
    OTHER = "other", _("Another identity")
    NOT_SAID = "not_said", _("Prefers not to say")


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
    OTHER = "other", _("Another language")


class RaceEthnicity(models.TextChoices):
    """Multi-select, as in US federal reporting (SPD 15, 2024)."""

    AMERICAN_INDIAN = "american_indian", _("American Indian or Alaska Native")
    ASIAN = "asian", _("Asian")
    BLACK = "black", _("Black or African American")
    HISPANIC = "hispanic", _("Hispanic or Latino")
    MIDDLE_EASTERN = "mena", _("Middle Eastern or North African")
    PACIFIC_ISLANDER = "pacific_islander", _("Native Hawaiian or Pacific Islander")
    WHITE = "white", _("White")
    NOT_SAID = "not_said", _("Prefers not to say")


class TeamRole(models.TextChoices):
    LEAD = "lead", _("Lead worker")
    CASEWORKER = "caseworker", _("Caseworker")
    CLINICIAN = "clinician", _("Clinician")
    ADVOCATE = "advocate", _("Advocate / mentor")
    PROBATION = "probation", _("Probation officer")
    SUPERVISOR = "supervisor", _("Supervisor")


class SignerKind(models.TextChoices):
    YOUTH = "youth", _("The youth")
    GUARDIAN = "guardian", _("A parent or guardian")
    COURT_ORDER = "court_order", _("A court order")


class NoteKind(models.TextChoices):
    GENERAL = "general", _("General note")
    CLINICAL = "clinical", _("Clinical note")


class AgeBand(models.TextChoices):
    UNDER_12 = "under_12", _("Under 12")
    AGE_12_14 = "12_14", _("12–14")
    AGE_15_17 = "15_17", _("15–17")
    AGE_18_20 = "18_20", _("18–20")
    AGE_21_PLUS = "21_plus", _("21 and over")
