"""Policy scan: Checkov over synthesized Terraform JSON, with inline, justified skips only.

Checkov's Terraform-JSON scanner has no inline suppressions, so a deliberate exception is
written on the resource itself (`modules.policy.skip_check`, stored in the resource's `//`
metadata with its reason) and honoured here. Every skip is reported with that reason; any
other failed check fails the scan.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from modules.policy import SKIP_KEY

CHECKOV_TIMEOUT_S = 600


@dataclass(frozen=True)
class Finding:
    workspace: str
    check_id: str
    check_name: str
    resource: str
    reason: str = ""

    def line(self) -> str:
        text = f"{self.workspace}: {self.check_id} {self.resource} ({self.check_name})"
        return f"{text}: skipped: {self.reason}" if self.reason else text


@dataclass
class PolicyReport:
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    skipped: list[Finding] = field(default_factory=list)
    resources_scanned: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"policy: {self.passed} passed, {len(self.failed)} failed, {len(self.skipped)} skipped "
                f"(each with its reason) over {self.resources_scanned} resources")


def checkov_binary() -> str:
    beside_python = Path(sys.executable).with_name("checkov")
    found = str(beside_python) if beside_python.exists() else shutil.which("checkov")
    if not found:
        raise RuntimeError("checkov is not installed; run `pipenv sync --dev`")
    return found


def _skips(document: dict) -> dict[str, dict[str, str]]:
    """{"<type>.<name>": {check_id: reason}} from each resource's `//` metadata."""
    found: dict[str, dict[str, str]] = {}
    for block in ("resource", "data"):
        for rtype, items in document.get(block, {}).items():
            for name, body in items.items():
                reasons = body.get("//", {}).get(SKIP_KEY)
                if reasons:
                    prefix = "data." if block == "data" else ""
                    found[f"{prefix}{rtype}.{name}"] = reasons
    return found


def _resource_count(document: dict) -> int:
    return sum(len(items) for block in ("resource", "data") for items in document.get(block, {}).values())


def scan(stack_dirs: dict[str, Path]) -> PolicyReport:
    """Run Checkov once per workspace directory and classify every result."""
    report = PolicyReport()
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    for workspace, directory in stack_dirs.items():
        document = json.loads((directory / "cdk.tf.json").read_text())
        skips = _skips(document)
        report.resources_scanned += _resource_count(document)
        proc = subprocess.run(
            [checkov_binary(), "-d", str(directory), "--framework", "terraform_json", "--skip-download",
             "-o", "json"],
            capture_output=True, text=True, env=env, timeout=CHECKOV_TIMEOUT_S,
        )
        try:
            output = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise RuntimeError(f"checkov gave no JSON for {workspace} (exit {proc.returncode}): "
                               f"{proc.stderr.strip()[-500:]}") from None
        results = output.get("results", {}) if isinstance(output, dict) else {}
        report.passed += len(results.get("passed_checks", []))
        for item in results.get("failed_checks", []):
            resource = item["resource"]
            reason = skips.get(resource, {}).get(item["check_id"], "")
            finding = Finding(workspace, item["check_id"], item["check_name"], resource, reason)
            (report.skipped if reason else report.failed).append(finding)
    return report
