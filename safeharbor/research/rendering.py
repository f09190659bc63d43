"""HTML for the transcript page's long lists, built in Python: a transcript with 50 segments
would otherwise spend most of its time in template loops. Every value is escaped here (the
standard library's ``html.escape``, which also escapes quotes, as Django's ``escape`` does)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def segment_list(
    *, study_id: int, segments: Sequence[Any], csrf: str, can_code: bool
) -> SafeString:
    """The coded segments: quote, who coded it, its codes (with remove buttons), the exemplar
    toggle and a memo form."""
    if not segments:
        return mark_safe(f"<p>{escape(_('Nothing coded yet.'))}</p>")  # noqa: S308
    base = f"/research/{study_id}"
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf)}">'
    meta_text = _("Characters %(a)s–%(b)s, coded by %(who)s")
    exemplar_text = escape(_("exemplar quote"))
    remove_text = _("Remove %(name)s")
    flag_on, flag_off = escape(_("Flag as exemplar quote")), escape(_("Unflag as exemplar"))
    memo_label, memo_save, memo_add = (
        escape(_("Memo")),
        escape(_("Save memo")),
        escape(_("Add a memo")),
    )

    def button(action: str, label: str, hidden: str = "") -> str:
        return (
            f'<form method="post" action="{action}" class="inline">{token}{hidden}'
            f'<button type="submit" class="link-button">{label}</button></form>'
        )

    items = []
    for segment in segments:
        meta = escape(meta_text % {"a": segment.start, "b": segment.end, "who": segment.coder})
        if segment.is_exemplar:
            meta += f" · <strong>{exemplar_text}</strong>"
        chips = []
        for code in segment.codes:
            name = escape(code.name)
            chip = f'<span class="chip c-{code.pk}">{name}</span>'
            if can_code:
                chip += " " + button(
                    f"{base}/segments/{segment.pk}/codes/{code.pk}/remove/",
                    escape(remove_text % {"name": code.name}),
                )
            chips.append(f"<li>{chip}</li>")
        parts = [
            f"<blockquote>{escape(_short(segment.quote))}</blockquote>",
            f'<p class="help">{meta}</p>',
            f'<ul class="chips">{"".join(chips)}</ul>',
        ]
        if can_code:
            flag = "0" if segment.is_exemplar else "1"
            parts.append(
                button(
                    f"{base}/segments/{segment.pk}/exemplar/",
                    flag_off if segment.is_exemplar else flag_on,
                    f'<input type="hidden" name="is_exemplar" value="{flag}">',
                )
            )
            memo_id = f"memo-{segment.pk}"
            parts.append(
                f"<details><summary>{memo_add}</summary>"
                f'<form method="post" action="{base}/memos/new/">{token}'
                f'<input type="hidden" name="segment" value="{segment.pk}">'
                f'<label for="{memo_id}">{memo_label}</label>'
                f'<textarea id="{memo_id}" name="body" rows="2"></textarea>'
                f'<button type="submit" class="secondary">{memo_save}</button>'
                "</form></details>"
            )
        items.append(f"<li>{''.join(parts)}</li>")
    return mark_safe(f'<ol class="segments">{"".join(items)}</ol>')  # noqa: S308  (escaped above)


def paragraph_options(paragraphs: Sequence[tuple[int, int, str]], selected: Any) -> SafeString:
    options = ['<option value="">—</option>']
    for index, (_start, _end, text) in enumerate(paragraphs):
        if not text:
            continue
        chosen = " selected" if str(selected) == str(index) else ""
        options.append(f'<option value="{index}"{chosen}>{index + 1}. {escape(text)}</option>')
    return mark_safe("".join(options))  # noqa: S308  (escaped above)


def legend(entries: Sequence[Any]) -> SafeString:
    """The colour legend: one chip per code, in codebook order."""
    return mark_safe(  # noqa: S308  (escaped here)
        "".join(
            f'<li><span class="chip c-{entry.code.pk}">{escape(entry.code.name)}</span></li>'
            for entry in entries
        )
    )


def code_checkboxes(entries: Sequence[Any], checked: Sequence[Any]) -> SafeString:
    ticked = {str(v) for v in checked}
    rows = []
    for index, entry in enumerate(entries):
        code = entry.code
        box_id = f"id_codes_{index}"
        on = " checked" if str(code.pk) in ticked else ""
        indent = "— " * entry.depth
        rows.append(
            f'<div><input type="checkbox" name="codes" value="{code.pk}" id="{box_id}"{on}> '
            f'<label for="{box_id}">{indent}{escape(code.name)}</label></div>'
        )
    return mark_safe("".join(rows))  # noqa: S308  (escaped above)


def heatmap_body(*, study_id: int, rows: Sequence[Any]) -> SafeString:
    """The participants x codes table body: one row per participant, each cell a segment count
    with its heat class, linking to that code's quotes from that participant."""
    label = _("%(n)s segments of %(code)s from %(who)s")
    out = []
    for participant, cells in rows:
        tds = []
        for code, count, level in cells:
            if count:
                aria = escape(label % {"n": count, "code": code.name, "who": participant.code})
                inner = (
                    f'<a href="/research/{study_id}/codes/{code.id}/?participant={participant.id}"'
                    f' aria-label="{aria}">{count}</a>'
                )
            else:
                inner = '<span class="zero">0</span>'
            tds.append(f'<td class="heat-{level}">{inner}</td>')
        out.append(f'<tr><th scope="row">{escape(participant.code)}</th>{"".join(tds)}</tr>')
    return mark_safe("".join(out))  # noqa: S308  (escaped above)


def redaction_rows(
    *,
    rows: Sequence[Any],
    kinds: Sequence[tuple[str, Any]],
    reasons: dict[str, str],
    show_placeholders: bool,
    show_where: bool = False,
) -> SafeString:
    """The redaction suggestions' table body: a tick box labelled by the words in context,
    where they are (the transcript or a memo, when memos are listed too), the kind
    (changeable), why it was suggested and, for the lead, the placeholder the words already
    have. A hidden ``seen`` input per row tells the next request what was shown."""
    kind_label = _("Kind of “%(words)s”")
    new_text = escape(_("new"))
    transcript_text = escape(_("Transcript"))
    out = []
    for index, row in enumerate(rows):
        ident = escape(row.ident)
        on = " checked" if row.checked else ""
        options = "".join(
            f'<option value="{escape(str(value))}"'
            f"{' selected' if str(value) == row.kind else ''}>{escape(str(label))}</option>"
            for value, label in kinds
        )
        cells = [
            f'<td><input type="hidden" name="seen" value="{ident}">'
            f'<input type="checkbox" name="pick" value="{ident}" id="pick-{index}"{on}></td>',
            f'<td><label for="pick-{index}">{escape(row.before)}<mark>{escape(row.text)}</mark>'
            f"{escape(row.after)}</label></td>",
            f'<td><label class="visually-hidden" for="kind-{index}">'
            f"{escape(kind_label % {'words': row.text})}</label>"
            f'<select name="kind-{ident}" id="kind-{index}">{options}</select></td>',
            f"<td>{escape(reasons.get(row.reason, row.reason))}</td>",
        ]
        if show_where:
            cells.insert(1, f"<td>{escape(row.where) if row.where else transcript_text}</td>")
        if show_placeholders:
            cells.append(f"<td>{escape(row.placeholder) if row.placeholder else new_text}</td>")
        out.append(f"<tr>{''.join(cells)}</tr>")
    return mark_safe("".join(out))  # noqa: S308  (escaped above)
