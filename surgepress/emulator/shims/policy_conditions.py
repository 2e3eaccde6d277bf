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

The request context is the request's own: `aws:SecureTransport` is what it arrived over
("true" on the emulator's TLS listener, S3's endpoint, which every client of the platform
uses; "false" on its plain-HTTP one, so a plain-HTTP request meets a bucket's TLS-only deny
as on AWS); `aws:PrincipalAccount` is the account of its signing key, and `aws:PrincipalArn`
the role's ARN for an assumed-role session (what IAM puts there), so a Deny that exempts one
role (ArnNotEquals aws:PrincipalArn) exempts it here too. A key the emulator cannot know
(the operator's static key has no IAM principal) is absent, as IAM leaves absent what a
request does not carry.
"""

from __future__ import annotations

import re
import threading

from surgepress.iam_conditions import condition_holds

TRANSPORT = threading.local()
"""Per request thread: what the request being served arrived over, and who signed it."""
SIGNING_KEY = re.compile(r"Credential=([A-Z0-9]+)(?:/|%2F)")


def request_context() -> dict[str, str]:
    context = {"aws:SecureTransport": "true" if getattr(TRANSPORT, "secure", False) else "false"}
    context.update(getattr(TRANSPORT, "principal", None) or {})
    return context


def principal_of(environ: dict) -> dict[str, str]:
    """aws:PrincipalAccount and, for an assumed role, aws:PrincipalArn of the signing key."""
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    signed = SIGNING_KEY.search(environ.get("HTTP_AUTHORIZATION", "") or environ.get("QUERY_STRING", ""))
    if signed is None:
        return {}
    key = signed.group(1)
    account = get_account_id_from(key)
    found = {"aws:PrincipalAccount": account}
    role = sts_backends[account]["global"].get_assumed_role_from_access_key(key)
    if role is not None:
        found["aws:PrincipalArn"] = role.role_arn
    return found


def install() -> None:
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.s3.models import FakeBucket

    dispatch = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        TRANSPORT.secure = environ.get("wsgi.url_scheme") == "https"
        TRANSPORT.principal = principal_of(environ)
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
