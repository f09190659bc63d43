import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from safeharbor.access.choices import Category
from safeharbor.accounts.models import Agency, User
from safeharbor.core import clock

from .choices import GenderIdentity, Language, NoteKind, RaceEthnicity, SignerKind, TeamRole


class DateInput(forms.DateInput):
    input_type = "date"


class YouthForm(forms.Form):
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    preferred_name = forms.CharField(label=_("Preferred name"), max_length=100, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    gender_identity = forms.ChoiceField(
        label=_("Gender identity"), choices=[("", "—"), *GenderIdentity.choices], required=False
    )
    pronouns = forms.CharField(label=_("Pronouns"), max_length=40, required=False)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices)
    county = forms.CharField(label=_("County"), max_length=100)
    race_ethnicity = forms.MultipleChoiceField(
        label=_("Race / ethnicity (all that apply)"),
        choices=RaceEthnicity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm_not_duplicate = forms.BooleanField(
        label=_("I checked: this is not the same youth. Create a new record."), required=False
    )

    def clean_date_of_birth(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["date_of_birth"]
        if value > clock.today():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if value.year < 1990:
            raise forms.ValidationError(_("Enter a date of birth after 1990."))
        return value


class ConsentForm(forms.Form):
    signer_kind = forms.ChoiceField(label=_("Signed by"), choices=SignerKind.choices)
    signer_name = forms.CharField(label=_("Signer's name"), max_length=200)
    signer_is_suspected_exploiter = forms.BooleanField(
        label=_("The signer is suspected of exploiting this youth"), required=False
    )
    recipient_agency = forms.ModelChoiceField(label=_("Share with"), queryset=Agency.objects.all())
    categories = forms.MultipleChoiceField(
        label=_("Data categories to share"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=500)
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput)
    expires_on = forms.DateField(label=_("Expires on"), widget=DateInput)
    signed_form = forms.FileField(
        label=_("Signed form (PDF or image, up to 10 MB)"), required=False
    )

    def __init__(self, *args: Any, exclude_agency_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if exclude_agency_id is not None:
            field = self.fields["recipient_agency"]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (declared above)
            field.queryset = Agency.objects.exclude(pk=exclude_agency_id)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Why is the consent revoked?"), max_length=500)


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=NoteKind.choices)
    body = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 5}), max_length=20000
    )

    def __init__(self, *args: Any, kinds: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kinds is not None:
            field = self.fields["kind"]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101  (declared above)
            field.choices = [c for c in NoteKind.choices if c[0] in kinds]


class CareTeamForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Worker"), queryset=User.objects.none())
    team_role = forms.ChoiceField(label=_("Role on the team"), choices=TeamRole.choices)
    starts_on = forms.DateField(label=_("From"), widget=DateInput)
    ends_on = forms.DateField(label=_("Until (optional)"), widget=DateInput, required=False)

    def __init__(self, *args: Any, users: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (declared above)
        field.queryset = users

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The end date must be on or after the start date."))
        return data


class FindYouthForm(forms.Form):
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput)


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need this record now?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
