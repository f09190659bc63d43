"""Input shape for the contact pages; the rules live in ``services``."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from safeharbor.core import clock

from .choices import Channel, ReportTo
from .services import MAX_METHODS, MAX_NOTE

_LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker; the value is local time, to the minute."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=_LOCAL_MINUTE)


def local_now() -> datetime.datetime:
    """Now, in the current time zone, to the minute (a form's default "when")."""
    return timezone.localtime(clock.now()).replace(second=0, microsecond=0)


def when_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeInput(),
        input_formats=[_LOCAL_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=help_text,
    )


def _text(label: Any, rows: int = 2, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=kwargs.pop("required", False),
        widget=forms.Textarea(attrs={"rows": rows}),
        max_length=kwargs.pop("max_length", 2000),
        **kwargs,
    )


class ContactPlanForm(forms.Form):
    safe_times = _text(
        _("Safe times to reach them"), help_text=_("For example: weekdays after 4 pm.")
    )
    code_word = forms.CharField(
        label=_("Code word"),
        max_length=100,
        required=False,
        help_text=_("A word the youth uses to say it is not safe to talk."),
    )
    never_use = _text(
        _("Numbers, accounts and people never to use"),
        rows=3,
        help_text=_("Someone who harms the youth may watch these. Never contact through them."),
    )
    trusted_adults = _text(_("Trusted adults"), rows=3)


class ContactMethodForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Way"), choices=[("", "—"), *Channel.choices], required=False
    )
    detail = forms.CharField(
        label=_("Number, address, handle, place or person"), max_length=200, required=False
    )


if TYPE_CHECKING:
    _FormSet = forms.BaseFormSet[ContactMethodForm]
else:  # BaseFormSet is not subscriptable at run time without django-stubs-ext's patch
    _FormSet = forms.BaseFormSet


class BaseMethodFormSet(_FormSet):
    def methods(self) -> list[tuple[str, str]]:
        """The filled rows, in order; rows without a way are left out."""
        return [
            (form.cleaned_data["channel"], form.cleaned_data.get("detail", ""))
            for form in self.forms
            if form.cleaned_data.get("channel")
        ]


ContactMethodFormSet = forms.formset_factory(
    ContactMethodForm,
    formset=BaseMethodFormSet,
    extra=0,
    max_num=MAX_METHODS,
    absolute_max=MAX_METHODS,
)


def method_formset(data: Any, methods: list[tuple[str, str]]) -> BaseMethodFormSet:
    """Always ``MAX_METHODS`` rows (no script needed to add one): the plan's, then empty ones."""
    initial = [{"channel": c, "detail": d} for c, d in methods]
    initial += [{"channel": "", "detail": ""}] * (MAX_METHODS - len(initial))
    formset = ContactMethodFormSet(data, initial=initial, prefix="way")
    assert isinstance(formset, BaseMethodFormSet)  # noqa: S101  (formset=BaseMethodFormSet)
    return formset


class LogContactForm(forms.Form):
    """Outcome comes from the button pressed; the channel is preselected from the plan."""

    channel = forms.ChoiceField(label=_("How"), choices=Channel.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(choices=[])  # filled by __init__; sent by the outcome button
    note = forms.CharField(
        label=_("Short note (optional)"),
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    attempted_at = when_field(
        _("When (leave empty for now)"),
        required=False,
    )

    def __init__(self, *args: Any, channels: list[tuple[str, Any]], **kwargs: Any) -> None:
        from .choices import Outcome

        super().__init__(*args, **kwargs)
        channel = self.fields["channel"]
        assert isinstance(channel, forms.ChoiceField)  # noqa: S101  (declared above)
        channel.choices = channels
        outcome = self.fields["outcome"]
        assert isinstance(outcome, forms.ChoiceField)  # noqa: S101  (declared above)
        outcome.choices = Outcome.choices


class CheckInForm(forms.Form):
    scheduled_for = when_field(_("When"))
    channel = forms.ChoiceField(label=_("How"), choices=Channel.choices)
    duration_minutes = forms.IntegerField(
        label=_("Minutes"), min_value=5, max_value=480, initial=30
    )


class EpisodeOpenForm(forms.Form):
    started_at = when_field(
        _("Missing since"), help_text=_("When the youth was last known to be in care.")
    )
    learned_at = when_field(
        _("When the agency learned of it"),
        help_text=_("The 24-hour deadlines to report to law enforcement and NCMEC start here."),
    )
    last_seen_at = when_field(_("Last seen (if known)"), required=False)
    last_seen_where = _text(_("Last seen where"))
    last_seen_with = _text(_("Last seen with whom"))
    clothing = _text(_("Clothing"))
    description = _text(
        _("Description"), rows=3, help_text=_("Height, build, hair, tattoos, scars, marks.")
    )
    medical_needs = _text(_("Medical needs"), help_text=_("Medication, allergies, conditions."))
    mental_health_needs = _text(_("Mental-health needs"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        started, learned = data.get("started_at"), data.get("learned_at")
        if started and learned and learned < started:
            self.add_error(
                "learned_at",
                _("The agency cannot learn of an episode before it started. Check both times."),
            )
        return data


class EpisodeUpdateForm(forms.Form):
    last_seen_at = when_field(_("Last seen"), required=False)
    last_seen_where = _text(_("Last seen where"))
    last_seen_with = _text(_("Last seen with whom"))
    clothing = _text(_("Clothing"))
    description = _text(
        _("Description"), rows=3, help_text=_("Height, build, hair, tattoos, scars, marks.")
    )
    medical_needs = _text(_("Medical needs"))
    mental_health_needs = _text(_("Mental-health needs"))
    police_agency = forms.CharField(label=_("Police agency"), max_length=200, required=False)
    police_officer = forms.CharField(label=_("Officer"), max_length=200, required=False)
    police_case_number = forms.CharField(
        label=_("Police case number"), max_length=100, required=False
    )
    ncmec_case_number = forms.CharField(
        label=_("NCMEC case number"), max_length=100, required=False
    )
    ncic_entry_confirmation = forms.CharField(
        label=_("NCIC entry confirmation"), max_length=100, required=False
    )


class ReportForm(forms.Form):
    reported_at = when_field(_("When the report was made"))
    reference = forms.CharField(label=_("Case number"), max_length=100, required=False)
    police_agency = forms.CharField(label=_("Police agency"), max_length=200, required=False)
    police_officer = forms.CharField(label=_("Officer"), max_length=200, required=False)

    def __init__(self, *args: Any, to: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if to == ReportTo.NCMEC:
            del self.fields["police_agency"]
            del self.fields["police_officer"]
            self.fields["reference"].label = _("NCMEC case number")
        else:
            self.fields["reference"].label = _("Police case number")


class LocationAttemptForm(forms.Form):
    attempted_at = when_field(_("When"))
    what_was_done = _text(
        _("What was done to locate the youth"),
        rows=3,
        required=True,
        help_text=_("At least one attempt a month while the youth is missing."),
    )


class EpisodeCloseForm(forms.Form):
    ended_at = when_field(_("When the youth returned"))


class ReturnInterviewForm(forms.Form):
    interviewed_at = when_field(_("When the interview took place"))
    why_left = _text(_("Why the youth left, in their words"), rows=4, required=True)
    what_happened = _text(_("What happened while away"), rows=4, required=True)
    placement_changes = _text(_("Placement changes made in response"), rows=3)


class ScreeningRecordForm(forms.Form):
    screened_at = when_field(_("When the youth was screened"))


class ContactRuleForm(forms.Form):
    lost_contact_days = forms.IntegerField(
        label=_("Days without successful contact before a youth is flagged"),
        min_value=1,
        max_value=90,
    )
    stabilisation_hours = forms.IntegerField(
        label=_("Hours a newly assigned advocate or mentor has to reach the youth"),
        min_value=1,
        max_value=336,
    )
    location_attempt_days = forms.IntegerField(
        label=_("Days between location attempts while a youth is missing (30 at most)"),
        min_value=1,
        max_value=30,
    )


class NotificationPreferenceForm(forms.Form):
    by_email = forms.BooleanField(label=_("Send my daily digest by e-mail"), required=False)
    by_sms = forms.BooleanField(label=_("Send my daily digest by text message"), required=False)
    sms_number = forms.CharField(
        label=_("Mobile number for text messages"), max_length=40, required=False
    )
