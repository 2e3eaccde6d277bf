"""Lambda: active tracing needs an execution role that may write to X-Ray.

AWS refuses CreateFunction (and UpdateFunctionConfiguration) with `TracingConfig.Mode =
Active` when the execution role may not call `xray:PutTraceSegments` and
`xray:PutTelemetryRecords`: InvalidParameterValueException, "The provided execution role
does not have permissions to call PutTraceSegments on XRAY". moto creates the function
whatever the role holds. Here the role's inline and attached policies (customer and AWS
managed) are read as IAM reads them (surgepress.policy_rules.allows) before moto creates it.
"""

from __future__ import annotations

from typing import Any

from surgepress.emulator.shims._iam import denied
from surgepress.policy_rules import XRAY_ACTIONS


def missing_trace_actions(account_id: str, role_arn: str) -> list[str]:
    """The X-Ray actions the role may not call (every one when the role does not exist)."""
    return [action for action, _ in denied(account_id, role_arn, [(a, "*") for a in XRAY_ACTIONS])]


def install() -> None:
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaBackend

    def refuse_untraceable(backend: Any, role_arn: str | None, tracing: dict | None) -> None:
        if (tracing or {}).get("Mode") != "Active" or not role_arn:
            return
        missing = missing_trace_actions(backend.account_id, role_arn)
        if missing:
            action = missing[0].split(":", 1)[1]
            raise InvalidParameterValueException(
                f"The provided execution role does not have permissions to call {action} on XRAY"
            )

    create = LambdaBackend.create_function
    update = LambdaBackend.update_function_configuration

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        refuse_untraceable(self, spec.get("Role"), spec.get("TracingConfig"))
        return create(self, spec)

    def update_function_configuration(self: Any, function_name: str, qualifier: str, body: dict[str, Any]) -> Any:
        if "TracingConfig" in body or "Role" in body:  # either may leave a traced function untraceable
            current = self.get_function(function_name, qualifier)
            tracing = body.get("TracingConfig") or {"Mode": (current.tracing_config or {}).get("Mode")}
            refuse_untraceable(self, body.get("Role") or current.role, tracing)
        return update(self, function_name, qualifier, body)

    LambdaBackend.create_function = create_function
    LambdaBackend.update_function_configuration = update_function_configuration
