"""`WorkspaceRunner.state()`: one `terraform state pull` read as `state list` and `output -json`
would give it, on a real state written by real Terraform."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from surgepress.runner import WorkspaceRunner, _addresses

pytestmark = pytest.mark.unit


def test_addresses_as_state_list_names_them():
    assert _addresses({"mode": "managed", "type": "aws_s3_bucket", "name": "b", "instances": [{}]}) == [
        "aws_s3_bucket.b"
    ]
    counted = {"type": "aws_subnet", "name": "app", "instances": [{"index_key": 0}, {"index_key": 1}]}
    assert _addresses(counted) == ["aws_subnet.app[0]", "aws_subnet.app[1]"]
    keyed = {"module": "module.net", "type": "aws_route", "name": "r", "instances": [{"index_key": "a"}]}
    assert _addresses(keyed) == ['module.net.aws_route.r["a"]']
    assert _addresses({"type": "aws_vpc", "name": "gone", "instances": []}) == []


def test_state_pull_gives_what_state_list_and_output_json_give(tmp_path):
    # A state written by real Terraform (no provider: terraform_data and outputs), read both ways.
    (tmp_path / "main.tf.json").write_text(
        json.dumps(
            {
                "resource": {"terraform_data": {"one": {"input": "x"}, "many": {"count": 2, "input": "y"}}},
                "output": {
                    "plain": {"value": "${terraform_data.one.output}"},
                    "hidden": {"value": "s3cr3t", "sensitive": True},
                },
            }
        )
    )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    for argv in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", *argv], cwd=tmp_path, check=True, capture_output=True, env=env)
    runner = WorkspaceRunner("t", tmp_path, env)
    state = runner.state()
    assert sorted(state.resources) == sorted(runner.resources())
    assert state.resources and "terraform_data.many[1]" in state.resources
    assert state.outputs == runner.outputs()
    assert state.outputs["hidden"] == {"sensitive": True, "type": "string", "value": "s3cr3t"}
