"""RDS: answer DescribeDBInstances / DescribeDBClusters the way AWS does.

- Performance Insights: moto drops `EnablePerformanceInsights` and its KMS key and
  retention, so every read says "disabled" and each plan wants to turn it on again.
  AWS keeps them, with a 7-day retention by default.
- Global clusters can be tagged: moto's ARN check for tagging omits `global-cluster`
  (whose ARN has no region), so every tag call on one is "Invalid resource name", and
  `CreateGlobalCluster` drops its `Tags`. `ModifyGlobalCluster` (how deletion protection is
  released before a teardown) is missing. A deleted member cluster stays a member (moto
  keeps global clusters in us-east-1 and looks for them in the cluster's own region), so
  the global cluster can never be deleted.
- Serverless v1 scaling: moto returns `ScalingConfigurationInfo` for every cluster; AWS
  returns it only for `engine_mode = serverless` (v1). The empty block reads as drift.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_PI_RETENTION_DAYS = 7


def _record_performance_insights(instance: Any, kwargs: dict[str, Any]) -> None:
    enabled = kwargs.get("enable_performance_insights")
    if enabled is None:
        return
    instance.performance_insights_enabled = bool(enabled)
    if enabled:
        instance.performance_insights_kms_key_id = kwargs.get("performance_insights_kms_key_id") or getattr(
            instance, "performance_insights_kms_key_id", None
        )
        instance.performance_insights_retention_period = int(
            kwargs.get("performance_insights_retention_period")
            or getattr(instance, "performance_insights_retention_period", None)
            or DEFAULT_PI_RETENTION_DAYS
        )


def _global_clusters(account_id: str) -> Any:
    """moto keeps every global cluster of an account in its us-east-1 backend (RDSResponse.global_backend)."""
    from moto.rds.models import rds_backends

    return rds_backends[account_id]["us-east-1"].global_clusters


def install() -> None:
    from moto.rds.models import DBCluster, DBInstance, RDSBackend

    original_backend_init = RDSBackend.__init__

    def backend_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_backend_init(self, *args, **kwargs)
        self.arn_regex = re.compile(self.arn_regex.pattern.replace("(db|cluster|", "(db|cluster|global-cluster|"))

    RDSBackend.__init__ = backend_init
    original_find = RDSBackend._find_resource

    def find_resource(self: Any, resource_type: str, resource_name: str) -> Any:
        found = original_find(self, resource_type, resource_name)
        if found is None and resource_type == "global-cluster":
            return _global_clusters(self.account_id).get(resource_name)
        return found

    RDSBackend._find_resource = find_resource
    original_delete_cluster = RDSBackend.delete_db_cluster

    def delete_db_cluster(self: Any, cluster_identifier: str, *args: Any, **kwargs: Any) -> Any:
        deleted = original_delete_cluster(self, cluster_identifier, *args, **kwargs)
        for global_cluster in _global_clusters(self.account_id).values():
            global_cluster.members = [m for m in global_cluster.members if m is not deleted]
        return deleted

    RDSBackend.delete_db_cluster = delete_db_cluster

    from moto.rds.responses import RDSResponse

    original_create_global = RDSResponse.create_global_cluster

    def create_global_cluster(self: Any) -> Any:
        result = original_create_global(self)
        tags = self.params.get("Tags")
        if tags:
            result.result["GlobalCluster"].add_tags(tags)
        return result

    RDSResponse.create_global_cluster = create_global_cluster

    def modify_global_cluster(self: Any) -> Any:
        from moto.core.responses import ActionResult
        from moto.rds.exceptions import RDSClientError

        params = self.params
        identifier = params["GlobalClusterIdentifier"]
        cluster = self.global_backend.global_clusters.get(identifier)
        if cluster is None:
            raise RDSClientError("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")
        if params.get("DeletionProtection") is not None:
            cluster.deletion_protection = params["DeletionProtection"]
        if params.get("EngineVersion"):
            cluster.engine_version = params["EngineVersion"]
        return ActionResult({"GlobalCluster": cluster})

    RDSResponse.modify_global_cluster = modify_global_cluster

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
