"""Which region of a replicated site writes now: read from the Aurora global database.

The global cluster is the single source of truth for the database roles. The drill, the
local data plane (whose MariaDB replication follows it) and the preflight all read it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from surgepress.aws import WorkspaceClients
from surgepress.config import Settings, Workspace, global_cluster_identifier, resource_prefix
from surgepress.errors import UserError


@dataclass(frozen=True)
class Site:
    """A site that runs in two regions: the source workspace and its replica."""

    source: Workspace
    replica: Workspace

    @property
    def sides(self) -> tuple[Workspace, Workspace]:
        return self.source, self.replica

    def other(self, ws: Workspace) -> Workspace:
        return self.replica if ws.name == self.source.name else self.source

    def by_region(self, region: str) -> Workspace:
        return next(ws for ws in self.sides if ws.region == region)

    @property
    def recorded_primary(self) -> Workspace:
        """The side the config says writes now (`failover.primary_region`)."""
        return self.by_region(self.source.failover.primary_region)


def replicated_site(settings: Settings) -> Site | None:
    for ws in settings.workspaces.values():
        if ws.replica_of and ws.compute and ws.database:
            return Site(source=settings.get(ws.replica_of), replica=ws)
    return None


def require_site(settings: Settings) -> Site:
    site = replicated_site(settings)
    if site is None:
        raise UserError(
            "drill: no workspace runs a replica of a site (`replica_of:` with `compute:` and "
            "`database:`); nothing to fail over"
        )
    return site


@dataclass(frozen=True)
class Topology:
    identifier: str
    status: str  # available | switching-over | failing-over
    failover_state: Mapping | None
    clusters: Mapping[str, str]  # workspace name -> member cluster ARN
    writer: str | None  # workspace name of the writer cluster

    @property
    def settled(self) -> bool:
        return self.status == "available" and not self.failover_state


def read_topology(site: Site, env: Mapping[str, str]) -> Topology:
    identifier = global_cluster_identifier(site.source)
    rds = WorkspaceClients(site.source, env).get("rds")
    (cluster,) = rds.describe_global_clusters(GlobalClusterIdentifier=identifier)["GlobalClusters"]
    by_identifier = {resource_prefix(ws): ws.name for ws in site.sides}
    clusters, writer = {}, None
    for member in cluster.get("GlobalClusterMembers", []):
        name = by_identifier.get(member["DBClusterArn"].rsplit(":cluster:", 1)[-1])
        if name is None:
            continue
        clusters[name] = member["DBClusterArn"]
        if member.get("IsWriter"):
            writer = name
    return Topology(
        identifier=identifier,
        status=cluster.get("Status", "available"),
        failover_state=cluster.get("FailoverState") or None,
        clusters=clusters,
        writer=writer,
    )
