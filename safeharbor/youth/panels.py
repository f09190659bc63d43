"""Sections that other apps add to the youth page, without the youth app importing them.

An app registers a provider in its ``AppConfig.ready()``; the youth page asks each provider,
in order, for a panel. A provider gets the acting user, the youth, what the policy allows
(``YouthAccess``) and the request, and returns ``None`` when it has nothing to show. It reads
through its own selectors (policy-checked and audited), so the youth app stays one-way:
``contact -> youth``, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from safeharbor.access.policy import YouthAccess
    from safeharbor.accounts.models import User

    from .models import Youth


@dataclass(frozen=True)
class Action:
    """A button at the top of the youth page."""

    url: str
    label: str
    primary: bool = False


@dataclass(frozen=True)
class Panel:
    """A section of the youth page: a template with its own context, and buttons for the top."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()


PanelProvider = Callable[["User", "Youth", "YouthAccess", HttpRequest | None], Panel | None]
_providers: list[tuple[int, PanelProvider]] = []


def register(provider: PanelProvider, *, order: int = 100) -> None:
    """Add a provider once (``ready()`` may run more than once in tests)."""
    if all(existing is not provider for _order, existing in _providers):
        _providers.append((order, provider))
        _providers.sort(key=lambda item: item[0])


def panels_for(
    actor: User, youth: Youth, access: YouthAccess, request: HttpRequest | None
) -> list[Panel]:
    panels = []
    for _order, provider in _providers:
        panel = provider(actor, youth, access, request)
        if panel is not None:
            panels.append(panel)
    return panels
