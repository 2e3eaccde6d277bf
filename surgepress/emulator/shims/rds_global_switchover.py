"""RDS: moving an Aurora Global Database's writer to another region, which moto lacks.

- `SwitchoverGlobalCluster` (planned, no data loss) and `FailoverGlobalCluster` (unplanned:
  `AllowDataLoss=true`, or `Switchover=true` for the planned kind) move the writer to the
  target member cluster.
- As on AWS the move takes a while. The global cluster reports `switching-over` or
  `failing-over` with a `FailoverState` (status, from, to, whether data loss is allowed), and
  the members keep their old roles until it completes (SURGEPRESS_EMULATOR_GLOBAL_SWITCH_S,
  default 3 s). Then the target is the writer and every other member, the old writer
  included, is a read-only secondary; the global cluster is `available` again.
- `DescribeGlobalClusters` honours `GlobalClusterIdentifier` (moto lists every global
  cluster whatever is asked) and answers GlobalClusterNotFoundFault for an unknown one.
- Refusals as AWS gives them: an unknown global cluster (GlobalClusterNotFoundFault); a target
  that is not a member, or already the writer (InvalidParameterValue); a move already under
  way (InvalidGlobalClusterStateFault); FailoverGlobalCluster with neither AllowDataLoss nor
  Switchover (InvalidParameterCombination).
"""

from __future__ import annotations

import os
import threading
from typing import Any

SWITCH_SECONDS_ENV = "SURGEPRESS_EMULATOR_GLOBAL_SWITCH_S"
DEFAULT_SWITCH_SECONDS = 3.0


def _error(code: str, message: str) -> Exception:
    from moto.rds.exceptions import RDSClientError

    return RDSClientError(code, message)


def _begin(response: Any, *, data_loss: bool) -> Any:
    from moto.core.responses import ActionResult

    params = response.params
    identifier = params.get("GlobalClusterIdentifier", "")
    target = params.get("TargetDbClusterIdentifier", "")
    cluster = response.global_backend.global_clusters.get(identifier)
    if cluster is None:
        raise _error("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")
    if getattr(cluster, "failover_state", None):
        raise _error(
            "InvalidGlobalClusterStateFault",
            f"Global cluster {identifier} is already {cluster.status}; wait until it is available.",
        )
    member = next((m for m in cluster.members if target in (m.db_cluster_arn, m.db_cluster_identifier)), None)
    if member is None:
        raise _error("InvalidParameterValue", f"{target} is not a member of global cluster {identifier}.")
    if member.is_writer:
        raise _error("InvalidParameterValue", f"{target} is already the writer of global cluster {identifier}.")
    writer = next((m for m in cluster.members if m.is_writer), None)
    cluster.status = "failing-over" if data_loss else "switching-over"
    cluster.failover_state = {
        "Status": "pending",
        "FromDbClusterArn": writer.db_cluster_arn if writer else "",
        "ToDbClusterArn": member.db_cluster_arn,
        "IsDataLossAllowed": data_loss,
    }
    delay = float(os.environ.get(SWITCH_SECONDS_ENV, DEFAULT_SWITCH_SECONDS))
    timer = threading.Timer(delay, _complete, args=(cluster, member))
    timer.daemon = True
    timer.start()
    return ActionResult({"GlobalCluster": cluster})


def _complete(cluster: Any, new_writer: Any) -> None:
    for member in cluster.members:
        member.is_writer = member is new_writer
    cluster.failover_state = None
    cluster.status = "available"


def install() -> None:
    from moto.rds.models import GlobalCluster
    from moto.rds.responses import RDSResponse

    original_init = GlobalCluster.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.failover_state = None

    GlobalCluster.__init__ = init

    def switchover_global_cluster(self: Any) -> Any:
        return _begin(self, data_loss=False)

    def failover_global_cluster(self: Any) -> Any:
        allow = str(self.params.get("AllowDataLoss", "false")).lower() == "true"
        planned = str(self.params.get("Switchover", "false")).lower() == "true"
        if allow == planned:
            raise _error(
                "InvalidParameterCombination",
                "Specify exactly one of AllowDataLoss=true (failover) or Switchover=true (switchover).",
            )
        return _begin(self, data_loss=allow)

    original_describe = RDSResponse.describe_global_clusters

    def describe_global_clusters(self: Any) -> Any:
        from moto.core.responses import ActionResult

        identifier = self.params.get("GlobalClusterIdentifier")
        if not identifier:
            return original_describe(self)
        cluster = self.global_backend.global_clusters.get(identifier)
        if cluster is None:
            raise _error("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")
        return ActionResult({"GlobalClusters": [cluster]})

    RDSResponse.describe_global_clusters = describe_global_clusters
    RDSResponse.switchover_global_cluster = switchover_global_cluster
    RDSResponse.failover_global_cluster = failover_global_cluster
