"""The digest that binds a list event to the list of youth it named (``AuditListedYouth``)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

# ``object_id`` holds at most 64 characters: this prefix and 50 hex digits (200 bits) of SHA-256.
PREFIX = "youths-sha256:"
_DIGITS = 64 - len(PREFIX)


def listed_youth_digest(youth_ids: Iterable[uuid.UUID | str]) -> str:
    """The ``object_id`` of a list event: the digest of its youth ids, sorted, one per line."""
    canonical = "\n".join(sorted({_canonical_id(youth_id) for youth_id in youth_ids}))
    return PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()[:_DIGITS]


def _canonical_id(youth_id: uuid.UUID | str) -> str:
    """The hyphenated lower-case form; a UUID is already that (a list page passes 50 of them)."""
    return str(youth_id if isinstance(youth_id, uuid.UUID) else uuid.UUID(str(youth_id)))


def names_youth(object_id: str) -> bool:
    """Whether an event's ``object_id`` is such a digest, i.e. names a stored list of youth."""
    return object_id.startswith(PREFIX)
