"""What the contact app does when another capability announces something (``youth.signals``)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from .models import MissingEpisode
from .services import return_screening_record

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth


def screening_after_return(
    *, actor: User, youth: Youth, completed_at: datetime.datetime, **_kwargs: Any
) -> None:
    """A screening completed after a return meets that return's 24-hour screen, with no second
    entry by hand."""
    waiting = MissingEpisode.objects.filter(
        youth=youth, ended_at__isnull=False, ended_at__lte=completed_at, return_screening_at=None
    ).select_related("youth")
    for episode in waiting:
        return_screening_record(actor=actor, episode=episode, screened_at=completed_at)
