"""Staging's off/on switch, run by EventBridge Scheduler (`{"action": "off"}` / `{"action": "on"}`).

off: every ECS service of the cluster to 0 tasks (its scalable target's floor and ceiling to 0
     too, or Application Auto Scaling would start them again), every named Auto Scaling group
     to 0 hosts, and the Aurora cluster stopped. The counts it found are saved first, as JSON,
     in one SSM parameter (SecureString).
on:  the Aurora cluster started, then the saved counts restored.

Idempotent: running `off` twice keeps the counts saved by the first (a second save would
record zeros); running `on` without a saved `off` changes nothing. Tolerant of partial
failure: every step is tried, and the result lists what was done and what could not be.
Logs are one JSON object per line.

Needs only boto3 (the Lambda runtime's). Environment: ECS_CLUSTER, DB_CLUSTER, ASG_NAMES
(comma-separated, may be empty), STATE_PARAMETER (a SecureString) and STATE_KEY_ID (its key).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

ACTIONS = ("off", "on")


def log(level: str, message: str, **fields: Any) -> None:
    print(json.dumps({"level": level, "message": message, **fields}, default=str, sort_keys=True), flush=True)


class Switch:
    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        cluster: str,
        db_cluster: str,
        asg_names: list[str],
        parameter: str,
        key_id: str,
    ) -> None:
        self.ecs, self.scaling = client("ecs"), client("application-autoscaling")
        self.autoscaling, self.rds, self.ssm = client("autoscaling"), client("rds"), client("ssm")
        self.cluster, self.db_cluster, self.asg_names, self.parameter = cluster, db_cluster, asg_names, parameter
        self.key_id = key_id
        self.done: list[str] = []
        self.failed: list[dict[str, str]] = []

    # --- steps: each records its outcome and never raises --------------------------------

    def step(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, the rest still runs
            self.failed.append({"step": what, "error": f"{type(exc).__name__}: {exc}"})
            log("ERROR", "step failed", step=what, error=str(exc))
            return None
        self.done.append(what)
        log("INFO", "step done", step=what)
        return result

    # --- what exists now ------------------------------------------------------------------

    def services(self) -> list[str]:
        arns: list[str] = []
        for page in self.ecs.get_paginator("list_services").paginate(cluster=self.cluster):
            arns += page["serviceArns"]
        return sorted(arns)

    def service_counts(self, arns: list[str]) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for start in range(0, len(arns), 10):
            described = self.ecs.describe_services(cluster=self.cluster, services=arns[start : start + 10])
            for service in described["services"]:
                counts[service["serviceArn"]] = {"desired": service["desiredCount"]}
        for arn in counts:
            resource_id = scalable_resource_id(arn)
            targets = self.scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])
            for target in targets["ScalableTargets"]:
                counts[arn].update(min=target["MinCapacity"], max=target["MaxCapacity"])
        return counts

    def group_counts(self) -> dict[str, dict[str, int]]:
        if not self.asg_names:
            return {}
        groups = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=self.asg_names)
        return {
            g["AutoScalingGroupName"]: {"min": g["MinSize"], "max": g["MaxSize"], "desired": g["DesiredCapacity"]}
            for g in groups["AutoScalingGroups"]
        }

    def db_status(self) -> str:
        return self.rds.describe_db_clusters(DBClusterIdentifier=self.db_cluster)["DBClusters"][0]["Status"]

    def saved(self) -> dict[str, Any]:
        try:
            return json.loads(self.ssm.get_parameter(Name=self.parameter, WithDecryption=True)["Parameter"]["Value"])
        except self.ssm.exceptions.ParameterNotFound:
            return {}

    def save(self, document: dict[str, Any]) -> bool:
        self.ssm.put_parameter(
            Name=self.parameter,
            Type="SecureString",
            KeyId=self.key_id,
            Overwrite=True,
            Value=json.dumps(document, sort_keys=True),
        )
        return True

    # --- the two actions --------------------------------------------------------------------

    def off(self) -> None:
        saved = self.step("read saved counts", self.saved)
        if saved is None:
            return
        if saved.get("state") == "off":
            log("INFO", "already off: keeping the counts saved at the first off", saved_at=saved.get("saved_at"))
        else:
            services = self.step("read service counts", lambda: self.service_counts(self.services()))
            groups = self.step("read host group counts", self.group_counts)
            if services is None or groups is None:
                return  # nothing is changed before its counts are safely saved
            saved = {"state": "off", "saved_at": datetime.now(UTC).isoformat(), "services": services, "groups": groups}
            if not self.step("save counts", lambda: self.save(saved)):
                return
        for arn, counts in saved.get("services", {}).items():
            if "min" in counts:
                self.step(f"scaling floor and ceiling of {arn} to 0", partial(self.set_scalable, arn, 0, 0))
            self.step(
                f"service {arn} to 0 tasks",
                partial(self.ecs.update_service, cluster=self.cluster, service=arn, desiredCount=0),
            )
        for name in saved.get("groups", {}):
            self.step(
                f"host group {name} to 0",
                partial(
                    self.autoscaling.update_auto_scaling_group, AutoScalingGroupName=name, MinSize=0, DesiredCapacity=0
                ),
            )
        self.step(f"stop database cluster {self.db_cluster}", self.stop_database)

    def on(self) -> None:
        saved = self.step("read saved counts", self.saved)
        if saved is None:
            return
        self.step(f"start database cluster {self.db_cluster}", self.start_database)
        if saved.get("state") != "off":
            log("INFO", "nothing saved by an off: the service and host counts are left as they are")
            return
        for name, counts in saved.get("groups", {}).items():
            self.step(
                f"host group {name} to {counts['desired']}",
                partial(
                    self.autoscaling.update_auto_scaling_group,
                    AutoScalingGroupName=name,
                    MinSize=counts["min"],
                    MaxSize=counts["max"],
                    DesiredCapacity=counts["desired"],
                ),
            )
        for arn, counts in saved.get("services", {}).items():
            if "min" in counts:
                self.step(
                    f"scaling floor {counts['min']} and ceiling {counts['max']} of {arn}",
                    partial(self.set_scalable, arn, counts["min"], counts["max"]),
                )
            self.step(
                f"service {arn} to {counts['desired']} tasks",
                partial(self.ecs.update_service, cluster=self.cluster, service=arn, desiredCount=counts["desired"]),
            )
        if not self.failed:
            self.step("mark on", lambda: self.save({**saved, "state": "on"}))

    def set_scalable(self, arn: str, low: int, high: int) -> None:
        self.scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=scalable_resource_id(arn),
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=low,
            MaxCapacity=high,
        )

    def stop_database(self) -> str:
        status = self.db_status()
        if status == "stopped":
            return "already stopped"
        if status != "available":
            raise RuntimeError(f"cannot stop a cluster that is {status}")
        self.rds.stop_db_cluster(DBClusterIdentifier=self.db_cluster)
        return "stopping"

    def start_database(self) -> str:
        status = self.db_status()
        if status in ("available", "starting"):
            return f"already {status}"
        if status != "stopped":
            raise RuntimeError(f"cannot start a cluster that is {status}")
        self.rds.start_db_cluster(DBClusterIdentifier=self.db_cluster)
        return "starting"


def scalable_resource_id(service_arn: str) -> str:
    """`service/<cluster>/<service>` from a long-format service ARN."""
    return "service/" + service_arn.split(":service/", 1)[1]


def run(action: str, environ: dict[str, str], client: Callable[[str], Any]) -> dict[str, Any]:
    if action not in ACTIONS:
        log("ERROR", "unknown action", action=action)
        return {
            "action": action,
            "ok": False,
            "done": [],
            "failed": [{"step": "action", "error": f"expected off or on, got {action!r}"}],
        }
    switch = Switch(
        client,
        cluster=environ["ECS_CLUSTER"],
        db_cluster=environ["DB_CLUSTER"],
        asg_names=[n for n in environ.get("ASG_NAMES", "").split(",") if n],
        parameter=environ["STATE_PARAMETER"],
        key_id=environ["STATE_KEY_ID"],
    )
    log("INFO", "switching", action=action, cluster=switch.cluster, db_cluster=switch.db_cluster)
    getattr(switch, action)()
    result = {"action": action, "ok": not switch.failed, "done": switch.done, "failed": switch.failed}
    log("INFO" if result["ok"] else "ERROR", "switched" if result["ok"] else "switched partly", **result)
    return result


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import boto3

    return run((event or {}).get("action", ""), dict(os.environ), boto3.client)
