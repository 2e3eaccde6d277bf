"""A service's rollout, waited for after a deploy: what ECS's deployment circuit breaker decides.

Terraform's apply ends when ECS has accepted the new task definition (the service does not
wait for a steady state: `wait_for_steady_state` is off, so a surge-time deploy never holds
a state lock for minutes). The deploy command then asks ECS, as the pipeline's deploy stage
must: the service's PRIMARY deployment runs the task definition just applied and its
rollout COMPLETED, or the circuit breaker marked it FAILED and rolled the service back to
the previous one, which fails the deploy (exit 1) with ECS's own reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from surgepress.errors import GateFailed

ROLLOUT_PAUSE_S = 10.0


@dataclass(frozen=True)
class Rollout:
    state: str
    """COMPLETED | FAILED | IN_PROGRESS"""
    reason: str
    running: str
    """The task definition the PRIMARY deployment runs."""


def rollout(ecs, cluster: str, service: str, task_definition: str) -> Rollout:
    """Where the rollout of `task_definition` stands now."""
    found = ecs.describe_services(cluster=cluster, services=[service])["services"]
    deployments = found[0].get("deployments", []) if found else []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    # The newest deployment of it: an older one of the same revision may have failed before.
    mine = [d for d in deployments if d.get("taskDefinition") == task_definition]
    ours = max(mine, key=lambda d: d.get("createdAt") or 0, default=None)
    if primary is None:
        return Rollout("IN_PROGRESS", "no deployment yet", "")
    if ours is not None and ours.get("rolloutState") == "FAILED":
        return Rollout("FAILED", ours.get("rolloutStateReason", ""), primary["taskDefinition"])
    if primary["taskDefinition"] != task_definition:
        if ours is None and primary.get("rolloutState") == "COMPLETED":  # ours has come and gone: rolled back
            return Rollout("FAILED", f"the service went back to {primary['taskDefinition']}", primary["taskDefinition"])
        return Rollout("IN_PROGRESS", "the new deployment has not started", primary["taskDefinition"])
    return Rollout(primary.get("rolloutState", "IN_PROGRESS"), primary.get("rolloutStateReason", ""), task_definition)


def await_rollout(
    ecs, cluster: str, service: str, task_definition: str, *, timeout_s: float, pause_s: float = ROLLOUT_PAUSE_S
) -> Rollout:
    """Wait until the rollout of `task_definition` has ended; GateFailed unless it completed."""
    from surgepress.harness import WaitTimeout, wait_for

    try:
        ended = wait_for(
            f"the rollout of {task_definition}",
            lambda: rollout(ecs, cluster, service, task_definition),
            until=lambda r: r.state != "IN_PROGRESS",
            timeout_s=timeout_s,
            pause_s=pause_s,
        )
    except WaitTimeout:
        raise GateFailed(
            f"{service}: the rollout of {task_definition} had not ended after {timeout_s:.0f}s "
            "(compute.rollout_timeout_s)"
        ) from None
    if ended.state != "COMPLETED":
        raise GateFailed(
            f"{service}: the rollout of {task_definition} {ended.state}: {ended.reason or 'no reason given'}; "
            f"the service runs {ended.running or 'nothing'}"
        )
    return ended
