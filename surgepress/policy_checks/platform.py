"""The platform's rules (surgepress.policy_rules) as Checkov custom checks.

Checkov hands a check one resource's configuration; these rules need the whole workspace
document (a Lambda's role, a channel's bucket), so `surgepress.policy` runs Checkov once per
workspace and names its document in SURGEPRESS_POLICY_DOCUMENT (and the other workspaces'
in SURGEPRESS_POLICY_OTHERS, for rules that span accounts). A check without that
environment fails rather than passing unseen.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from surgepress.policy_rules import CHECKS, DOCUMENT_ENV, OTHERS_ENV, Check, Document


@cache
def _document(path: str) -> Document:
    return Document.load(Path(path))


class PlatformCheck(BaseResourceCheck):
    def __init__(self, check: Check) -> None:
        self.rule = check.rule
        super().__init__(
            name=check.name,
            id=check.id,
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=[check.resource_type],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        _, rtype, name = self.entity_path.rsplit(":", 2)
        path = os.environ.get(DOCUMENT_ENV)
        if not path:
            self.details.append(f"{DOCUMENT_ENV} is not set: run it through `python main.py policy`")
            return CheckResult.FAILED
        others = [_document(p) for p in os.environ.get(OTHERS_ENV, "").split(os.pathsep) if p]
        passed, why = self.rule(_document(path), rtype, name, others)
        self.details.append(why)
        return CheckResult.PASSED if passed else CheckResult.FAILED


checks = [PlatformCheck(check) for check in CHECKS]
