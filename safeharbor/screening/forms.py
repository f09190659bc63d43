"""Input shapes for the screening pages. No business rules: the services decide."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from safeharbor.core import clock

from .choices import (
    ConcernLevel,
    NextAction,
    ScreeningLanguage,
    ScreeningMode,
    ScreeningReason,
    TriggerKind,
)
from .definition import Item
from .models import Instrument

MAX_INSTRUMENT_BYTES = 2 * 1024 * 1024


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )


class InstrumentUploadForm(forms.Form):
    file = forms.FileField(
        label=_("FHIR Questionnaire (a .json file, up to 2 MB)"),
        help_text=_(
            "Load only an instrument your agency may use: its own, one in the public domain, or "
            "one your agency holds the licence or written permission for."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_INSTRUMENT_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return upload


class RescreenIntervalForm(forms.Form):
    instrument_url = forms.CharField(widget=forms.HiddenInput, max_length=255)
    days = forms.IntegerField(
        label=_("Rescreen every (days; empty for no routine rescreen)"),
        min_value=1,
        max_value=3650,
        required=False,
    )


class ScreeningStartForm(forms.Form):
    instrument = forms.ModelChoiceField(label=_("Instrument"), queryset=Instrument.objects.none())
    reason = forms.ChoiceField(
        label=_("Why is this screen done now?"), choices=ScreeningReason.choices
    )
    mode = forms.ChoiceField(label=_("How is it done?"), choices=ScreeningMode.choices)
    language = forms.ChoiceField(
        label=_("Language of the questions"), choices=ScreeningLanguage.choices
    )

    def __init__(self, *args: Any, instruments: QuerySet[Instrument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instrument"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (declared above)
        field.queryset = instruments


@dataclass(frozen=True)
class Entry:
    """One thing on a step: a question (its form field) or a text to read out."""

    item: Item
    field: forms.BoundField | None
    text: str


class AnswersForm(forms.Form):
    """One radio group per enabled question of ``items``, in the screening's language.

    Questions are not required here: a draft may be saved part-answered; finishing checks that
    every enabled question has an answer.
    """

    def __init__(
        self,
        *args: Any,
        items: Iterable[Item],
        language: str,
        initial_answers: Mapping[str, str],
        require_all: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        self.language = language
        for item in self.items:
            if not item.is_question:
                continue
            self.fields[_field_name(item.link_id)] = forms.ChoiceField(
                label=item.text.in_language(language),
                choices=[(o.code, o.display.in_language(language)) for o in item.options],
                widget=forms.RadioSelect,
                required=require_all,
                initial=initial_answers.get(item.link_id),
            )

    def entries(self) -> list[Entry]:
        return [
            Entry(
                item=item,
                field=self[_field_name(item.link_id)] if item.is_question else None,
                text=item.text.in_language(self.language),
            )
            for item in self.items
        ]

    def answers(self) -> dict[str, str]:
        """The answers given ({linkId: code}); unanswered questions are left out."""
        return {
            item.link_id: self.cleaned_data[_field_name(item.link_id)]
            for item in self.items
            if item.is_question and self.cleaned_data.get(_field_name(item.link_id))
        }


def _field_name(link_id: str) -> str:
    return "a_" + link_id


_REVIEW_FIELDS = ("override_level", "override_reason", "next_action", "next_action_note")


class ReviseForm(AnswersForm):
    """Every enabled question at once, to correct (in the edit window) or amend a screening.

    An amendment also says why, and carries the worker's level and the next action.
    """

    def __init__(self, *args: Any, amending: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.amending = amending
        if amending:
            self.fields["reason"] = forms.CharField(
                label=_("Why is the screening amended?"),
                widget=forms.Textarea(attrs={"rows": 3}),
                max_length=2000,
            )
            review = ReviewForm()
            for name in _REVIEW_FIELDS:
                self.fields[name] = review.fields[name]

    def review_fields(self) -> list[forms.BoundField]:
        names = ("reason", *_REVIEW_FIELDS) if self.amending else ()
        return [self[name] for name in names]

    def review(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in _REVIEW_FIELDS if self.amending}


class ReviewForm(forms.Form):
    override_level = forms.ChoiceField(
        label=_("Your judgement, if it differs from the instrument's result"),
        choices=[("", _("Same as the instrument's result")), *ConcernLevel.choices],
        required=False,
    )
    override_reason = forms.CharField(
        label=_("Why your judgement differs"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )
    next_action = forms.ChoiceField(label=_("Next action"), choices=NextAction.choices)
    next_action_note = forms.CharField(
        label=_("Details of the next action (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )


class TriggerForm(forms.Form):
    kind = forms.ChoiceField(label=_("What happened?"), choices=TriggerKind.choices)
    occurred_at = _datetime_field(_("When? (date and time)"))


class IdentificationForm(forms.Form):
    identified_at = _datetime_field(_("When was the youth identified as a victim?"))


class ReportForm(forms.Form):
    reported_at = _datetime_field(_("When was the report made? (date and time)"))
    receiving_agency = forms.CharField(label=_("Law-enforcement agency"), max_length=200)
    report_number = forms.CharField(label=_("Report number"), max_length=100)


def local_now() -> str:
    """Now, in the form a ``datetime-local`` input shows (the site's time zone)."""
    return timezone.localtime(clock.now()).strftime("%Y-%m-%dT%H:%M")
