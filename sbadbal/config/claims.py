"""The claims section: the pre-declared decision rules of the claims table, each bounded.

Its own module, so that the claims table's code (sbadbal/analysis/claims.py reads its defaults and bounds) is
this section alone, not the whole configuration model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, Strict, ValidationError

from sbadbal.config.errors import first_error
from sbadbal.config.fields import StrictModel


class ClaimRules(StrictModel):
    """The pre-declared decision rules of the claims table (sbadbal/analysis/claims.py applies them). Each is bounded, so no
    setting can decide a claim by itself (`accuracy_margin: 100` would make every accuracy row "reproduced"), and
    fixed before any run: never choose one after seeing results."""

    confidence: Annotated[float, Strict(), Field(ge=0.8, le=0.99)] = Field(
        0.95, description="level of every interval, in [0.8, 0.99]; alpha = 1 - confidence is the familywise level "
        "of Holm's procedure behind 'not reproduced' and 1 - 2 alpha that of the equivalence (TOST) interval. 0.95, "
        "the conventional level, set before the runs; below 0.8 one row in five would decide by chance, above 0.99 "
        "the suites' 5 seeds could decide almost nothing")
    accuracy_margin: Annotated[float, Strict(), Field(gt=0, le=5)] = Field(
        1.0, description="'as accurate as' (non-inferiority): at most this many accuracy points worse, in (0, 5]. 1.0, "
        "the precision to which the original repository's accuracy figures can be read (+-1 point by eye); 0 would "
        "turn non-inferiority into superiority, and more than 5 points exceeds the gaps between the paper's methods, "
        "so 'as accurate' would no longer say anything")
    min_speedup: Annotated[float, Strict(), Field(ge=2, le=100)] = Field(
        10.0, description="'much faster': at least this ratio of seconds, in [2, 100]. 10, an order of magnitude (the "
        "original notebook measured about 22x at MNIST's full pool, b = 20, K = 100); below 2 is not 'much', above "
        "100 asks several times what the original code measured")
    min_gain_over_random: Annotated[float, Strict(), Field(ge=0, le=5)] = Field(
        0.0, description="'strong' against Random: more accurate by more than this many points, in [0, 5]. 0, the "
        "claim as stated (more accurate than Random, by any margin); a negative value would call a loss to Random "
        "strong, and more than 5 points is a claim the paper does not make")

    @classmethod
    def checked(cls, raw: Mapping[str, Any], source: str = "config.yaml") -> "ClaimRules":
        """`raw` as the config's `claims:` section (sbadbal.analysis.claims takes overrides through this); one ConfigError
        `<source>: claims.<key>: ...` for an unknown key or a value out of its bounds."""
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as error:
            raise first_error(error, cls, "claims", source) from None
