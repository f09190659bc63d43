"""Directory forms: the search (public finder and workers' page) and provider upkeep."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import search, taxonomy
from .choices import Gender
from .models import Service
from .services import EDITABLE_FIELDS

LANGUAGES = [
    ("", _("Any language")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("zh", _("Chinese")),
    ("vi", _("Vietnamese")),
    ("tl", _("Tagalog")),
    ("ko", _("Korean")),
]
RADII = [
    ("5", _("5 miles")),
    ("10", _("10 miles")),
    ("25", _("25 miles")),
    ("50", _("50 miles")),
    ("100", _("100 miles")),
]


class SearchForm(forms.Form):
    """What someone is looking for. Every field is optional; the form is read from GET."""

    q = forms.CharField(label=_("What do you need?"), required=False, max_length=200)
    need = forms.ChoiceField(label=_("Kind of help"), required=False)
    zip = forms.CharField(
        label=_("ZIP code"),
        required=False,
        max_length=10,
        help_text=_("To sort by distance. Leave empty to search everywhere."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    radius = forms.ChoiceField(label=_("Within"), choices=RADII, required=False, initial="25")
    age = forms.IntegerField(label=_("Age"), required=False, min_value=0, max_value=120)
    gender = forms.ChoiceField(
        label=_("For"), required=False, choices=[("", _("Everyone"))] + list(Gender.choices)
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=LANGUAGES)
    open_now = forms.BooleanField(label=_("Open now"), required=False)
    free = forms.BooleanField(label=_("Free"), required=False)
    exploited_youth = forms.BooleanField(
        label=_("Specialised in supporting exploited youth"), required=False
    )
    capacity = forms.BooleanField(label=_("Has space now"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        need = self.fields["need"]
        assert isinstance(need, forms.ChoiceField)  # noqa: S101  (narrows the type)
        need.choices = [("", _("Any kind of help"))] + [
            (str(t.id), t.label) for t in taxonomy.NEED_TERMS
        ]

    def clean_zip(self) -> str:
        code = self.cleaned_data["zip"].strip()
        if code and search.zip_centroid(code) is None:
            raise forms.ValidationError(_("Enter a 5-digit US ZIP code, for example 94103."))
        return code

    def has_criteria(self) -> bool:
        """Whether anything was asked for (the distance alone is not a search)."""
        return any(
            (value := self.cleaned_data.get(name)) is not None
            and value != ""
            and value is not False
            for name in self.fields
            if name != "radius"
        )

    def criteria(self) -> search.Criteria:
        data = self.cleaned_data
        return search.Criteria(
            text=data.get("q") or "",
            need=uuid.UUID(data["need"]) if data.get("need") else None,
            age=data.get("age"),
            gender=data.get("gender") or "",
            language=data.get("language") or "",
            near=search.zip_centroid(data["zip"]) if data.get("zip") else None,
            radius_miles=float(data.get("radius") or search.DEFAULT_RADIUS_MILES),
            open_now=bool(data.get("open_now")),
            free=bool(data.get("free")),
            exploited_youth=bool(data.get("exploited_youth")),
            capacity=bool(data.get("capacity")),
        )


class ServiceForm(forms.ModelForm):
    """What an organisation's administrator may correct about their service."""

    class Meta:
        model = Service
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "name": forms.TextInput,
            "alternate_name": forms.TextInput,
            "url": forms.TextInput,
            "email": forms.TextInput,
            "wait_time": forms.TextInput,
            "description": forms.Textarea(attrs={"rows": 4}),
            "eligibility_description": forms.Textarea(attrs={"rows": 2}),
            "application_process": forms.Textarea(attrs={"rows": 2}),
            "fees_description": forms.Textarea(attrs={"rows": 2}),
            "interpretation_services": forms.Textarea(attrs={"rows": 2}),
            "alert": forms.Textarea(attrs={"rows": 2}),
        }


class CapacityForm(forms.Form):
    available = forms.IntegerField(label=_("Available now"), min_value=0, max_value=100000)
    maximum = forms.IntegerField(label=_("Maximum"), min_value=0, max_value=100000, required=False)
    unit = forms.CharField(
        label=_("Unit"), max_length=64, help_text=_("For example: beds, places, appointments.")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        available, maximum = data.get("available"), data.get("maximum")
        if available is not None and maximum is not None and available > maximum:
            self.add_error("available", _("Available cannot be more than the maximum."))
        return data
