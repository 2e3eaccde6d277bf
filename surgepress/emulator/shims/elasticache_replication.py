"""ElastiCache: replication groups the way AWS builds and removes them.

- Nodes: with cluster mode disabled, moto ignores `NumCacheClusters` (it makes one node
  unless `ReplicasPerNodeGroup` is given), and it never creates the member cache clusters,
  so `DescribeCacheClusters` of `<group>-001` fails. AWS creates one cache cluster per
  node, carrying the group's settings. Both are done here.
- Deletion: moto leaves a deleted group in `deleting` for ever (and its members behind);
  AWS removes it, its member clusters with it.
- `DeleteCacheSubnetGroup` is missing from moto; AWS refuses it while a cluster uses the
  group (`CacheSubnetGroupInUse`).
- The reader endpoint of a cluster-mode-disabled group is missing from moto's answer.
- The default parameter group of the engine family is named on every cluster, as AWS does.
"""

from __future__ import annotations

from typing import Any


def _parameter_group_name(engine_version: str | None, requested: str | None) -> str:
    if requested:
        return requested
    major = (engine_version or "7").split(".")[0]
    return f"default.redis{major}"


def _register_members(backend: Any, group: Any, kwargs: dict[str, Any]) -> None:
    from moto.elasticache.models import CacheCluster

    parameter_group = _parameter_group_name(kwargs.get("engine_version"), kwargs.get("cache_parameter_group_name"))
    group.cache_parameter_group_name = parameter_group
    for node_group in group.node_groups:
        if "reader_endpoint_address" in node_group:  # moto computes it but never answers it
            node_group["reader_endpoint"] = {"address": node_group["reader_endpoint_address"], "port": group.port}
        for member in node_group["node_group_members"]:
            cluster = CacheCluster(
                account_id=backend.account_id,
                region_name=backend.region_name,
                cache_cluster_id=member["cache_cluster_id"],
                cache_node_type=group.cache_node_type,
                replication_group_id=group.replication_group_id,
                az_mode="single-az",
                preferred_availability_zone=member.get("preferred_availability_zone"),
                num_cache_nodes=1,
                engine=group.engine,
                engine_version=kwargs.get("engine_version"),
                cache_parameter_group_name=parameter_group,
                cache_subnet_group_name=kwargs.get("cache_subnet_group_name"),
                transit_encryption_enabled=group.transit_encryption_enabled,
                network_type=group.network_type,
                ip_discovery=group.ip_discovery,
                snapshot_name=None,
                preferred_maintenance_window=kwargs.get("preferred_maintenance_window"),
                port=group.port,
                notification_topic_arn=kwargs.get("notification_topic_arn"),
                auto_minor_version_upgrade=kwargs.get("auto_minor_version_upgrade"),
                snapshot_retention_limit=group.snapshot_retention_limit,
                snapshot_window=group.snapshot_window,
                auth_token=None,
                outpost_mode=None,
                preferred_outpost_arn=None,
                preferred_availability_zones=None,
                cache_security_group_names=None,
                security_group_ids=kwargs.get("security_group_ids"),
                tags=None,
                snapshot_arns=None,
                preferred_outpost_arns=None,
                log_delivery_configurations=[],
                cache_node_ids_to_remove=None,
                cache_node_ids_to_reboot=None,
            )
            # DescribeCacheClusters renders these shapes by attribute name.
            cluster.auth_token_enabled = group.auth_token_enabled
            cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
            cluster.security_groups = [
                {"SecurityGroupId": sg, "Status": "active"} for sg in (kwargs.get("security_group_ids") or [])
            ]
            cluster.cache_parameter_group = {
                "CacheParameterGroupName": parameter_group,
                "ParameterApplyStatus": "in-sync",
                "CacheNodeIdsToReboot": [],
            }
            backend.cache_clusters[cluster.cache_cluster_id] = cluster


def install() -> None:
    from moto.core.responses import EmptyResult
    from moto.elasticache.exceptions import ElastiCacheException
    from moto.elasticache.models import ElastiCacheBackend, ReplicationGroup
    from moto.elasticache.responses import ElastiCacheResponse

    class CacheSubnetGroupNotFoundFault(ElastiCacheException):
        code = "CacheSubnetGroupNotFoundFault"

    class CacheSubnetGroupInUse(ElastiCacheException):
        code = "CacheSubnetGroupInUse"

    original_init = ReplicationGroup.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if (
            (kwargs.get("cluster_mode") or "disabled") != "enabled"
            and not kwargs.get("replicas_per_node_group")
            and (kwargs.get("num_cache_clusters") or 1) > 1
        ):
            kwargs["replicas_per_node_group"] = int(kwargs["num_cache_clusters"]) - 1
        original_init(self, *args, **kwargs)

    ReplicationGroup.__init__ = __init__

    original_create = ElastiCacheBackend.create_replication_group

    def create_replication_group(self: Any, *args: Any, **kwargs: Any) -> Any:
        group = original_create(self, *args, **kwargs)
        _register_members(self, group, kwargs)
        return group

    def delete_replication_group(self: Any, replication_group_id: str, retain_primary_cluster: bool | None) -> Any:
        group = self.describe_replication_groups(replication_group_id)[0]
        group.status = "deleting"
        del self.replication_groups[replication_group_id]
        for member in list(group.member_clusters):
            self.cache_clusters.pop(member, None)
        return group

    def delete_cache_subnet_group(self: Any, cache_subnet_group_name: str) -> None:
        if cache_subnet_group_name not in self.cache_subnet_groups:
            raise CacheSubnetGroupNotFoundFault(f"CacheSubnetGroup {cache_subnet_group_name} not found.")
        users = [
            c.cache_cluster_id
            for c in self.cache_clusters.values()
            if c.cache_subnet_group_name == cache_subnet_group_name
        ]
        if users:
            raise CacheSubnetGroupInUse(f"Cache subnet group {cache_subnet_group_name} is in use by {users[0]}.")
        del self.cache_subnet_groups[cache_subnet_group_name]

    def response_delete_cache_subnet_group(self: Any) -> Any:
        self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
        return EmptyResult()

    ElastiCacheBackend.create_replication_group = create_replication_group
    ElastiCacheBackend.delete_replication_group = delete_replication_group
    ElastiCacheBackend.delete_cache_subnet_group = delete_cache_subnet_group
    ElastiCacheResponse.delete_cache_subnet_group = response_delete_cache_subnet_group
