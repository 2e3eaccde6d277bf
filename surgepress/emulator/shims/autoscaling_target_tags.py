"""Application Auto Scaling: tags on scalable targets.

moto has no `TagResource`, `UntagResource` or `ListTagsForResource` for Application Auto
Scaling and ignores the `Tags` of `RegisterScalableTarget`, so the provider cannot read a
target it just made. AWS keeps the tags per target ARN; so does this shim.
"""

from __future__ import annotations

import json
from typing import Any


def _tags(backend: Any) -> dict[str, dict[str, str]]:
    return backend.__dict__.setdefault("surgepress_tags", {})


def install() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self: Any) -> str:
        body = original_register(self)
        tags = self._get_param("Tags") or {}
        if tags:
            _tags(self.applicationautoscaling_backend).setdefault(json.loads(body)["ScalableTargetARN"], {}).update(
                tags
            )
        return body

    def list_tags_for_resource(self: Any) -> str:
        arn = self._get_param("ResourceARN")
        return json.dumps({"Tags": _tags(self.applicationautoscaling_backend).get(arn, {})})

    def tag_resource(self: Any) -> str:
        _tags(self.applicationautoscaling_backend).setdefault(self._get_param("ResourceARN"), {}).update(
            self._get_param("Tags") or {}
        )
        return "{}"

    def untag_resource(self: Any) -> str:
        held = _tags(self.applicationautoscaling_backend).get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            held.pop(key, None)
        return "{}"

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
