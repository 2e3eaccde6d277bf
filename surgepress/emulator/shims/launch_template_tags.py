"""EC2: a launch template's own tags stay on the template, not in its data.

moto copies the `launch-template` tag specification of `CreateLaunchTemplate` into the
template's `LaunchTemplateData.TagSpecifications`, so every read shows a tag specification
nobody wrote (and `launch-template` is not even a valid resource type there). AWS keeps the
template's tags on the template only.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    from moto.ec2.responses.launch_templates import LaunchTemplates

    original = LaunchTemplates.create_launch_template

    def create_launch_template(self: Any) -> Any:
        result = original(self)
        template = self.ec2_backend.launch_template_name_to_ids.get(self._get_param("LaunchTemplateName"))
        template = self.ec2_backend.launch_templates.get(template) if template else None
        for version in getattr(template, "versions", []):
            specs = version.data.get("TagSpecifications")
            if specs:
                version.data["TagSpecifications"] = [s for s in specs if s.get("ResourceType") != "launch-template"]
        return result

    LaunchTemplates.create_launch_template = create_launch_template
