"""The JSON schema of config.yaml, generated from the configuration model and checked in (for editors):

    python -m sbadbal.config.schema > schemas/config.schema.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

from sbadbal.config.model import Config


def json_schema() -> dict[str, Any]:
    """The JSON schema of config.yaml, generated from the models (checked in as schemas/config.schema.json)."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = ("sbadbal workflow configuration (config.yaml), generated from sbadbal/config/ by "
                             "`python -m sbadbal.config.schema > schemas/config.schema.json`; names and cross-field "
                             "rules are checked by sbadbal.config.load_config only.")
    return schema


if __name__ == "__main__":
    json.dump(json_schema(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
