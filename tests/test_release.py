"""Release basics: one version (sbadbal.__version__, read by pyproject), the LICENSE and CITATION.cff."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import sbadbal

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]


def test_version_has_one_home():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sbadbal.__version__"}
    assert sbadbal.__version__.count(".") == 2


def test_license_is_mit():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "sbadbal developers" in text
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"] == {"text": "MIT"}


def test_citation_cites_the_paper():
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software" and citation["license"] == "MIT"
    paper = citation["preferred-citation"]
    assert paper == citation["references"][0]
    assert [author["family-names"] for author in paper["authors"]] == ["Rubashevskii", "Kotova", "Panov"]
    assert paper["year"] == 2023 and paper["identifiers"][0]["value"] == "arXiv:2301.05490"
