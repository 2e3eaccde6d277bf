"""Bucket policies: conditions are evaluated as IAM does, and requests arrive over TLS.

moto evaluates only `StringEquals` conditions and treats every other operator as holding;
and it answers DENIED for any matching statement whose condition does not hold, whatever
its Effect. Every surgepress bucket has the TLS-only statement (Deny when the `Bool`
`aws:SecureTransport` is "false"), so moto refused every object read and write on them,
signed or not.

Here the common operators are evaluated as IAM's condition-operator reference says:
condition keys are matched whatever their case (values keep theirs); a key missing from the
request matches no positive operator, while a negated one (StringNotEquals, StringNotLike,
ArnNotEquals, ArnNotLike) and any ...IfExists operator hold for it. A statement whose
condition does not hold is not applicable.

A request's `aws:SecureTransport` is what it arrived over: "true" on the emulator's TLS
listener (S3's endpoint, which every client of the platform uses), "false" on its plain-HTTP
one, so a plain-HTTP request meets a bucket's TLS-only deny as it would on AWS.
"""

from __future__ import annotations

import threading
from fnmatch import fnmatchcase

TRANSPORT = threading.local()
"""Per request thread: whether the request being served arrived over TLS."""


def request_context() -> dict[str, str]:
    return {"aws:SecureTransport": "true" if getattr(TRANSPORT, "secure", False) else "false"}


def _as_list(value) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


OPERATORS = {
    "StringEquals": lambda actual, expected: actual in expected,
    "StringNotEquals": lambda actual, expected: actual not in expected,
    "StringLike": lambda actual, expected: any(fnmatchcase(actual, e) for e in expected),
    "StringNotLike": lambda actual, expected: not any(fnmatchcase(actual, e) for e in expected),
    "ArnEquals": lambda actual, expected: actual in expected,
    "ArnNotEquals": lambda actual, expected: actual not in expected,
    "ArnLike": lambda actual, expected: any(fnmatchcase(actual, e) for e in expected),
    "ArnNotLike": lambda actual, expected: not any(fnmatchcase(actual, e) for e in expected),
    "Bool": lambda actual, expected: actual.lower() in [e.lower() for e in expected],
}
NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def condition_holds(condition: dict, context: dict[str, str]) -> bool | None:
    """True/False as IAM decides; None when an operator is not known here (moto's own rule applies)."""
    present = {key.lower(): value for key, value in context.items()}
    for operator, entries in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        check = OPERATORS.get(base)
        if check is None:
            return None
        for key, expected in entries.items():
            if key.lower() not in present:
                if if_exists or base in NEGATED:
                    continue
                return False
            if not check(present[key.lower()], _as_list(expected)):
                return False
    return True


def install() -> None:
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.s3.models import FakeBucket

    dispatch = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        TRANSPORT.secure = environ.get("wsgi.url_scheme") == "https"
        return dispatch(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        condition = self._statement.get("Condition")
        if condition and condition_holds(condition, incoming_condition_values or {}) is False:
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    def get_permission(self, action: str, resource: str):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return IAMPolicy(self.policy.decode()).is_action_permitted(
            action, resource, incoming_condition_values=request_context()
        )

    IAMPolicyStatement.is_action_permitted = is_action_permitted
    FakeBucket.get_permission = get_permission
