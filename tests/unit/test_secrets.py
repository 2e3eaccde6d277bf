"""The secrets module: generated at apply into SSM, never a value in synthesized JSON."""

from __future__ import annotations

import pytest

from modules.secrets import Secrets, SecretsProps
from tests.conftest import resources

pytestmark = pytest.mark.unit


def _parameters(stack: dict) -> list[dict]:
    """The secrets module's parameters (the scheduler keeps its saved counts in one too)."""
    return [p for key, p in resources(stack, "aws_ssm_parameter").items() if key.startswith("secrets_")]


@pytest.mark.parametrize("name", ["staging", "production"])
def test_every_platform_secret_is_a_securestring_under_the_workspace_prefix(local_stacks, name):
    params = _parameters(local_stacks[name])
    # Restated: the database password, the Redis token, the origin secret and WordPress's 8 keys and salts.
    wordpress = [
        f"wordpress/{kind}-{part}" for part in ("key", "salt") for kind in ("auth", "secure-auth", "logged-in", "nonce")
    ]
    expected = ["db/master-password", "redis/auth-token", "cdn/origin-secret", *wordpress]
    assert sorted(p["name"] for p in params) == sorted(f"/surgepress/{name}/{path}" for path in expected)
    keys = resources(local_stacks[name], "aws_kms_key")
    for param in params:
        assert param["type"] == "SecureString"
        reference = param["key_id"]
        assert reference.startswith("${aws_kms_key.secrets_key") and reference.endswith(".arn}"), param["name"]
        assert reference.split(".")[1] in keys, f"{param['name']}: its key is not in the workspace"


def test_values_come_from_ephemeral_generators_through_write_only_arguments(local_stacks):
    stack = local_stacks["production"]
    generators = stack["ephemeral"]["aws_secretsmanager_random_password"]
    for param in _parameters(stack):
        assert "value" not in param and "insecure_value" not in param, param["name"]
        ref = param["value_wo"]
        assert ref.startswith("${ephemeral.aws_secretsmanager_random_password.") and ref.endswith(".random_password}")
        generator = generators[ref.split(".")[2]]
        assert generator["password_length"] >= 40
        assert param["value_wo_version"] == 1


def test_no_workspace_synthesizes_a_secret_value(local_stacks, aws_stacks):
    for stacks in (local_stacks, aws_stacks):
        for name, stack in stacks.items():
            for param in resources(stack, "aws_ssm_parameter").values():
                if param["name"].endswith("/scheduler/saved-counts"):  # not a secret: an empty start, "{}"
                    assert param["value"] == "{}" and "insecure_value" not in param
                    continue
                if "/app/" in param["name"]:  # where the data is: host names, plain Strings
                    assert param["type"] == "String"
                    assert param["name"].rsplit("/", 1)[1] in ("db-host", "db-reader-host", "cache-host")
                    continue
                assert set(param) & {"value", "insecure_value"} == set(), f"{name}: {param['name']}"


def test_only_workspaces_with_a_secrets_section_get_them(local_stacks):
    assert {name for name, stack in local_stacks.items() if _parameters(stack)} == {"staging", "production", "dr"}


def test_the_environment_key_rotates_and_has_an_alias(local_stacks):
    stack = local_stacks["staging"]
    keys = [k for k_id, k in resources(stack, "aws_kms_key").items() if k_id.startswith("secrets_key")]
    assert len(keys) == 1 and keys[0]["enable_key_rotation"] is True
    aliases = [a["name"] for k_id, a in resources(stack, "aws_kms_alias").items() if k_id.startswith("secrets_")]
    assert aliases == ["alias/surgepress-staging"]


@pytest.mark.parametrize("prefix", ["surgepress/staging", "/surgepress/staging/"])
def test_a_malformed_parameter_prefix_is_refused(prefix):
    from cdktf import App, TerraformStack

    with pytest.raises(ValueError, match="parameter_prefix"):
        Secrets(
            TerraformStack(App(), "s"),
            "secrets",
            props=SecretsProps(name="x", parameter_prefix=prefix, account_id="100000000003"),
        )
