"""Secrets: an environment KMS key and generated secrets in SSM Parameter Store.

What it creates
    A customer-managed KMS key (rotating, alias `alias/<name>`) for the environment, and
    one SecureString parameter per secret the platform needs under `/<project>/<ws>/…`:
    the Aurora master password, the Redis AUTH token, the CloudFront origin secret and
    WordPress's eight keys and salts.

How a secret is made
    Each value comes from an *ephemeral* `aws_secretsmanager_random_password` and is
    written through the parameter's write-only `value_wo`. Ephemeral values and
    write-only arguments are never stored in the plan or the state, so a secret exists in
    exactly one place: Parameter Store, encrypted with the key. It appears in no
    synthesized JSON, no state file, no log. Terraform writes the value only when
    `generation` changes; bump it to regenerate every secret at once.

A replica's secrets
    With `copy_from_arn_prefix`, each value is instead read (ephemerally, through the source
    region's provider) from the source's parameter of the same path and written into this
    region's parameter, encrypted with this region's key. The DR site must share its
    source's values: the global database's master password, the origin secret CloudFront
    sends, and WordPress's keys and salts, so logins survive a failover.

Defaults and why
    Alphanumeric values only: Aurora and ElastiCache refuse some punctuation in
    passwords and tokens, and the values travel through environment variables and PHP
    config unquoted. Lengths give ≥ 238 bits of entropy (40 chars) and more.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider, TerraformStack
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.kms import customer_key
from modules.outputs import export
from modules.roles import PlatformRole

WORDPRESS_KEYS = (
    "auth-key",
    "secure-auth-key",
    "logged-in-key",
    "nonce-key",
    "auth-salt",
    "secure-auth-salt",
    "logged-in-salt",
    "nonce-salt",
)
# secret key -> (parameter path below the prefix, length)
SECRETS: dict[str, tuple[str, int]] = {
    "db_master_password": ("db/master-password", 40),
    "redis_auth_token": ("redis/auth-token", 64),
    "origin_secret": ("cdn/origin-secret", 48),
    **{f"wordpress_{k.replace('-', '_')}": (f"wordpress/{k}", 64) for k in WORDPRESS_KEYS},
}
RANDOM_PASSWORD = "aws_secretsmanager_random_password"


@dataclass(frozen=True)
class SecretsProps:
    name: str
    """Resource name prefix, e.g. `surgepress-staging` (also the key alias)."""
    parameter_prefix: str
    """Parameter path prefix, e.g. `/surgepress/staging` (no trailing slash)."""
    account_id: str
    """Account that administers the key (its root principal, through IAM)."""
    generation: int = 1
    """Write-only version of every secret: bump to write freshly generated values."""
    copy_from_arn_prefix: str | None = None
    """A replica's source parameters, `arn:aws:ssm:<region>:<account>:parameter/<project>/<ws>`: copy
    their values instead of generating new ones."""
    source_provider: TerraformProvider | None = None
    """Provider in the source's region, with `copy_from_arn_prefix`."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag."""


class Secrets(Construct):
    def __init__(self, scope: Construct, id: str, *, props: SecretsProps) -> None:
        super().__init__(scope, id)
        if not props.parameter_prefix.startswith("/") or props.parameter_prefix.endswith("/"):
            raise ValueError(f"SecretsProps.parameter_prefix: expected '/a/b' form, got {props.parameter_prefix!r}")
        if props.generation < 1:
            raise ValueError(f"SecretsProps.generation: expected 1 or more, got {props.generation!r}")
        if (props.copy_from_arn_prefix is None) != (props.source_provider is None):
            raise ValueError("SecretsProps.copy_from_arn_prefix and source_provider: give both or neither")
        tags = {"Name": props.name, "PlatformRole": props.role.value}
        self.key = customer_key(
            self,
            "key",
            description=f"{props.name} secrets and environment data",
            account_id=props.account_id,
            tags=tags,
        )
        KmsAlias(self, "alias", name=f"alias/{props.name}", target_key_id=self.key.key_id)

        stack = TerraformStack.of(self)
        self.parameters: dict[str, SsmParameter] = {}
        for key, (path, length) in SECRETS.items():
            generator = f"{id}_{key}".replace("-", "_")
            # cdktf 0.20 has no ephemeral-resource class; the block is written as-is.
            if props.copy_from_arn_prefix:
                stack.add_override(
                    f"ephemeral.aws_ssm_parameter.{generator}",
                    {
                        "arn": f"{props.copy_from_arn_prefix}/{path}",
                        "with_decryption": True,
                        "provider": f"aws.{props.source_provider.alias}",
                    },
                )
                value = f"${{ephemeral.aws_ssm_parameter.{generator}.value}}"
            else:
                stack.add_override(
                    f"ephemeral.{RANDOM_PASSWORD}.{generator}",
                    {
                        "password_length": length,
                        "exclude_punctuation": True,
                        "require_each_included_type": True,
                    },
                )
                value = f"${{ephemeral.{RANDOM_PASSWORD}.{generator}.random_password}}"
            self.parameters[key] = SsmParameter(
                self,
                key,
                name=f"{props.parameter_prefix}/{path}",
                type="SecureString",
                key_id=self.key.arn,
                value_wo=value,
                value_wo_version=props.generation,
                tags=tags,
            )

        export(
            self,
            {
                "secrets_kms_key_arn": self.key.arn,
                "secret_parameter_names": {k: p.name for k, p in self.parameters.items()},
            },
        )
