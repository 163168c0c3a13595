"""The report opens on the results: report/workflow.rst rendered as Snakemake renders it (Jinja2, then docutils)
from hand-made records, and a real `snakemake --report` of the tiny suite."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import REPO, TINY, snakemake

FRONT_PAGE = REPO / "report" / "workflow.rst"
SECTIONS = ("Results of suite", "Claims", "Headline figures", "How the results were made")


@dataclass
class Record:
    """The attributes of Snakemake's report FileRecord that the front page reads."""

    path: Path

    @property
    def target(self) -> str:
        return self.path.name


def render_front_page(config: dict, records: list[Path]) -> str:
    """report/workflow.rst as Snakemake's HTML report renders it (same Jinja2 options, docutils' html writer)."""
    jinja2 = pytest.importorskip("jinja2")
    from docutils.core import publish_parts

    class Snakemake:
        pass

    Snakemake.config = config
    categories = {"Results": {"Other": [Record(path) for path in records]}}
    links = "".join(f"\n.. _{path.name}: javascript:void(0)\n" for path in records)
    text = jinja2.Environment(trim_blocks=True, lstrip_blocks=True).from_string(FRONT_PAGE.read_text() + links)
    rst = text.render(snakemake=Snakemake, categories=categories, files=[])
    # writer_name as Snakemake passes it (docutils 0.22 warns it will go); halt_level 2 fails on any docutils warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return publish_parts(rst, writer_name="html", settings_overrides={"halt_level": 2})["html_body"]


CONFIG = {"suite": "tiny", "suites": {"tiny": {"description": "Seconds per run."}}}


def test_front_page_leads_with_claims_and_figures(tmp_path):
    claims = tmp_path / "tables" / "claims.md"
    claims.parent.mkdir()
    claims.write_text("Claims of the paper\n\n| claim | holds |\n|---|---|\n| PLBB > BALD | **yes** |\n")
    with_svg = tmp_path / "figures" / "accuracy_b10.png"
    with_svg.parent.mkdir()
    with_svg.write_bytes(b"png")
    paths = "\n".join(f' <path d="M {i} 0 L 0 {i}"/>' for i in range(2000))  # as matplotlib writes: short lines
    with_svg.with_suffix(".svg").write_text(
        f'<?xml version="1.0"?>\n<svg width="10pt" xmlns="http://www.w3.org/2000/svg">\n{paths}\n</svg>\n'
    )
    without_svg = tmp_path / "bench" / "timing.png"
    without_svg.parent.mkdir()
    without_svg.write_bytes(b"png")
    html = render_front_page(CONFIG, [claims, with_svg, without_svg])
    positions = [html.index(section) for section in SECTIONS]
    assert positions == sorted(positions)  # results first, the method last
    assert "<th>claim</th><th>holds</th>" in html and "<td>PLBB &gt; BALD</td><td>yes</td>" in html
    # the figure itself inline, scaled to the page, not a link; without the XML prologue
    assert '<svg style="width: 100%; height: auto; max-width: 42rem" width="10pt"' in html
    assert '<path d="M 1999 0 L 0 1999"/>' in html and "<?xml" not in html
    assert "timing.png" in html and "Seconds per run." in html


def test_front_page_without_results_says_so():
    html = render_front_page(CONFIG, [])
    assert "No claims table in this report" in html and "No accuracy figures in this report" in html


def test_real_report_of_the_tiny_suite(tiny_run):
    snakemake(tiny_run, "--report", "report.html", *TINY)
    html = (tiny_run / "report.html").read_text()
    for section in SECTIONS:
        assert section in html, f"{section!r} is not on the report's first page"
    assert "accuracy_b10.png" in html and "timing.png" in html
