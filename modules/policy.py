"""Inline, justified policy skips on synthesized resources.

Checkov's Terraform-JSON scanner ignores comment-style skips, so a skip is recorded in
the resource's own `//` metadata block (`checkov_skip`: check id -> reason) and honoured by
`surgepress.policy`, which reports every skip with its reason. A skip without a reason
is refused here, at synth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scan reads SKIP_KEY without paying for the jsii runtime
    from cdktf import TerraformElement

SKIP_KEY = "checkov_skip"


def skip_check(element: TerraformElement, reasons: dict[str, str]) -> None:
    """Record that `element` deliberately fails the given checks, and why."""
    for check_id, reason in reasons.items():
        if not check_id.startswith("CKV") or len(reason.strip()) < 20:
            raise ValueError(f"skip_check: {check_id!r} needs a real reason (got {reason!r})")
        element.add_override(f"//.{SKIP_KEY}.{check_id}", reason)
