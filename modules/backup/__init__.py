"""Backup: AWS Backup of the environment's Aurora cluster and data buckets.

What it creates
    - A vault `<name>` with its own rotating KMS key and, when `copy_to_dr_region`, a vault
      `<name>-dr` in the DR region (its own key there), into which every recovery point is
      copied.
    - A plan with a daily and a weekly rule (schedules and retention from config), each
      copying to the DR vault with the same retention.
    - A selection by tag: resources tagged `Workspace=<workspace>` (every resource the
      workspace makes carries it), limited to its Aurora clusters and its media and misc
      buckets, backed up under a role with AWS's backup and restore policies.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_selection import (
    BackupSelection,
    BackupSelectionCondition,
    BackupSelectionConditionStringEquals,
)
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.kms import customer_key
from modules.outputs import export
from modules.roles import PlatformRole, service_trust

SERVICE_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


@dataclass(frozen=True)
class BackupProps:
    name: str
    """Vault, plan and role name prefix, e.g. `surgepress-production`."""
    account_id: str
    region: str
    workspace: str
    """Value of the `Workspace` tag that selects resources."""
    dr_provider: TerraformProvider | None
    """The DR region's provider; needed when `copy_to_dr_region`."""
    daily_schedule: str = "cron(0 3 ? * * *)"
    daily_retention_days: int = 35
    weekly_schedule: str = "cron(0 4 ? * SUN *)"
    weekly_retention_days: int = 365
    copy_to_dr_region: bool = True
    role: PlatformRole = PlatformRole.PRIMARY


class Backup(Construct):
    def __init__(self, scope: Construct, id: str, *, props: BackupProps) -> None:
        super().__init__(scope, id)
        if props.copy_to_dr_region and props.dr_provider is None:
            raise ValueError("BackupProps.dr_provider: needed to copy into the DR region")
        tags = {"Name": f"{props.name}-backup", "PlatformRole": props.role.value}
        key = customer_key(self, "key", description=f"{props.name} backups", account_id=props.account_id, tags=tags)
        self.vault = BackupVault(self, "vault", name=props.name, kms_key_arn=key.arn, tags=tags)
        self.dr_vault = None
        if props.copy_to_dr_region:
            dr_key = customer_key(
                self,
                "dr-key",
                description=f"{props.name} backup copies",
                tags=tags,
                account_id=props.account_id,
                provider=props.dr_provider,
            )
            self.dr_vault = BackupVault(
                self, "dr-vault", name=f"{props.name}-dr", kms_key_arn=dr_key.arn, tags=tags, provider=props.dr_provider
            )

        def rule(label: str, schedule: str, days: int) -> BackupPlanRule:
            copy = (
                [
                    BackupPlanRuleCopyAction(
                        destination_vault_arn=self.dr_vault.arn,
                        lifecycle=BackupPlanRuleCopyActionLifecycle(delete_after=days),
                    )
                ]
                if self.dr_vault
                else None
            )
            return BackupPlanRule(
                rule_name=label,
                target_vault_name=self.vault.name,
                schedule=schedule,
                start_window=60,
                completion_window=360,
                lifecycle=BackupPlanRuleLifecycle(delete_after=days),
                copy_action=copy,
            )

        self.plan = BackupPlan(
            self,
            "plan",
            name=props.name,
            tags=tags,
            rule=[
                rule("daily", props.daily_schedule, props.daily_retention_days),
                rule("weekly", props.weekly_schedule, props.weekly_retention_days),
            ],
        )
        role = IamRole(
            self,
            "role",
            name=f"{props.name}-backup",
            tags=tags,
            assume_role_policy=service_trust("backup.amazonaws.com", source_account=props.account_id),
        )
        for index, policy in enumerate(SERVICE_POLICIES):
            IamRolePolicyAttachment(
                self, f"role-policy-{index}", role=role.name, policy_arn=f"arn:aws:iam::aws:policy/{policy}"
            )
        BackupSelection(
            self,
            "selection",
            name=f"{props.name}-by-tag",
            plan_id=self.plan.id,
            iam_role_arn=role.arn,
            resources=[
                f"arn:aws:rds:{props.region}:{props.account_id}:cluster:{props.name}*",
                f"arn:aws:s3:::{props.name}-media-*",
                f"arn:aws:s3:::{props.name}-misc-*",
            ],
            condition=[
                BackupSelectionCondition(
                    string_equals=[
                        BackupSelectionConditionStringEquals(key="aws:ResourceTag/Workspace", value=props.workspace)
                    ]
                )
            ],
        )
        export(
            self,
            {
                "backup_vault_name": self.vault.name,
                "backup_plan_id": self.plan.id,
                **({"backup_dr_vault_arn": self.dr_vault.arn} if self.dr_vault else {}),
            },
        )
