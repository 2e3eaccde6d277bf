"""Checkov over every workspace's synthesized Terraform: zero failures, skips only with reasons."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from modules.policy import skip_check
from surgepress import image
from surgepress.policy import _report_of, scan
from surgepress.policy_rules import CHECKS
from surgepress.targets import Target

pytestmark = pytest.mark.policy


@pytest.mark.parametrize("target", [Target.AWS, Target.LOCAL])
def test_every_workspace_passes_checkov(request, settings, synth_paths, target):
    request.getfixturevalue(f"{target.value}_stacks")  # synthesized once per session
    report = scan({name: synth_paths.stack_dir(target, name) for name in settings.names})
    print(report.summary())
    # Each workspace gave results of its own (one Checkov run each), and the summary says so.
    assert sorted(report.workspaces) == sorted(settings.names)
    for name, counts in report.workspaces.items():
        assert counts.passed > 10 and counts.resources > 10, (name, counts)
        assert f"  {name}: {counts.passed} passed" in report.summary()
    for finding in report.skipped:
        print("SKIP", finding.line())
    assert report.passed > 100
    assert [f.line() for f in report.failed] == []
    assert all(f.reason for f in report.skipped)


def _stack_with_unrotated_key(tmp_path, *, justified: bool):
    from cdktf import App, TerraformStack
    from cdktf_cdktf_provider_aws.kms_key import KmsKey
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "probe")
    AwsProvider(stack, "aws", region="eu-west-1")
    policy = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"AWS":"arn:aws:iam::100000000001:root"},"Action":"kms:*","Resource":"*"}]}'
    )
    key = KmsKey(stack, "key", enable_key_rotation=False, description="probe", policy=policy)
    if justified:
        skip_check(key, {"CKV_AWS_7": "probe: rotation is handled outside Terraform in this fixture"})
    app.synth()
    return {"probe": tmp_path / "stacks" / "probe"}


def test_the_scan_fails_on_a_real_violation(tmp_path):
    report = scan(_stack_with_unrotated_key(tmp_path, justified=False))
    assert [f.check_id for f in report.failed] == ["CKV_AWS_7"]
    assert not report.ok


def test_an_inline_justified_skip_is_reported_with_its_reason(tmp_path):
    report = scan(_stack_with_unrotated_key(tmp_path, justified=True))
    assert report.ok
    assert [(f.check_id, f.reason) for f in report.skipped] == [
        ("CKV_AWS_7", "probe: rotation is handled outside Terraform in this fixture")
    ]
    assert "skipped: probe: rotation" in report.skipped[0].line()


def test_a_skip_without_a_reason_is_refused_at_synth():
    from cdktf import App, TerraformStack
    from cdktf_cdktf_provider_aws.kms_key import KmsKey

    key = KmsKey(TerraformStack(App(), "s"), "key")
    with pytest.raises(ValueError, match="needs a real reason"):
        skip_check(key, {"CKV_AWS_7": "because"})


# --- the platform's own checks (surgepress.policy_rules), each on the broken form it guards ---


def _only(items: dict[str, dict], contains: str = "") -> tuple[str, dict]:
    found = [(n, b) for n, b in items.items() if contains in n]
    assert len(found) == 1, sorted(items)
    return found[0]


def _statements(body: dict) -> list[dict]:
    return json.loads(body["policy"])["Statement"]


def _without_xray(doc: dict) -> None:
    _, policy = _only(doc["resource"]["aws_iam_role_policy"], "scheduler_policy")
    document = json.loads(policy["policy"])
    document["Statement"] = [s for s in document["Statement"] if "xray:PutTraceSegments" not in s["Action"]]
    policy["policy"] = json.dumps(document)


def _xray_granted_too_late(doc: dict) -> None:
    _, function = _only(doc["resource"]["aws_lambda_function"])
    function["depends_on"] = [d for d in function["depends_on"] if "aws_iam_role_policy." not in d]


def _organization_trail(doc: dict) -> None:
    _, trail = _only(doc["resource"]["aws_cloudtrail"])
    trail["is_organization_trail"] = True


def _config_role_without_delivery(doc: dict) -> None:
    name, _ = _only(doc["resource"]["aws_iam_role_policy"], "config-delivery")
    del doc["resource"]["aws_iam_role_policy"][name]


def _archive_denies_the_config_role(doc: dict) -> None:
    _, policy = _only(doc["resource"]["aws_s3_bucket_policy"], "log-archive")
    document = json.loads(policy["policy"])
    for statement in document["Statement"]:
        statement.get("Condition", {}).pop("ArnNotEquals", None)
    policy["policy"] = json.dumps(document)


def _source_without_events(doc: dict) -> None:
    del doc["resource"]["aws_s3_bucket_notification"]


def _source_rule_without_target(doc: dict) -> None:
    del doc["resource"]["aws_cloudwatch_event_target"][
        _only(doc["resource"]["aws_cloudwatch_event_target"], "source")[0]
    ]


def _source_rule_on_another_bucket(doc: dict) -> None:
    _, rule = _only(doc["resource"]["aws_cloudwatch_event_rule"], "source-rule")
    pattern = json.loads(rule["event_pattern"])
    pattern["detail"]["bucket"]["name"] = ["some-other-bucket"]
    rule["event_pattern"] = json.dumps(pattern)


def _start_role_cannot_start(doc: dict) -> None:
    _, policy = _only(doc["resource"]["aws_iam_role_policy"], "start-policy")
    document = json.loads(policy["policy"])
    document["Statement"][0]["Action"] = "codepipeline:GetPipeline"
    policy["policy"] = json.dumps(document)


def _hosts_no_provider_names(doc: dict) -> None:
    _, service = _only(doc["resource"]["aws_ecs_service"])
    del service["capacity_provider_strategy"]
    del doc["resource"]["aws_ecs_cluster_capacity_providers"]


def _fewer_hosts(doc: dict) -> None:
    _, group = _only(doc["resource"]["aws_autoscaling_group"])
    group["max_size"] = 30  # 3 tasks of 1024 CPU / 2048 MiB per c7i.xlarge: 90 < 120


def _cloudfront_alias_health(doc: dict) -> None:
    _, record = _only(doc["resource"]["aws_route53_record"], "site-alias")
    record["alias"]["evaluate_target_health"] = True


def _uploads_with_default_acl(doc: dict) -> None:
    _, task = _only(doc["resource"]["aws_ecs_task_definition"])
    containers = json.loads(task["container_definitions"])
    for container in containers:
        container["environment"] = [e for e in container["environment"] if e["name"] != "S3_UPLOADS_OBJECT_ACL"]
    task["container_definitions"] = json.dumps(containers)


BROKEN = {
    # case: (workspace, mutation, the one check that must fail)
    "tracing-without-xray": ("staging", _without_xray, "CKV_SURGE_1"),
    "xray-granted-after-the-function": ("staging", _xray_granted_too_late, "CKV_SURGE_1"),
    "organization-trail-without-organization": ("security", _organization_trail, "CKV_SURGE_2"),
    "config-role-without-delivery-grant": ("security", _config_role_without_delivery, "CKV_SURGE_3"),
    "archive-denies-the-config-role": ("security", _archive_denies_the_config_role, "CKV_SURGE_3"),
    "s3-source-without-events": ("management", _source_without_events, "CKV_SURGE_4"),
    "s3-source-rule-without-target": ("management", _source_rule_without_target, "CKV_SURGE_4"),
    "s3-source-rule-on-another-bucket": ("management", _source_rule_on_another_bucket, "CKV_SURGE_4"),
    "s3-source-role-that-cannot-start-it": ("management", _start_role_cannot_start, "CKV_SURGE_4"),
    "hosts-that-no-capacity-provider-names": ("production", _hosts_no_provider_names, "CKV_SURGE_5"),
    "task-ceiling-over-hosts": ("production", _fewer_hosts, "CKV_SURGE_5"),
    "cloudfront-alias-evaluates-health": ("production", _cloudfront_alias_health, "CKV_SURGE_6"),
    "uploads-with-s3-uploads-default-acl": ("production", _uploads_with_default_acl, "CKV_SURGE_7"),
}


def test_each_platform_check_fails_on_the_broken_form_it_guards(local_stacks, tmp_path):
    directories = {}
    for case, (workspace, mutate, _) in BROKEN.items():
        document = copy.deepcopy(local_stacks[workspace])
        mutate(document)
        directory = tmp_path / case
        directory.mkdir()
        (directory / "cdk.tf.json").write_text(json.dumps(document))
        directories[case] = directory
    report = scan(directories, only=tuple(c.id for c in CHECKS))  # the platform's checks alone
    ours = [f for f in report.failed if f.check_id.startswith("CKV_SURGE_")]
    failed = {case: sorted({f.check_id for f in ours if f.workspace == case}) for case in BROKEN}
    assert failed == {case: [check] for case, (_, _, check) in BROKEN.items()}
    for finding in ours:
        assert finding.details, finding.line()  # each says what is missing
    print("\n".join(f.line() for f in ours))


def test_uploads_without_an_acl_need_the_images_hook(local_stacks, tmp_path, monkeypatch):
    # The image's source without the filter that drops the ACL: production's unchanged stack
    # (S3_UPLOADS_OBJECT_ACL none) now fails CKV_SURGE_7, and only it.
    app = tmp_path / "app"
    shutil.copytree(image.APP_DIR, app)
    (app / "wordpress" / "wp-content" / "mu-plugins" / "surgepress.php").write_text("<?php\n")
    monkeypatch.setenv(image.APP_ENV, str(app))
    directory = tmp_path / "production"
    directory.mkdir()
    (directory / "cdk.tf.json").write_text(json.dumps(local_stacks["production"]))
    report = scan({"production": directory}, only=tuple(c.id for c in CHECKS))
    (finding,) = [f for f in report.failed if f.check_id.startswith("CKV_SURGE_")]
    assert finding.check_id == "CKV_SURGE_7"
    assert "registers no s3_uploads_putObject_params filter" in finding.details, finding.line()


def test_output_that_is_not_one_json_report_fails_the_scan_with_what_it_said():
    with pytest.raises(RuntimeError, match=r"for staging is not one JSON report: .*Traceback"):
        _report_of("staging", '{"check_type": "terraform_json"}\nTraceback (most recent call last):')
    with pytest.raises(RuntimeError, match="no terraform_json report for dr"):
        _report_of("dr", '{"passed": 0, "failed": 0, "resource_count": 0}')


def test_a_workspace_checkov_parses_nothing_from_fails_the_scan(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "cdk.tf.json").write_text("{}")
    with pytest.raises(RuntimeError, match="empty"):
        scan({"empty": tmp_path / "empty"})
