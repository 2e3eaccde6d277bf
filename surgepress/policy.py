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
        return (
            f"policy: {self.passed} passed, {len(self.failed)} failed, {len(self.skipped)} skipped "
            f"(each with its reason) over {self.resources_scanned} resources"
        )


def checkov_binary() -> str:
    beside_python = Path(sys.executable).with_name("checkov")
    found = str(beside_python) if beside_python.exists() else shutil.which("checkov")
    if not found:
        raise RuntimeError("checkov is not installed; run `pipenv sync --dev`")
    return found


def _skips(document: dict) -> dict[str, dict[str, str]]:
    """{resource address: {check_id: reason}} from each resource's `//` metadata.

    Checkov names a resource two ways in Terraform JSON: graph checks say
    `<type>.<name>` (`data.<type>.<name>`), attribute checks `<block>.<name>`; cdktf's
    logical names are unique within a stack, so both forms are indexed.
    """
    found: dict[str, dict[str, str]] = {}
    for block in ("resource", "data"):
        for rtype, items in document.get(block, {}).items():
            for name, body in items.items():
                reasons = body.get("//", {}).get(SKIP_KEY)
                if reasons:
                    typed = f"{rtype}.{name}" if block == "resource" else f"data.{rtype}.{name}"
                    found[typed] = found[f"{block}.{name}"] = reasons
    return found


def _resource_count(document: dict) -> int:
    return sum(len(items) for block in ("resource", "data") for items in document.get(block, {}).values())


def _json_documents(text: str) -> list[dict]:
    """Checkov prints one JSON document per `-d` directory, back to back (or a list)."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        documents += value if isinstance(value, list) else [value]
    return [d for d in documents if isinstance(d, dict)]


def scan(stack_dirs: dict[str, Path]) -> PolicyReport:
    """Run Checkov once over every workspace directory and classify every result."""
    report = PolicyReport()
    skips: dict[Path, dict[str, dict[str, str]]] = {}
    workspace_of: dict[Path, str] = {}
    for workspace, directory in stack_dirs.items():
        document = json.loads((directory / "cdk.tf.json").read_text())
        skips[directory.resolve()] = _skips(document)
        workspace_of[directory.resolve()] = workspace
        report.resources_scanned += _resource_count(document)
    directories = [arg for d in stack_dirs.values() for arg in ("-d", str(d))]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    proc = subprocess.run(
        [checkov_binary(), *directories, "--framework", "terraform_json", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=CHECKOV_TIMEOUT_S,
    )
    documents = _json_documents(proc.stdout)
    if not documents:
        raise RuntimeError(f"checkov gave no JSON (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    # Graph checks can repeat across the per-directory documents: count each result once.
    seen: dict[str, dict[tuple, dict]] = {"passed_checks": {}, "failed_checks": {}}
    for document in documents:
        for kind, unique in seen.items():
            for item in document.get("results", {}).get(kind, []):
                unique[(item["check_id"], item["file_abs_path"], item["resource"])] = item
    report.passed += len(seen["passed_checks"])
    failed = list(seen["failed_checks"].values())
    for item in failed:
        directory = Path(item["file_abs_path"]).resolve().parent
        reason = skips[directory].get(item["resource"], {}).get(item["check_id"], "")
        finding = Finding(workspace_of[directory], item["check_id"], item["check_name"], item["resource"], reason)
        (report.skipped if reason else report.failed).append(finding)
    return report
