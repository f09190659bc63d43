"""Input shape for the outcomes pages; the rules live in ``services``.

The outcome form changes with the measure's kind (stages to pick from, yes or no, a number
within the scale, a count), so the measure is chosen first (``MeasureChoiceForm``, a GET form)
and the form for its value is built for it (``ObservationForm``): no script needed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .choices import (
    DeliveryMode,
    ExitReason,
    FunderKind,
    MeasureKind,
    ProgramKind,
    ReferralSource,
    ServiceType,
    TraffickingType,
    YesNoUnknown,
)
from .models import MAX_SERVICE_MINUTES, OutcomeMeasure, Program
from .services import MAX_NOTE


class DateInput(forms.DateInput):
    """The browser's date picker (a phone shows its own)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _date(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput, help_text=help_text)


def _number(attrs: dict[str, str]) -> forms.NumberInput:
    return forms.NumberInput(attrs={"inputmode": "numeric", **attrs})


def _choices_with_blank(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("Choose…")), *choices]


class EnrolmentForm(forms.Form):
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), empty_label=_("Choose a program")
    )
    starts_on = _date(_("Enrolled on"))
    referral_source = forms.ChoiceField(
        label=_("Referred by"), choices=_choices_with_blank(ReferralSource.choices)
    )
    trafficking_type = forms.ChoiceField(
        label=_("Type of exploitation, as reported at enrolment"),
        choices=TraffickingType.choices,
        initial=TraffickingType.UNKNOWN,
        help_text=_("What is known now. Leave “Not known” rather than guess."),
    )
    has_disability = forms.ChoiceField(
        label=_("Disability, as reported by the youth"),
        choices=YesNoUnknown.choices,
        initial=YesNoUnknown.UNKNOWN,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (declared above)
        field.queryset = programs


class ExitForm(forms.Form):
    ends_on = _date(_("Left on"))
    exit_reason = forms.ChoiceField(
        label=_("Reason for leaving"), choices=_choices_with_blank(ExitReason.choices)
    )


class ServiceForm(forms.Form):
    service_type = forms.ChoiceField(
        label=_("Service"), choices=_choices_with_blank(ServiceType.choices)
    )
    delivered_on = _date(_("Date"))
    minutes = forms.IntegerField(
        label=_("Minutes"),
        min_value=1,
        max_value=MAX_SERVICE_MINUTES,
        widget=_number({"min": "1", "max": str(MAX_SERVICE_MINUTES), "step": "1"}),
        help_text=_("Time spent with or for the youth, from 1 to 1440."),
    )
    mode = forms.ChoiceField(
        label=_("How"),
        choices=DeliveryMode.choices,
        initial=DeliveryMode.IN_PERSON,
        widget=forms.RadioSelect,
    )
    program = forms.ModelChoiceField(
        label=_("Under a program (optional)"),
        queryset=Program.objects.none(),
        required=False,
        empty_label=_("Not under a program"),
        help_text=_("Only a program the youth was enrolled in on that date."),
    )

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (declared above)
        field.queryset = programs


class MeasureChoiceForm(forms.Form):
    """Step 1 of recording an outcome: which measure (sent by GET as ``?measure=code``)."""

    measure = forms.ModelChoiceField(
        label=_("Which outcome"),
        queryset=OutcomeMeasure.objects.none(),
        to_field_name="code",
        empty_label=_("Choose an outcome"),
    )

    def __init__(self, *args: Any, measures: QuerySet[OutcomeMeasure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["measure"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (declared above)
        field.queryset = measures


def _value_field(measure: OutcomeMeasure) -> forms.Field:
    """The input that fits the measure: the service checks the value the same way for all."""
    label = _("Value")
    if measure.kind == MeasureKind.STAGE:
        return forms.ChoiceField(
            label=_("Stage"),
            choices=[(str(code), _(str(name))) for code, name in measure.stages],
            widget=forms.RadioSelect,
        )
    if measure.kind == MeasureKind.YES_NO:
        return forms.ChoiceField(
            label=_("Answer"),
            choices=[("1", _("Yes")), ("0", _("No"))],
            widget=forms.RadioSelect,
        )
    if measure.kind == MeasureKind.SCALE:
        attrs = {"step": "any", "inputmode": "decimal"}
        if measure.scale_min is not None:
            attrs["min"] = str(measure.scale_min)
        if measure.scale_max is not None:
            attrs["max"] = str(measure.scale_max)
        help_text: Any = ""
        if measure.scale_min is not None and measure.scale_max is not None:
            help_text = _("From %(low)s to %(high)s.") % {
                "low": measure.scale_min,
                "high": measure.scale_max,
            }
        return forms.CharField(
            label=label, max_length=20, widget=forms.NumberInput(attrs=attrs), help_text=help_text
        )
    return forms.CharField(
        label=_("How many"),
        max_length=20,
        widget=_number({"min": "0", "step": "1"}),
        help_text=_("A whole number, 0 or more."),
    )


class ObservationForm(forms.Form):
    """Step 2: the value of one measure, when it was observed, and a short note."""

    observed_on = _date(_("Date"))
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the number does not say. Visible to everyone who sees services."),
    )

    def __init__(self, *args: Any, measure: OutcomeMeasure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.measure = measure
        value = _value_field(measure)
        # The value first: it is what the page is about; then the date and the note.
        self.fields = {"value": value, **self.fields}


class ProgramForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=_choices_with_blank(ProgramKind.choices))
    starts_on = _date(_("Started on"))
    ends_on = _date(_("Ended on (optional)"), required=False)
    description = forms.CharField(
        label=_("Description (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FundingForm(forms.Form):
    funder = forms.CharField(label=_("Funder"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=_choices_with_blank(FunderKind.choices))
    award_number = forms.CharField(
        label=_("Award number (optional)"), max_length=100, required=False
    )
    starts_on = _date(_("Grant starts on"))
    ends_on = _date(_("Grant ends on"))
