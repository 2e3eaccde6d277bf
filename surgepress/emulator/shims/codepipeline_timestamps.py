"""CodePipeline: timestamps as the JSON protocol sends them.

moto answers `GetPipeline` and `ListPipelines` with `created`/`updated` as ISO-8601 strings;
AWS's JSON protocol sends epoch seconds. boto3 reads either, but the Go SDK under the
provider refuses the strings ("expected Timestamp to be a JSON Number").
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

FIELDS = ("created", "updated")


def as_epoch(value: Any) -> Any:
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return value


def install() -> None:
    from moto.codepipeline.responses import CodePipelineResponse

    def fix(document: Any) -> Any:
        if isinstance(document, dict):
            return {k: as_epoch(v) if k in FIELDS else fix(v) for k, v in document.items()}
        if isinstance(document, list):
            return [fix(item) for item in document]
        return document

    for name in ("get_pipeline", "list_pipelines"):
        original = getattr(CodePipelineResponse, name)

        def wrapper(self: Any, _original: Any = original) -> str:
            return json.dumps(fix(json.loads(_original(self))))

        setattr(CodePipelineResponse, name, wrapper)
