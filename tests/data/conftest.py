"""The real-format writers (tests/data/formats.py) as one fixture."""

import types

import pytest

from . import formats


@pytest.fixture
def fmt():
    """The writers, as one namespace."""
    return types.SimpleNamespace(**{name: getattr(formats, name) for name in formats.__all__})
