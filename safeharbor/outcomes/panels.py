"""The services-and-outcomes section of the youth page (registered with ``youth.panels`` in
``apps.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from safeharbor.youth.panels import Action, Panel

from .selectors import youth_outcomes

if TYPE_CHECKING:
    from safeharbor.access.policy import YouthAccess
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth


def youth_panel(
    actor: User, youth: Youth, access: YouthAccess, request: HttpRequest | None
) -> Panel | None:
    """Enrolments, recent services and latest outcomes; nothing where the policy withholds
    services. Recording is for those who may change the youth's services."""
    data = youth_outcomes(actor=actor, youth=youth, access=access, request=request)
    if data is None:
        return None
    actions: tuple[Action, ...] = ()
    if data.can_change:
        actions = (
            Action(reverse("outcomes:enrol", args=[youth.pk]), _("Enrol in a program")),
            Action(reverse("outcomes:service_new", args=[youth.pk]), _("Record a service")),
            Action(reverse("outcomes:observation_new", args=[youth.pk]), _("Record an outcome")),
        )
    return Panel(
        template="outcomes/partials/_youth_panel.html", context={"o": data}, actions=actions
    )
