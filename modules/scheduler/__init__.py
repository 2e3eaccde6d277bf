"""Scheduler: switches an environment off at night and at weekends, and on again.

What it creates
    - A Python Lambda (`function/handler.py`, zipped at synth by cdktf's TerraformAsset — no
      archive provider needed) that scales every ECS service of the cluster and the named
      Auto Scaling groups to zero and stops the Aurora cluster (`off`), or restores what it
      saved and starts the cluster (`on`). The counts live in one SSM parameter,
      `<parameter_prefix>/scheduler/saved-counts`: Terraform creates it (empty, `{}`) and
      deletes it with the environment; its value belongs to the function, so Terraform
      ignores changes to it.
    - Two EventBridge Scheduler schedules, `off_schedule` and `on_schedule`, in `timezone`
      (daylight saving included), each invoking the function with its action.
    - The function's role (only what the two actions need, on this environment's resources),
      the schedules' role (invoke this function, read
      its inputs encrypted with the function's key), and a KMS-encrypted log group.

Assumptions
    A deploy while the environment is off restores the Terraform-managed scaling floors; the
    next `off` applies zeros again and keeps the counts it saved first. Aurora starts a
    cluster by itself after seven days stopped; a weekday `off` stops it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, Fn, TerraformAsset, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.kms import customer_key
from modules.logs import encrypted_log_group
from modules.outputs import export
from modules.policy import skip_check
from modules.roles import PlatformRole, inline_policy, service_trust

FUNCTION_DIR = Path(__file__).resolve().parent / "function"
RUNTIME = "python3.12"
TIMEOUT_S = 300
FIXED_MTIME = 315532800  # 1980-01-01, the earliest time a zip entry can carry


def reproducible_copy(directory: Path) -> Path:
    """A copy of `directory`'s files with fixed timestamps, so that the zip TerraformAsset makes
    (and the function's code hash) depends on their content only, not on when they were checked
    out. Content-addressed under the temp dir: the same code always gives the same path."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes())
    copy = Path(tempfile.gettempdir()) / "surgepress-assets" / f"{directory.name}-{digest.hexdigest()[:16]}"
    for path in files:
        target = copy / path.relative_to(directory)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        os.utime(target, (FIXED_MTIME, FIXED_MTIME))
        target.chmod(0o644)
    return copy


def saved_counts_parameter(parameter_prefix: str) -> str:
    return f"{parameter_prefix}/scheduler/saved-counts"


@dataclass(frozen=True)
class SchedulerProps:
    name: str
    """Name prefix, e.g. `surgepress-staging`."""
    account_id: str
    region: str
    cluster_name: str
    """ECS cluster whose services are switched."""
    db_cluster_identifier: str
    """Aurora cluster that is stopped and started."""
    parameter_prefix: str
    """SSM path of the environment, e.g. `/surgepress/staging`."""
    asg_names: tuple[str, ...] = ()
    """Auto Scaling groups of ECS hosts (none on Fargate)."""
    off_schedule: str = "cron(0 20 ? * MON-FRI *)"
    on_schedule: str = "cron(0 7 ? * MON-FRI *)"
    timezone: str = "Europe/Malta"
    log_retention_days: int = 365
    role: PlatformRole = PlatformRole.PRIMARY


class Scheduler(Construct):
    def __init__(self, scope: Construct, id: str, *, props: SchedulerProps) -> None:
        super().__init__(scope, id)
        tags = {"Name": f"{props.name}-scheduler", "PlatformRole": props.role.value}
        name = f"{props.name}-scheduler"
        account, region = props.account_id, props.region
        parameter = saved_counts_parameter(props.parameter_prefix)
        group, _ = encrypted_log_group(
            self,
            key_id="logs-key",
            group_id="logs",
            name=f"/aws/lambda/{name}",
            region=region,
            account_id=account,
            retention_days=props.log_retention_days,
            description=f"{name} logs",
            tags=tags,
        )
        role = IamRole(
            self,
            "role",
            name=name,
            tags=tags,
            assume_role_policy=service_trust("lambda.amazonaws.com", source_account=account),
        )
        cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{props.cluster_name}"
        env_key = customer_key(
            self, "env-key", description=f"{name} environment and schedule inputs", account_id=account, tags=tags
        )
        SsmParameter(
            self,
            "saved-counts",
            name=parameter,
            type="SecureString",
            key_id=env_key.arn,
            value=json.dumps({}),
            tags=tags,
            description="counts the scheduler saved at its last off (written by the function)",
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]),
        )
        policy = inline_policy(
            self,
            "policy",
            role=role.id,
            name="switch-the-environment",
            statements=[
                {
                    "Sid": "Logs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{group.arn}:log-stream:*",
                },
                {
                    "Sid": "ListServices",
                    "Effect": "Allow",
                    "Action": "ecs:ListServices",
                    "Resource": "*",
                    "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
                },
                {
                    "Sid": "Services",
                    "Effect": "Allow",
                    "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
                    "Resource": f"arn:aws:ecs:{region}:{account}:service/{props.cluster_name}/*",
                },
                {
                    "Sid": "ScalingTargets",
                    "Effect": "Allow",
                    "Action": [
                        "application-autoscaling:DescribeScalableTargets",
                        "application-autoscaling:RegisterScalableTarget",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "HostGroups",
                    "Effect": "Allow",
                    "Action": "autoscaling:DescribeAutoScalingGroups",
                    "Resource": "*",
                },
                *(
                    [
                        {
                            "Sid": "HostGroupSizes",
                            "Effect": "Allow",
                            "Action": "autoscaling:UpdateAutoScalingGroup",
                            "Resource": [
                                f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{g}"
                                for g in props.asg_names
                            ],
                        }
                    ]
                    if props.asg_names
                    else []
                ),
                {
                    "Sid": "Database",
                    "Effect": "Allow",
                    "Action": ["rds:DescribeDBClusters", "rds:StopDBCluster", "rds:StartDBCluster"],
                    "Resource": f"arn:aws:rds:{region}:{account}:cluster:{props.db_cluster_identifier}",
                },
                {
                    "Sid": "SavedCounts",
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameter", "ssm:PutParameter"],
                    "Resource": f"arn:aws:ssm:{region}:{account}:parameter{parameter}",
                },
                {
                    # Active tracing: Lambda refuses the function unless its role may
                    # write traces (these two actions take no resource-level ARN).
                    "Sid": "Traces",
                    "Effect": "Allow",
                    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    "Resource": "*",
                },
                {
                    "Sid": "SavedCountsKey",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": env_key.arn,
                },
            ],
        )
        asset = TerraformAsset(self, "code", path=str(reproducible_copy(FUNCTION_DIR)), type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self,
            "function",
            function_name=name,
            role=role.arn,
            runtime=RUNTIME,
            handler="handler.handler",
            filename=asset.path,
            source_code_hash=Fn.filebase64sha256(asset.path),
            timeout=TIMEOUT_S,
            memory_size=256,
            kms_key_arn=env_key.arn,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            environment=LambdaFunctionEnvironment(
                variables={
                    "ECS_CLUSTER": props.cluster_name,
                    "DB_CLUSTER": props.db_cluster_identifier,
                    "ASG_NAMES": ",".join(props.asg_names),
                    "STATE_PARAMETER": parameter,
                    "STATE_KEY_ID": env_key.arn,
                }
            ),
            depends_on=[group, policy],  # Lambda checks the role's X-Ray permissions at creation
            tags=tags,
        )
        skip_check(
            self.function,
            {
                "CKV_AWS_115": "no reserved concurrency: an account at Lambda's default quota (10) may reserve "
                "none, as unreserved concurrency must stay at 10 or more; two schedules hours apart invoke it",
                "CKV_AWS_116": "EventBridge Scheduler invokes it and retries; a run that fails is reported in its "
                "JSON log, and the next schedule re-applies the same idempotent action",
                "CKV_AWS_117": "it calls only AWS APIs; inside the VPC it would need NAT or five more endpoints",
                "CKV_AWS_272": "the code is built from this repository at synth; code signing needs a signing "
                "profile in the pipeline, which the management workspace does not run yet",
            },
        )
        invoker = IamRole(
            self,
            "schedule-role",
            name=f"{name}-invoke",
            assume_role_policy=service_trust("scheduler.amazonaws.com", source_account=account),
            tags=tags,
        )
        inline_policy(
            self,
            "schedule-policy",
            role=invoker.id,
            name="invoke-the-scheduler",
            statements=[
                {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": self.function.arn},
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": env_key.arn},
            ],
        )
        self.schedules = {
            action: SchedulerSchedule(
                self,
                f"{action}-schedule",
                name=f"{name}-{action}",
                schedule_expression=expression,
                schedule_expression_timezone=props.timezone,
                description=f"switch {props.name} {action}",
                kms_key_arn=env_key.arn,
                flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
                target=SchedulerScheduleTarget(
                    arn=self.function.arn,
                    role_arn=invoker.arn,
                    input=json.dumps({"action": action}),
                    retry_policy=SchedulerScheduleTargetRetryPolicy(
                        maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                    ),
                ),
            )
            for action, expression in (("off", props.off_schedule), ("on", props.on_schedule))
        }
        export(
            self,
            {"scheduler_function_name": self.function.function_name, "scheduler_saved_counts_parameter": parameter},
        )
