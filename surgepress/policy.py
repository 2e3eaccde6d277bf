"""Policy scan: Checkov over synthesized Terraform JSON, with inline, justified skips only.

Checkov's Terraform-JSON scanner has no inline suppressions, so a deliberate exception is
written on the resource itself (`modules.policy.skip_check`, stored in the resource's `//`
metadata with its reason) and honoured here. Every skip is reported with that reason; any
other failed check fails the scan.

Beside Checkov's own checks run the platform's (surgepress.policy_rules, loaded from
surgepress/policy_checks): what real AWS refuses that the emulator accepts. Checkov runs once
per workspace, so the report says what each workspace gave, and a workspace without results,
or a platform check that judged fewer resources than its type has there, fails the scan.

The image's Dockerfile (app/Dockerfile) gets hadolint and Checkov's dockerfile checks
(`scan_image`), reported beside the workspaces as `image`: zero findings, or an inline
`# hadolint ignore=` / `# checkov:skip=` whose reason is the comment line above it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from modules.policy import SKIP_KEY
from surgepress.policy_rules import CHECKS, DOCUMENT_ENV, OTHERS_ENV

CHECKOV_TIMEOUT_S = 600
REPO = Path(__file__).resolve().parent.parent
CUSTOM_CHECKS = Path(__file__).resolve().parent / "policy_checks"


@dataclass(frozen=True)
class Finding:
    workspace: str
    check_id: str
    check_name: str
    resource: str
    reason: str = ""
    details: str = ""
    """What the check found (the platform's checks say what is missing)."""

    def line(self) -> str:
        text = f"{self.workspace}: {self.check_id} {self.resource} ({self.check_name})"
        if self.reason:
            return f"{text}: skipped: {self.reason}"
        return f"{text}: {self.details}" if self.details else text


@dataclass
class WorkspaceCounts:
    resources: int
    passed: int
    failed: int = 0
    skipped: int = 0


@dataclass
class PolicyReport:
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    skipped: list[Finding] = field(default_factory=list)
    resources_scanned: int = 0
    workspaces: dict[str, WorkspaceCounts] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def merge(self, other: PolicyReport) -> PolicyReport:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.resources_scanned += other.resources_scanned
        self.workspaces.update(other.workspaces)
        return self

    def summary(self) -> str:
        lines = [
            f"  {name}: {c.passed} passed, {c.failed} failed, {c.skipped} skipped over {c.resources} resources"
            for name, c in self.workspaces.items()
        ]
        return "\n".join(
            [
                *lines,
                f"policy: {self.passed} passed, {len(self.failed)} failed, {len(self.skipped)} skipped "
                f"(each with its reason) over {self.resources_scanned} resources in {len(self.workspaces)} "
                "workspace(s)",
            ]
        )


def checkov_binary() -> str:
    return _tool("checkov")


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


def _report_of(workspace: str, text: str) -> dict:
    """Checkov's JSON report for one directory: the whole of stdout, or a clear error."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        snippet = text[max(0, exc.pos - 40) : exc.pos + 80].strip() or "(nothing)"
        raise RuntimeError(f"policy: checkov's output for {workspace} is not one JSON report: {snippet!r}") from None
    reports = [r for r in (value if isinstance(value, list) else [value]) if isinstance(r, dict)]
    if len(reports) != 1 or reports[0].get("check_type") != "terraform_json":
        raise RuntimeError(f"policy: checkov gave no terraform_json report for {workspace} (it parsed no resources)")
    return reports[0]


def _run_checkov(workspace: str, directory: Path, others: list[Path], only: tuple[str, ...] = ()) -> dict:
    env = {
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        DOCUMENT_ENV: str(directory / "cdk.tf.json"),
        OTHERS_ENV: os.pathsep.join(str(p / "cdk.tf.json") for p in others),
    }
    args = ["-d", str(directory), "--framework", "terraform_json", "--external-checks-dir", str(CUSTOM_CHECKS)]
    return _report_of(workspace, _checkov(workspace, [*args, *(["--check", ",".join(only)] if only else [])], env))


def _checkov(what: str, args: list[str], env: dict[str, str] | None = None) -> str:
    """Checkov's JSON report (stdout) for `args`, offline; exit 1 means findings, which it lists."""
    proc = subprocess.run(
        [checkov_binary(), *args, "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", **(env or {})},
        timeout=CHECKOV_TIMEOUT_S,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"policy: checkov failed on {what} (exit {proc.returncode}): {proc.stderr[-500:]}")
    return proc.stdout


def scan(stack_dirs: dict[str, Path], *, jobs: int | None = None, only: tuple[str, ...] = ()) -> PolicyReport:
    """Run Checkov over each workspace directory (its own process, its document named for the
    platform's checks) and classify every result. Each workspace must give results, and each
    platform check a result for every resource of its type: a check that did not load, or
    that raised (Checkov reports those as neither passed nor failed), fails the scan. `only`
    limits it to those check ids (the platform's are always among them)."""
    only = tuple(dict.fromkeys([*only, *(c.id for c in CHECKS)])) if only else ()
    report = PolicyReport()
    documents = {w: json.loads((d / "cdk.tf.json").read_text()) for w, d in stack_dirs.items()}

    def one(workspace: str) -> tuple[str, dict]:
        others = [d for w, d in stack_dirs.items() if w != workspace]
        return workspace, _run_checkov(workspace, stack_dirs[workspace], others, only)

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        results = dict(pool.map(one, stack_dirs))
    for workspace, result in results.items():
        document = documents[workspace]
        skips = _skips(document)
        passed = result.get("results", {}).get("passed_checks", [])
        failed = result.get("results", {}).get("failed_checks", [])
        if not passed and not failed:
            raise RuntimeError(f"policy: checkov gave no results for {workspace}")
        for check in CHECKS:
            expected = len(document.get("resource", {}).get(check.resource_type) or {})
            got = sum(1 for item in passed + failed if item["check_id"] == check.id)
            if got != expected:
                raise RuntimeError(
                    f"policy: {check.id} judged {got} of {workspace}'s {expected} {check.resource_type} "
                    "resources (it did not load, or it raised)"
                )
        counts = WorkspaceCounts(resources=_resource_count(document), passed=len(passed))
        report.resources_scanned += counts.resources
        report.passed += len(passed)
        for item in failed:
            reason = skips.get(item["resource"], {}).get(item["check_id"], "")
            details = "; ".join(item.get("details") or [])
            finding = Finding(workspace, item["check_id"], item["check_name"], item["resource"], reason, details)
            (report.skipped if reason else report.failed).append(finding)
            counts.skipped += bool(reason)
            counts.failed += not reason
        report.workspaces[workspace] = counts
    return report


IMAGE = "image"
"""The report's name for the image's Dockerfile."""


def scan_image(dockerfile: Path) -> PolicyReport:
    """hadolint (every rule, info level included) and Checkov's dockerfile framework over `dockerfile`."""
    report = PolicyReport()
    skips = _dockerfile_skips(dockerfile)
    hadolint = subprocess.run(
        [_tool("hadolint"), "--no-color", "-f", "json", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=CHECKOV_TIMEOUT_S,
    )
    if hadolint.returncode not in (0, 1) or not hadolint.stdout.strip().startswith("["):  # 1: findings, listed
        raise RuntimeError(
            f"policy: hadolint failed on {dockerfile} (exit {hadolint.returncode}): {hadolint.stderr[-500:]}"
        )
    hadolint_findings = json.loads(hadolint.stdout)
    report_json = _checkov(str(dockerfile), ["-f", str(dockerfile), "--framework", "dockerfile"])
    results = json.loads(report_json).get("results", {})
    passed, failed = results.get("passed_checks", []), results.get("failed_checks", [])
    if not passed and not failed:
        raise RuntimeError(f"policy: checkov gave no dockerfile results for {dockerfile}")
    counts = WorkspaceCounts(resources=1, passed=len(passed))
    for item in failed:
        report.failed.append(Finding(IMAGE, item["check_id"], item["check_name"], str(dockerfile)))
    for item in results.get("skipped_checks", []):
        reason = (item.get("check_result") or {}).get("suppress_comment") or ""
        report.skipped.append(Finding(IMAGE, item["check_id"], item["check_name"], str(dockerfile), reason or "?"))
    for item in hadolint_findings:
        report.failed.append(
            Finding(IMAGE, item["code"], item["level"], f"{dockerfile}:{item['line']}", details=item["message"])
        )
    for code, reason in skips:
        report.skipped.append(Finding(IMAGE, code, "hadolint", str(dockerfile), reason))
    counts.failed, counts.skipped = len(report.failed), len(report.skipped)
    report.passed, report.resources_scanned, report.workspaces[IMAGE] = counts.passed, 1, counts
    return report


def _dockerfile_skips(dockerfile: Path) -> list[tuple[str, str]]:
    """(code, reason) of each `# hadolint ignore=` pragma; the reason is the comment line above
    it. A pragma without one is refused: every skip states a reason."""
    lines = dockerfile.read_text().splitlines()
    skips = []
    for number, line in enumerate(lines):
        pragma = re.match(r"^#\s*hadolint\s+ignore=([A-Z0-9,]+)\s*$", line.strip())
        if not pragma:
            continue
        above = lines[number - 1].strip() if number else ""
        if not above.startswith("#") or "hadolint" in above:
            raise RuntimeError(f"policy: {dockerfile}:{number + 1}: hadolint ignore without a reason on the line above")
        skips += [(code, above.lstrip("# ").strip()) for code in pragma.group(1).split(",")]
    return skips


def _tool(name: str) -> str:
    beside_python = Path(sys.executable).with_name(name)
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed; run `pipenv sync --dev`")
    return found
