"""RDS: answer DescribeDBInstances / DescribeDBClusters the way AWS does.

- Performance Insights: moto drops `EnablePerformanceInsights` and its KMS key and
  retention, so every read says "disabled" and each plan wants to turn it on again.
  AWS keeps them, with a 7-day retention by default.
- Serverless v1 scaling: moto returns `ScalingConfigurationInfo` for every cluster; AWS
  returns it only for `engine_mode = serverless` (v1). The empty block reads as drift.
"""

from __future__ import annotations

from typing import Any

DEFAULT_PI_RETENTION_DAYS = 7


def _record_performance_insights(instance: Any, kwargs: dict[str, Any]) -> None:
    enabled = kwargs.get("enable_performance_insights")
    if enabled is None:
        return
    instance.performance_insights_enabled = bool(enabled)
    if enabled:
        instance.performance_insights_kms_key_id = (kwargs.get("performance_insights_kms_key_id")
                                                    or getattr(instance, "performance_insights_kms_key_id", None))
        instance.performance_insights_retention_period = int(
            kwargs.get("performance_insights_retention_period")
            or getattr(instance, "performance_insights_retention_period", None) or DEFAULT_PI_RETENTION_DAYS)


def install() -> None:
    from moto.rds.models import DBCluster, DBInstance

    original_init, original_update = DBInstance.__init__, DBInstance.update

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.performance_insights_enabled = False
        _record_performance_insights(self, kwargs)

    def update(self, *args: Any, **kwargs: Any) -> None:
        original_update(self, *args, **kwargs)
        _record_performance_insights(self, kwargs)

    DBInstance.__init__ = __init__
    DBInstance.update = update

    original_scaling = DBCluster.scaling_configuration_info

    def scaling_configuration_info(self):
        return original_scaling.fget(self) if getattr(self, "engine_mode", None) == "serverless" else None

    DBCluster.scaling_configuration_info = property(scaling_configuration_info)
