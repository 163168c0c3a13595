"""The markdown the tables are written in (sbadbal/analysis/markdown.py) as HTML, for the Snakemake report.

The report shows an HTML file in the page and offers every other file (CSV, markdown) only as a download, so each
table's markdown is rendered once more as a small standalone page. Only the markdown the pipeline writes is
understood: paragraphs, pipe tables (the first row is the header), "- " lists and **bold**. A cell with a number or
an interval never wraps, so "4.2 [1.1, 7.3]" stays on one line; text cells wrap, and a table wider than the page
scrolls sideways.
"""

from __future__ import annotations

import html
import re

# Where the front page finds the tables of a rendered page (report/workflow.rst inlines the claims).
BODY_START = "<!-- sbadbal:body -->"
BODY_END = "<!-- /sbadbal:body -->"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px; color: #1a1a1a;
       margin: 0.5rem; line-height: 1.4; }
div.table { overflow-x: auto; margin: 0.4rem 0 1rem 0; }
table { border-collapse: collapse; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #888; font-weight: 600; background: #f5f5f5; }
td.number, td.interval { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.number { text-align: right; }
tbody tr:hover { background: #f0f6ff; }
p, li { max-width: 60rem; }
"""

# A bracketed pair or a ± in a cell: an interval, kept on one line.
_INTERVAL = re.compile(r"\[[^\]]*,[^\]]*\]|±")
_NUMBER = re.compile(r"^[-+−]?[\d,.]+(e[-+]?\d+)?( ± [\d,.]+(e[-+]?\d+)?)?( \[.*\])?$")


def _inline(text: str) -> str:
    """Escaped text with **bold** as <strong>."""
    parts = text.split("**")
    return "".join(f"<strong>{html.escape(part)}</strong>" if i % 2 else html.escape(part)
                   for i, part in enumerate(parts))


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _is_rule(line: str) -> bool:
    return not line.replace("|", "").replace("-", "").replace(":", "").strip()


def _table(lines: list[str]) -> str:
    rows = [_cells(line) for line in lines if not _is_rule(line)]
    header, body = rows[0], rows[1:]
    head = "".join(f"<th>{_inline(cell)}</th>" for cell in header)

    def cell(text: str) -> str:
        kind = ' class="number"' if _NUMBER.match(text) else ' class="interval"' if _INTERVAL.search(text) else ""
        return f"<td{kind}>{_inline(text)}</td>"

    rows_html = "\n".join("<tr>" + "".join(cell(text) for text in row) + "</tr>" for row in body)
    return f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows_html}\n</tbody></table></div>'


def markdown_to_html(text: str) -> str:
    """The HTML of the pipeline's markdown: tables as <table>, lists as <ul>, other lines as paragraphs."""
    blocks: list[str] = []
    pending: list[str] = []
    kind = None

    def flush() -> None:
        nonlocal pending, kind
        if pending:
            if kind == "table":
                blocks.append(_table(pending))
            elif kind == "list":
                blocks.append("<ul>\n" + "\n".join(f"<li>{_inline(item[2:].strip())}</li>" for item in pending)
                              + "\n</ul>")
            else:
                blocks.append(f"<p>{_inline(' '.join(line.strip().lstrip('#').strip() for line in pending))}</p>")
        pending, kind = [], None

    for line in text.splitlines():
        stripped = line.strip()
        line_kind = "table" if stripped.startswith("|") else "list" if stripped.startswith("- ") else "text"
        if not stripped or line_kind != kind:
            flush()
        if stripped:
            pending.append(stripped)
            kind = line_kind
    flush()
    return "\n".join(blocks)


def html_page(title: str, body: str) -> str:
    """A standalone page: the title, the style, and the body between the markers the front page looks for."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n{BODY_START}\n{body}\n{BODY_END}\n</body>\n</html>\n")


def page_body(page: str) -> str:
    """The part of a page html_page wrote between its markers (the whole text when it has none)."""
    start, end = page.find(BODY_START), page.find(BODY_END)
    return page[start + len(BODY_START):end].strip() if start >= 0 and end > start else page
