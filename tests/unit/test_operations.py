"""Accounts and operations in the synthesized JSON: the log archive and organisation trail,
guardrails per account, DNS delegation, the delivery pipeline, the staging scheduler,
backups and budgets — each resource's key settings, as configured in environments/."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess

import pytest

from tests.conftest import resources

pytestmark = pytest.mark.unit

GUARDED = ("security", "staging", "production", "dr")


def one(stack: dict, rtype: str, contains: str = "") -> dict:
    (item,) = [body for name, body in resources(stack, rtype).items() if contains in name]
    return item


def test_the_log_archive_is_object_locked_kms_encrypted_and_refuses_deletes(aws_stacks, settings):
    stack, ws = aws_stacks["security"], settings.get("security")
    bucket = one(stack, "aws_s3_bucket")
    assert bucket["bucket"] == f"{ws.project}-log-archive-{ws.account_id}"
    assert bucket["object_lock_enabled"] is True and bucket["force_destroy"] is False
    assert resources(stack, "aws_s3_bucket_versioning") == {}, "Object Lock owns versioning; S3 refuses changes"
    lock = one(stack, "aws_s3_bucket_object_lock_configuration")["rule"]["default_retention"]
    assert lock == {"mode": ws.log_archive.object_lock_mode, "days": ws.log_archive.object_lock_retention_days}
    encryption = one(stack, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    statements = {s["Sid"]: s for s in json.loads(one(stack, "aws_s3_bucket_policy")["policy"])["Statement"]}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert statements["NothingIsDeleted"]["Effect"] == "Deny"
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} <= set(
        statements["NothingIsDeleted"]["Action"]
    )
    assert statements["OnlyCloudTrailAndConfigWrite"]["Condition"]["StringNotEqualsIfExists"][
        "aws:PrincipalServiceName"
    ] == ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
    allowed = {
        p
        for s in statements.values()
        if s["Effect"] == "Allow"
        for p in (
            [s["Principal"]["Service"]] if isinstance(s["Principal"]["Service"], str) else s["Principal"]["Service"]
        )
    }
    assert allowed == {"cloudtrail.amazonaws.com", "config.amazonaws.com"}
    assert statements["ConfigDelivers"]["Condition"]["StringEquals"]["aws:SourceAccount"] == list(
        settings.organisation.account_ids
    )


def test_the_security_account_trail_is_multi_region_validated_encrypted_and_in_cloudwatch(aws_stacks, settings):
    trail = one(aws_stacks["security"], "aws_cloudtrail")
    # No organization exists yet: an organization trail would be refused (CKV_SURGE_2).
    assert trail["is_organization_trail"] is False and trail["is_multi_region_trail"] is True
    assert trail["name"] == "surgepress-security"
    role = one(aws_stacks["security"], "aws_iam_role", "trail-logs")
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Condition"]["StringEquals"]["aws:SourceArn"] == (
        "arn:aws:cloudtrail:eu-west-1:100000000002:trail/surgepress-security"
    )
    key_policy = json.loads(one(aws_stacks["security"], "aws_kms_key", "log-archive_key")["policy"])
    describe = [s for s in key_policy["Statement"] if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
    # CloudTrail's documented key policy: DescribeKey carries no encryption context to condition on.
    assert {"Action": "kms:DescribeKey", "Condition": None} in [
        {"Action": s["Action"], "Condition": s.get("Condition")} for s in describe
    ]
    assert trail["enable_log_file_validation"] is True and trail["include_global_service_events"] is True
    assert trail["kms_key_id"].startswith("${aws_kms_key.log-archive_key")
    assert trail["cloud_watch_logs_group_arn"].startswith("${aws_cloudwatch_log_group.log-archive_trail-logs")
    group = one(aws_stacks["security"], "aws_cloudwatch_log_group")
    assert group["retention_in_days"] == settings.get("security").log_archive.trail_log_retention_days
    aggregator = one(aws_stacks["security"], "aws_config_configuration_aggregator")
    assert aggregator["account_aggregation_source"]["account_ids"] == list(settings.organisation.account_ids)


@pytest.mark.parametrize("name", GUARDED)
def test_every_member_account_runs_guardduty_config_and_security_hub_into_the_archive(aws_stacks, settings, name):
    stack, ws = aws_stacks[name], settings.get(name)
    archive = settings.get("security")
    detector = one(stack, "aws_guardduty_detector")
    assert detector["enable"] is True
    assert detector["finding_publishing_frequency"] == ws.guardrails.finding_publishing_frequency
    recorder = one(stack, "aws_config_configuration_recorder")["recording_group"]
    assert recorder["all_supported"] is True
    # Global types (IAM) once per account: dr shares production's account.
    assert recorder["include_global_resource_types"] is ws.owns_account_settings
    channel = one(stack, "aws_config_delivery_channel")
    assert channel["s3_bucket_name"] == f"{archive.project}-log-archive-{archive.account_id}"
    assert one(stack, "aws_config_configuration_recorder_status")["is_enabled"] is True
    rules = {r["source"]["source_identifier"] for r in resources(stack, "aws_config_config_rule").values()}
    assert rules == set(ws.guardrails.config_rules)
    assert one(stack, "aws_config_aggregate_authorization")["account_id"] == archive.account_id
    assert one(stack, "aws_securityhub_standards_subscription")["standards_arn"] == (
        f"arn:aws:securityhub:{ws.region}::standards/aws-foundational-security-best-practices/v/1.0.0"
    )
    findings = one(stack, "aws_cloudwatch_event_rule")
    assert json.loads(findings["event_pattern"])["source"] == ["aws.guardduty", "aws.securityhub"]
    target = one(stack, "aws_cloudwatch_event_target")
    assert target["arn"].startswith("${aws_sns_topic.guardrails_findings")


@pytest.mark.parametrize("name", ["staging", "production"])
def test_environment_zones_are_delegated_from_the_apex_through_the_management_account(aws_stacks, settings, name):
    stack, management = aws_stacks[name], settings.get("management")
    parent = next(p for p in stack["provider"]["aws"] if p.get("alias") == "parent_zone")
    assert parent["allowed_account_ids"] == [management.account_id]
    assert parent["assume_role"][0]["role_arn"] == management.role_arn
    (zone,) = stack["data"]["aws_route53_zone"].values()
    assert zone["name"] == management.apex_zone.zone_name and zone["provider"] == "aws.parent_zone"
    ns = next(r for r in resources(stack, "aws_route53_record").values() if r["type"] == "NS")
    assert ns["name"] == settings.get(name).dns.zone_name and ns["provider"] == "aws.parent_zone"
    assert re.fullmatch(r"\$\{aws_route53_zone\.dns_zone_[0-9A-F]+\.name_servers\}", ns["records"])
    apex = one(aws_stacks["management"], "aws_route53_zone")
    assert apex["name"] == management.apex_zone.zone_name


def test_the_pipeline_checks_builds_the_image_deploys_staging_tests_it_then_waits_for_approval_before_production(
    aws_stacks, settings
):
    stack, ws = aws_stacks["management"], settings.get("management")
    pipeline = one(stack, "aws_codepipeline")
    stages = [(s["name"], [a["name"] for a in s["action"]]) for s in pipeline["stage"]]
    assert stages == [
        ("Source", ["source"]),
        ("Checks", ["checks"]),
        ("Image", ["image"]),
        ("Deploy-staging", ["deploy-staging", "integration-staging"]),
        ("Approve-production", ["approve"]),
        ("Deploy-production", ["deploy-production"]),
    ]
    assert pipeline["artifact_store"][0]["encryption_key"]["type"] == "KMS"
    projects = {p["name"]: p for p in resources(stack, "aws_codebuild_project").values()}
    assert set(projects) == {
        f"{ws.project}-management-{label}"
        for label in ("checks", "image", "deploy-staging", "deploy-production", "integration-staging")
    }
    for name, project in projects.items():
        assert project["encryption_key"].startswith("${aws_kms_key.pipeline_key")
        # Only the image build runs Docker, which needs privileged mode.
        assert project["environment"]["privileged_mode"] is name.endswith("-image"), name
        assert project["logs_config"]["cloudwatch_logs"]["group_name"].startswith("${aws_cloudwatch_log_group")
    # The image stage runs the project's own CLI and exports the tag it built; every deploy
    # stage is given that tag, so production runs the digest staging tested.
    built = json.loads(projects[f"{ws.project}-management-image"]["source"]["buildspec"])
    assert built["env"]["exported-variables"] == ["IMAGE_TAG"]
    assert [c.split("pipenv run ", 1)[-1] for c in built["phases"]["build"]["commands"]] == [
        'python main.py images --tag)"',
        "export IMAGE_TAG",
        "python main.py images --push",
    ]
    assert built["phases"]["build"]["commands"][0].startswith('IMAGE_TAG="$(')
    (image_action,) = next(s for s in pipeline["stage"] if s["name"] == "Image")["action"]
    assert image_action["namespace"] == "Image"
    for workspace in ("staging", "production"):
        action = next(a for s in pipeline["stage"] for a in s["action"] if a["name"] == f"deploy-{workspace}")
        assert json.loads(action["configuration"]["EnvironmentVariables"]) == [
            {"name": "IMAGE_TAG", "value": "#{Image.IMAGE_TAG}", "type": "PLAINTEXT"}
        ]
        deploy = json.loads(projects[f"{ws.project}-management-deploy-{workspace}"]["source"]["buildspec"])
        assert deploy["phases"]["build"]["commands"][-1].endswith(
            f'python main.py deploy {workspace} --image-tag "$IMAGE_TAG"'
        )
    test = json.loads(projects[f"{ws.project}-management-integration-staging"]["source"]["buildspec"])
    assert test["phases"]["build"]["commands"][-1].endswith("main.py test integration --workspace staging")
    build_policy = json.loads(
        next(p for p in resources(stack, "aws_iam_role_policy").values() if p["name"] == "build")["policy"]
    )
    assume = next(s for s in build_policy["Statement"] if s["Action"] == "sts:AssumeRole")
    assert assume["Resource"] == [f"arn:aws:iam::{a}:role/{ws.role_name}" for a in settings.organisation.account_ids]


def test_only_staging_has_the_scheduler_with_both_schedules_from_config(aws_stacks, settings):
    assert [n for n, s in aws_stacks.items() if resources(s, "aws_lambda_function")] == ["staging"]
    stack, ws = aws_stacks["staging"], settings.get("staging")
    function = one(stack, "aws_lambda_function")
    assert function["runtime"] == "python3.12" and function["handler"] == "handler.handler"
    assert function["filename"].startswith("assets/") and function["filename"].endswith("archive.zip")
    assert function["source_code_hash"].startswith("${filebase64sha256(")
    # Reserving concurrency is refused at Lambda's default account quota (10): none reserved.
    assert "reserved_concurrent_executions" not in function
    assert function["tracing_config"] == {"mode": "Active"}
    assert any("aws_iam_role_policy.scheduler_policy" in d for d in function["depends_on"])
    parameter = f"/{ws.project}/staging/scheduler/saved-counts"
    assert function["environment"]["variables"]["STATE_PARAMETER"] == parameter
    saved = next(p for p in resources(stack, "aws_ssm_parameter").values() if p["name"] == parameter)
    assert (saved["type"], saved["value"], saved["lifecycle"]["ignore_changes"]) == ("SecureString", "{}", ["value"]), (
        "Terraform owns the parameter's life, the function its value"
    )
    assert saved["key_id"] == function["kms_key_arn"] == function["environment"]["variables"]["STATE_KEY_ID"]
    schedules = {s["name"]: s for s in resources(stack, "aws_scheduler_schedule").values()}
    prefix = f"{ws.project}-staging-scheduler"
    assert schedules[f"{prefix}-off"]["schedule_expression"] == ws.scheduler.off_schedule
    assert schedules[f"{prefix}-on"]["schedule_expression"] == ws.scheduler.on_schedule
    for action in ("off", "on"):
        schedule = schedules[f"{prefix}-{action}"]
        assert schedule["schedule_expression_timezone"] == ws.scheduler.timezone
        assert json.loads(schedule["target"]["input"]) == {"action": action}
    policy = json.loads(
        next(p for p in resources(stack, "aws_iam_role_policy").values() if p["name"] == "switch-the-environment")[
            "policy"
        ]
    )
    traces = next(s for s in policy["Statement"] if s["Sid"] == "Traces")
    assert (sorted(traces["Action"]), traces["Resource"]) == (
        ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        "*",
    )
    database = next(s for s in policy["Statement"] if s["Sid"] == "Database")
    assert database["Resource"] == (
        f"arn:aws:rds:{ws.region}:{ws.account_id}:cluster:"
        "${aws_rds_cluster.database_cluster_FAF2FB92.cluster_identifier}"
    )


@pytest.mark.parametrize("name", ["staging", "production"])
def test_backups_select_by_tag_and_copy_to_the_dr_region_where_configured(aws_stacks, settings, name):
    stack, ws = aws_stacks[name], settings.get(name)
    vaults = resources(stack, "aws_backup_vault")
    assert all(v["kms_key_arn"].startswith("${aws_kms_key.backup_") for v in vaults.values())
    plan = one(stack, "aws_backup_plan")
    rules = {r["rule_name"]: r for r in plan["rule"]}
    assert rules["daily"]["schedule"] == ws.backup.daily_schedule
    assert rules["daily"]["lifecycle"]["delete_after"] == ws.backup.daily_retention_days
    assert rules["weekly"]["lifecycle"]["delete_after"] == ws.backup.weekly_retention_days
    if ws.backup.copy_to_dr_region:
        dr = next(v for v in vaults.values() if v["name"].endswith("-dr"))
        assert dr["provider"] == "aws.dr_region"
        region = next(p for p in stack["provider"]["aws"] if p.get("alias") == "dr_region")["region"]
        assert region == ws.dr_region
        assert all(
            r["copy_action"][0]["destination_vault_arn"].startswith("${aws_backup_vault.backup_dr-vault")
            for r in rules.values()
        )
    else:
        assert len(vaults) == 1 and all("copy_action" not in r for r in rules.values())
    selection = one(stack, "aws_backup_selection")
    assert selection["condition"][0]["string_equals"][0] == {"key": "aws:ResourceTag/Workspace", "value": name}


@pytest.mark.parametrize("name", ["management", "security", "staging", "production"])
def test_budgets_alert_at_each_threshold_and_on_forecast(aws_stacks, settings, name):
    stack, ws = aws_stacks[name], settings.get(name)
    budget = one(stack, "aws_budgets_budget")
    assert budget["limit_amount"] == str(ws.budget.monthly_limit_usd) and budget["time_unit"] == "MONTHLY"
    actual = sorted(n["threshold"] for n in budget["notification"] if n["notification_type"] == "ACTUAL")
    assert actual == sorted(ws.budget.alert_thresholds_percent)
    assert [n["threshold"] for n in budget["notification"] if n["notification_type"] == "FORECASTED"] == [100]
    assert "cost_filter" not in budget, "each of these workspaces owns its account"
    topic_policy = json.loads(
        next(p for p in resources(stack, "aws_sns_topic_policy").values() if "budget" in p["arn"])["policy"]
    )
    assert topic_policy["Statement"][1]["Principal"]["Service"] == ["budgets.amazonaws.com"]


def _install_commands(aws_stacks) -> list[str]:
    projects = resources(aws_stacks["management"], "aws_codebuild_project").values()
    installs = {json.dumps(json.loads(p["source"]["buildspec"])["phases"]["install"]["commands"]) for p in projects}
    assert len(installs) == 1, "every build installs the same way"
    return json.loads(installs.pop())


def test_every_build_installs_the_tested_terraform_checked_against_its_sums(aws_stacks, tmp_path):
    # CodeBuild's standard image has no Terraform, and the *_wo arguments need 1.11 or later.
    commands = _install_commands(aws_stacks)
    release = "https://releases.hashicorp.com/terraform/1.11.4"
    downloads = [c for c in commands if c.startswith("curl ")]
    assert downloads == [
        f"curl -fsSLo /tmp/terraform_1.11.4_linux_amd64.zip {release}/terraform_1.11.4_linux_amd64.zip",
        f"curl -fsSLo /tmp/terraform_SHA256SUMS {release}/terraform_1.11.4_SHA256SUMS",
    ]
    check = next(c for c in commands if "sha256sum -c" in c)
    assert commands.index(check) < next(i for i, c in enumerate(commands) if c.startswith("unzip "))

    # The checksum step, run by a real shell against a stand-in release (curl copies from it).
    site = tmp_path / "release"
    site.mkdir()
    (site / "terraform_1.11.4_linux_amd64.zip").write_bytes(b"the archive")
    digest = hashlib.sha256(b"the archive").hexdigest()
    (site / "terraform_1.11.4_SHA256SUMS").write_text(f"{digest}  terraform_1.11.4_linux_amd64.zip\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text(f'#!/bin/sh\n# curl -fsSLo OUT URL\ncp "{site}/$(basename "$3")" "$2"\n')
    curl.chmod(0o755)
    script = "set -e\n" + "\n".join(downloads + [check])
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    ok = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    (site / "terraform_1.11.4_linux_amd64.zip").write_bytes(b"a tampered archive")
    tampered = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert tampered.returncode != 0 and "FAILED" in tampered.stdout + tampered.stderr


def test_a_new_source_object_starts_the_pipeline(aws_stacks):
    # The source does not poll: S3 sends its events to EventBridge, and one rule starts the pipeline.
    stack = aws_stacks["management"]
    pipeline = one(stack, "aws_codepipeline")
    source = pipeline["stage"][0]["action"][0]["configuration"]
    assert source["PollForSourceChanges"] == "false"
    notification = one(stack, "aws_s3_bucket_notification")
    assert notification["eventbridge"] is True and "pipeline_source-bucket" in notification["bucket"]
    pattern = json.loads(one(stack, "aws_cloudwatch_event_rule", "source-rule")["event_pattern"])
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": ["${aws_s3_bucket.pipeline_source-bucket_3D31A4BE.bucket}"]},
            "object": {"key": ["surgepress/source.zip"]},
        },
    }
    target = one(stack, "aws_cloudwatch_event_target", "source-target")
    assert target["arn"] == "${aws_codepipeline.pipeline_ECD41627.arn}"
    role = one(stack, "aws_iam_role", "start-role")
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    (statement,) = json.loads(one(stack, "aws_iam_role_policy", "start-policy")["policy"])["Statement"]
    assert (statement["Action"], statement["Resource"]) == (
        "codepipeline:StartPipelineExecution",
        "${aws_codepipeline.pipeline_ECD41627.arn}",
    )
    assert target["role_arn"].startswith("${aws_iam_role.pipeline_start-role")


def test_the_security_accounts_config_delivers_through_its_recorder_role(aws_stacks):
    # Same-account delivery uses the recorder's role (AWS Config's bucket-permissions guide).
    stack = aws_stacks["security"]
    policy = one(stack, "aws_iam_role_policy", "config-delivery")
    assert policy["role"].startswith("${aws_iam_role.guardrails_config-role")
    statements = {
        s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]): s
        for s in json.loads(policy["policy"])["Statement"]
    }
    bucket = "arn:aws:s3:::surgepress-log-archive-100000000002"
    assert statements["s3:GetBucketAcl"]["Resource"] == bucket
    assert statements["s3:PutObject"]["Resource"] == f"{bucket}/AWSLogs/100000000002/Config/*"
    assert statements[("kms:GenerateDataKey", "kms:Decrypt")]["Resource"].startswith("${aws_kms_key.log-archive_key")
    channel = one(stack, "aws_config_delivery_channel")
    assert "aws_iam_role_policy.guardrails_config-delivery-policy_" in " ".join(channel["depends_on"])
    # The archive's deny of non-service writers lifts for that role, and for no one else.
    archive = json.loads(one(stack, "aws_s3_bucket_policy", "log-archive")["policy"])
    deny = next(s for s in archive["Statement"] if s["Sid"] == "OnlyCloudTrailAndConfigWrite")
    assert deny["Condition"]["ArnNotEquals"] == {
        "aws:PrincipalArn": ["arn:aws:iam::100000000002:role/surgepress-security-config-eu-west-1"]
    }
    role = one(stack, "aws_iam_role", "guardrails_config-role")
    assert role["name"] == "surgepress-security-config-eu-west-1"


@pytest.mark.parametrize("name", ["staging", "production", "dr"])
def test_member_accounts_deliver_config_with_the_service_principal_only(aws_stacks, name):
    policies = resources(aws_stacks[name], "aws_iam_role_policy")
    assert [n for n in policies if "config-delivery" in n] == []


def test_each_member_account_runs_one_account_trail_into_the_archive(aws_stacks):
    # No organization trail exists: each account that owns its settings (dr shares production's
    # account) runs its own trail, with the archive's key named by its alias.
    for name in ("staging", "production"):
        trail = one(aws_stacks[name], "aws_cloudtrail")
        assert not trail.get("is_organization_trail") and trail["is_multi_region_trail"] is True
        assert trail["s3_bucket_name"] == "surgepress-log-archive-100000000002"
        assert trail["kms_key_id"] == "arn:aws:kms:eu-west-1:100000000002:alias/surgepress-log-archive"
        assert trail["enable_log_file_validation"] is True and trail["include_global_service_events"] is True
    assert resources(aws_stacks["dr"], "aws_cloudtrail") == {}
    assert len(resources(aws_stacks["security"], "aws_cloudtrail")) == 1
    alias = one(aws_stacks["security"], "aws_kms_alias", "log-archive")
    assert alias["name"] == "alias/surgepress-log-archive"
