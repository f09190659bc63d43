from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """The data categories that the policy, consent and audit speak of."""

    IDENTITY = "identity", _("Identity")
    SCREENING = "screening", _("Screening")
    CONTACT_PLAN = "contact_plan", _("Contact plan")
    REFERRALS = "referrals", _("Referrals")
    SERVICES = "services", _("Services and outcomes")
    NOTES = "notes", _("Notes")
    CLINICAL_NOTES = "clinical_notes", _("Clinical notes")
    MISSING_EPISODES = "missing_episodes", _("Missing-from-care episodes")


class Action(models.TextChoices):
    VIEW = "view", _("view")
    CHANGE = "change", _("change")
