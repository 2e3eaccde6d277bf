"""What a role in the emulator may do, read as IAM reads it (shims that refuse as AWS does).

`refusal` joins a role's own policies with a resource's policy as IAM's policy evaluation
logic does: an explicit Deny in either refuses; within one account, an Allow in either
permits, except that a resource policy naming only the account (its root) delegates to the
role's own policies; across accounts both must allow.
"""

from __future__ import annotations

from surgepress.policy_rules import allows, decision, names_principal, statements_of


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


def own_refusal(role_arn: str, action: str) -> str | None:
    """Why the role's own policies refuse it an action on no particular resource ("*"), or None."""
    own = rolestatements_of(role_arn.split(":")[4], role_arn)
    if own is None:
        return f"there is no role {role_arn}"
    context = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": role_arn.split(":")[4]}
    return None if decision(own, action, "*", context) == "Allow" else f"{role_arn}'s policies do not allow it {action}"


def refusal(role_arn: str, action: str, resource_arn: str, resource_policy: str | dict | None) -> str | None:
    """Why IAM refuses the role this action on the resource (see the module's note); None when it may."""
    role_account, resource_account = role_arn.split(":")[4], resource_arn.split(":")[4]
    own = rolestatements_of(role_account, role_arn)
    if own is None:
        return f"there is no role {role_arn}"
    context = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": role_account}
    naming = [(s, names_principal(s, role_arn)) for s in statements_of(resource_policy)]
    theirs = [s for s, how in naming if how]
    by_role = decision(own, action, resource_arn, context)
    by_resource = decision(theirs, action, resource_arn, context)
    if "Deny" in (by_role, by_resource):
        return f"an explicit Deny refuses {role_arn} {action} on {resource_arn}"
    if role_account == resource_account:
        names_role = by_resource == "Allow" and any(
            how == "role" and decision([s], action, resource_arn, context) == "Allow" for s, how in naming
        )
        if by_role == "Allow" or names_role:
            return None
        return f"neither {role_arn}'s policies nor {resource_arn}'s policy allow it {action}"
    if by_resource != "Allow":
        return f"{resource_arn}'s policy does not allow {role_arn} (another account) {action}"
    if by_role != "Allow":
        return f"{role_arn}'s policies do not allow it {action} on {resource_arn}"
    return None
