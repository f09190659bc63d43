"""The redaction helper, as pure functions (no database here): it finds the words in a
transcript that may identify someone, and it replaces the stretches a researcher confirmed with
placeholders while keeping every coded segment pointing at the same words.

Finding is a suggestion, never a decision: the researcher confirms or rejects each one. What
it looks for:

- e-mail addresses (a pattern) and phone numbers (Google's libphonenumber, through the
  ``phonenumbers`` package, read as United States numbers at its "possible" leniency, so that
  (555) 123-4567 counts, an invented number like those in our synthetic data);
- places: street addresses (a number, capitalised words and Street, Ave, Road and the like)
  and capitalised names followed by County, City, Parish, Township or Borough ("City of X"
  too);
- agencies: capitalised phrases ending in Department, Agency, Services, Police, Sheriff,
  Office, Clinic, Center, Shelter, Hospital and the like, or starting with "Department of" (or
  the Spanish "Centro de", "Clínica", ...);
- people: a capitalised word after a title (Officer, Det., Dr., Ms., Sra., ...); speaker labels
  that are not "Interviewer" or a participant code; the study team's names; runs of capitalised
  words that do not start a sentence; and, once any of these is found, its other occurrences
  (a name found mid-sentence is also found where it starts one), its parts included;
- anything already in the study's redaction key, and strings the researcher adds by hand.

Overlaps are settled by the order above (a hand-added string first, then e-mail, phone, known
key, address, agency, place, title, speaker, team, capitalised words, repeats; longer first).

Replacing: ``EditPlan`` holds non-overlapping edits and maps old offsets to new ones. A segment
boundary outside every edit moves by the change in length before it; a boundary that falls
strictly inside a replaced stretch snaps outwards, to the start of the placeholder for a start
and to its end for an end, so that a segment never holds half a placeholder and never becomes
empty.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from safeharbor.core.crypto import blind_index

from .choices import PLACEHOLDER_WORDS, RedactionKind
from .stopwords import ENGLISH, SPANISH

MAX_SUGGESTIONS = 1000
MAX_ORIGINAL_LENGTH = 300

# Why a stretch was suggested (the page translates these).
ADDED = "added"
EMAIL = "email"
PHONE = "phone"
KNOWN = "known"
ADDRESS = "address"
AGENCY = "agency"
PLACE = "place"
TITLE = "title"
SPEAKER = "speaker"
TEAM = "team"
CAPITALISED = "capitalised"
REPEAT = "repeat"
_PRIORITY = {
    reason: rank
    for rank, reason in enumerate(
        [
            ADDED,
            EMAIL,
            PHONE,
            KNOWN,
            ADDRESS,
            AGENCY,
            PLACE,
            TITLE,
            SPEAKER,
            TEAM,
            CAPITALISED,
            REPEAT,
        ]
    )
}

_WORD = r"[^\W\d_]+(?:['’][^\W\d_]+)*"
_CAP = r"(?:[^\W\d_a-z](?:[^\W\d_]|['’-](?=[^\W\d_]))*)"  # a word that starts with a capital
_WORD_RE = re.compile(_WORD)
_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_PLACEHOLDER_RE = re.compile(r"\[(?:" + "|".join(PLACEHOLDER_WORDS.values()) + r") \d+\]")
_TIMESTAMP = r"\[\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\]"
_SPEAKER_RE = re.compile(r"^(?:" + _TIMESTAMP + r"\s*)?([^\s:\[][^:\n]{0,60}):(?=\s)", re.MULTILINE)
_STREET_WORDS = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|"
    "Highway|Hwy|Parkway|Pkwy|Terrace|Circle|Cir|Trail|Square|Sq|Alley|Plaza"
)
_ADDRESS_RE = re.compile(
    r"(?<![\w-])\d{1,6}(?:-\d{1,4})?\s+(?:[NSEW]\.?\s+)?"
    r"(?:(?:" + _CAP + r"|\d+(?:st|nd|rd|th))\s+){1,4}"
    r"(?:" + _STREET_WORDS + r")\b"
)
_PLACE_SUFFIX_RE = re.compile(
    r"(?<![\w-])(?:" + _CAP + r"\s+){1,3}(?:County|City|Parish|Township|Borough)\b"
)
_PLACE_PREFIX_RE = re.compile(
    r"\b(?:City|County|Town|Village|Condado|Ciudad) (?:of|de) (?:"
    + _CAP
    + r")(?: "
    + _CAP
    + r"){0,2}"
)
_TITLES = (
    r"Officer|Detective|Det\.|Sergeant|Sgt\.|Lieutenant|Lt\.|Captain|Capt\.|Deputy|Agent|"
    r"Trooper|Sheriff|Chief|Judge|Justice|Doctor|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|Mx\.?|Miss|Nurse|"
    r"Pastor|Father|Sister|Reverend|Rev\.|Coach|Principal|Professor|Prof\.|Counselor|"
    r"Counsellor|Caseworker|Sr\.|Sra\.|Srta\.|Dra\.|Doña|Oficial|Licenciado|Licenciada|Lic\.|"
    r"Maestra|Maestro|Padre|Madre|Hermana|Hermano"
)
_TITLE_RE = re.compile(r"(?<![\w.])(?:" + _TITLES + r")\s+(" + _CAP + r"(?:\s+" + _CAP + r")?)")
_AGENCY_TAILS = (
    "Department|Dept|Agency|Services|Service|Police|Sheriff|Sheriff's Office|Sheriff’s Office|"
    "Office|Clinic|Center|Centre|Shelter|Hospital|Court|Program|Programme|Project|Foundation|"
    "Coalition|Alliance|Network|Bureau|Division|Unit|Task Force|Ministry|Ministries|Academy|"
    "School|College|University|House|Church|Mission|Outreach|Institute|Commission|Council|"
    "Authority|Patrol|Probation|Corrections|Hotline|Society|Association|Partnership|Team"
)
_AGENCY_HEADS = (
    "Department|Office|Bureau|Division|Ministry|Agency|Administration|Commission|Council|"
    "Departamento|Centro|Clínica|Servicios|Oficina|Agencia|Policía|Hospital|Fundación|"
    "Refugio|Albergue|Programa|Ministerio|Casa"
)
_CONNECTORS = {"of", "for", "and", "&", "the", "on", "de", "del", "la", "las", "los", "y", "el"}
_TAIL_RE = re.compile(r"\b(?:" + _AGENCY_TAILS + r")\b")
_HEAD_RE = re.compile(r"\b(?:" + _AGENCY_HEADS + r")\b")
_GENERIC_SPEAKERS = {
    "interviewer",
    "interviewee",
    "participant",
    "respondent",
    "facilitator",
    "moderator",
    "researcher",
    "speaker",
    "unknown",
    "entrevistador",
    "entrevistadora",
    "entrevistado",
    "entrevistada",
    "participante",
    "investigador",
    "investigadora",
    "note",
    "nota",
}
_GENERIC_SPEAKER_RE = re.compile(
    r"^(?:(?:speaker|participant|interviewer|hablante|participante)\s*\d*|[A-Z]{1,2}\d*|[A-Z]?\d+)$",
    re.IGNORECASE,
)
_MONTHS_AND_DAYS = """
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday enero febrero marzo abril mayo junio
julio agosto septiembre setiembre octubre noviembre diciembre lunes martes miércoles jueves
viernes sábado domingo
"""
# Capitalised words that identify nobody: days, months, languages, greetings, kin words.
_NOT_NAMES = (
    ENGLISH
    | SPANISH
    | set(_MONTHS_AND_DAYS.split())
    | set(
        """
        god okay ok english spanish español inglés internet mom dad mum mama papa mamá papá
        ma'am sir hi hello hey yeah yes thanks thank um uh well so oh like just anyway also
        interviewer participant speaker facilitator moderator entrevistador entrevistadora
        participante youth kids kid teen teens covid
        """.split()
    )
)
_PLACE_AND_AGENCY_WORDS = {
    w.casefold()
    for w in re.split(r"[|\s]+", _AGENCY_TAILS + "|" + _AGENCY_HEADS + "|" + _STREET_WORDS)
    + ["County", "City", "Parish", "Township", "Borough"]
    if w
}
_TITLE_WORDS = {w.rstrip(".\\").casefold() for w in _TITLES.split("|")}
_SENTENCE_END = set(".!?…:;")
_OPENERS = set("\"“‘'(¿¡«-–—")


@dataclass(frozen=True)
class Suggestion:
    start: int
    end: int
    kind: str
    text: str
    reason: str


def _whole_word(text: str) -> str:
    """A pattern for ``text`` as a whole word (no word character just before or after)."""
    return r"(?<!\w)" + re.escape(text) + r"(?!\w)"


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


def _at_sentence_start(text: str, position: int) -> bool:
    """Whether the word at ``position`` starts a line, a sentence or a speaker's turn."""
    i = position - 1
    while i >= 0 and (text[i] in " \t" or text[i] in _OPENERS):
        i -= 1
    if i < 0 or text[i] == "\n" or text[i] in _SENTENCE_END:
        return True
    if text[i] == "]":  # a timestamp or a placeholder: both stand in for a sentence start
        return True
    return False


def _in_placeholder(
    text: str, start: int, end: int, placeholders: Sequence[tuple[int, int]]
) -> bool:
    index = bisect.bisect_right(placeholders, (start, len(text) + 1)) - 1
    if index >= 0 and placeholders[index][1] > start:
        return True
    return index + 1 < len(placeholders) and placeholders[index + 1][0] < end


def _emails(text: str) -> Iterable[Suggestion]:
    for match in _EMAIL_RE.finditer(text):
        yield Suggestion(match.start(), match.end(), RedactionKind.EMAIL, match.group(), EMAIL)


def _phones(text: str) -> Iterable[Suggestion]:
    matcher = phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        yield Suggestion(match.start, match.end, RedactionKind.PHONE, match.raw_string, PHONE)


def _addresses(text: str) -> Iterable[Suggestion]:
    for match in _ADDRESS_RE.finditer(text):
        yield Suggestion(match.start(), match.end(), RedactionKind.PLACE, match.group(), ADDRESS)


def _trim_leading_function_words(start: int, words: str) -> tuple[int, str]:
    """Drop leading words such as "The" or "In" that a sentence start capitalised."""
    while True:
        head, _sep, rest = words.partition(" ")
        if not rest or head.casefold() not in _NOT_NAMES:
            return start, words
        offset = len(head) + 1
        while rest.startswith(" "):
            rest, offset = rest[1:], offset + 1
        start, words = start + offset, rest


def _places(text: str) -> Iterable[Suggestion]:
    for pattern in (_PLACE_SUFFIX_RE, _PLACE_PREFIX_RE):
        for match in pattern.finditer(text):
            start, words = _trim_leading_function_words(match.start(), match.group())
            if " " in words:
                yield Suggestion(start, start + len(words), RedactionKind.PLACE, words, PLACE)


def _agencies(text: str) -> Iterable[Suggestion]:
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[^\s,;:()\"“”]+", text)]
    starts = [t[0] for t in tokens]

    def word_at(position: int) -> int:
        return bisect.bisect_right(starts, position) - 1

    def capitalised(index: int) -> bool:
        word = tokens[index][2].rstrip(".")
        return bool(word) and (_is_capitalised(word) or (word.isupper() and len(word) > 1))

    def joined(index: int) -> bool:
        """Whether word ``index`` and the next are one space (or a few) apart, nothing else."""
        gap = text[tokens[index][1] : tokens[index + 1][0]]
        return gap.strip(" ") == "" and not tokens[index][2].endswith((".", "!", "?"))

    found: list[tuple[int, int]] = []
    for match in _TAIL_RE.finditer(text):
        first = word_at(match.start())
        i = first - 1
        while i >= 0 and joined(i):
            if capitalised(i) or tokens[i][2].casefold() in _CONNECTORS:
                i -= 1
                continue
            break
        i += 1
        while i < first and (tokens[i][2].casefold() in _CONNECTORS or not capitalised(i)):
            i += 1
        while (
            i < first
            and tokens[i][2].casefold() in _NOT_NAMES
            and _at_sentence_start(text, tokens[i][0])
        ):
            i += 1
        if i < first:
            found.append((tokens[i][0], match.end()))
    for match in _HEAD_RE.finditer(text):
        first = word_at(match.start())
        j = first + 1
        last = first
        while j < len(tokens) and joined(j - 1):
            if capitalised(j):
                last = j
            elif tokens[j][2].casefold() not in _CONNECTORS:
                break
            j += 1
        if last > first:
            found.append((match.start(), tokens[last][1]))
    for start, end in found:
        piece = text[start:end].rstrip(".")
        if not _is_capitalised(piece) and not piece[:2].isupper():
            continue
        yield Suggestion(start, start + len(piece), RedactionKind.AGENCY, piece, AGENCY)


def _titled_names(text: str) -> Iterable[Suggestion]:
    for match in _TITLE_RE.finditer(text):
        name = match.group(1)
        start = match.start(1)
        # "Officer Smith Said" is rare; "Dr. Lee In" rarer: keep the first word, drop the second
        # when it is a common word.
        first, _sep, second = name.partition(" ")
        if second and second.strip().casefold() in _NOT_NAMES:
            name = first
        if name.casefold() in _NOT_NAMES:
            continue
        yield Suggestion(start, start + len(name), RedactionKind.PERSON, name, TITLE)


def _speakers(text: str, generic: Collection[str]) -> Iterable[Suggestion]:
    generic_folded = {g.casefold() for g in generic}
    for match in _SPEAKER_RE.finditer(text):
        label = match.group(1).strip()
        folded = label.casefold()
        if (
            folded in _GENERIC_SPEAKERS
            or folded in generic_folded
            or _GENERIC_SPEAKER_RE.match(label)
        ):
            continue
        words = label.split()
        if not 1 <= len(words) <= 4 or not all(_is_capitalised(w) for w in words):
            continue
        start = match.start(1) + (len(match.group(1)) - len(match.group(1).lstrip()))
        yield Suggestion(start, start + len(label), RedactionKind.PERSON, label, SPEAKER)


def _literal(
    text: str, strings: Iterable[tuple[str, str]], reason: str, *, ignore_case: bool = False
) -> Iterable[Suggestion]:
    by_text: dict[str, str] = {}
    for string, kind in strings:
        string = string.strip()
        if string and len(string) <= MAX_ORIGINAL_LENGTH:
            by_text.setdefault(string, kind)
    if not by_text:
        return
    ordered = sorted(by_text, key=len, reverse=True)
    flags = re.IGNORECASE if ignore_case else 0
    pattern = re.compile("|".join(_whole_word(s) for s in ordered), flags)
    folded = {s.casefold(): k for s, k in by_text.items()}
    for match in pattern.finditer(text):
        found = match.group()
        kind = by_text.get(found) or folded.get(found.casefold(), RedactionKind.PERSON)
        yield Suggestion(match.start(), match.end(), kind, found, reason)


def _capitalised_runs(text: str) -> Iterable[Suggestion]:
    """Runs of one to three capitalised words (one space apart) that are not a sentence's
    first word, leaving out common words, titles and place or agency words."""
    run: list[re.Match[str]] = []

    def flush() -> Iterable[Suggestion]:
        words = list(run)
        run.clear()
        if words and _at_sentence_start(text, words[0].start()):
            words = words[1:]
        while words:
            chunk, words = words[:3], words[3:]
            start, end = chunk[0].start(), chunk[-1].end()
            yield Suggestion(start, end, RedactionKind.PERSON, text[start:end], CAPITALISED)

    for match in _WORD_RE.finditer(text):
        word = match.group()
        usable = (
            _is_capitalised(word)
            and len(word) > 1
            and word.casefold().replace("’", "'") not in _NOT_NAMES
            and word.casefold() not in _PLACE_AND_AGENCY_WORDS
            and word.casefold() not in _TITLE_WORDS
        )
        if usable and run and text[run[-1].end() : match.start()] == " ":
            run.append(match)
            continue
        yield from flush()
        if usable:
            run.append(match)
    yield from flush()


def _select(
    candidates: Iterable[Suggestion], placeholders: Sequence[tuple[int, int]], text: str
) -> list[Suggestion]:
    """The non-overlapping suggestions, stronger reasons and longer stretches first."""
    ordered = sorted(candidates, key=lambda s: (_PRIORITY[s.reason], -(s.end - s.start), s.start))
    taken_starts: list[int] = []
    taken: list[tuple[int, int]] = []
    chosen: list[Suggestion] = []
    for s in ordered:
        if s.end <= s.start or not s.text.strip() or s.end - s.start > MAX_ORIGINAL_LENGTH:
            continue
        if _in_placeholder(text, s.start, s.end, placeholders):
            continue
        index = bisect.bisect_right(taken_starts, s.start)
        if index > 0 and taken[index - 1][1] > s.start:
            continue
        if index < len(taken) and taken[index][0] < s.end:
            continue
        taken_starts.insert(index, s.start)
        taken.insert(index, (s.start, s.end))
        chosen.append(s)
    return sorted(chosen, key=lambda s: (s.start, s.end))


def suggest(
    text: str,
    *,
    known: Sequence[tuple[str, str]] = (),
    team_names: Sequence[str] = (),
    generic_speakers: Collection[str] = (),
    added: Sequence[tuple[str, str]] = (),
) -> list[Suggestion]:
    """Stretches of ``text`` that may identify someone, in text order, none overlapping.

    ``known``: (original, kind) already in the study's redaction key; ``team_names``: the study
    team's names; ``generic_speakers``: speaker labels that identify nobody (participant codes);
    ``added``: (string, kind) the researcher typed, found wherever they occur, in any case."""
    placeholders = [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
    first: list[Suggestion] = [
        *_literal(text, added, ADDED, ignore_case=True),
        *_emails(text),
        *_phones(text),
        *_literal(text, known, KNOWN),
        *_addresses(text),
        *_agencies(text),
        *_places(text),
        *_titled_names(text),
        *_speakers(text, generic_speakers),
        *_literal(text, ((n, RedactionKind.PERSON) for n in team_names), TEAM),
        *_capitalised_runs(text),
    ]
    chosen = _select(first, placeholders, text)
    # Repeats: a name found once is a name everywhere, its parts too (a surname alone).
    repeats: dict[str, str] = {}
    for s in chosen:
        if s.kind in (RedactionKind.PHONE, RedactionKind.EMAIL):
            continue
        repeats.setdefault(s.text, s.kind)
        if s.kind == RedactionKind.PERSON:
            for part in s.text.split():
                if len(part) > 2 and _is_capitalised(part) and part.casefold() not in _NOT_NAMES:
                    repeats.setdefault(part, s.kind)
    more = list(_literal(text, repeats.items(), REPEAT))
    return _select([*chosen, *more], placeholders, text)


def context(text: str, start: int, end: int, width: int = 60) -> tuple[str, str, str]:
    """The words before, the stretch itself, and the words after (line breaks shown as " / ")."""
    before = text[max(0, start - width) : start]
    after = text[end : end + width]
    if start - width > 0:
        before = "…" + before.split(" ", 1)[-1] if " " in before else "…" + before
    if end + width < len(text):
        after = after.rsplit(" ", 1)[0] + "…" if " " in after else after + "…"
    return before.replace("\n", " / "), text[start:end], after.replace("\n", " / ")


_PHONE_SHAPE = re.compile(r"^[\d\s().+\-/]*(?:(?:ext\.?|x|extension)\s*\d+)?$", re.IGNORECASE)
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalise(original: str) -> str:
    """The form two spellings of one original share: a phone number's digits (without the
    country code 1), an e-mail address in lower case, other words with single spaces (the
    keyed hash then ignores case and accents)."""
    stripped = original.strip()
    digits = re.sub(r"\D", "", stripped.split("x")[0].split("X")[0].split("ext")[0])
    if _PHONE_SHAPE.match(stripped) and 7 <= len(digits) <= 15:
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        return "tel:" + digits
    if _EMAIL_SHAPE.match(stripped):
        return "mailto:" + stripped.casefold()
    return " ".join(stripped.split())


def digest(study_id: int, original: str) -> str:
    """The keyed hash (``crypto.blind_index``) by which one original gets one placeholder
    across a study, found without decrypting the key table; the study's id is part of it, so
    that two studies' keys cannot be matched with each other."""
    return blind_index(f"research study {study_id} redaction", normalise(original))


def text_version(text: str) -> str:
    """A fingerprint of a transcript's text: the redaction form carries it, so that offsets
    read from one version of the text are never applied to another."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def is_placeholder_overlap(text: str, start: int, end: int) -> bool:
    """Whether [start, end) touches a placeholder already in the text."""
    placeholders = [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
    return _in_placeholder(text, start, end, placeholders)


# --------------------------------------------------------------------------- replacing


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    replacement: str


class EditPlan:
    """Non-overlapping replacements of [start, end) stretches of one text, with the mapping of
    old offsets to new ones for segments and the coding log."""

    def __init__(self, edits: Iterable[Edit]) -> None:
        ordered = sorted(edits, key=lambda e: (e.start, e.end))
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.start < a.end:
                raise ValueError("edits overlap")
        for edit in ordered:
            if edit.end <= edit.start or not edit.replacement:
                raise ValueError("an edit must replace something with something")
        self.edits = ordered
        self._ends = [e.end for e in ordered]
        self._shift = [0]
        for edit in ordered:
            self._shift.append(self._shift[-1] + len(edit.replacement) - (edit.end - edit.start))

    def apply(self, text: str) -> str:
        pieces: list[str] = []
        position = 0
        for edit in self.edits:
            pieces.append(text[position : edit.start])
            pieces.append(edit.replacement)
            position = edit.end
        pieces.append(text[position:])
        return "".join(pieces)

    def _locate(self, position: int) -> tuple[int, bool]:
        """How many edits end at or before ``position``, and whether it lies strictly inside
        the next one."""
        count = bisect.bisect_right(self._ends, position)
        inside = count < len(self.edits) and self.edits[count].start < position
        return count, inside

    def map_start(self, position: int) -> int:
        count, inside = self._locate(position)
        if inside:
            return self.edits[count].start + self._shift[count]
        return position + self._shift[count]

    def map_end(self, position: int) -> int:
        count, inside = self._locate(position)
        if inside:
            edit = self.edits[count]
            return edit.start + self._shift[count] + len(edit.replacement)
        return position + self._shift[count]

    def map_range(self, start: int, end: int) -> tuple[int, int]:
        return self.map_start(start), self.map_end(end)

    def touches(self, start: int, end: int) -> bool:
        """Whether [start, end) overlaps any edit (its words change)."""
        count = bisect.bisect_right(self._ends, start)
        return count < len(self.edits) and self.edits[count].start < end
