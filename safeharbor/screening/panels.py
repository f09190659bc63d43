"""The screening section of the youth page (registered with ``youth.panels`` in ``apps.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from safeharbor.youth.panels import Action, Panel

from .selectors import youth_screening_history

if TYPE_CHECKING:
    from safeharbor.access.policy import YouthAccess
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth


def youth_panel(
    actor: User, youth: Youth, access: YouthAccess, request: HttpRequest | None
) -> Panel | None:
    """Timeline, chart and open deadlines; nothing where the policy withholds screening."""
    history = youth_screening_history(actor=actor, youth=youth, access=access)
    if history is None:
        return None
    actions: tuple[Action, ...] = ()
    if history.can_change:
        actions = (
            Action(url=reverse("screening:new", args=[youth.pk]), label=_("Start a screening")),
        )
    return Panel(
        template="screening/partials/_youth_panel.html",
        context={"history": history, "youth": youth},
        actions=actions,
    )
