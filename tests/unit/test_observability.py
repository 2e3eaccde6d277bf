"""The observability module: alarms from config into an encrypted topic."""

from __future__ import annotations

import pytest

from tests.conftest import resources

pytestmark = pytest.mark.unit


def _alarms(stack: dict) -> dict[str, dict]:
    return {a["alarm_name"]: a for a in resources(stack, "aws_cloudwatch_metric_alarm").values()}


def test_every_platform_alarm_notifies_the_encrypted_topic(local_stacks, settings):
    stack = local_stacks["production"]
    ((topic_id, topic),) = [
        (k, t) for k, t in resources(stack, "aws_sns_topic").items() if k.startswith("observability")
    ]
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.observability_topic-key")
    alarms = {n: a for n, a in _alarms(stack).items() if not n.endswith("-surge")}
    names = {n.removeprefix("surgepress-production-") for n in alarms}
    members = [f"surgepress-production-00{i}" for i in range(1, settings.get("production").cache.node_count + 1)]
    assert names == {
        "alb-target-5xx",
        "alb-elb-5xx",
        "alb-response-time",
        "ecs-cpu",
        "ecs-memory",
        "db-cpu",
        "db-connections",
        "db-replica-lag",
        "origin-no-healthy-targets",
        *(f"cache-cpu-{m}" for m in members),
        *(f"cache-evictions-{m}" for m in members),
    }
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [f"${{aws_sns_topic.{topic_id}.arn}}"]


def test_thresholds_come_from_config(local_stacks, settings):
    for name in ("staging", "production"):
        alarms, limits = _alarms(local_stacks[name]), settings.get(name).alarms
        assert alarms[f"surgepress-{name}-db-connections"]["threshold"] == limits.db_connections
        response = alarms[f"surgepress-{name}-alb-response-time"]
        assert response["extended_statistic"] == "p95" and response["threshold"] == limits.response_time_p95_s
        assert response["evaluation_periods"] == limits.evaluation_minutes
        assert alarms[f"surgepress-{name}-alb-target-5xx"]["evaluation_periods"] == 1
    assert settings.get("staging").alarms.db_connections < settings.get("production").alarms.db_connections
