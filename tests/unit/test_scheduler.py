"""The staging scheduler's handler (modules/scheduler/function), through real boto3 calls to the
embedded AWS: off and on, their idempotence, partial failure, and its JSON logs."""

from __future__ import annotations

import json
import uuid

import pytest

from modules.scheduler.function import handler
from tests.conftest import client, session_in

pytestmark = pytest.mark.unit

ACCOUNT, REGION = "100000000003", "eu-west-1"


@pytest.fixture
def environment(emulator):
    """A cluster with a service of 3 tasks (scaling 2..6), an Aurora cluster and a parameter path."""
    session = session_in(emulator, ACCOUNT, REGION)
    get = lambda service: client(emulator, session, service)  # noqa: E731
    name = f"sched-{uuid.uuid4().hex[:6]}"
    ecs = get("ecs")
    ecs.create_cluster(clusterName=name)
    service = ecs.create_service(
        cluster=name,
        serviceName="wordpress",
        desiredCount=3,
        taskDefinition=ecs.register_task_definition(
            family=name, containerDefinitions=[{"name": "web", "image": "wordpress", "memory": 512}]
        )["taskDefinition"]["taskDefinitionArn"],
    )["service"]
    get("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/{name}/wordpress",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=2,
        MaxCapacity=6,
    )
    get("rds").create_db_cluster(
        DBClusterIdentifier=name, Engine="aurora-mysql", MasterUsername="admin", MasterUserPassword="not-a-secret-1"
    )
    key = get("kms").create_key(Description=f"{name} saved counts")["KeyMetadata"]["Arn"]
    environ = {
        "ECS_CLUSTER": name,
        "DB_CLUSTER": name,
        "ASG_NAMES": "",
        "STATE_PARAMETER": f"/tests/{name}/scheduler/saved-counts",
        "STATE_KEY_ID": key,
    }
    return environ, get, service["serviceArn"]


def counts(get, environ, service_arn):
    service = get("ecs").describe_services(cluster=environ["ECS_CLUSTER"], services=[service_arn])["services"][0]
    target = get("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{environ['ECS_CLUSTER']}/wordpress"]
    )["ScalableTargets"][0]
    db = get("rds").describe_db_clusters(DBClusterIdentifier=environ["DB_CLUSTER"])["DBClusters"][0]["Status"]
    return service["desiredCount"], target["MinCapacity"], target["MaxCapacity"], db


def saved(get, environ):
    parameter = get("ssm").get_parameter(Name=environ["STATE_PARAMETER"], WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    # GetParameter answers the key id only to DescribeParameters: ask it there, and fail without it.
    (described,) = get("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [environ["STATE_PARAMETER"]]}]
    )["Parameters"]
    assert described["KeyId"] == environ["STATE_KEY_ID"]
    return json.loads(parameter["Value"])


def test_off_saves_the_counts_then_scales_to_zero_and_stops_the_database(environment, capsys):
    environ, get, arn = environment
    result = handler.run("off", environ, get)
    assert result["ok"] and not result["failed"], result
    assert counts(get, environ, arn) == (0, 0, 0, "stopped")
    assert saved(get, environ)["services"][arn] == {"desired": 3, "min": 2, "max": 6}
    assert saved(get, environ)["state"] == "off"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["message"] == "switched" and lines[-1]["action"] == "off"
    assert {line["level"] for line in lines} == {"INFO"}


def test_off_twice_keeps_the_first_counts_and_on_restores_them(environment):
    environ, get, arn = environment
    handler.run("off", environ, get)
    again = handler.run("off", environ, get)
    assert again["ok"], again
    assert saved(get, environ)["services"][arn]["desired"] == 3, "a second off must not save zeros"
    result = handler.run("on", environ, get)
    assert result["ok"], result
    assert counts(get, environ, arn) == (3, 2, 6, "available")
    assert saved(get, environ)["state"] == "on"
    assert handler.run("on", environ, get)["ok"]
    assert counts(get, environ, arn) == (3, 2, 6, "available"), "on twice changes nothing"


def test_on_without_a_saved_off_leaves_the_counts_alone(environment):
    environ, get, arn = environment
    get("ecs").update_service(cluster=environ["ECS_CLUSTER"], service=arn, desiredCount=5)
    result = handler.run("on", environ, get)
    assert result["ok"], result
    assert counts(get, environ, arn) == (5, 2, 6, "available")


def test_a_failing_step_is_reported_and_the_others_still_run(environment, capsys):
    environ, get, arn = environment
    broken = {**environ, "DB_CLUSTER": "no-such-cluster"}
    result = handler.run("off", broken, get)
    assert not result["ok"]
    assert [f["step"] for f in result["failed"]] == ["stop database cluster no-such-cluster"]
    assert "DBClusterNotFound" in result["failed"][0]["error"]
    assert counts(get, environ, arn)[:3] == (0, 0, 0), "the services were still switched off"
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[-1]["level"] == "ERROR" and records[-1]["message"] == "switched partly"


def test_an_unknown_action_changes_nothing(environment):
    environ, get, arn = environment
    result = handler.run("pause", environ, get)
    assert not result["ok"] and "expected off or on" in result["failed"][0]["error"]
    assert counts(get, environ, arn) == (3, 2, 6, "available")
