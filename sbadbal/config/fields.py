"""The field types and base model shared by every section of the configuration model: strict numbers, text and
flags (a string never passes as a number), unknown keys refused, records frozen."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

# Suite, experiment, benchmark and variant names become folder names under results/: letters, digits, '.',
# '_' and '-', starting with a letter or digit (so never '..', '/', or a hidden folder).
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


PositiveInt = Annotated[int, Strict(), Field(ge=1)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
PositiveFloat = Annotated[float, Strict(), Field(gt=0)]
NonNegativeFloat = Annotated[float, Strict(), Field(ge=0)]
Text = Annotated[str, Strict()]


def IntUpTo(upper: int, lower: int = 1):
    """An integer in [lower, upper]: every count that sizes work has a documented upper bound, so that a typo
    (10**12 samples) fails at validation with the key named, not inside a job after minutes or a GB allocation."""
    return Annotated[int, Strict(), Field(ge=lower, le=upper)]


# Seeds reach torch and numpy generators (which take 64-bit seeds) after derivation; 2**31 - 1 leaves headroom.
MAX_SEED = 2**31 - 1
Seed = Annotated[int, Strict(), Field(ge=0, le=MAX_SEED)]
Flag = Annotated[bool, Strict()]


class StrictModel(BaseModel):
    """A section of config.yaml: unknown keys are mistakes, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
