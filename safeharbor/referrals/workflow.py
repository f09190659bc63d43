"""Which status may follow which, and who may move a referral there.

The receiving service answers (received, accepted, declined, in progress, on hold, completed,
could not be carried out). The referring side sends, cancels and corrects; for a service that is
not on the platform the referring worker also records the service's answers, since nobody else
can. A referral closes only with an outcome; a reason is required wherever FHIR's closed-loop
guidance asks for one (declined, on hold, cancelled, failed) and for "entered in error".
"""

from __future__ import annotations

from enum import StrEnum

from .choices import Status

OPEN = frozenset(
    {Status.REQUESTED, Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD}
)
# Closed with an outcome the referring worker learns.
CLOSED = frozenset({Status.COMPLETED, Status.REJECTED, Status.CANCELLED, Status.FAILED})
TERMINAL = CLOSED | {Status.ENTERED_IN_ERROR}
NEEDS_REASON = frozenset(
    {Status.REJECTED, Status.ON_HOLD, Status.CANCELLED, Status.FAILED, Status.ENTERED_IN_ERROR}
)
NEEDS_OUTCOME = CLOSED
# Waiting for the service's first answer.
AWAITING_REPLY = frozenset({Status.REQUESTED, Status.RECEIVED})
# Taken on, not yet finished.
UNDER_WAY = frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD})


class Side(StrEnum):
    REFERRER = "referrer"
    RECEIVER = "receiver"


_RECEIVER_MOVES: dict[str, frozenset[str]] = {
    Status.REQUESTED: frozenset({Status.RECEIVED, Status.ACCEPTED, Status.REJECTED}),
    Status.RECEIVED: frozenset({Status.ACCEPTED, Status.REJECTED}),
    Status.ACCEPTED: frozenset(
        {Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED, Status.FAILED}
    ),
    Status.IN_PROGRESS: frozenset({Status.ON_HOLD, Status.COMPLETED, Status.FAILED}),
    Status.ON_HOLD: frozenset({Status.IN_PROGRESS, Status.COMPLETED, Status.FAILED}),
}


def _referrer_moves(status: str) -> frozenset[str]:
    if status == Status.DRAFT:
        return frozenset({Status.REQUESTED, Status.ENTERED_IN_ERROR})
    if status in OPEN:
        return frozenset({Status.CANCELLED, Status.ENTERED_IN_ERROR})
    return frozenset()


def allowed_moves(status: str, sides: frozenset[Side], *, on_platform: bool) -> frozenset[str]:
    """The statuses one may move a referral to from ``status``, given one's sides of it."""
    moves: set[str] = set()
    if Side.REFERRER in sides:
        moves |= _referrer_moves(status)
        if not on_platform:
            # Nobody at the service can answer here: the worker records what it said.
            moves |= _RECEIVER_MOVES.get(status, frozenset()) - {Status.RECEIVED}
    if Side.RECEIVER in sides and on_platform:
        moves |= _RECEIVER_MOVES.get(status, frozenset())
    return frozenset(moves)
