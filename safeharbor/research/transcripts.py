"""Reading transcript files: .txt, .docx, WebVTT and SRT, with speakers and timestamps kept.

Every reader returns plain text with LF line ends, one speaker turn per line; captions become
``[hh:mm:ss] Speaker: words``. Hostile input (not the format it claims, too large, a zip bomb
inside a .docx, text that is not UTF-8) raises ``TranscriptFileError`` with a sentence that
says what to do. Nothing here touches the database.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.utils.translation import gettext as _

from .choices import TranscriptFormat

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 200
# A .docx is a zip: refuse archives that expand beyond these (zip bombs).
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_ENTRIES = 2000
_SPEAKER_PREFIX = re.compile(r"^([^\s:][^:\n]{0,60}):\s+(.*)$", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TranscriptFileError(ValueError):
    """A file that cannot be imported; the message says why and what to do."""


@dataclass(frozen=True)
class ParsedTranscript:
    name: str
    source_format: str
    text: str


def format_for(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    formats = {
        ".txt": TranscriptFormat.TXT,
        ".docx": TranscriptFormat.DOCX,
        ".vtt": TranscriptFormat.VTT,
        ".srt": TranscriptFormat.SRT,
    }
    if suffix not in formats:
        raise TranscriptFileError(
            _("%(name)s: only .txt, .docx, .vtt and .srt files can be imported.")
            % {"name": filename}
        )
    return str(formats[suffix])


def clean_text(text: str) -> str:
    """LF line ends, no control characters, no trailing spaces, no blank-line runs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    kept = [line for line in lines if line.strip()]
    return "\n".join(kept)


def _decode(filename: str, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptFileError(
            _("%(name)s is not UTF-8 text. Save it as UTF-8 and import it again.")
            % {"name": filename}
        ) from exc


def _check_zip(filename: str, raw: bytes) -> zipfile.ZipFile:
    not_docx = _("%(name)s is not a Word (.docx) document. Save it as .docx and try again.") % {
        "name": filename
    }
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise TranscriptFileError(not_docx)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise TranscriptFileError(not_docx) from exc
    too_big = _(
        "%(name)s expands to far more than a transcript could hold (a zip bomb?); "
        "it was not imported."
    ) % {"name": filename}
    if len(infos) > MAX_ZIP_ENTRIES:
        raise TranscriptFileError(too_big)
    if sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
        raise TranscriptFileError(too_big)
    for info in infos:
        if info.file_size > max(info.compress_size, 1) * MAX_COMPRESSION_RATIO + 65536:
            raise TranscriptFileError(too_big)
    if "word/document.xml" not in archive.namelist():
        raise TranscriptFileError(not_docx)
    return archive


def read_docx(filename: str, raw: bytes) -> str:
    _check_zip(filename, raw)
    import docx  # python-docx; its XML parser does not resolve entities

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises many kinds on a broken package
        raise TranscriptFileError(
            _("%(name)s could not be read as a Word document: it may be damaged.")
            % {"name": filename}
        ) from exc
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _turns(cues: Sequence[tuple[float, str, str]]) -> str:
    """Merge consecutive cues of one speaker into one turn: '[hh:mm:ss] Speaker: words'."""
    turns: list[tuple[float, str, list[str]]] = []
    for start, speaker, words in cues:
        words = " ".join(words.split())
        if not words:
            continue
        if not speaker:
            match = _SPEAKER_PREFIX.match(words)
            if match:
                speaker, words = match.group(1).strip(), match.group(2)
        if turns and turns[-1][1] == speaker:
            turns[-1][2].append(words)
        else:
            turns.append((start, speaker, [words]))
    return "\n".join(
        f"[{_clock(start)}] {speaker + ': ' if speaker else ''}{' '.join(parts)}"
        for start, speaker, parts in turns
    )


def read_vtt(filename: str, raw: bytes) -> str:
    import webvtt

    text = _decode(filename, raw)
    try:
        captions = webvtt.from_buffer(io.StringIO(text))
        cues = [(c.start_in_seconds, c.voice or "", c.text) for c in captions.captions]
    except Exception as exc:  # webvtt raises its own errors and ValueError
        raise TranscriptFileError(
            _("%(name)s is not a valid WebVTT file (it should start with WEBVTT).")
            % {"name": filename}
        ) from exc
    return _turns(cues)


def read_srt(filename: str, raw: bytes) -> str:
    import srt

    text = _decode(filename, raw)
    try:
        subtitles = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as exc:
        raise TranscriptFileError(
            _("%(name)s is not a valid SRT file: numbered cues with times are expected.")
            % {"name": filename}
        ) from exc
    if not subtitles and text.strip():
        raise TranscriptFileError(
            _("%(name)s is not a valid SRT file: numbered cues with times are expected.")
            % {"name": filename}
        )
    cues = [
        (s.start.total_seconds() if isinstance(s.start, datetime.timedelta) else 0.0, "", s.content)
        for s in subtitles
    ]
    return _turns(cues)


def parse_file(filename: str, raw: bytes) -> ParsedTranscript:
    """One uploaded file to text; refuses what is not safe or not readable."""
    display = PurePath(filename).name[:200] or "transcript"
    source_format = format_for(display)
    if len(raw) > MAX_FILE_BYTES:
        raise TranscriptFileError(
            _("%(name)s is larger than 5 MB; split it or remove embedded images.")
            % {"name": display}
        )
    if source_format == TranscriptFormat.DOCX:
        text = read_docx(display, raw)
    elif source_format == TranscriptFormat.VTT:
        text = read_vtt(display, raw)
    elif source_format == TranscriptFormat.SRT:
        text = read_srt(display, raw)
    else:
        text = _decode(display, raw)
    text = clean_text(text)
    if not text:
        raise TranscriptFileError(_("%(name)s has no text to import.") % {"name": display})
    return ParsedTranscript(
        name=PurePath(display).stem[:200], source_format=source_format, text=text
    )


def paragraphs(text: str) -> list[tuple[int, str]]:
    """(code-point offset, line) for each line of a transcript."""
    result = []
    offset = 0
    for line in text.split("\n"):
        result.append((offset, line))
        offset += len(line) + 1
    return result
