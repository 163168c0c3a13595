"""The tables' markdown as HTML pages for the report (sbadbal.analysis.html)."""

from __future__ import annotations

from sbadbal.analysis.html import BODY_END, BODY_START, html_page, markdown_to_html, page_body
from sbadbal.analysis.tables import markdown_diagnostics_table

MARKDOWN = """Claims and verdicts

| claim | estimate [95% CI] | verdict |
|---|---|---|
| (ii) LBB - BALD | 7.33 [4.32, 10.3] | **reproduced** |
| a < b & c | -0.99 [-3.08, 1.1] | inconclusive |

Not run:

- the benchmark did not time BatchBALD: (i) BatchBALD / LBB seconds
- another reason
"""


def test_tables_become_html_tables_with_headers_and_one_interval_per_cell():
    body = markdown_to_html(MARKDOWN)
    assert body.count("<table>") == 1 and "<thead><tr><th>claim</th><th>estimate [95% CI]</th>" in body
    assert '<td class="number">7.33 [4.32, 10.3]</td>' in body  # one cell, right-aligned
    assert "<strong>reproduced</strong>" in body and "a &lt; b &amp; c" in body
    assert "|---|" not in body and "<p>Claims and verdicts</p>" in body
    assert body.count("<li>") == 2 and "<p>Not run:</p>" in body
    assert '<td class="interval">[-11, 13] outside ±1</td>' in markdown_to_html("| a |\n|---|\n| [-11, 13] outside ±1 |")
    assert "<td>tiny_mc, b = 10</td>" in markdown_to_html("| a |\n|---|\n| tiny_mc, b = 10 |")  # text wraps


def test_a_page_keeps_cells_on_one_line_and_marks_its_body():
    page = html_page("claims", markdown_to_html(MARKDOWN))
    assert page.startswith("<!DOCTYPE html>") and "white-space: nowrap" in page
    assert page.index(BODY_START) < page.index("<table>") < page.index(BODY_END)
    assert page_body(page).startswith("<p>Claims and verdicts</p>") and "<style>" not in page_body(page)


def test_every_table_of_a_section_is_rendered():
    import pandas as pd

    table = pd.DataFrame([{"batch_size": b, "algorithm": "BALD", "seeds": 3, "joint_mi_mean": 1.0, "joint_mi_se": 0.1,
                           "redundancy_mean": 0.5, "redundancy_se": 0.01, "copies_mean": float("nan"),
                           "copies_se": float("nan"), "nonpositive_gains_mean": float("nan"),
                           "nonpositive_gains_se": float("nan")} for b in (10, 20)])
    body = markdown_to_html(markdown_diagnostics_table(table))
    assert body.count("<table>") == 2 and "joint MI per batch (nats)" in body and "1.000 ± 0.100" in body
