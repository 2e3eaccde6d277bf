"""Terraform outputs as every module names them: `<resource>_<attribute>`, unprefixed by the
construct path, so `output` shows `cluster_endpoint`, not `database_cluster_endpoint_1A2B`.
"""

from __future__ import annotations

from typing import Any

from cdktf import TerraformOutput
from constructs import Construct


def export(scope: Construct, outputs: dict[str, Any]) -> None:
    for key, value in outputs.items():
        TerraformOutput(scope, key, value=value).override_logical_id(key)
