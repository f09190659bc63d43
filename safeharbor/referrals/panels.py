"""The referrals section of the youth page (registered with ``youth.panels`` in ``apps.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from safeharbor.youth.panels import Action, Panel

from .selectors import youth_referrals

if TYPE_CHECKING:
    from safeharbor.access.policy import YouthAccess
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth


def youth_panel(
    actor: User, youth: Youth, access: YouthAccess, request: HttpRequest | None
) -> Panel | None:
    data = youth_referrals(actor=actor, youth=youth, access=access, request=request)
    if data is None:
        return None
    actions: tuple[Action, ...] = ()
    if data.can_refer:
        actions = (Action(reverse("referrals:new", args=[youth.pk]), _("Refer to a service")),)
    return Panel(
        template="referrals/partials/_youth_panel.html", context={"r": data}, actions=actions
    )
