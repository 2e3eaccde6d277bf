"""Stage verify, accounts and operations: state in the state bucket under native locking
(two concurrent deploys of one workspace), the log archive and security services, DNS
delegation, the pipeline, backups and budgets through their APIs, and the staging scheduler
switching the deployed staging off and on again."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from modules.scheduler.function import handler
from surgepress.harness import wait_for
from tests.conftest import REPO
from tests.integration.conftest import state_document

pytestmark = [pytest.mark.integration, pytest.mark.stage("verify")]

GUARDED = ("security", "staging", "production", "dr")
FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"


def in_run(deployed, *names: str) -> None:
    missing = [n for n in names if n not in deployed.state.workspaces]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not deployed in this run (workspaces: {', '.join(deployed.state.workspaces)})"
        )


def state_objects(deployed, clients) -> dict[str, dict]:
    state_ws = deployed.settings.state_workspace
    s3 = clients(state_ws.name).get("s3", state_ws.state.region)
    found = s3.list_objects_v2(Bucket=state_ws.state.bucket).get("Contents", [])
    return {o["Key"]: s3.head_object(Bucket=state_ws.state.bucket, Key=o["Key"]) for o in found}


def test_every_workspace_keeps_its_state_in_the_bucket_encrypted_under_its_own_key(deployed, clients, record_property):
    in_run(deployed, deployed.settings.state_workspace.name)
    objects = state_objects(deployed, clients)
    expected = {deployed.settings.get(n).state_key for n in deployed.state.workspaces}
    assert set(objects) == expected, "one state object per workspace and no lock left behind"
    assert {o["ServerSideEncryption"] for o in objects.values()} == {"aws:kms"}
    record_property("detail", f"{len(objects)} states in s3://{deployed.settings.state_workspace.state.bucket}")


def test_a_second_concurrent_deploy_of_a_workspace_stops_at_the_lock_and_the_state_stays_intact(deployed, clients):
    in_run(deployed, "staging")
    key = deployed.settings.get("staging").state_key
    before = json.loads(state_document(deployed, "staging"))
    argv = [sys.executable, str(REPO / "main.py"), "deploy", "staging", "--no-dataplane", "--target", deployed.target]
    # Two operators, each with a checkout of their own (their own synth and .terraform), on the
    # same account and state. Both start together: identical work up to the lock, where one loses.
    runs = []
    for operator in ("first", "second"):
        build = deployed.run_dir / f"operator-{operator}"
        if deployed.local:  # the same embedded AWS: its address is all the checkout needs
            (build / "emulator").mkdir(parents=True, exist_ok=True)
            shutil.copy(deployed.build / "emulator" / "emulator.json", build / "emulator" / "emulator.json")
        # One machine's plugin cache (TF_PLUGIN_CACHE_DIR's purpose): init links the provider in.
        (build / "terraform").mkdir(parents=True, exist_ok=True)
        if not (build / "terraform" / "plugin-cache").exists():
            (build / "terraform" / "plugin-cache").symlink_to(deployed.build / "terraform" / "plugin-cache")
        env = {
            **os.environ,
            "SURGEPRESS_BUILD_DIR": str(build),
            "SURGEPRESS_ENVIRONMENTS": str(deployed.environments),
            "SURGEPRESS_LOCK_TIMEOUT": "0s",
        }
        runs.append(
            subprocess.Popen(argv, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        )
    results = [(run.wait(timeout=900), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], [(code, out[-1500:] + err[-600:]) for code, out, err in results if code != 0]
    loser = next(err for code, _, err in results if code == 2)
    (line,) = loser.strip().splitlines()
    assert line.startswith("error: staging: state is locked by another run (OperationTypeApply by ")
    assert "nothing was changed" in line and "lock ID " in line
    after = json.loads(state_document(deployed, "staging"))
    assert sorted(r["type"] + "." + r["name"] for r in after["resources"]) == sorted(
        r["type"] + "." + r["name"] for r in before["resources"]
    )
    assert after["lineage"] == before["lineage"]
    assert key + ".tflock" not in state_objects(deployed, clients), "the winner released its lock"
    plan = deployed.cli("plan", "staging")
    assert plan.returncode == 0, plan.stdout[-3000:]


def test_the_log_archive_is_locked_and_admits_no_one_but_the_log_services(deployed, clients, outputs):
    in_run(deployed, "security")
    s3 = clients("security").get("s3")
    bucket = outputs["security"]["log_archive_bucket_name"]
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    archive = deployed.settings.get("security").log_archive
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == (archive.object_lock_mode, archive.object_lock_retention_days)
    for call in (
        lambda: s3.put_object(Bucket=bucket, Key="AWSLogs/forged.json", Body=b"{}"),
        lambda: s3.delete_object(Bucket=bucket, Key="AWSLogs/any.json"),
    ):
        with pytest.raises(s3.exceptions.ClientError) as refused:
            call()
        # 403 AccessDenied (DeleteObject's denial carries no body to name the code).
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    trail = clients("security").get("cloudtrail").describe_trails()["trailList"][0]
    # An account trail: no organization exists for an organization trail to belong to.
    assert (trail["IsOrganizationTrail"], trail["IsMultiRegionTrail"], trail["LogFileValidationEnabled"]) == (
        False,
        True,
        True,
    )
    assert trail["S3BucketName"] == bucket and trail["KmsKeyId"] and trail["CloudWatchLogsLogGroupArn"]


@pytest.mark.parametrize("workspace", GUARDED)
def test_guardduty_config_and_security_hub_run_and_deliver_to_the_archive(deployed, clients, outputs, workspace):
    in_run(deployed, workspace, "security")
    ws, workspace_clients = deployed.settings.get(workspace), clients(workspace)
    detector = workspace_clients.get("guardduty").get_detector(DetectorId=outputs[workspace]["guardduty_detector_id"])
    assert detector["Status"] == "ENABLED"
    config = workspace_clients.get("config")
    (recorder,) = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert recorder["recordingGroup"]["includeGlobalResourceTypes"] is ws.owns_account_settings
    assert config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"] is True
    (channel,) = config.describe_delivery_channels()["DeliveryChannels"]
    assert channel["s3BucketName"] == outputs["security"]["log_archive_bucket_name"]
    rules = {r["Source"]["SourceIdentifier"] for r in config.describe_config_rules()["ConfigRules"]}
    assert rules == set(ws.guardrails.config_rules)
    standards = workspace_clients.get("securityhub").get_enabled_standards()["StandardsSubscriptions"]
    assert [s["StandardsArn"] for s in standards] == [f"arn:aws:securityhub:{ws.region}::{FSBP}"]


@pytest.mark.parametrize("workspace", ["staging", "production"])
def test_environment_zones_are_delegated_from_the_apex(deployed, clients, outputs, workspace):
    in_run(deployed, workspace, "management")
    route53 = clients("management").get("route53")
    apex = deployed.settings.get("management").apex_zone.zone_name
    (zone,) = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == apex + "."]
    name = deployed.settings.get(workspace).dns.zone_name + "."
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    (delegation,) = [r for r in records if r["Name"] == name and r["Type"] == "NS"]
    assert sorted(r["Value"].rstrip(".") for r in delegation["ResourceRecords"]) == sorted(
        ns.rstrip(".") for ns in outputs[workspace]["zone_name_servers"]
    )


def test_the_pipeline_runs_checks_the_image_staging_tests_approval_then_production(deployed, clients, outputs):
    in_run(deployed, "management")
    pipeline = clients("management").get("codepipeline").get_pipeline(name=outputs["management"]["pipeline_name"])
    stages = pipeline["pipeline"]["stages"]
    assert [s["name"] for s in stages] == [
        "Source",
        "Checks",
        "Image",
        "Deploy-staging",
        "Approve-production",
        "Deploy-production",
    ]
    assert pipeline["pipeline"]["artifactStore"]["encryptionKey"]["type"] == "KMS"
    # The deploy stages run the tag the Image stage exported.
    (image_action,) = next(s for s in stages if s["name"] == "Image")["actions"]
    assert image_action["namespace"] == "Image"
    deploy = next(a for s in stages for a in s["actions"] if a["name"] == "deploy-production")
    assert "#{Image.IMAGE_TAG}" in deploy["configuration"]["EnvironmentVariables"]


@pytest.mark.parametrize("workspace", ["staging", "production"])
def test_backups_and_budgets_exist_as_configured(deployed, clients, outputs, workspace):
    in_run(deployed, workspace)
    ws, workspace_clients = deployed.settings.get(workspace), clients(workspace)
    backup = workspace_clients.get("backup")
    plan = backup.get_backup_plan(BackupPlanId=outputs[workspace]["backup_plan_id"])["BackupPlan"]
    assert {r["RuleName"]: r["Lifecycle"]["DeleteAfterDays"] for r in plan["Rules"]} == {
        "daily": ws.backup.daily_retention_days,
        "weekly": ws.backup.weekly_retention_days,
    }
    (selection,) = backup.list_backup_selections(BackupPlanId=outputs[workspace]["backup_plan_id"])[
        "BackupSelectionsList"
    ]
    assert selection["SelectionName"].endswith("-by-tag")
    if ws.backup.copy_to_dr_region:
        dr_vault = outputs[workspace]["backup_dr_vault_arn"]
        assert all(r["CopyActions"][0]["DestinationBackupVaultArn"] == dr_vault for r in plan["Rules"])
        name = dr_vault.rsplit(":", 1)[1]
        assert workspace_clients.get("backup", ws.dr_region).describe_backup_vault(BackupVaultName=name)
    budgets = workspace_clients.get("budgets", "us-east-1")
    budget = budgets.describe_budget(AccountId=ws.account_id, BudgetName=outputs[workspace]["budget_name"])["Budget"]
    assert float(budget["BudgetLimit"]["Amount"]) == ws.budget.monthly_limit_usd
    notifications = budgets.describe_notifications_for_budget(AccountId=ws.account_id, BudgetName=budget["BudgetName"])[
        "Notifications"
    ]
    assert len(notifications) == len(ws.budget.alert_thresholds_percent) + 1


def test_the_scheduler_switches_staging_off_and_on_again(deployed, clients, outputs, record_property):
    in_run(deployed, "staging")
    staging = clients("staging")
    function = staging.get("lambda").get_function_configuration(
        FunctionName=outputs["staging"]["scheduler_function_name"]
    )
    environ = function["Environment"]["Variables"]  # exactly what the deployed function runs with

    def switch(action: str) -> dict:
        if deployed.local:  # the emulator stores functions but cannot run them: the same code, in process
            return handler.run(action, environ, staging.get)
        answer = staging.get("lambda").invoke(
            FunctionName=function["FunctionName"], Payload=json.dumps({"action": action}).encode()
        )
        return json.loads(answer["Payload"].read())

    def observed() -> tuple:
        ecs, scaling = staging.get("ecs"), staging.get("application-autoscaling")
        arns = ecs.list_services(cluster=environ["ECS_CLUSTER"])["serviceArns"]
        desired = tuple(
            s["desiredCount"] for s in ecs.describe_services(cluster=environ["ECS_CLUSTER"], services=arns)["services"]
        )
        floors = tuple(
            (t["MinCapacity"], t["MaxCapacity"])
            for t in scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        )
        db = staging.get("rds").describe_db_clusters(DBClusterIdentifier=environ["DB_CLUSTER"])["DBClusters"][0]
        return desired, floors, db["Status"]

    before = observed()
    assert before[2] == "available" and all(before[0])
    off = switch("off")
    assert off["ok"], off
    desired, floors, status = wait_for(
        "staging switched off", observed, until=lambda o: o[2] in ("stopping", "stopped"), timeout_s=600
    )
    assert all(d == 0 for d in desired) and all(f == (0, 0) for f in floors)
    on = switch("on")
    assert on["ok"], on
    after = wait_for("staging switched on", observed, until=lambda o: o[2] == "available", timeout_s=900)
    assert after == before
    record_property(
        "detail", f"off: {len(off['done'])} steps; on: {len(on['done'])} steps; tasks {before[0]} -> 0 -> {after[0]}"
    )


def test_a_lock_left_by_a_killed_apply_is_released_by_unlock(deployed, clients):
    in_run(deployed, "staging")
    ws = deployed.settings.get("staging")
    lock_key = ws.state_key + ".tflock"
    env = {
        **os.environ,
        "SURGEPRESS_BUILD_DIR": str(deployed.build),
        "SURGEPRESS_ENVIRONMENTS": str(deployed.environments),
        "SURGEPRESS_LOCK_TIMEOUT": "0s",
    }
    argv = [sys.executable, str(REPO / "main.py"), "deploy", "staging", "--no-dataplane", "--target", deployed.target]
    apply = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    wait_for(
        "the deploy's state lock", lambda: lock_key in state_objects(deployed, clients), timeout_s=300, pause_s=0.5
    )
    os.killpg(apply.pid, signal.SIGKILL)  # the CLI and its terraform die holding the lock
    apply.wait(timeout=30)
    assert lock_key in state_objects(deployed, clients), "a killed apply leaves its lock"

    plan = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "plan", "staging", "--target", deployed.target],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert plan.returncode == 2
    (line,) = plan.stderr.strip().splitlines()
    lock_id = re.search(r"python main\.py unlock staging (\S+)$", line).group(1)

    wrong = deployed.cli("unlock", "staging", "00000000-0000-0000-0000-000000000000")
    assert wrong.returncode == 2
    bucket = deployed.settings.state_workspace.state.bucket
    assert re.fullmatch(
        rf"error: unlock staging: the lock on s3://{re.escape(bucket)}/{re.escape(ws.state_key)} has ID "
        rf"'{re.escape(lock_id)}' \(OperationTypeApply by \S+@\S+ since [^)]+\), not "
        r"'00000000-0000-0000-0000-000000000000'; nothing was changed",
        wrong.stderr.strip(),
    ), wrong.stderr
    released = deployed.cli("unlock", "staging", lock_id)
    assert released.returncode == 0, released.stdout[-2000:] + released.stderr[-2000:]
    assert f"unlock staging: released lock {lock_id} (OperationTypeApply by " in released.stdout
    assert lock_key not in state_objects(deployed, clients)
    again = deployed.cli("plan", "staging")
    assert again.returncode == 0, again.stdout[-3000:]
    nothing = deployed.cli("unlock", "staging", lock_id)
    assert (nothing.returncode, nothing.stderr.strip()) == (
        2,
        f"error: unlock staging: s3://{deployed.settings.state_workspace.state.bucket}/{ws.state_key} is not "
        "locked; nothing to do",
    )
