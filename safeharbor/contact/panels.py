"""The contact section of the youth page (registered in ``ContactConfig.ready``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from safeharbor.youth.panels import Action, Panel

from .selectors import youth_contact_summary

if TYPE_CHECKING:
    from safeharbor.access.policy import YouthAccess
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth


def youth_page_panel(
    actor: User, youth: Youth, access: YouthAccess, request: HttpRequest | None
) -> Panel | None:
    summary = youth_contact_summary(actor=actor, youth=youth, access=access, request=request)
    if summary is None:
        return None
    actions = []
    if summary.can_log:
        # First on the page and the first tap of the three it takes to log an attempt.
        actions.append(Action(reverse("contact:log", args=[youth.pk]), _("Log contact"), True))
    return Panel(
        template="contact/partials/_youth_panel.html",
        context={"s": summary},
        actions=tuple(actions),
    )
