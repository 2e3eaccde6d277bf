"""Checkov over every workspace's synthesized Terraform: zero failures, skips only with reasons."""

from __future__ import annotations

import pytest

from modules.policy import skip_check
from surgepress.policy import scan
from surgepress.targets import Target

pytestmark = pytest.mark.policy


@pytest.mark.parametrize("target", [Target.AWS, Target.LOCAL])
def test_every_workspace_passes_checkov(request, settings, synth_paths, target):
    request.getfixturevalue(f"{target.value}_stacks")  # synthesized once per session
    report = scan({name: synth_paths.stack_dir(target, name) for name in settings.names})
    print(report.summary())
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
