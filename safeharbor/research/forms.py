"""Input shapes for the study pages (no business rules: the services hold those)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from safeharbor.directory.models import Service

from .choices import (
    AgencyType,
    AttributeType,
    CodeLevel,
    ConsentMethod,
    DocumentKind,
    InterviewMode,
    ProfessionalRole,
    RedactionKind,
    SamplingMethod,
    TeamRole,
)
from .colours import OKABE_ITO
from .models import Code, ParticipantAttribute, StudyDocument


class DateInput(forms.DateInput):
    input_type = "date"


def _set_queryset(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (declared in the form)
    field.queryset = queryset


class StudyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    research_questions = forms.CharField(
        label=_("Research questions (one per line)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    ethics_board = forms.CharField(label=_("Ethics board"), max_length=200, required=False)
    ethics_number = forms.CharField(label=_("Approval number"), max_length=100, required=False)
    ethics_approved_on = forms.DateField(label=_("Approved on"), widget=DateInput, required=False)
    sampling_method = forms.ChoiceField(
        label=_("Sampling method (all are non-probability sampling)"),
        choices=SamplingMethod.choices,
    )
    target_sample_size = forms.IntegerField(
        label=_("Target sample size"), min_value=1, max_value=10000
    )
    interview_guide = forms.CharField(
        label=_("Interview guide (one question per line, in order)"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    blind_coding = forms.BooleanField(
        label=_("Coders work blind (each sees only their own coding)"), required=False
    )

    def clean_interview_guide(self) -> list[str]:
        text: str = self.cleaned_data.get("interview_guide") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class StudyCreateForm(StudyForm):
    consent_form_text = forms.CharField(
        label=_("Consent form (version 1)"), widget=forms.Textarea(attrs={"rows": 5})
    )
    debrief_statement_text = forms.CharField(
        label=_("Debrief statement (version 1)"), widget=forms.Textarea(attrs={"rows": 5})
    )


class StudySettingsForm(StudyForm):
    saturation_base_size = forms.IntegerField(
        label=_("Saturation: base size (interviews)"), min_value=1, max_value=100
    )
    saturation_run_length = forms.IntegerField(
        label=_("Saturation: run length (interviews)"), min_value=1, max_value=100
    )
    saturation_threshold_percent = forms.FloatField(
        label=_("Saturation: new-information threshold (%)"), min_value=0, max_value=100
    )


class MemberForm(forms.Form):
    user: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Person"), queryset=StudyDocument.objects.none()
    )
    role = forms.ChoiceField(label=_("Role in the study"), choices=TeamRole.choices)

    def __init__(self, *args: Any, users: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "user", users)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=DocumentKind.choices)
    text = forms.CharField(
        label=_("Text of the new version"), widget=forms.Textarea(attrs={"rows": 8})
    )


class AttributeForm(forms.Form):
    name = forms.CharField(label=_("Attribute name"), max_length=100)
    value_type = forms.ChoiceField(label=_("Type"), choices=AttributeType.choices)


class ParticipantForm(forms.Form):
    code = forms.CharField(
        label=_("Pseudonymous code"),
        max_length=32,
        help_text=_("A code such as P01. Do not use the person's name."),
    )
    professional_role = forms.ChoiceField(
        label=_("Professional role"), choices=ProfessionalRole.choices
    )
    agency_type = forms.ChoiceField(label=_("Agency type"), choices=AgencyType.choices)
    years_experience = forms.IntegerField(
        label=_("Years of experience"), min_value=0, max_value=70, required=False
    )
    recruitment_source = forms.CharField(
        label=_("Recruitment source"), max_length=200, required=False
    )
    invited_on = forms.DateField(label=_("Invited on"), widget=DateInput, required=False)

    def __init__(self, *args: Any, attributes: list[ParticipantAttribute], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attribute_fields: dict[str, ParticipantAttribute] = {}
        for attribute in attributes:
            name = f"attr_{attribute.pk}"
            self.attribute_fields[name] = attribute
            if attribute.value_type == AttributeType.YES_NO:
                field: forms.Field = forms.ChoiceField(
                    choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))]
                )
            elif attribute.value_type == AttributeType.DATE:
                field = forms.DateField(widget=DateInput)
            elif attribute.value_type == AttributeType.NUMBER:
                field = forms.FloatField()
            else:
                field = forms.CharField(max_length=500)
            field.label = attribute.name
            field.required = False
            self.fields[name] = field

    def attribute_values(self) -> dict[ParticipantAttribute, str]:
        values = {}
        for name, attribute in self.attribute_fields.items():
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                values[attribute] = (
                    value.isoformat() if isinstance(value, datetime.date) else str(value)
                )
        return values

    def participant_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if not k.startswith("attr_")}


class ConsentForm(forms.Form):
    form: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Consent form version"), queryset=StudyDocument.objects.none()
    )
    consented_on = forms.DateField(label=_("Date of consent"), widget=DateInput)
    method = forms.ChoiceField(label=_("How consent was given"), choices=ConsentMethod.choices)
    permission_to_record = forms.BooleanField(
        label=_("The participant gave permission to record the interview"), required=False
    )

    def __init__(self, *args: Any, documents: QuerySet[StudyDocument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "form", documents)


class InterviewForm(forms.Form):
    interviewed_on = forms.DateField(label=_("Date of the interview"), widget=DateInput)
    mode = forms.ChoiceField(label=_("Mode"), choices=InterviewMode.choices)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, max_value=600)
    interviewer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Interviewer"), queryset=StudyDocument.objects.none()
    )

    def __init__(self, *args: Any, team: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "interviewer", team)


class ServiceChoiceField(forms.ModelMultipleChoiceField):
    """Directory services as tick boxes, each named with its organisation."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Any) -> str:
        return _("%(service)s (%(organization)s)") % {
            "service": obj.name,
            "organization": obj.organization.name,
        }


class DebriefForm(forms.Form):
    statement: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Debrief statement version"), queryset=StudyDocument.objects.none()
    )
    debriefed_on = forms.DateField(label=_("Date of the debrief"), widget=DateInput)
    resources_offered = forms.CharField(
        label=_("Resources offered"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Anything offered that is not in the directory: a phone line, a leaflet."),
    )
    services_offered = ServiceChoiceField(
        label=_("Directory services offered"),
        queryset=Service.objects.none(),
        required=False,
        help_text=_(
            "Search the directory to list services, then tick the ones offered. Only active "
            "services can be chosen."
        ),
    )

    def __init__(
        self,
        *args: Any,
        documents: QuerySet[StudyDocument],
        services: QuerySet[Service] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "statement", documents)
        _set_queryset(
            self, "services_offered", services if services is not None else Service.objects.none()
        )


class WithdrawForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)
    delete_transcripts = forms.BooleanField(
        label=_("Also delete this participant's transcripts and all coding on them"),
        required=False,
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class TranscriptImportForm(forms.Form):
    upload = MultipleFileField(
        label=_("Transcript files (.txt, .docx, .vtt, .srt; up to 5 MB each)"),
        help_text=_(
            "Start each file name with the participant's code (for example P01.vtt), or choose "
            "one participant below for a single file."
        ),
    )
    participant: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Participant (for a single file)"),
        queryset=StudyDocument.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, participants: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "participant", participants)


def _colour_choices() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in OKABE_ITO]


class CodeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    level = forms.ChoiceField(label=_("Level"), choices=CodeLevel.choices, initial=CodeLevel.CODE)
    parent: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Under"), queryset=StudyDocument.objects.none(), required=False
    )
    color = forms.ChoiceField(
        label=_("Colour (colour-blind-safe palette)"), choices=[("", _("Next in the palette"))]
    )
    custom_color = forms.RegexField(
        label=_("Or another colour (#RRGGBB)"), regex=r"^#[0-9A-Fa-f]{6}$", required=False
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    inclusion_criteria = forms.CharField(
        label=_("Use when"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    exclusion_criteria = forms.CharField(
        label=_("Do not use when"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    example = forms.CharField(
        label=_("Example"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, codes: QuerySet[Code], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "parent", codes)
        field = self.fields["color"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101  (declared above)
        field.choices = [("", _("Next in the palette")), *_colour_choices()]
        field.required = False

    def code_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        custom = data.pop("custom_color", "")
        if custom:
            data["color"] = custom
        return data


class CodeEditForm(forms.Form):
    name = CodeForm.base_fields["name"]
    color = forms.RegexField(label=_("Colour (#RRGGBB)"), regex=r"^#[0-9A-Fa-f]{6}$")
    description = CodeForm.base_fields["description"]
    inclusion_criteria = CodeForm.base_fields["inclusion_criteria"]
    exclusion_criteria = CodeForm.base_fields["exclusion_criteria"]
    example = CodeForm.base_fields["example"]


class CodeMoveForm(forms.Form):
    parent: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Move under (leave empty for the top level)"),
        queryset=StudyDocument.objects.none(),
        required=False,
    )
    position = forms.IntegerField(
        label=_("Position among its siblings (0 is first)"), min_value=0, required=False
    )

    def __init__(self, *args: Any, codes: QuerySet[Code], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "parent", codes)


class CodeMergeForm(forms.Form):
    target: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Merge into"), queryset=StudyDocument.objects.none()
    )

    def __init__(self, *args: Any, codes: QuerySet[Code], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "target", codes)


class CodeSplitForm(forms.Form):
    new_name = forms.CharField(label=_("Name of the new code"), max_length=200)
    segments = forms.TypedMultipleChoiceField(
        label=_("Segments that move to the new code"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, segment_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["segments"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101  (declared above)
        field.choices = segment_choices


class CodebookImportForm(forms.Form):
    file = forms.FileField(label=_("Codebook file (.csv or REFI-QDA .qdc, up to 2 MB)"))


class ProjectImportForm(forms.Form):
    file = forms.FileField(label=_("REFI-QDA project (.qdpx, up to 50 MB)"))


class ApplyCodesForm(forms.Form):
    """The keyboard way to code: choose a paragraph (or type offsets), then the codes."""

    paragraph = forms.TypedChoiceField(label=_("Paragraph"), coerce=int, required=False)
    start = forms.IntegerField(label=_("From character"), min_value=0, required=False)
    end = forms.IntegerField(label=_("To character"), min_value=1, required=False)
    codes = forms.TypedMultipleChoiceField(
        label=_("Codes to apply"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        *args: Any,
        paragraphs: list[tuple[int, int, str]],
        code_choices: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.paragraph_ranges = {i: (s, e) for i, (s, e, _t) in enumerate(paragraphs)}
        if not self.is_bound:
            return  # the page renders these lists itself (rendering.py); a POST validates them
        paragraph = self.fields["paragraph"]
        assert isinstance(paragraph, forms.ChoiceField)  # noqa: S101  (declared above)
        paragraph.choices = [("", "—")] + [
            (i, f"{i + 1}. {text}") for i, (_s, _e, text) in enumerate(paragraphs) if text
        ]
        codes = self.fields["codes"]
        assert isinstance(codes, forms.ChoiceField)  # noqa: S101  (declared above)
        codes.choices = code_choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") is not None and data.get("end") is not None:
            return data
        index = data.get("paragraph")
        if index in self.paragraph_ranges:
            data["start"], data["end"] = self.paragraph_ranges[index]
            return data
        raise forms.ValidationError(_("Choose a paragraph, or select text in the transcript."))


class MemoForm(forms.Form):
    body = forms.CharField(
        label=_("Memo"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000
    )


class SaturationForm(forms.Form):
    saturation_base_size = StudySettingsForm.base_fields["saturation_base_size"]
    saturation_run_length = StudySettingsForm.base_fields["saturation_run_length"]
    saturation_threshold_percent = StudySettingsForm.base_fields["saturation_threshold_percent"]


class RedactionAddForm(forms.Form):
    """Words the researcher wants redacted that the suggestions missed."""

    words = forms.CharField(
        label=_("Words to redact"),
        max_length=300,
        help_text=_("Every occurrence in this transcript is found, in any case."),
    )
    kind = forms.ChoiceField(label=_("They are"), choices=RedactionKind.choices)


class WordFrequencyForm(forms.Form):
    """The word-frequency view's choices (a GET form: it holds no personal data)."""

    code = forms.TypedChoiceField(label=_("Words of"), coerce=int, required=False, empty_value=None)
    top = forms.TypedChoiceField(
        label=_("How many words"),
        coerce=int,
        choices=[(n, str(n)) for n in (25, 50, 100, 200)],
        initial=50,
        required=False,
        empty_value=None,
    )
    interviewer = forms.BooleanField(
        label=_("Leave out the interviewer's turns"), required=False, initial=True
    )

    def __init__(self, *args: Any, codes: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101  (declared above)
        field.choices = [("", _("Every transcript")), *codes]
