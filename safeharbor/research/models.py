"""Qualitative studies: team, participants, consent, interviews, debriefs, transcripts, codebook,
coding. A separate world from case records: nothing here points at a youth, and no
case-management app points here."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from safeharbor.core.fields import EncryptedTextField
from safeharbor.core.models import TimeStampedModel

from .choices import (
    NON_PROBABILITY_METHODS,
    PLACEHOLDER_WORDS,
    AgencyType,
    AttributeType,
    CodeLevel,
    CodingActionKind,
    ConsentMethod,
    DocumentKind,
    InterviewMode,
    ParticipantStatus,
    ProfessionalRole,
    RedactionKind,
    SamplingMethod,
    TeamRole,
    TranscriptFormat,
)

HEX_COLOUR = RegexValidator(r"^#[0-9A-F]{6}$", _("Give the colour as #RRGGBB."))


class Study(TimeStampedModel):
    """A qualitative study: its questions, ethics approval, sampling and analysis settings."""

    title = models.CharField(_("title"), max_length=200)
    research_questions = models.TextField(_("research questions"), help_text=_("One per line."))
    ethics_board = models.CharField(_("ethics board"), max_length=200, blank=True)
    ethics_number = models.CharField(_("approval number"), max_length=100, blank=True)
    ethics_approved_on = models.DateField(_("approved on"), null=True, blank=True)
    sampling_method = models.CharField(
        _("sampling method"), max_length=16, choices=SamplingMethod.choices
    )
    target_sample_size = models.PositiveSmallIntegerField(
        _("target sample size"), validators=[MinValueValidator(1)]
    )
    interview_guide = models.JSONField(_("interview guide"), default=list, blank=True)
    blind_coding = models.BooleanField(
        _("coders work blind"),
        default=False,
        help_text=_("Each coder sees only their own coding on the transcript page."),
    )
    saturation_base_size = models.PositiveSmallIntegerField(
        _("saturation base size"), default=4, validators=[MinValueValidator(1)]
    )
    saturation_run_length = models.PositiveSmallIntegerField(
        _("saturation run length"), default=2, validators=[MinValueValidator(1)]
    )
    saturation_threshold_percent = models.FloatField(
        _("saturation threshold (%)"),
        default=5.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("study")
        verbose_name_plural = _("studies")
        constraints = [
            models.CheckConstraint(condition=Q(target_sample_size__gte=1), name="study_target_n"),
            models.CheckConstraint(
                condition=Q(saturation_base_size__gte=1) & Q(saturation_run_length__gte=1),
                name="study_saturation_sizes",
            ),
            models.CheckConstraint(
                condition=Q(saturation_threshold_percent__gte=0)
                & Q(saturation_threshold_percent__lte=100),
                name="study_saturation_threshold",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_non_probability(self) -> bool:
        return self.sampling_method in NON_PROBABILITY_METHODS

    @property
    def question_list(self) -> list[str]:
        return [line.strip() for line in self.research_questions.splitlines() if line.strip()]


class StudyMember(TimeStampedModel):
    """A person on the study team, with their role in the study."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_memberships"
    )
    role = models.CharField(_("role in the study"), max_length=8, choices=TeamRole.choices)

    class Meta:
        verbose_name = _("study team member")
        verbose_name_plural = _("study team members")
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="study_member_once"),
        ]
        indexes = [models.Index(fields=["user", "study"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class StudyDocument(TimeStampedModel):
    """One version of the consent form or the debrief statement."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=DocumentKind.choices)
    version = models.PositiveSmallIntegerField(_("version"))
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["kind", "-version"]
        verbose_name = _("study document")
        verbose_name_plural = _("study documents")
        constraints = [
            models.UniqueConstraint(
                fields=["study", "kind", "version"], name="study_document_version_once"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="study_document_version"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"


class ParticipantAttribute(TimeStampedModel):
    """An attribute the study chose to record for every participant (text, number, date, yes/no)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="attributes")
    name = models.CharField(_("name"), max_length=100)
    value_type = models.CharField(_("type"), max_length=8, choices=AttributeType.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("participant attribute")
        verbose_name_plural = _("participant attributes")
        constraints = [
            models.UniqueConstraint(fields=["study", "name"], name="attribute_name_once"),
        ]

    def __str__(self) -> str:
        return self.name


class Participant(TimeStampedModel):
    """A professional who takes part, known by a pseudonymous code; no real name is needed."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    code = models.CharField(_("pseudonymous code"), max_length=32)
    professional_role = models.CharField(
        _("professional role"), max_length=24, choices=ProfessionalRole.choices
    )
    agency_type = models.CharField(_("agency type"), max_length=24, choices=AgencyType.choices)
    years_experience = models.PositiveSmallIntegerField(
        _("years of experience"), null=True, blank=True, validators=[MaxValueValidator(70)]
    )
    recruitment_source = models.CharField(_("recruitment source"), max_length=200, blank=True)
    invited_on = models.DateField(_("invited on"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_note = models.CharField(_("withdrawal note"), max_length=500, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="participant_code_once"),
            models.CheckConstraint(
                condition=Q(years_experience__isnull=True) | Q(years_experience__lte=70),
                name="participant_years_plausible",
            ),
        ]
        indexes = [models.Index(fields=["study", "withdrawn_at"])]

    def __str__(self) -> str:
        return self.code

    @property
    def status(self) -> str:
        """Derived from the records: withdrawal, then debrief, interview, consent, else invited."""
        if self.withdrawn_at is not None:
            return ParticipantStatus.WITHDRAWN
        if not _has_related(self, "consent"):
            return ParticipantStatus.INVITED
        if not _has_related(self.consent, "interview"):
            return ParticipantStatus.CONSENTED
        if _has_related(self.consent.interview, "debrief"):
            return ParticipantStatus.DEBRIEFED
        return ParticipantStatus.INTERVIEWED

    def get_status_display(self) -> str:
        return str(ParticipantStatus(self.status).label)


def _has_related(instance: Any, name: str) -> bool:
    try:
        getattr(instance, name)
    except models.ObjectDoesNotExist:
        return False
    return True


class ParticipantAttributeValue(TimeStampedModel):
    """One participant's value for one study attribute (stored as text, validated by type)."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="attribute_values"
    )
    attribute = models.ForeignKey(
        ParticipantAttribute, on_delete=models.CASCADE, related_name="values"
    )
    value = models.CharField(_("value"), max_length=500)

    class Meta:
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "attribute"], name="attribute_value_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}: {self.value}"


class Consent(TimeStampedModel):
    """The participant's consent to take part: which form version, when, how, and recording."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="consent"
    )
    form = models.ForeignKey(
        StudyDocument, on_delete=models.PROTECT, related_name="+", verbose_name=_("form version")
    )
    consented_on = models.DateField(_("consented on"))
    method = models.CharField(_("how"), max_length=8, choices=ConsentMethod.choices)
    permission_to_record = models.BooleanField(_("permission to record"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.participant} {self.consented_on}"


class Interview(TimeStampedModel):
    """An interview. It hangs off the consent (a non-null one-to-one): the database itself
    refuses an interview, and so a transcript or a debrief, for someone who has not consented."""

    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="interview")
    interviewed_on = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=8, choices=InterviewMode.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("interview")
        verbose_name_plural = _("interviews")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1) & Q(duration_minutes__lte=600),
                name="interview_duration_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consent.participant} {self.interviewed_on}"


class Debrief(TimeStampedModel):
    """The debrief after the interview: statement version, date, resources offered (free text,
    and the directory services offered)."""

    interview = models.OneToOneField(Interview, on_delete=models.PROTECT, related_name="debrief")
    statement = models.ForeignKey(
        StudyDocument,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("statement version"),
    )
    debriefed_on = models.DateField(_("debriefed on"))
    resources_offered = EncryptedTextField(_("resources offered"), blank=True)
    # Public directory listings offered at the debrief (research may point at the directory,
    # one way; the directory knows nothing of studies).
    services_offered: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "directory.Service",
        related_name="+",
        blank=True,
        verbose_name=_("directory services offered"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("debrief")
        verbose_name_plural = _("debriefs")

    def __str__(self) -> str:
        return f"{self.interview} debrief"


class Transcript(TimeStampedModel):
    """An interview transcript; the text is encrypted. Offsets count Unicode code points."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="transcripts")
    interview = models.ForeignKey(Interview, on_delete=models.PROTECT, related_name="transcripts")
    # Denormalised from interview.consent.participant so that analysis joins once.
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="transcripts"
    )
    name = models.CharField(_("name"), max_length=200)
    source_format = models.CharField(
        _("imported from"), max_length=8, choices=TranscriptFormat.choices
    )
    text = EncryptedTextField(_("text"))
    char_count = models.PositiveIntegerField(_("length (characters)"))
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("transcript")
        verbose_name_plural = _("transcripts")
        constraints = [
            models.UniqueConstraint(fields=["study", "name"], name="transcript_name_once"),
            models.UniqueConstraint(fields=["study", "guid"], name="transcript_guid_once"),
        ]
        indexes = [
            # Covers the study's transcript list (id, name, participant) so that SQLite never
            # walks the long encrypted text's overflow pages to reach participant_id, a column
            # stored after it: quote lists, exports and analysis read it on every request.
            models.Index(fields=["study", "name", "participant"], name="research_tr_listing_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class TranscriptChunk(models.Model):
    """The transcript's text again, in encrypted pieces of at most ``CHUNK_SIZE`` code points,
    so that coding can read the few characters a segment covers without decrypting the whole
    transcript (the cost of applying a code does not grow with the transcript's length)."""

    CHUNK_SIZE = 4000

    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="chunks")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = EncryptedTextField()

    class Meta:
        ordering = ["transcript_id", "start"]
        constraints = [
            models.UniqueConstraint(fields=["transcript", "start"], name="chunk_start_once"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="chunk_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.transcript_id}[{self.start}:{self.end}]"


class Code(TimeStampedModel):
    """A code in the study's codebook: themes hold categories, categories hold codes."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codes")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    level = models.CharField(_("level"), max_length=8, choices=CodeLevel.choices)
    name = models.CharField(_("name"), max_length=200)
    color = models.CharField(_("colour"), max_length=7, validators=[HEX_COLOUR])
    description = models.TextField(_("description"), blank=True)
    inclusion_criteria = models.TextField(_("use when"), blank=True)
    exclusion_criteria = models.TextField(_("do not use when"), blank=True)
    example = models.TextField(_("example"), blank=True)
    position = models.PositiveIntegerField(default=0)
    guid = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        constraints = [
            models.UniqueConstraint(fields=["study", "guid"], name="code_guid_once"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="code_not_its_own_parent"),
            models.CheckConstraint(
                condition=~Q(level="theme") | Q(parent__isnull=True),
                name="theme_has_no_parent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    """A coded stretch of a transcript, [start, end) in code points, by one coder."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="segments")
    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="segments")
    start = models.PositiveIntegerField(_("start"))
    end = models.PositiveIntegerField(_("end"))
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_exemplar = models.BooleanField(_("exemplar quote"), default=False)
    # The coded words, encrypted, kept with the segment so that quote lists and exports never
    # decrypt whole transcripts.
    quote = EncryptedTextField(_("quote"), blank=True)
    codes: models.ManyToManyField[Code, SegmentCode] = models.ManyToManyField(
        Code, through="SegmentCode", related_name="segments"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["transcript_id", "start", "end"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="segment_not_empty"),
            models.UniqueConstraint(
                fields=["transcript", "coder", "start", "end"], name="segment_range_once_per_coder"
            ),
        ]
        indexes = [models.Index(fields=["study", "coder"])]

    def __str__(self) -> str:
        return f"{self.transcript_id}[{self.start}:{self.end}]"


class SegmentCode(models.Model):
    """One code applied to one segment."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="codings")
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("coding")
        verbose_name_plural = _("codings")
        constraints = [
            models.UniqueConstraint(fields=["segment", "code"], name="segment_code_once"),
        ]
        indexes = [models.Index(fields=["code", "segment"])]

    def __str__(self) -> str:
        return f"{self.segment} {self.code_id}"


class Memo(TimeStampedModel):
    """A memo, with author and date, on a code, a transcript or a segment (exactly one)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memos")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("memo"))
    code = models.ForeignKey(
        Code, on_delete=models.CASCADE, null=True, blank=True, related_name="memos"
    )
    transcript = models.ForeignKey(
        Transcript, on_delete=models.CASCADE, null=True, blank=True, related_name="memos"
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, null=True, blank=True, related_name="memos"
    )

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("memo")
        verbose_name_plural = _("memos")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(code__isnull=False, transcript__isnull=True, segment__isnull=True)
                    | Q(code__isnull=True, transcript__isnull=False, segment__isnull=True)
                    | Q(code__isnull=True, transcript__isnull=True, segment__isnull=False)
                ),
                name="memo_has_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"memo {self.pk}"


class CodingAction(models.Model):
    """The coding action log: what each coder applied or removed, and how the codebook was
    reorganised (a move: the code's parent and position before it), so it can be undone."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=CodingActionKind.choices)
    # Apply and remove only (a move is about the codebook, not a transcript).
    transcript = models.ForeignKey(
        Transcript, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    # Move only: where the code was. A move whose former parent is deleted (merged) cannot be
    # undone any more, so it goes with it.
    from_parent = models.ForeignKey(
        Code, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    from_position = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["study", "actor", "undone_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="move") & Q(transcript__isnull=True) & Q(from_position__isnull=False)
                )
                | (~Q(kind="move") & Q(transcript__isnull=False) & Q(from_parent__isnull=True)),
                name="codingaction_move_has_no_transcript",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code_id} on {self.transcript_id}"


class RedactionKey(models.Model):
    """One row of a study's private redaction key: the original words (encrypted) behind a
    placeholder such as [PERSON 1]. The same original always gets the same placeholder across
    the study: ``digest`` is a keyed hash (``crypto.blind_index``) of its normalised form, so
    that a match needs no decryption. Only the study lead sees this table; no export has it.
    A row goes when no transcript and no memo of the study uses it any more."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="redaction_keys")
    kind = models.CharField(_("kind"), max_length=8, choices=RedactionKind.choices)
    number = models.PositiveIntegerField(_("number"))
    original = EncryptedTextField(_("original"))
    digest = models.CharField(max_length=64)
    transcripts: models.ManyToManyField[Transcript, Any] = models.ManyToManyField(
        Transcript, related_name="redaction_keys", blank=True
    )
    memos: models.ManyToManyField[Memo, Any] = models.ManyToManyField(
        Memo, related_name="redaction_keys", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["kind", "number"]
        verbose_name = _("redaction key")
        verbose_name_plural = _("redaction keys")
        constraints = [
            models.UniqueConstraint(
                fields=["study", "kind", "number"], name="redaction_placeholder_once"
            ),
            models.UniqueConstraint(fields=["study", "digest"], name="redaction_original_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="redaction_number_positive"),
        ]

    def __str__(self) -> str:
        return self.placeholder

    @property
    def placeholder(self) -> str:
        return placeholder_for(self.kind, self.number)


def placeholder_for(kind: str, number: int) -> str:
    return f"[{PLACEHOLDER_WORDS[RedactionKind(kind)]} {number}]"
