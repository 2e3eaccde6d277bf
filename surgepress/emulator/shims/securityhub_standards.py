"""Security Hub: standards subscriptions and hub configuration updates.

moto enables and describes a hub but has no `BatchEnableStandards`, `GetEnabledStandards`,
`BatchDisableStandards` or `UpdateSecurityHubConfiguration`, so neither the provider's hub
(it updates the configuration after enabling) nor a standards subscription can be made.
Here a subscription is kept per account and region, READY at once (AWS takes a while, which
the provider waits out), and its ARN is built the way AWS builds it:
`arn:aws:securityhub:<region>:<account>:subscription/<standard path>`. Only the standards
Security Hub offers are accepted, in the request's own region (CIS 1.2.0 is the one
region-less ruleset); any other ARN is refused with InvalidInputException, as AWS refuses it.
"""

from __future__ import annotations

import json
from typing import Any

SUBSCRIPTIONS = "surgepress_standards"
# Security Hub's standards (DescribeStandards): `standards/<path>` in each region, and one ruleset.
STANDARD_PATHS = (
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/1.4.0",
    "cis-aws-foundations-benchmark/v/3.0.0",
    "nist-800-53/v/5.0.0",
    "pci-dss/v/3.2.1",
    "pci-dss/v/4.0.1",
    "aws-resource-tagging-standard/v/1.0.0",
)
RULESETS = ("arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",)


def known_standard(standards_arn: str, region: str) -> bool:
    return standards_arn in RULESETS or standards_arn in {
        f"arn:aws:securityhub:{region}::standards/{path}" for path in STANDARD_PATHS
    }


def _subscriptions(backend: Any) -> dict[str, dict[str, Any]]:
    return backend.__dict__.setdefault(SUBSCRIPTIONS, {})


def subscription_arn(standards_arn: str, region: str, account_id: str) -> str:
    path = standards_arn.split(":standards/", 1)[-1].split(":ruleset/", 1)[-1]
    return f"arn:aws:securityhub:{region}:{account_id}:subscription/{path}"


def install() -> None:
    from moto.securityhub import urls
    from moto.securityhub.exceptions import SecurityHubClientError as RESTError
    from moto.securityhub.responses import SecurityHubResponse

    def body(self: Any) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    def require_hub(self: Any) -> None:
        if not self.securityhub_backend.enabled:
            raise RESTError("InvalidAccessException", "Account is not subscribed to AWS Security Hub")

    def batch_enable_standards(self: Any) -> str:
        require_hub(self)
        enabled = []
        requests = body(self).get("StandardsSubscriptionRequests", [])
        for request in requests:
            if not known_standard(request.get("StandardsArn", ""), self.region):
                raise RESTError("InvalidInputException", f"Invalid StandardsArn: {request.get('StandardsArn')}")
        for request in requests:
            arn = subscription_arn(request["StandardsArn"], self.region, self.current_account)
            entry = {
                "StandardsSubscriptionArn": arn,
                "StandardsArn": request["StandardsArn"],
                "StandardsInput": request.get("StandardsInput") or {},
                "StandardsStatus": "READY",
                "StandardsControlsUpdatable": "READY_FOR_UPDATES",
            }
            _subscriptions(self.securityhub_backend)[arn] = entry
            enabled.append(entry)
        return json.dumps({"StandardsSubscriptions": enabled})

    def get_enabled_standards(self: Any) -> str:
        require_hub(self)
        wanted = body(self).get("StandardsSubscriptionArns")
        found = [e for arn, e in _subscriptions(self.securityhub_backend).items() if not wanted or arn in wanted]
        return json.dumps({"StandardsSubscriptions": found})

    def batch_disable_standards(self: Any) -> str:
        require_hub(self)
        removed = [
            _subscriptions(self.securityhub_backend).pop(arn, None)
            for arn in body(self).get("StandardsSubscriptionArns", [])
        ]
        return json.dumps(
            {"StandardsSubscriptions": [{**entry, "StandardsStatus": "DELETING"} for entry in removed if entry]}
        )

    def update_security_hub_configuration(self: Any) -> str:
        require_hub(self)
        return json.dumps({})

    for function in (
        batch_enable_standards,
        get_enabled_standards,
        batch_disable_standards,
        update_security_hub_configuration,
    ):
        setattr(SecurityHubResponse, function.__name__, function)
    for path in ("/standards/register", "/standards/get", "/standards/deregister"):
        urls.url_paths["{0}" + path + "$"] = SecurityHubResponse.dispatch
