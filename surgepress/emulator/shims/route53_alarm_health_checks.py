"""Route 53: health checks that watch a CloudWatch alarm (type CLOUDWATCH_METRIC).

moto drops the alarm (`AlarmIdentifier`) and `InsufficientDataHealthStatus`, and answers with
an endpoint check's port, request interval and failure threshold (80, 30, 3), which such a
check does not have. Terraform then reads a changed request interval, which forces a new
health check on every plan. AWS keeps the alarm and the insufficient-data status, and
returns none of the endpoint fields for this type.
"""

from __future__ import annotations

from typing import Any

ALARM_TYPE = "CLOUDWATCH_METRIC"


def install() -> None:
    from moto.route53.models import HealthCheck
    from moto.route53.responses import Route53 as Route53Response

    original_config = HealthCheck.health_check_config

    def health_check_config(self: Any) -> dict[str, Any]:
        config = original_config.fget(self)
        if self.type_ != ALARM_TYPE:
            return config
        for endpoint_field in (
            "IPAddress",
            "Port",
            "RequestInterval",
            "FailureThreshold",
            "MeasureLatency",
            "ResourcePath",
            "FullyQualifiedDomainName",
            "SearchString",
            "EnableSNI",
        ):
            config.pop(endpoint_field, None)
        config["AlarmIdentifier"] = getattr(self, "alarm_identifier", None)
        config["InsufficientDataHealthStatus"] = getattr(self, "insufficient_data_health_status", None)
        return {k: v for k, v in config.items() if v is not None}

    HealthCheck.health_check_config = property(health_check_config)

    def keep(result: Any, config: dict[str, Any]) -> Any:
        check = result.result["HealthCheck"]
        if config.get("AlarmIdentifier"):
            check.alarm_identifier = config["AlarmIdentifier"]
        if config.get("InsufficientDataHealthStatus"):
            check.insufficient_data_health_status = config["InsufficientDataHealthStatus"]
        return result

    original_create, original_update = Route53Response.create_health_check, Route53Response.update_health_check

    def create_health_check(self: Any) -> Any:
        return keep(original_create(self), self._get_param("HealthCheckConfig") or {})

    def update_health_check(self: Any) -> Any:
        return keep(
            original_update(self), {k: self._get_param(k) for k in ("AlarmIdentifier", "InsufficientDataHealthStatus")}
        )

    Route53Response.create_health_check = create_health_check
    Route53Response.update_health_check = update_health_check
