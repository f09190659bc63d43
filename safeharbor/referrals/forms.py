"""Input shape for the referral pages; the rules live in ``services`` and ``workflow``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import NEED_CHOICES, Outcome, Priority, Status
from .models import MAX_REASON
from .services import MAX_CALLBACK, MAX_NOTE


class ServiceSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the directory"),
        required=False,
        max_length=200,
        help_text=_("A service, an organisation or what the youth needs, e.g. “shelter”."),
    )
    need = forms.ChoiceField(
        label=_("Need"), required=False, choices=[("", _("Any need")), *NEED_CHOICES]
    )


class ReferralForm(forms.Form):
    need = forms.ChoiceField(label=_("What the youth needs"), choices=NEED_CHOICES)
    priority = forms.ChoiceField(
        label=_("How urgent"),
        choices=Priority.choices,
        initial=Priority.ROUTINE,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note for the service"),
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The service sees this note only while the youth's consent lets its agency see "
            "referrals. Without that consent, leave out names and anything that identifies "
            "the youth."
        ),
    )
    callback = forms.CharField(
        label=_("How the service reaches you"),
        max_length=MAX_CALLBACK,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Your name, agency and work phone or e-mail. Never the youth's details."),
    )


class MoveForm(forms.Form):
    """Move a referral to one of the statuses the reader may choose (given by the view)."""

    status = forms.ChoiceField(label=_("New status"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=MAX_REASON,
        help_text=_("Required when declining, putting on hold, cancelling or when it failed."),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("No outcome yet")), *Outcome.choices],
        help_text=_("Required to close the referral (completed, declined, cancelled, failed)."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, moves: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = set(moves)
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)  # noqa: S101  (declared above)
        status_field.choices = [(v, label) for v, label in Status.choices if v in allowed]
