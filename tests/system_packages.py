"""Tests that need system packages: skipped with the install command where they are absent, required in CI.

The README's test command must pass on a machine with Python only, so a test that needs Debian packages skips
there, naming the package and how to install it. CI (`.ci/run`) installs the packages and sets
SBADBAL_REQUIRE_SYSTEM_TESTS=1, which turns every such skip into a failure: a missing package in CI is a broken
CI, not a test to leave out.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_VARIABLE = "SBADBAL_REQUIRE_SYSTEM_TESTS"


def system_tests_required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE, "").strip() not in ("", "0", "false", "no")


def require_system(missing: str | None) -> None:
    """Skip (or, when SBADBAL_REQUIRE_SYSTEM_TESTS is set, fail) with `missing`, a sentence naming what is
    absent and the install command; do nothing when `missing` is None."""
    if missing is None:
        return
    if system_tests_required():
        pytest.fail(f"{missing} ({REQUIRE_VARIABLE} is set, so this test may not skip)", pytrace=False)
    pytest.skip(f"{missing}; set {REQUIRE_VARIABLE}=1 to make this a failure")
