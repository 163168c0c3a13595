"""scripts/_helpers.py: what every rule's script shares."""

from __future__ import annotations

import importlib.util
import logging
import sys

from .helpers import REPO

SCRIPTS = REPO / "scripts"


def test_a_rule_log_is_appended_to_not_truncated(tmp_path):
    """A resumed run (after a kill or a Slurm retry) keeps the earlier attempt's lines in its rule log."""
    spec = importlib.util.spec_from_file_location("_helpers_under_test", SCRIPTS / "_helpers.py")
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    log = tmp_path / "run.log"
    saved_stderr = sys.stderr
    try:
        helpers.log_to(str(log)).info("first attempt")
        helpers.log_to(str(log)).info("second attempt")
    finally:
        sys.stderr.close()
        sys.stderr = saved_stderr
        logging.basicConfig(force=True)
    text = log.read_text()
    assert "first attempt" in text and "second attempt" in text
