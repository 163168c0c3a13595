"""The report opens on the results: report/workflow.rst rendered as Snakemake renders it (Jinja2, then docutils)
from hand-made records, and real `snakemake --report`s of the tiny suite: its tables as HTML tables, short job
parameters, and a warning on its first screen when a run file was remade after the tables."""

from __future__ import annotations

import base64
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from sbadbal.analysis.html import html_page, markdown_to_html

from .helpers import REPO, TINY, snakemake, tiny_run_csvs

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
    claims = tmp_path / "tables" / "claims.html"
    claims.parent.mkdir()
    claims.write_text(html_page("claims", markdown_to_html(
        "Claims of the paper\n\n| claim | holds |\n|---|---|\n| PLBB > BALD | **yes** |\n")))
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
    assert "<th>claim</th><th>holds</th>" in html and "<td>PLBB &gt; BALD</td><td><strong>yes</strong></td>" in html
    assert "<style>" not in html.split("Claims", 1)[1]  # the page's body only, not its head
    # the figure itself inline, scaled to the page, not a link; without the XML prologue
    assert '<svg style="width: 100%; height: auto; max-width: 42rem" width="10pt"' in html
    assert '<path d="M 1999 0 L 0 1999"/>' in html and "<?xml" not in html
    assert "timing.png" in html and "Seconds per run." in html


def test_front_page_without_results_says_so():
    html = render_front_page(CONFIG, [])
    assert "No claims table in this report" in html and "No accuracy figures in this report" in html


def embedded_pages(report: str) -> dict[str, str]:
    """The HTML files embedded in a Snakemake report, by file name."""
    found = re.finditer(r'"data:text/html;charset=utf8;filename=([^;]+);base64,([^"]+)"', report)
    return {match.group(1): base64.b64decode(match.group(2)).decode() for match in found}


def test_real_report_of_the_tiny_suite(tiny_run):
    snakemake(tiny_run, "--report", "report.html", *TINY)
    html = (tiny_run / "report.html").read_text()
    for section in SECTIONS:
        assert section in html, f"{section!r} is not on the report's first page"
    assert "accuracy_b10.png" in html and "timing.png" in html and "accuracy_time_b10.png" in html
    assert "out of date" not in html
    # every table is a page with a <table> in it, beside its CSV download
    pages = embedded_pages(html)
    assert set(pages) == {"claims.html", "final_accuracy.html", "batch_diagnostics.html", "acquisition_time.html",
                          "timings.html", "reference_comparison.html"}
    for name, page in pages.items():
        assert "<table>" in page and "<th>" in page, name
    assert "text/csv;charset=utf8;filename=final_accuracy.csv" in html
    assert "<th>ours [95% CI]</th>" in pages["reference_comparison.html"]
    # the claims table inline on the first page; job parameters short, not Python dicts
    assert html.count("<th>verdict</th>") >= 1
    assert "run_keys=[4 entries, first: batch_size=10, algorithm=BALD, seed=1]" in html
    assert "{'batch_size'" not in html


def test_a_run_file_remade_after_the_tables(tiny_run, tmp_path):
    """A constructed stale run: one run file remade (really, by its own job) after the tables were made."""
    workdir = tmp_path / "stale"
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    run_csv = tiny_run_csvs(workdir)[0]
    run_csv.unlink()
    snakemake(workdir, "--cores", "1", str(run_csv.relative_to(workdir)), *TINY)
    # Snakemake's own mtime logic: a full run, or asking for the claims, remakes the tables first...
    planned = snakemake(workdir, "--dry-run", "results/tiny/tables/claims.csv", "--quiet", "rules", *TINY)
    planned = planned.stdout + planned.stderr
    assert re.search(r"^aggregate\s+1", planned, flags=re.M) and re.search(r"^claims\s+1", planned, flags=re.M)
    # ...but a report built now shows the old tables: its first screen says so, naming what is pending and why
    snakemake(workdir, "--report", "report.html", *TINY)
    html = (workdir / "report.html").read_text()
    front = html[html.index("Results of suite"):]
    assert "This report is out of date" in html
    assert html.index("This report is out of date") < html.index("Claims and verdicts")
    assert "<code>aggregate</code>: results/tiny/tables/tiny_mc/runs.csv" in front
    # (the run's sidecar was remade with it, so Snakemake names both, in either order)
    assert re.search(r"Updated input files: [^)]*results/tiny/runs/tiny_mc/b10/BALD/seed1\.csv", front)
    # ...and the claims job, run without its upstream (forced alone), refuses the stale table in one line
    result = snakemake(workdir, "--cores", "1", "--forcerun", "claims", "--allowed-rules", "claims",
                       "results/tiny/tables/claims.csv", *TINY, check=False)
    log = (workdir / "logs" / "tiny" / "claims.log").read_text()
    assert result.returncode != 0
    assert ("Error: results/tiny/tables/tiny_mc/runs.csv is older than results/tiny/runs/tiny_mc/b10/BALD/seed1.csv"
            in result.stdout + result.stderr + log)
    assert "Traceback" not in log.split("Error: results/tiny", 1)[-1]
