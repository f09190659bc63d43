"""The findings draft: ``build`` writes its content once, from the study's analysis (research
questions, methods, themes with participant counts, the participants × codes heat map,
exemplar quotes, saturation, agreement, limitations), as a list of plain blocks; ``to_docx``
and ``to_pdf`` only lay those blocks out, so the two files can never say different things.

Withdrawn participants are already out of the analysis page it reads.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from safeharbor.core import clock

from . import colours
from .choices import InterviewMode, ProfessionalRole, SamplingMethod
from .models import Debrief, Participant

if TYPE_CHECKING:
    from .models import Study
    from .selectors import AnalysisPage

# Participants per heat-map table (or chart): more are split into further tables, so that a
# column stays wide enough for its number on a portrait page.
MATRIX_COLUMNS = 15
MATRIX_ROWS_PER_CHART = 30  # codes per PDF chart: a drawing must fit on one page
QUOTES_PER_THEME = 5


# --------------------------------------------------------------------------- the blocks


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # 0 the title, 1 a section, 2 a theme


@dataclass(frozen=True)
class Text:
    text: str
    style: str = "body"  # body, note, numbered, bullet, quote


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


@dataclass(frozen=True)
class HeatRow:
    label: str
    depth: int
    colour: str  # the code's colour, #RRGGBB
    counts: list[int]
    levels: list[int]  # 0..5, relative to the largest cell of the whole matrix

    def fill(self, index: int) -> str:
        return colours.shade(self.colour, self.levels[index])

    def ink(self, index: int) -> str:
        return colours.text_colour_for(self.fill(index))


@dataclass(frozen=True)
class HeatMap:
    """Codes (rows, in codebook order) by participants (columns): segments coded."""

    title: str
    description: str  # the chart's text alternative
    corner: str  # the header of the code column
    columns: list[str]
    rows: list[HeatRow] = field(default_factory=list)

    def chunks(self, size: int = MATRIX_COLUMNS) -> Iterator[HeatMap]:
        """The same map cut into pieces of at most ``size`` participants."""
        for first in range(0, max(len(self.columns), 1), size):
            last = first + size
            yield replace(
                self,
                columns=self.columns[first:last],
                rows=[
                    replace(row, counts=row.counts[first:last], levels=row.levels[first:last])
                    for row in self.rows
                ],
            )


Block = Heading | Text | Table | HeatMap


@dataclass
class Findings:
    title: str
    blocks: list[Block]

    def text(self) -> str:
        """Every word of the report (for tests and searching), in order."""
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, Heading | Text):
                out.append(block.text)
            elif isinstance(block, Table):
                out.extend(" | ".join(row) for row in [block.header, *block.rows])
            else:
                out += [block.title, block.description, " | ".join(block.columns)]
                out.extend(f"{row.label}: {row.counts}" for row in block.rows)
        return "\n".join(out)


# --------------------------------------------------------------------------- the content


def _fmt(value: float | None, suffix: str = "") -> str:
    if value is None:
        return _("not defined")
    return f"{value:.2f}{suffix}" if not suffix else f"{value:.1f}{suffix}"


def methods_paragraph(study: Study, page: AnalysisPage) -> str:
    n = len(page.data.participants)
    roles = ", ".join(f"{count} {label.lower()}" for _v, label, count in page.roles) or _(
        "none yet"
    )
    interviews = list(
        Participant.objects.filter(pk__in=[p.id for p in page.data.participants]).values_list(
            "consent__interview__mode", "consent__method"
        )
    )
    modes = sorted({str(InterviewMode(m).label).lower() for m, _c in interviews if m})
    methods = sorted({c for _m, c in interviews if c})
    sampling = str(SamplingMethod(study.sampling_method).label).lower()
    ethics = (
        _("The study was approved by %(board)s (%(number)s).")
        % {"board": study.ethics_board, "number": study.ethics_number or _("no number given")}
        if study.ethics_board
        else _("No ethics approval is recorded for this study.")
    )
    return (
        _(
            "%(n)s professionals (%(roles)s) were recruited by %(sampling)s sampling, a "
            "non-probability method, towards a target of %(target)s. Each gave %(consent)s "
            "consent before a %(modes)s interview and was debriefed afterwards. Transcripts were "
            "coded with a colour-coded codebook of %(codes)s codes and analysed descriptively. "
        )
        % {
            "n": n,
            "roles": roles,
            "sampling": sampling,
            "target": study.target_sample_size,
            "consent": _(" or ").join(methods) or _("recorded"),
            "modes": _(" or ").join(modes) or _("recorded"),
            "codes": len(page.data.codes),
        }
        + ethics
    )


def services_offered(page: AnalysisPage) -> list[str]:
    """The directory services offered at the debriefs of the participants in the analysis
    (withdrawn participants are not in it), as "Service (Organisation)", by name."""
    through = Debrief.services_offered.through
    rows = (
        through.objects.filter(
            debrief__interview__consent__participant_id__in=[p.id for p in page.data.participants]
        )
        .values_list("service__name", "service__organization__name")
        .distinct()
        .order_by("service__name", "service__organization__name")
    )
    return [
        _("%(service)s (%(organization)s)") % {"service": name, "organization": organization}
        for name, organization in rows
    ]


def limitations(study: Study, page: AnalysisPage) -> list[str]:
    n = len(page.data.participants)
    items = [
        _(
            "The sample is small (n = %(n)s) and was chosen by %(method)s sampling, a "
            "non-probability method: the findings describe these participants and cannot be "
            "generalised to all professionals."
        )
        % {"n": n, "method": str(SamplingMethod(study.sampling_method).label).lower()}
    ]
    if n < study.target_sample_size:
        items.append(
            _("Fewer participants were interviewed (%(n)s) than the target of %(target)s.")
            % {"n": n, "target": study.target_sample_size}
        )
    coders = {row.coder_id for row in page.data.codings}
    if len(coders) <= 1:
        items.append(
            _("One person coded the transcripts; no intercoder agreement could be measured.")
        )
    if page.saturation.reached_at is None:
        items.append(_("Saturation was not reached by the criteria set for this study."))
    missing = [
        label
        for value, label in ProfessionalRole.choices
        if value not in {r[0] for r in page.roles}
    ]
    if missing:
        items.append(
            _("No participant held these roles: %(roles)s.")
            % {"roles": ", ".join(str(m) for m in missing)}
        )
    return items


def saturation_sentence(sat: Any) -> str:
    if not sat.enough_interviews:
        return _(
            "Saturation cannot be judged yet: it needs at least %(n)s interviews "
            "(base %(b)s + run %(r)s)."
        ) % {"n": sat.base_size + sat.run_length, "b": sat.base_size, "r": sat.run_length}
    if sat.reached_at is None:
        return _(
            "Saturation was not reached: no run of %(r)s interviews added %(t)s%% or less new "
            "codes relative to the %(base)s codes of the first %(b)s interviews."
        ) % {
            "r": sat.run_length,
            "t": sat.threshold_percent,
            "base": sat.base_codes,
            "b": sat.base_size,
        }
    step = sat.steps[sat.reached_at - 1]
    return _(
        "Saturation was reached at interview %(at)s: the run of %(r)s interviews ending there "
        "added %(ratio)s%% new codes relative to the %(base)s codes of the first %(b)s interviews "
        "(threshold %(t)s%%)."
    ) % {
        "at": sat.reached_at,
        "r": sat.run_length,
        "ratio": step.run_ratio_percent,
        "base": sat.base_codes,
        "b": sat.base_size,
        "t": sat.threshold_percent,
    }


def agreement_sentence(page: AnalysisPage) -> str:
    agreement = page.agreement
    if agreement is None:
        return _("Not measured: agreement needs two coders who coded the same participants.")
    return _(
        "Unit: %(unit)s, over %(n)s participants coded by %(c)s coders. Percent agreement "
        "%(p)s; Cohen's kappa %(k)s; Krippendorff's alpha %(a)s."
    ) % {
        "unit": agreement.unit,
        "n": len(agreement.participants),
        "c": len(agreement.coders),
        "p": _fmt(agreement.overall_percent, "%"),
        "k": _fmt(agreement.overall_kappa),
        "a": _fmt(agreement.overall_alpha),
    }


def heat_map(page: AnalysisPage) -> HeatMap:
    """The analysis page's participants × codes matrix, turned for a page: one row per code
    (codebook order, sub-codes indented), one column per participant."""
    columns = [participant.code for participant, _cells in page.matrix_rows]
    depth = {count.code.id: count.depth for count in page.counts}
    rows = []
    for index, code in enumerate(page.matrix_codes):
        cells = [cells[index] for _participant, cells in page.matrix_rows]
        rows.append(
            HeatRow(
                label=code.name,
                depth=depth.get(code.id, 0),
                colour=code.color,
                counts=[count for _code, count, _level in cells],
                levels=[level for _code, _count, level in cells],
            )
        )
    return HeatMap(
        title=_("Participants × codes"),
        description=_(
            "Segments coded, by code (rows) and participant (columns); a theme or category "
            "counts the codes under it. Each cell is shaded in its code's colour, darker for "
            "more segments, and carries the number, so it reads without colour. Largest cell: "
            "%(peak)s segments."
        )
        % {"peak": max((max(row.counts, default=0) for row in rows), default=0)},
        corner=_("Code"),
        columns=columns,
        rows=rows,
    )


def build(page: AnalysisPage) -> Findings:
    """The report's content, from the study's analysis page (one source for both files)."""
    study = page.study
    blocks: list[Block] = [
        Heading(study.title, 0),
        Text(_("Findings draft, %(date)s") % {"date": clock.today().isoformat()}, "note"),
        Heading(_("Research questions"), 1),
        *(Text(question, "numbered") for question in study.question_list),
        Heading(_("Methods"), 1),
        Text(methods_paragraph(study, page)),
    ]
    offered = services_offered(page)
    if offered:
        blocks.append(
            Text(
                _("At the debrief, participants were offered these directory services: %(s)s.")
                % {"s": "; ".join(offered)}
            )
        )
    blocks += [
        Heading(_("Themes"), 1),
        Table(
            (_("Theme"), _("Segments"), _("Participants"), _("Percent of participants")),
            [
                (
                    count.code.name,
                    str(count.segments),
                    str(count.participants),
                    f"{count.percent:g}%",
                )
                for count in page.counts
                if count.depth == 0
            ],
        ),
    ]
    matrix = heat_map(page)
    blocks.append(Heading(matrix.title, 1))
    if any(any(row.counts) for row in matrix.rows):
        blocks += [Text(matrix.description, "note"), matrix]
    else:
        blocks.append(Text(_("Nothing is coded yet.")))
    blocks.append(Heading(_("Exemplar quotes"), 1))
    if not page.exemplars:
        blocks.append(Text(_("No segment is flagged as an exemplar quote yet.")))
    for theme, quotes in page.exemplars:
        blocks.append(Heading(theme.name, 2))
        blocks += [
            Text(
                f"“{quote.quote.strip()}” ({quote.participant_code}, "
                f"{ProfessionalRole(quote.professional_role).label})",
                "quote",
            )
            for quote in quotes[:QUOTES_PER_THEME]
        ]
    blocks += [
        Heading(_("Saturation"), 1),
        Text(saturation_sentence(page.saturation)),
        Heading(_("Intercoder agreement"), 1),
        Text(agreement_sentence(page)),
        Heading(_("Limitations"), 1),
        *(Text(item, "bullet") for item in limitations(study, page)),
    ]
    return Findings(title=study.title, blocks=blocks)


# --------------------------------------------------------------------------- .docx


def _shade_cell(cell: Any, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill.lstrip("#"))
    cell._tc.get_or_add_tcPr().append(shading)


def _docx_heat_map(document: Any, block: HeatMap) -> None:
    from docx.shared import Pt, RGBColor

    for piece in block.chunks():
        table = document.add_table(rows=len(piece.rows) + 1, cols=len(piece.columns) + 1)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, [piece.corner, *piece.columns], strict=True):
            run = cell.paragraphs[0].add_run(text)
            run.bold = True
            run.font.size = Pt(8)
        for row, line in zip(table.rows[1:], piece.rows, strict=True):
            cells = row.cells
            label = cells[0].paragraphs[0]
            label.paragraph_format.left_indent = Pt(8 * line.depth)
            label.add_run(line.label).font.size = Pt(8)
            for index, count in enumerate(line.counts):
                cell = cells[index + 1]
                _shade_cell(cell, line.fill(index))
                run = cell.paragraphs[0].add_run(str(count))
                run.font.size = Pt(8)
                run.font.color.rgb = RGBColor.from_string(line.ink(index).lstrip("#"))
        document.add_paragraph()


def to_docx(report: Findings) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = report.title
    document.core_properties.author = "Safe Harbor"
    styles = {"numbered": "List Number", "bullet": "List Bullet", "quote": "Intense Quote"}
    for block in report.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Text):
            paragraph = document.add_paragraph(block.text, style=styles.get(block.style))
            if block.style == "note":
                for run in paragraph.runs:
                    run.italic = True
        elif isinstance(block, Table):
            table = document.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.header, strict=True):
                cell.text = text
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
        else:
            _docx_heat_map(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- PDF


def to_pdf(report: Findings) -> bytes:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    from safeharbor.core.charts import GRID, INK, MUTED
    from safeharbor.core.pdf import MARGIN, letter_document

    from .charts import heat_map_chart

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    note = body.clone("note", fontName="Helvetica-Oblique", textColor=MUTED)
    listed = body.clone("listed", leftIndent=18, bulletIndent=4)
    quote = body.clone("quote", fontName="Helvetica-Oblique", leftIndent=24, rightIndent=24)
    cell = body.clone("cell", fontSize=9, leading=11)
    headings = {0: styles["Title"], 1: styles["Heading1"], 2: styles["Heading2"]}
    buffer = io.BytesIO()
    document = letter_document(buffer, title=report.title, subject=_("Findings draft"))
    width, margin = document.width, MARGIN
    story: list[Any] = []
    number = 0
    for block in report.blocks:
        if isinstance(block, Heading):
            story.append(Paragraph(escape(block.text), headings[block.level]))
            number = 0
        elif isinstance(block, Text):
            text = escape(block.text)
            if block.style == "numbered":
                number += 1
                story.append(Paragraph(text, listed, bulletText=f"{number}."))
            elif block.style == "bullet":
                story.append(Paragraph(text, listed, bulletText="•"))
            else:
                story.append(Paragraph(text, {"note": note, "quote": quote}.get(block.style, body)))
        elif isinstance(block, Table):
            data = [[Paragraph(f"<b>{escape(h)}</b>", cell) for h in block.header]]
            data += [[Paragraph(escape(value), cell) for value in row] for row in block.rows]
            first = width * 0.46
            rest = (width - first) / max(len(block.header) - 1, 1)
            table = PdfTable(
                data, colWidths=[first, *([rest] * (len(block.header) - 1))], repeatRows=1
            )
            table.setStyle(
                TableStyle(
                    [
                        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                        ("BACKGROUND", (0, 0), (-1, 0), HexColor("#F3F4F8")),
                        ("LINEBELOW", (0, 0), (-1, -1), 0.5, GRID),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ]
                )
            )
            story += [table, Spacer(1, 8)]
        else:
            # A drawing cannot break across pages: long codebooks go into several charts.
            for piece in block.chunks():
                for first in range(0, len(piece.rows), MATRIX_ROWS_PER_CHART):
                    rows = piece.rows[first : first + MATRIX_ROWS_PER_CHART]
                    story += [heat_map_chart(replace(piece, rows=rows), width=width), Spacer(1, 10)]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(
            margin,
            margin / 2,
            _("%(title)s · findings draft · page %(page)d")
            % {"title": report.title, "page": doc.page},
        )
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
