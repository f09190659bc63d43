from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    CHILD_WELFARE = "child_welfare", _("Child welfare")
    PROBATION = "probation", _("Probation")
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    HEALTH = "health", _("Health / clinic")
    ADVOCACY = "advocacy", _("Community advocacy")
    SHELTER = "shelter", _("Shelter / housing")
    EDUCATION = "education", _("Education")
    COURT = "court", _("Court")
    RESEARCH = "research", _("Research")


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    SUPERVISOR = "supervisor", _("Supervisor")
    CLINICIAN = "clinician", _("Clinician")
    ADVOCATE = "advocate", _("Advocate")
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    ANALYST = "analyst", _("Analyst")
    RESEARCHER = "researcher", _("Researcher")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")


# Roles whose work involves individual youth records; every one of them must use MFA.
YOUTH_DATA_ROLES = frozenset(
    {
        Role.CASEWORKER,
        Role.SUPERVISOR,
        Role.CLINICIAN,
        Role.ADVOCATE,
        Role.LAW_ENFORCEMENT,
        Role.AGENCY_ADMIN,
    }
)
# Researchers hold interview transcripts, which are as sensitive as case notes.
MFA_ROLES = YOUTH_DATA_ROLES | {Role.RESEARCHER}
