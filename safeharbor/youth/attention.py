"""Rows that other apps add to the "needs attention today" pages, without the page's app
(``contact``) importing them.

An app registers a source in its ``AppConfig.ready()`` together with the kinds of row it makes.
The page asks each source for the youth in its scope (a worker's care team, or a supervisor's
agency); the page then checks each row against the policy for the category it names, pages,
names and audits them like its own rows. A source derives everything at read time from
timestamps, like the page's own rows, and costs a fixed number of queries for any scope.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from safeharbor.accounts.models import User

    from .models import Youth

# How urgent a row is, for the page's order (legal deadlines first, then tasks, then flags).
LEGAL_DEADLINE = 0
DEADLINE = 1
TASK = 2
FLAG = 3


@dataclass(frozen=True)
class Due:
    """One thing due for one youth, and where to act on it."""

    kind: str
    youth_id: uuid.UUID
    record_number: str
    due: datetime.datetime
    category: str  # the data category the row reveals (the page checks it)
    urgency: int
    # Lazy (``reverse_lazy``, ``gettext_lazy``): a source lists every row in scope, the page
    # shows fifty of them, and resolving a URL costs more than the rest of a row.
    action_url: StrOrPromise
    action_label: StrOrPromise


# The youth in scope, now, and the worker whose own page it is (None on a supervisor's page).
Source = Callable[["QuerySet[Youth]", datetime.datetime, "User | None"], list[Due]]
_sources: list[Source] = []
_kinds: dict[str, Any] = {}


def register(source: Source, kinds: Sequence[tuple[str, Any]]) -> None:
    """Add a source once (``ready()`` may run more than once in tests) and its kinds' labels."""
    if all(existing is not source for existing in _sources):
        _sources.append(source)
    _kinds.update(kinds)


def sources() -> list[Source]:
    return list(_sources)


def kinds() -> dict[str, Any]:
    """Every registered kind and its (lazy, translated) label."""
    return dict(_kinds)
