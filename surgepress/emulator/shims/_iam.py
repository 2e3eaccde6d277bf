"""What a role in the emulator may do, read as IAM reads it (shims that refuse as AWS does)."""

from __future__ import annotations

from surgepress.policy_rules import allows, statements_of


def rolestatements_of(account_id: str, role_arn: str) -> list[dict] | None:
    """Every statement of the role's inline and attached policies; None when there is no such role."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["global"]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto raises its own IAMNotFoundException here
        return None
    statements = [s for document in role.policies.values() for s in statements_of(document)]
    for policy in role.managed_policies.values():
        version = next((v for v in policy.versions if v.is_default), None)
        statements += statements_of(version.document if version else None)
    return statements


def denied(account_id: str, role_arn: str, wanted: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (action, resource) pairs the role may not perform (all of them without the role)."""
    statements = rolestatements_of(account_id, role_arn)
    if statements is None:
        return list(wanted)
    return [(action, resource) for action, resource in wanted if not allows(statements, action, resource)]
