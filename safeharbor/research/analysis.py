"""Descriptive analysis, as pure functions over plain rows (no database here).

The selectors load the rows once (withdrawn participants already left out) and hand them to
these functions: counts per code with descendants (broken down by any participant attribute),
participants x codes matrix, co-occurrence, saturation (Guest, Namey & Chen 2020), intercoder
agreement and word frequencies.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import NamedTuple

from .stopwords import STOP_WORDS


class CodeRow(NamedTuple):
    id: int
    parent_id: int | None
    name: str
    level: str
    color: str


class CodingRow(NamedTuple):
    """One code on one segment (a named tuple: the analysis builds thousands of them)."""

    segment_id: int
    code_id: int
    transcript_id: int
    participant_id: int
    coder_id: int
    start: int
    end: int


class ParticipantRow(NamedTuple):
    id: int
    code: str
    role: str
    interviewed_on: object = None  # a date, for the saturation order


def descendants(codes: Sequence[CodeRow]) -> dict[int, set[int]]:
    """For each code: itself and every code below it."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for code in codes:
        children[code.parent_id].append(code.id)
    result: dict[int, set[int]] = {}
    for code in codes:
        found = {code.id}
        stack = list(children.get(code.id, []))
        while stack:
            pk = stack.pop()
            if pk not in found:
                found.add(pk)
                stack.extend(children.get(pk, []))
        result[code.id] = found
    return result


def ancestors_or_self(codes: Sequence[CodeRow]) -> dict[int, list[int]]:
    parent = {code.id: code.parent_id for code in codes}
    result: dict[int, list[int]] = {}
    for code in codes:
        chain = [code.id]
        seen = {code.id}
        up = parent.get(code.id)
        while up is not None and up not in seen:
            chain.append(up)
            seen.add(up)
            up = parent.get(up)
        result[code.id] = chain
    return result


def tree_order(codes: Sequence[CodeRow]) -> list[tuple[CodeRow, int]]:
    """Codes depth first (in the given sibling order), with their depth."""
    children: dict[int | None, list[CodeRow]] = defaultdict(list)
    for code in codes:
        children[code.parent_id].append(code)
    ordered: list[tuple[CodeRow, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for code in children.get(parent, []):
            ordered.append((code, depth))
            walk(code.id, depth + 1)

    walk(None, 0)
    return ordered


@dataclass
class CodeCount:
    code: CodeRow
    depth: int
    segments: int
    participants: int
    percent: float
    by_role: dict[str, int]


def code_counts(
    codes: Sequence[CodeRow],
    codings: Sequence[CodingRow],
    participants: Sequence[ParticipantRow],
) -> list[CodeCount]:
    """Segments and participants per code, counting each code's descendants, in tree order.
    Percent is of the participants given (those with a transcript, not withdrawn)."""
    up = ancestors_or_self(codes)
    segments: dict[int, set[int]] = defaultdict(set)
    people: dict[int, set[int]] = defaultdict(set)
    for row in codings:
        for code_id in up.get(row.code_id, [row.code_id]):
            segments[code_id].add(row.segment_id)
            people[code_id].add(row.participant_id)
    role_of = {p.id: p.role for p in participants}
    total = len(participants)
    result = []
    for code, depth in tree_order(codes):
        who = people.get(code.id, set()) & set(role_of)
        by_role = Counter(role_of[pid] for pid in who)
        result.append(
            CodeCount(
                code=code,
                depth=depth,
                segments=len(segments.get(code.id, ())),
                participants=len(who),
                percent=round(100 * len(who) / total, 1) if total else 0.0,
                by_role=dict(by_role),
            )
        )
    return result


@dataclass
class Breakdown:
    """Participants per code, split by one participant attribute: ``groups`` are the attribute's
    values in order with how many participants have each; ``cells[code id][value]`` is how many
    of them the code (or a code under it) was applied to."""

    groups: list[tuple[str, int]]
    cells: dict[int, dict[str, int]]


def breakdown(
    codes: Sequence[CodeRow],
    codings: Sequence[CodingRow],
    participants: Sequence[ParticipantRow],
    group_of: Mapping[int, str],
    order: Sequence[str] = (),
) -> Breakdown:
    """Each code's participants by the group ``group_of`` gives each participant (every
    participant given is in some group; the caller names one for a missing value). Groups come
    in ``order``, then any others alphabetically; groups with no participant are left out."""
    up = ancestors_or_self(codes)
    wanted = {p.id for p in participants}
    people: dict[int, set[int]] = defaultdict(set)
    for row in codings:
        if row.participant_id in wanted:
            for code_id in up.get(row.code_id, [row.code_id]):
                people[code_id].add(row.participant_id)
    sizes = Counter(group_of[p.id] for p in participants)
    ranked = {value: index for index, value in enumerate(order)}
    groups = sorted(sizes, key=lambda v: (ranked.get(v, len(ranked)), v))
    cells = {
        code.id: dict(Counter(group_of[pid] for pid in people.get(code.id, ()))) for code in codes
    }
    return Breakdown([(value, sizes[value]) for value in groups], cells)


def matrix(
    codes: Sequence[CodeRow],
    codings: Sequence[CodingRow],
    participants: Sequence[ParticipantRow],
) -> dict[tuple[int, int], int]:
    """(participant id, code id) -> number of segments, a code counting its descendants."""
    up = ancestors_or_self(codes)
    cells: dict[tuple[int, int], set[int]] = defaultdict(set)
    wanted = {p.id for p in participants}
    for row in codings:
        if row.participant_id not in wanted:
            continue
        for code_id in up.get(row.code_id, [row.code_id]):
            cells[(row.participant_id, code_id)].add(row.segment_id)
    return {key: len(value) for key, value in cells.items()}


def co_occurrence(codings: Sequence[CodingRow]) -> Counter[tuple[int, int]]:
    """Pairs of codes (lower id first) that occur on one segment or on overlapping segments of
    the same transcript: each pair counted once per overlapping pair of segments."""
    by_segment: dict[int, tuple[int, int, int, set[int]]] = {}
    for row in codings:
        entry = by_segment.setdefault(
            row.segment_id, (row.transcript_id, row.start, row.end, set())
        )
        entry[3].add(row.code_id)
    pairs: Counter[tuple[int, int]] = Counter()
    by_transcript: dict[int, list[tuple[int, int, set[int]]]] = defaultdict(list)
    for transcript_id, start, end, codes in by_segment.values():
        for a, b in combinations(sorted(codes), 2):
            pairs[(a, b)] += 1
        by_transcript[transcript_id].append((start, end, codes))
    for segments in by_transcript.values():
        segments.sort(key=lambda s: (s[0], s[1]))
        for index, (_start, end, codes) in enumerate(segments):
            for other_start, _other_end, other_codes in segments[index + 1 :]:
                if other_start >= end:
                    break
                for a in codes:
                    for b in other_codes:
                        if a != b:
                            pairs[(min(a, b), max(a, b))] += 1
    return pairs


@dataclass
class SaturationStep:
    index: int  # 1-based interview number in order
    participant_code: str
    new_codes: int
    cumulative: int
    run_ratio_percent: float | None = None  # ratio for the run ending here


@dataclass
class Saturation:
    base_size: int
    run_length: int
    threshold_percent: float
    steps: list[SaturationStep] = field(default_factory=list)
    base_codes: int = 0
    reached_at: int | None = None  # interview number where the first qualifying run ends
    enough_interviews: bool = False


def saturation(
    codes_per_interview: Sequence[tuple[str, set[int]]],
    *,
    base_size: int = 4,
    run_length: int = 2,
    threshold_percent: float = 5.0,
) -> Saturation:
    """Guest, Namey & Chen (2020): the base is the number of unique codes in the first
    ``base_size`` interviews; a run is the next ``run_length`` interviews; the new-information
    ratio is the codes first seen in the run over the base's codes. Saturation is reached at
    the end of the first run whose ratio is at most the threshold. Runs roll forward one
    interview at a time."""
    result = Saturation(base_size, run_length, threshold_percent)
    seen: set[int] = set()
    first_seen_at: list[int] = []
    for index, (participant_code, codes) in enumerate(codes_per_interview, start=1):
        new = codes - seen
        seen |= codes
        first_seen_at.append(len(new))
        result.steps.append(SaturationStep(index, participant_code, len(new), len(seen)))
    if len(codes_per_interview) < base_size + run_length:
        return result
    result.enough_interviews = True
    base = set().union(*(codes for _c, codes in codes_per_interview[:base_size]))
    result.base_codes = len(base)
    if not base:
        return result
    for run_end in range(base_size + run_length, len(codes_per_interview) + 1):
        run_new = sum(first_seen_at[run_end - run_length : run_end])
        ratio = round(100 * run_new / len(base), 1)
        result.steps[run_end - 1].run_ratio_percent = ratio
        if result.reached_at is None and ratio <= threshold_percent:
            result.reached_at = run_end
    return result


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Cohen's kappa for two coders' labels of the same units; None when undefined
    (no units, or chance agreement is 1: both coders gave one and the same label throughout)."""
    if len(a) != len(b) or not a:
        return None
    n = len(a)
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in set(count_a) | set(count_b)) / (n * n)
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


def percent_agreement(a: Sequence[int], b: Sequence[int]) -> float | None:
    if len(a) != len(b) or not a:
        return None
    return 100 * sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def krippendorff_alpha(data: Sequence[Sequence[int]]) -> float | None:
    """Nominal alpha for coders x units (the ``krippendorff`` package); None when undefined."""
    import krippendorff
    import numpy as np

    if not data or not data[0]:
        return None
    values = {v for row in data for v in row}
    if len(values) < 2:
        return None
    alpha = krippendorff.alpha(
        reliability_data=np.array(data, dtype=float), level_of_measurement="nominal"
    )
    return None if math.isnan(alpha) else float(alpha)


@dataclass
class AgreementRow:
    code: CodeRow
    units: int
    percent: float | None
    kappa: float | None
    alpha: float | None


@dataclass
class Disagreement:
    participant_code: str
    code: CodeRow
    applied_by: list[int]
    not_applied_by: list[int]


@dataclass
class Agreement:
    unit: str
    coders: list[int]
    participants: list[str]
    overall_percent: float | None = None
    overall_kappa: float | None = None
    overall_alpha: float | None = None
    per_code: list[AgreementRow] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)


def agreement(
    codes: Sequence[CodeRow],
    codings: Sequence[CodingRow],
    participants: Sequence[ParticipantRow],
) -> Agreement | None:
    """Agreement on participant x code presence: for each participant coded by every coder,
    and each code, whether each coder applied the code (or one of its descendants) anywhere in
    that participant's transcripts. Needs at least two coders who coded the same participant.
    Kappa is given when there are exactly two coders."""
    up = ancestors_or_self(codes)
    coded_by: dict[int, set[int]] = defaultdict(set)  # participant -> coders
    present: set[tuple[int, int, int]] = set()  # (coder, participant, code)
    for row in codings:
        coded_by[row.participant_id].add(row.coder_id)
        for code_id in up.get(row.code_id, [row.code_id]):
            present.add((row.coder_id, row.participant_id, code_id))
    coders = sorted({row.coder_id for row in codings})
    if len(coders) < 2:
        return None
    shared = [p for p in participants if coded_by.get(p.id, set()) >= set(coders)]
    if not shared:
        return None
    result = Agreement(
        unit="participant x code presence",
        coders=coders,
        participants=[p.code for p in shared],
    )
    all_rows: list[list[int]] = [[] for _ in coders]
    for code, _depth in tree_order(codes):
        rows = [[int((c, p.id, code.id) in present) for p in shared] for c in coders]
        for i, coder_row in enumerate(rows):
            all_rows[i].extend(coder_row)
        result.per_code.append(
            AgreementRow(
                code=code,
                units=len(shared),
                percent=_pairwise_percent(rows),
                kappa=cohen_kappa(rows[0], rows[1]) if len(coders) == 2 else None,
                alpha=krippendorff_alpha(rows),
            )
        )
        for index, p in enumerate(shared):
            column = [row[index] for row in rows]
            if len(set(column)) > 1:
                result.disagreements.append(
                    Disagreement(
                        participant_code=p.code,
                        code=code,
                        applied_by=[c for c, v in zip(coders, column, strict=True) if v],
                        not_applied_by=[c for c, v in zip(coders, column, strict=True) if not v],
                    )
                )
    result.overall_percent = _pairwise_percent(all_rows)
    result.overall_kappa = cohen_kappa(all_rows[0], all_rows[1]) if len(coders) == 2 else None
    result.overall_alpha = krippendorff_alpha(all_rows)
    return result


def _pairwise_percent(rows: Sequence[Sequence[int]]) -> float | None:
    """Mean percent agreement over every pair of coders."""
    values = [percent_agreement(a, b) for a, b in combinations(rows, 2)]
    measured = [v for v in values if v is not None]
    return round(sum(measured) / len(measured), 1) if measured else None


def quote(text: str, start: int, end: int) -> str:
    return text[start:end]


# --------------------------------------------------------------------------- word frequency

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_PLACEHOLDER = re.compile(r"\[[A-Z]+ \d+\]")
_TIMESTAMP = re.compile(r"^\s*\[\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\]\s*")
_LABEL = re.compile(r"^([^\s:\[][^:\n]{0,40}):\s")
INTERVIEWER_LABELS = frozenset(
    {"interviewer", "entrevistador", "entrevistadora", "facilitator", "moderator", "i", "q", "int"}
)


def _speech(line: str, interviewer: Collection[str]) -> str | None:
    """The words of one transcript line without its timestamp and speaker label; None for a
    line spoken by the interviewer (a label in ``interviewer``, compared in lower case)."""
    line = _TIMESTAMP.sub("", line)
    match = _LABEL.match(line)
    if match and len(match.group(1).split()) <= 4:
        if match.group(1).strip().casefold() in interviewer:
            return None
        line = line[match.end() :]
    return line


def words_of(text: str, *, interviewer: Collection[str] | None = None) -> list[str]:
    """The countable words of a text, in lower case: no timestamps, speaker labels or
    redaction placeholders, no stop words (English and Spanish), no one-letter words; lines
    spoken by the interviewer left out when ``interviewer`` names their labels."""
    words: list[str] = []
    for line in text.split("\n"):
        spoken = _speech(line, interviewer or ())
        if spoken is None:
            continue
        spoken = _PLACEHOLDER.sub(" ", spoken)
        for match in _TOKEN.finditer(spoken):
            word = match.group().casefold().replace("’", "'")
            if len(word) > 1 and word not in STOP_WORDS:
                words.append(word)
    return words


def stitch(pieces: Iterable[tuple[int, int, str]]) -> list[str]:
    """The text under a set of (start, end, words) stretches of one transcript, overlapping
    stretches joined so that no word is read twice (two coders coding one passage)."""
    merged: list[tuple[int, int, str]] = []
    for start, end, words in sorted(pieces, key=lambda p: (p[0], p[1])):
        if merged and start <= merged[-1][1]:
            m_start, m_end, m_words = merged[-1]
            if end > m_end:
                m_words += words[m_end - start :]
                m_end = end
            merged[-1] = (m_start, m_end, m_words)
        else:
            merged.append((start, end, words))
    return [words for _start, _end, words in merged]


class WordCount(NamedTuple):
    word: str
    times: int
    participants: int


@dataclass
class WordFrequency:
    words: list[WordCount]
    total_words: int
    distinct_words: int
    participants: int


def word_frequency(
    texts: Iterable[tuple[int, str]],
    *,
    top: int = 50,
    interviewer: Collection[str] | None = None,
) -> WordFrequency:
    """The ``top`` most frequent words over (participant id, text) pairs, with how many
    participants used each; ties in alphabetical order."""
    counts: Counter[str] = Counter()
    users: dict[str, set[int]] = defaultdict(set)
    people: set[int] = set()
    for participant_id, text in texts:
        people.add(participant_id)
        for word in words_of(text, interviewer=interviewer):
            counts[word] += 1
            users[word].add(participant_id)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: max(0, top)]
    return WordFrequency(
        words=[WordCount(word, n, len(users[word])) for word, n in ranked],
        total_words=sum(counts.values()),
        distinct_words=len(counts),
        participants=len(people),
    )
