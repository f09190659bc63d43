from django.db import models
from django.utils.translation import gettext_lazy as _


class TeamRole(models.TextChoices):
    LEAD = "lead", _("Lead")
    CODER = "coder", _("Coder")
    VIEWER = "viewer", _("Viewer")


class SamplingMethod(models.TextChoices):
    PURPOSIVE = "purposive", _("Purposive")
    SNOWBALL = "snowball", _("Snowball")
    CONVENIENCE = "convenience", _("Convenience")


# Every method we offer selects participants by judgement or reach, not by chance.
NON_PROBABILITY_METHODS = frozenset(SamplingMethod.values)


class DocumentKind(models.TextChoices):
    CONSENT_FORM = "consent_form", _("Consent form")
    DEBRIEF_STATEMENT = "debrief_statement", _("Debrief statement")


class ProfessionalRole(models.TextChoices):
    SOCIAL_WORKER = "social_worker", _("Social worker")
    LICENSED_CLINICIAN = "licensed_clinician", _("Licensed clinician")
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    COMMUNITY_ADVOCATE = "community_advocate", _("Community advocate")
    OTHER = "other", _("Other")


class AgencyType(models.TextChoices):
    CHILD_WELFARE = "child_welfare", _("Child welfare")
    PROBATION = "probation", _("Probation")
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    HEALTH = "health", _("Health / clinic")
    ADVOCACY = "advocacy", _("Community advocacy")
    SHELTER = "shelter", _("Shelter / housing")
    EDUCATION = "education", _("Education")
    COURT = "court", _("Court")
    OTHER = "other", _("Other")


class ParticipantStatus(models.TextChoices):
    """Derived from the records (never stored): see ``Participant.status``."""

    INVITED = "invited", _("Invited")
    CONSENTED = "consented", _("Consented")
    INTERVIEWED = "interviewed", _("Interviewed")
    DEBRIEFED = "debriefed", _("Debriefed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AttributeType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    YES_NO = "yes_no", _("Yes / no")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("Written")
    VERBAL = "verbal", _("Verbal")


class InterviewMode(models.TextChoices):
    VIDEO = "video", _("Video")
    PHONE = "phone", _("Phone")


class TranscriptFormat(models.TextChoices):
    TXT = "txt", _("Plain text")
    DOCX = "docx", _("Word document")
    VTT = "vtt", _("WebVTT captions")
    SRT = "srt", _("SRT captions")
    QDPX = "qdpx", _("REFI-QDA project")


class CodeLevel(models.TextChoices):
    """The hierarchy: a theme holds categories, a category holds codes."""

    THEME = "theme", _("Theme")
    CATEGORY = "category", _("Category")
    CODE = "code", _("Code")


LEVEL_DEPTH = {CodeLevel.THEME: 0, CodeLevel.CATEGORY: 1, CodeLevel.CODE: 2}


class CodingActionKind(models.TextChoices):
    APPLY = "apply", _("Applied a code")
    REMOVE = "remove", _("Removed a code")
    MOVE = "move", _("Moved a code")


class RedactionKind(models.TextChoices):
    """What a redacted stretch was; the placeholder word stays English in every language, so
    that a transcript reads the same for the whole team: [PERSON 1], [PLACE 2] and so on."""

    PERSON = "person", _("Person")
    PLACE = "place", _("Place")
    AGENCY = "agency", _("Agency")
    PHONE = "phone", _("Phone number")
    EMAIL = "email", _("E-mail address")


PLACEHOLDER_WORDS = {
    RedactionKind.PERSON: "PERSON",
    RedactionKind.PLACE: "PLACE",
    RedactionKind.AGENCY: "AGENCY",
    RedactionKind.PHONE: "PHONE",
    RedactionKind.EMAIL: "EMAIL",
}
