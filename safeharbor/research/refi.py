"""REFI-QDA exchange: codebooks (.qdc, and our CSV) and projects (.qdpx).

Export is strict: UUID GUIDs, Unicode code-point offsets from 0 with exclusive ends, sources as
UTF-8 text with LF line ends and no byte-order mark, valid against the REFI-QDA 1.0 XSDs.
Import is lenient, because real exports differ from the spec (NVivo counts UTF-16 code units
over CRLF text, vendors differ in folder case, ATLAS.ti names the inner file after the project
and re-mints GUIDs): it detects what it can, and reports every assumption and everything it
dropped. Hostile files (malformed XML, entity tricks, zip bombs, paths that climb out of the
archive) raise ``ExchangeError`` with a sentence for the user.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, ParseError  # noqa: S405  (types only; parsing is defusedxml)

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.utils.translation import gettext as _

from .services import ImportedCode

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
ORIGIN = "Safe Harbor"
MAX_CODEBOOK_BYTES = 2 * 1024 * 1024
MAX_PROJECT_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_ENTRIES = 10000
_GUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
)
_SEGMENT_NS = uuid.UUID("8f1c1b9e-5d8a-4b8e-9a3c-2f6d1e7a4b10")
_CRITERIA = (
    ("inclusion_criteria", "Use when: "),
    ("exclusion_criteria", "Do not use when: "),
    ("example", "Example: "),
)


class ExchangeError(ValueError):
    """A file that cannot be imported; the message says why."""


# --------------------------------------------------------------------------- helpers


def _escape_cell(value: Any) -> Any:
    """Spreadsheet programs run cells that start with = + - @ as formulas: neutralise them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    risky = ("=", "+", "-", "@", "\t", "\r")
    writer.writerows(
        ["'" + v if v.__class__ is str and v.startswith(risky) else v for v in row] for row in rows
    )
    return buffer.getvalue().encode("utf-8")


def guid_text(value: Any) -> str:
    return str(value)


def segment_guid(transcript_guid: Any, coder_key: str, start: int, end: int) -> str:
    """A stable GUID for a selection, so repeated exports agree."""
    return str(uuid.uuid5(_SEGMENT_NS, f"{transcript_guid}:{coder_key}:{start}:{end}"))


def user_guid(username: str) -> str:
    return str(uuid.uuid5(_SEGMENT_NS, f"user:{username}"))


def note_guid(study_id: int, memo_id: int) -> str:
    """A stable GUID for a memo's note, so repeated exports agree."""
    return str(uuid.uuid5(_SEGMENT_NS, f"memo:{study_id}:{memo_id}"))


def _description(code: Any) -> str:
    parts = [code.description] if code.description else []
    for attr, label in _CRITERIA:
        value = getattr(code, attr)
        if value:
            parts.append(label + value)
    return "\n\n".join(parts)


def _split_description(text: str) -> dict[str, str]:
    """The inverse of _description: criteria paragraphs back into their fields."""
    fields: dict[str, list[str]] = {
        "description": [],
        "inclusion_criteria": [],
        "exclusion_criteria": [],
        "example": [],
    }
    for paragraph in (text or "").strip().split("\n\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        for attr, label in _CRITERIA:
            if paragraph.startswith(label):
                fields[attr].append(paragraph[len(label) :])
                break
        else:
            fields["description"].append(paragraph)
    return {k: "\n\n".join(v) for k, v in fields.items()}


# --------------------------------------------------------------------------- codebook export


def _code_element(
    maker: Any,
    code: Any,
    children: dict[int | None, list[Any]],
    notes: dict[int, list[str]] | None = None,
) -> Any:
    attrs = {
        "guid": guid_text(code.guid),
        "name": code.name,
        "isCodable": "true",
        "color": code.color,
    }
    parts = []
    description = _description(code)
    if description:
        parts.append(maker.Description(description))
    parts.extend(maker.NoteRef(targetGUID=guid) for guid in (notes or {}).get(code.pk, []))
    parts.extend(
        _code_element(maker, child, children, notes) for child in children.get(code.pk, [])
    )
    return maker.Code(*parts, **attrs)


def _children(codes: Sequence[Any]) -> dict[int | None, list[Any]]:
    children: dict[int | None, list[Any]] = {}
    for code in codes:
        children.setdefault(code.parent_id, []).append(code)
    return children


def codebook_qdc(codes: Sequence[Any]) -> bytes:
    from lxml import etree
    from lxml.builder import ElementMaker

    maker = ElementMaker(namespace=CODEBOOK_NS, nsmap={None: CODEBOOK_NS})
    children = _children(codes)
    root = maker.CodeBook(
        maker.Codes(*(_code_element(maker, c, children) for c in children.get(None, []))),
        origin=ORIGIN,
    )
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


CODEBOOK_CSV_HEADER = (
    "name",
    "parent",
    "level",
    "color",
    "description",
    "use_when",
    "do_not_use_when",
    "example",
    "guid",
    "segments",
)


def codebook_csv(entries: Sequence[Any]) -> bytes:
    """One row per code (tree order); ``parent`` names the parent code; ``segments`` is the
    number of segments coded directly (withdrawn participants left out)."""
    names = {e.code.pk: e.code.name for e in entries}
    return csv_bytes(
        CODEBOOK_CSV_HEADER,
        (
            (
                e.code.name,
                names.get(e.code.parent_id, ""),
                e.code.level,
                e.code.color,
                e.code.description,
                e.code.inclusion_criteria,
                e.code.exclusion_criteria,
                e.code.example,
                guid_text(e.code.guid),
                e.segments,
            )
            for e in entries
        ),
    )


# --------------------------------------------------------------------------- codebook import


@dataclass
class ImportReport:
    """What an import assumed and what it left out, for the user."""

    assumptions: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def assume(self, message: str) -> None:
        if message not in self.assumptions:
            self.assumptions.append(message)


def _parse_xml(raw: bytes, what: str) -> Element:
    try:
        root: Element = safe_fromstring(raw)
        return root
    except DefusedXmlException as exc:
        raise ExchangeError(
            _("%(what)s uses XML entities or a DTD, which are refused for safety.") % {"what": what}
        ) from exc
    except (ParseError, ValueError, SyntaxError) as exc:
        raise ExchangeError(
            _("%(what)s is not well-formed XML, so it cannot be read.") % {"what": what}
        ) from exc


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ns(tag: Any) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _kids(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _kid(element: Element, name: str) -> Element | None:
    found = _kids(element, name)
    return found[0] if found else None


def _clean_guid(value: str | None, report: ImportReport) -> str:
    value = (value or "").strip()
    if _GUID.match(value):
        return str(uuid.UUID(value.strip("{}")))
    report.assume(
        _(
            "Some GUIDs were not in the standard form (for example %(value)r); new GUIDs "
            "were given to those items."
        )
        % {"value": value[:40]}
    )
    return ""


def _codes_from(
    element: Element, report: ImportReport, keys: dict[str, ImportedCode]
) -> list[ImportedCode]:
    result = []
    for code_el in _kids(element, "Code"):
        name = (code_el.get("name") or "").strip()
        if not name:
            report.dropped.append(_("A code without a name (and the codes under it)."))
            continue
        description = _kid(code_el, "Description")
        split = _split_description(description.text or "" if description is not None else "")
        raw_guid = code_el.get("guid") or ""
        item = ImportedCode(
            name=name,
            guid=_clean_guid(raw_guid, report),
            key=raw_guid,
            color=code_el.get("color") or "",
            description=split["description"],
            inclusion_criteria=split["inclusion_criteria"],
            exclusion_criteria=split["exclusion_criteria"],
            example=split["example"],
        )
        if raw_guid:
            keys[raw_guid] = item
        item.note_keys = _note_refs(code_el)
        item.children = _codes_from(code_el, report, keys)
        result.append(item)
    return result


def read_qdc(raw: bytes) -> tuple[list[ImportedCode], ImportReport]:
    if len(raw) > MAX_CODEBOOK_BYTES:
        raise ExchangeError(_("The codebook is larger than 2 MB."))
    root = _parse_xml(raw, _("The codebook"))
    report = ImportReport()
    if _local(root.tag) != "CodeBook":
        raise ExchangeError(_("This is not a REFI-QDA codebook: its root element is not CodeBook."))
    if _ns(root.tag) != CODEBOOK_NS:
        report.assume(_("The codebook did not declare the REFI-QDA namespace; read it anyway."))
    codes_el = _kid(root, "Codes")
    codes = _codes_from(codes_el, report, {}) if codes_el is not None else []
    if not codes:
        raise ExchangeError(_("The codebook has no codes."))
    return codes, report


def read_codebook_csv(raw: bytes) -> tuple[list[ImportedCode], ImportReport]:
    if len(raw) > MAX_CODEBOOK_BYTES:
        raise ExchangeError(_("The codebook is larger than 2 MB."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExchangeError(_("The CSV file is not UTF-8 text.")) from exc
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise ExchangeError(_("The CSV file could not be read: %(e)s.") % {"e": exc}) from exc
    report = ImportReport()
    if not rows or "name" not in rows[0]:
        raise ExchangeError(_("The CSV file needs a header row with at least a 'name' column."))
    by_name: dict[str, ImportedCode] = {}
    top: list[ImportedCode] = []
    for number, row in enumerate(rows, start=2):
        name = (row.get("name") or "").strip()
        if not name:
            report.dropped.append(_("Row %(n)s: no name.") % {"n": number})
            continue
        item = ImportedCode(
            name=name,
            guid=_clean_guid(row.get("guid"), report) if row.get("guid") else "",
            color=(row.get("color") or "").strip(),
            description=row.get("description") or "",
            inclusion_criteria=row.get("use_when") or "",
            exclusion_criteria=row.get("do_not_use_when") or "",
            example=row.get("example") or "",
            level=(row.get("level") or "").strip()
            if row.get("level") in ("theme", "category", "code")
            else "",
        )
        parent = (row.get("parent") or "").strip()
        if parent and parent in by_name:
            by_name[parent].children.append(item)
        else:
            if parent:
                report.assume(
                    _(
                        "Row %(n)s names a parent (%(p)s) not listed above it; "
                        "it was put at the top."
                    )
                    % {"n": number, "p": parent}
                )
            top.append(item)
        by_name[name] = item
    if not top:
        raise ExchangeError(_("The codebook has no codes."))
    return top, report


def read_codebook(filename: str, raw: bytes) -> tuple[list[ImportedCode], ImportReport]:
    lower = filename.lower()
    if lower.endswith(".qdc") or lower.endswith(".xml"):
        return read_qdc(raw)
    if lower.endswith(".csv"):
        return read_codebook_csv(raw)
    raise ExchangeError(_("Import a codebook as .csv or REFI-QDA .qdc."))


# --------------------------------------------------------------------------- project export


@dataclass
class ExportSource:
    guid: str
    name: str
    text: str
    created: datetime.datetime
    selections: list[
        tuple[str, int, int, list[str], str, datetime.datetime]
    ]  # guid, s, e, code guids, user guid, when
    participant_code: str = ""
    note_guids: list[str] = field(default_factory=list)  # notes on the whole source
    selection_notes: dict[str, list[str]] = field(default_factory=dict)  # selection -> notes


@dataclass
class ExportNote:
    """A memo as a REFI-QDA note (its text inline)."""

    guid: str
    text: str
    user: str  # the author's user GUID
    created: datetime.datetime
    modified: datetime.datetime

    @property
    def name(self) -> str:
        first = xml_text(self.text).strip().split("\n", 1)[0]
        return first[:60]


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text that XML 1.0 can hold: LF line ends, no control characters."""
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def project_qde(
    *,
    name: str,
    codes: Sequence[Any],
    users: Sequence[tuple[str, str]],
    sources: Sequence[ExportSource],
    cases: Sequence[tuple[str, str, list[str], list[tuple[str, str, str]]]],
    variables: Sequence[tuple[str, str, str]],
    created: datetime.datetime,
    notes: Sequence[ExportNote] = (),
    code_notes: dict[int, list[str]] | None = None,
) -> bytes:
    """project.qde: users, codebook, variables, cases (participants), sources with selections,
    and the memos as notes, referenced (``NoteRef``) from their code, source or selection."""
    from lxml import etree
    from lxml.builder import ElementMaker

    maker = ElementMaker(namespace=PROJECT_NS, nsmap={None: PROJECT_NS})
    children = _children(codes)
    parts = []
    if users:
        parts.append(maker.Users(*(maker.User(guid=g, name=n) for g, n in users)))
    if codes:
        parts.append(
            maker.CodeBook(
                maker.Codes(
                    *(_code_element(maker, c, children, code_notes) for c in children.get(None, []))
                )
            )
        )
    if variables:
        parts.append(
            maker.Variables(
                *(maker.Variable(guid=g, name=n, typeOfVariable=t) for g, n, t in variables)
            )
        )
    if cases:
        case_elements = []
        for guid, case_name, source_guids, values in cases:
            value_elements = [
                maker.VariableValue(maker.VariableRef(targetGUID=vg), getattr(maker, kind)(value))
                for vg, kind, value in values
            ]
            case_elements.append(
                maker.Case(
                    *value_elements,
                    *(maker.SourceRef(targetGUID=s) for s in source_guids),
                    guid=guid,
                    name=case_name,
                )
            )
        parts.append(maker.Cases(*case_elements))
    if sources:
        source_elements = []
        for source in sources:
            selections = [
                maker.PlainTextSelection(
                    *(
                        maker.Coding(
                            maker.CodeRef(targetGUID=code_guid),
                            guid=str(uuid.uuid5(_SEGMENT_NS, f"{sel_guid}:{code_guid}")),
                            creatingUser=user,
                            creationDateTime=_iso(when),
                        )
                        for code_guid in code_guids
                    ),
                    *(
                        maker.NoteRef(targetGUID=note)
                        for note in source.selection_notes.get(sel_guid, [])
                    ),
                    guid=sel_guid,
                    name=source.text[start:end][:60],
                    startPosition=str(start),
                    endPosition=str(end),
                    creatingUser=user,
                    creationDateTime=_iso(when),
                )
                for sel_guid, start, end, code_guids, user, when in source.selections
            ]
            source_elements.append(
                maker.TextSource(
                    *selections,
                    *(maker.NoteRef(targetGUID=note) for note in source.note_guids),
                    guid=source.guid,
                    name=source.name,
                    plainTextPath=f"internal://{source.guid}.txt",
                    creationDateTime=_iso(source.created),
                )
            )
        parts.append(maker.Sources(*source_elements))
    if notes:
        parts.append(
            maker.Notes(
                *(
                    maker.Note(
                        maker.PlainTextContent(xml_text(note.text)),
                        guid=note.guid,
                        name=note.name,
                        creatingUser=note.user,
                        creationDateTime=_iso(note.created),
                        modifiedDateTime=_iso(note.modified),
                    )
                    for note in notes
                )
            )
        )
    root = maker.Project(*parts, name=name, origin=ORIGIN, creationDateTime=_iso(created))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def project_qdpx(qde: bytes, sources: Sequence[ExportSource]) -> bytes:
    """The .qdpx archive: project.qde and sources/<guid>.txt (UTF-8, LF, no BOM)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        for source in sources:
            text = source.text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
            archive.writestr(f"sources/{source.guid}.txt", text.encode("utf-8"))
    return buffer.getvalue()


def schema(name: str) -> Any:
    """An XSD from ../shared/data/refi-qda (outside the repository, read where it lies)."""
    from django.conf import settings
    from lxml import etree

    path = settings.BASE_DIR.parent / "shared" / "data" / "refi-qda" / name
    return etree.XMLSchema(etree.parse(str(path)))  # noqa: S320  (our own trusted schema file)


# --------------------------------------------------------------------------- project import


@dataclass
class ImportedSelection:
    start: int
    end: int
    code_keys: list[str]
    user_key: str
    note_keys: list[str] = field(default_factory=list)


@dataclass
class ImportedSource:
    name: str
    guid: str
    text: str
    selections: list[ImportedSelection] = field(default_factory=list)
    note_keys: list[str] = field(default_factory=list)


@dataclass
class ImportedNote:
    """A REFI-QDA note, to become a memo on each code, source or selection that refers to it."""

    text: str
    user_key: str
    created: datetime.datetime | None
    modified: datetime.datetime | None


@dataclass
class ImportedProject:
    name: str
    codes: list[ImportedCode]
    code_keys: dict[str, ImportedCode]
    users: dict[str, str]  # user GUID -> name
    sources: list[ImportedSource]
    report: ImportReport
    notes: dict[str, ImportedNote] = field(default_factory=dict)  # note GUID -> note


def _note_refs(element: Element) -> list[str]:
    return [ref.get("targetGUID") or "" for ref in _kids(element, "NoteRef")]


def _moment(value: str | None) -> datetime.datetime | None:
    """An xsd:dateTime, as an aware datetime (UTC when it names no zone); None if unreadable."""
    try:
        moment = datetime.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _read_notes(
    root: Element, names: dict[str, str], archive: zipfile.ZipFile, report: ImportReport
) -> dict[str, ImportedNote]:
    notes: dict[str, ImportedNote] = {}
    notes_el = _kid(root, "Notes")
    for note_el in _kids(notes_el, "Note") if notes_el is not None else []:
        key = note_el.get("guid") or ""
        name = (note_el.get("name") or "").strip() or _("(unnamed note)")
        text = _source_text(note_el, names, archive, report)
        text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if not key or not text:
            report.dropped.append(_("Note %(name)s has no text.") % {"name": name[:80]})
            continue
        notes[key] = ImportedNote(
            text=text,
            user_key=note_el.get("creatingUser") or "",
            created=_moment(note_el.get("creationDateTime")),
            modified=_moment(note_el.get("modifiedDateTime")),
        )
    if _note_refs(root):
        report.dropped.append(
            _(
                "Notes about the project as a whole were left out: a memo here is about a "
                "code, a transcript or a coded segment."
            )
        )
    return notes


def _safe_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Lower-cased member name -> real name; refuses traversal, bombs and oddities."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ExchangeError(_("The project archive holds too many files."))
    total = 0
    names: dict[str, str] = {}
    for info in infos:
        name = info.filename
        path = PurePosixPath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
            raise ExchangeError(
                _(
                    "The project archive contains a path that points outside it "
                    "(%(name)s); it was refused."
                )
                % {"name": name[:80]}
            )
        total += info.file_size
        if (
            total > MAX_UNZIPPED_BYTES
            or info.file_size > max(info.compress_size, 1) * MAX_RATIO + 65536
        ):
            raise ExchangeError(
                _("The project archive expands far beyond its size (a zip bomb?); it was refused.")
            )
        names[str(path).lower()] = name
    return names


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as handle:
        data = handle.read(MAX_UNZIPPED_BYTES + 1)
    if len(data) > MAX_UNZIPPED_BYTES:
        raise ExchangeError(
            _("The project archive expands far beyond its size (a zip bomb?); it was refused.")
        )
    return data


def _decode_source(raw: bytes, name: str, report: ImportReport) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        report.assume(_("Some source texts began with a byte-order mark; it was removed."))
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExchangeError(_("Source %(name)s is not UTF-8 text.") % {"name": name}) from exc


def _utf16_to_codepoint(text: str) -> list[int]:
    """For each UTF-16 offset of ``text`` (0..len16), the code-point offset."""
    mapping: list[int] = []
    for index, char in enumerate(text):
        mapping.append(index)
        if ord(char) > 0xFFFF:
            mapping.append(index)  # the low surrogate maps to the same character
    mapping.append(len(text))
    return mapping


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """CRLF/CR to LF; for each code-point offset of the original, the offset in the result."""
    out: list[str] = []
    mapping: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        mapping.append(len(out))
        if char == "\r":
            if index + 1 < len(text) and text[index + 1] == "\n":
                mapping.append(len(out))
                index += 1
            out.append("\n")
        else:
            out.append(char)
        index += 1
    mapping.append(len(out))
    return "".join(out), mapping


def _detect_convention(
    raw_text: str, selections: list[tuple[int, int]], origin: str, report: ImportReport
) -> str:
    """'codepoint' (the spec) or 'utf16' (NVivo): decided only when they differ for this text."""
    astral = any(ord(c) > 0xFFFF for c in raw_text)
    if not astral:
        return "codepoint"
    length16 = len(raw_text.encode("utf-16-le")) // 2
    beyond = any(end > len(raw_text) for _s, end in selections)
    if beyond and all(end <= length16 for _s, end in selections):
        report.assume(
            _(
                "Positions were read as UTF-16 code units (as NVivo writes them), "
                "not Unicode code points."
            )
        )
        return "utf16"
    if "nvivo" in origin.lower():
        report.assume(
            _("The project comes from NVivo, so positions were read as UTF-16 code units.")
        )
        return "utf16"
    report.assume(
        _(
            "Positions were read as Unicode code points (the REFI-QDA standard); texts "
            "with emoji could shift if the exporting program counted otherwise."
        )
    )
    return "codepoint"


def _source_text(
    source_el: Element, names: dict[str, str], archive: zipfile.ZipFile, report: ImportReport
) -> str | None:
    content = _kid(source_el, "PlainTextContent")
    if content is not None and content.text is not None:
        return content.text
    path = (source_el.get("plainTextPath") or "").strip()
    if not path:
        return None
    relative = path.split("internal://", 1)[1] if path.startswith("internal://") else path
    relative = relative.replace("\\", "/").lstrip("/")
    if ".." in PurePosixPath(relative).parts or "://" in relative:
        report.dropped.append(
            _("Source %(name)s points outside the archive (%(path)s).")
            % {"name": source_el.get("name") or "?", "path": path[:80]}
        )
        return None
    candidates = [f"sources/{relative}".lower(), relative.lower()]
    for candidate in candidates:
        if candidate in names:
            real = names[candidate]
            if not real.startswith("sources/") and real.lower().startswith("sources/"):
                report.assume(
                    _("The sources folder was named %(folder)s; read it anyway.")
                    % {"folder": real.split("/")[0]}
                )
            return _decode_source(_read_member(archive, real), relative, report)
    report.dropped.append(
        _("Source %(name)s: its text file %(path)s is not in the archive.")
        % {"name": source_el.get("name") or "?", "path": relative[:80]}
    )
    return None


def read_qdpx(raw: bytes) -> ImportedProject:
    if len(raw) > MAX_PROJECT_BYTES:
        raise ExchangeError(_("The project file is larger than 50 MB."))
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise ExchangeError(_("This is not a .qdpx project: a .qdpx file is a zip archive."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = _safe_names(archive)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ExchangeError(_("The project archive is damaged.")) from exc
    report = ImportReport()
    try:
        return _read_project(archive, names, report)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise ExchangeError(_("The project archive is damaged.")) from exc


def _read_project(
    archive: zipfile.ZipFile, names: dict[str, str], report: ImportReport
) -> ImportedProject:
    if "project.qde" in names:
        qde_name = names["project.qde"]
    else:
        top_level = [
            real for lower, real in names.items() if lower.endswith(".qde") and "/" not in lower
        ]
        if len(top_level) != 1:
            raise ExchangeError(_("The archive holds no project.qde file."))
        qde_name = top_level[0]
        report.assume(
            _("The project file was named %(name)s (as ATLAS.ti does), not project.qde.")
            % {"name": qde_name}
        )
    root = _parse_xml(_read_member(archive, qde_name), _("The project file"))
    if _local(root.tag) != "Project":
        raise ExchangeError(_("This is not a REFI-QDA project: its root element is not Project."))
    if _ns(root.tag) != PROJECT_NS:
        report.assume(_("The project did not declare the REFI-QDA namespace; read it anyway."))
    origin = root.get("origin") or ""
    keys: dict[str, ImportedCode] = {}
    codebook = _kid(root, "CodeBook")
    codes_el = _kid(codebook, "Codes") if codebook is not None else None
    codes = _codes_from(codes_el, report, keys) if codes_el is not None else []
    users_el = _kid(root, "Users")
    users = {
        (u.get("guid") or ""): (u.get("name") or u.get("id") or "")
        for u in (_kids(users_el, "User") if users_el is not None else [])
    }
    sources: list[ImportedSource] = []
    sources_el = _kid(root, "Sources")
    for source_el in list(sources_el) if sources_el is not None else []:
        kind = _local(source_el.tag)
        name = (source_el.get("name") or "").strip() or _("(unnamed source)")
        if kind != "TextSource":
            report.dropped.append(
                _("Source %(name)s is a %(kind)s; only text sources are imported.")
                % {"name": name, "kind": kind}
            )
            continue
        raw_text = _source_text(source_el, names, archive, report)
        if raw_text is None:
            if not any(name in d for d in report.dropped):
                report.dropped.append(_("Source %(name)s has no text.") % {"name": name})
            continue
        selection_els = _kids(source_el, "PlainTextSelection")
        positions = []
        for sel in selection_els:
            try:
                positions.append(
                    (int(sel.get("startPosition", "")), int(sel.get("endPosition", "")))
                )
            except ValueError:
                positions.append((-1, -1))
        convention = _detect_convention(raw_text, positions, origin, report)
        if "\r" in raw_text:
            report.assume(
                _("Source texts with CRLF line ends were converted to LF; positions were mapped.")
            )
        text, to_lf = _normalise_with_map(raw_text)
        to_cp = _utf16_to_codepoint(raw_text) if convention == "utf16" else None
        source = ImportedSource(
            name=name[:200], guid=_clean_guid(source_el.get("guid"), report), text=text
        )
        for sel, (start, end) in zip(selection_els, positions, strict=True):
            if to_cp is not None:
                start = to_cp[start] if 0 <= start < len(to_cp) else -1
                end = to_cp[end] if 0 <= end < len(to_cp) else -1
            if not (0 <= start < end <= len(raw_text)):
                report.dropped.append(
                    _("A selection in %(name)s lies outside its text (%(s)s-%(e)s).")
                    % {"name": name, "s": sel.get("startPosition"), "e": sel.get("endPosition")}
                )
                continue
            code_keys = []
            for coding in _kids(sel, "Coding"):
                ref = _kid(coding, "CodeRef")
                target = ref.get("targetGUID") if ref is not None else None
                if target and target in keys:
                    code_keys.append(target)
                else:
                    report.dropped.append(
                        _("A coding in %(name)s refers to a code not in the codebook.")
                        % {"name": name}
                    )
            note_keys = _note_refs(sel) + [
                key for coding in _kids(sel, "Coding") for key in _note_refs(coding)
            ]
            if not code_keys:
                if note_keys:
                    source.note_keys.extend(note_keys)
                    report.assume(
                        _(
                            "Notes on selections without codes were attached to their whole "
                            "transcript."
                        )
                    )
                continue
            user = sel.get("creatingUser") or ""
            source.selections.append(
                ImportedSelection(to_lf[start], to_lf[end], code_keys, user, note_keys)
            )
        source.note_keys[:0] = _note_refs(source_el)
        sources.append(source)
    if not codes and not sources:
        raise ExchangeError(_("The project has no codes and no text sources to import."))
    return ImportedProject(
        name=root.get("name") or "",
        codes=codes,
        code_keys=keys,
        users=users,
        sources=sources,
        report=report,
        notes=_read_notes(root, names, archive, report),
    )
