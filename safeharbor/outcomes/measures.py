"""The outcome measures Safe Harbor ships (created by migration 0002; an agency may add its
own). Re-exploitation is three measures, so that revictimisation (exploited again by someone
new), relapse (back to the exploitative situation) and lapse (a brief return, then back out)
are never added together."""

from __future__ import annotations

from dataclasses import dataclass, field

from .choices import ChangeStage, MeasureKind


@dataclass(frozen=True)
class Shipped:
    code: str
    name: str
    kind: str
    description: str
    how_to_collect: str
    scale: tuple[int, int] | None = None
    stages: list[list[str]] = field(default_factory=list)
    higher_is_better: bool = True


_MONTHLY = "Record once a month, counting the events of that month."
SHIPPED = (
    Shipped(
        "placement_moves",
        "Placement moves",
        MeasureKind.COUNT,
        "Changes of placement (home, foster home, group home, shelter).",
        _MONTHLY,
        higher_is_better=False,
    ),
    Shipped(
        "missing_episodes",
        "Missing-from-care episodes",
        MeasureKind.COUNT,
        "Episodes of going missing from care. Where the contact log is used, effectiveness "
        "figures count its recorded episodes instead.",
        _MONTHLY,
        higher_is_better=False,
    ),
    Shipped(
        "revictimisation",
        "Revictimisation reported",
        MeasureKind.COUNT,
        "Exploited again, by a different person or in a different situation.",
        "Record each report when it is made, with its date.",
        higher_is_better=False,
    ),
    Shipped(
        "relapse",
        "Relapse reported",
        MeasureKind.COUNT,
        "Returned to the exploitative situation or person.",
        "Record each report when it is made, with its date.",
        higher_is_better=False,
    ),
    Shipped(
        "lapse",
        "Lapse reported",
        MeasureKind.COUNT,
        "A brief contact with or return to the exploitative situation, then back out.",
        "Record each report when it is made, with its date.",
        higher_is_better=False,
    ),
    Shipped(
        "school_enrolled",
        "Enrolled in school",
        MeasureKind.YES_NO,
        "Enrolled in school or an education program (1 yes, 0 no).",
        "Record at enrolment and at each review.",
    ),
    Shipped(
        "school_attendance",
        "School attendance",
        MeasureKind.SCALE,
        "Share of school days attended, in percent.",
        "From the school's attendance record, once a month.",
        scale=(0, 100),
    ),
    Shipped(
        "police_contacts",
        "Police contacts",
        MeasureKind.COUNT,
        "Contacts with police as a suspect (not as a victim or witness).",
        _MONTHLY,
        higher_is_better=False,
    ),
    Shipped(
        "arrests",
        "Arrests",
        MeasureKind.COUNT,
        "Arrests of the youth.",
        _MONTHLY,
        higher_is_better=False,
    ),
    Shipped(
        "stage_of_change",
        "Stage of change",
        MeasureKind.STAGE,
        "Readiness to leave exploitation, from pre-contemplation to maintenance.",
        "The worker's assessment with the youth, at enrolment and at each review.",
        stages=[[str(value), str(label)] for value, label in ChangeStage.choices],
    ),
    Shipped(
        "engagement",
        "Engagement",
        MeasureKind.COUNT,
        "Conversations with the youth (contact attempts that reached them) in a month.",
        "Where the contact log is used, effectiveness figures count its 'reached' attempts; "
        "otherwise record once a month.",
    ),
    Shipped(
        "program_completed",
        "Program completed",
        MeasureKind.YES_NO,
        "Completed the program's goals (1 yes, 0 no).",
        "Record at exit.",
    ),
)
