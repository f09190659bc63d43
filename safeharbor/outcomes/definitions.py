"""The in-app page of how each figure is computed: the section of docs/outcomes.md that
defines them, rendered once per process, so the page and the documentation never disagree."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import markdown
from django.conf import settings

SECTION = "## How each figure is computed"


def docs_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "outcomes.md"


@cache
def definitions_html() -> str:
    """The section as HTML, its headings carrying the anchors figures link to; the text is
    ours (the repository's documentation), never user input."""
    text = docs_path().read_text(encoding="utf-8")
    start = text.index(SECTION)
    following = text.find("\n## ", start + len(SECTION))
    # The page gives the section's title as its own heading (h1).
    body = text[start + len(SECTION) : following if following != -1 else len(text)]
    # Its subsections (### in the file) become the page's second level (h2).
    body = re.sub(r"^#(#+) ", r"\1 ", body, flags=re.MULTILINE)
    return markdown.markdown(body, extensions=["toc", "tables"], output_format="html")
