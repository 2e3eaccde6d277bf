"""Shims: where moto lacks an API the platform needs, or answers unlike AWS.

Each shim is a module with an `install()` that patches moto in this process only (the
emulator server). Every shim has a test in `tests/unit/test_emulator.py` that shows
the gap it closes through a real boto3 call.
"""

from __future__ import annotations

import importlib

SHIMS: tuple[str, ...] = (
    "retries_replay",
    "operator_account",
    "s3_logging_policy",
    "policy_conditions",
    "s3_delete_markers",
    "rds_answers",
    "elasticache_replication",
    "cloudfront_configs",
    "autoscaling_target_tags",
    "security_group_rule_descriptions",
    "ecs_service_fields",
    "launch_template_tags",
    "autoscaling_group_warmup",
    "ssm_consistent_listing",
    "securityhub_standards",
    "budgets_subscribers",
    "backup_api",
    "codebuild_projects",
    "codepipeline_timestamps",
    "s3_object_lock_versioning",
    "rds_global_switchover",
    "s3_replication",
    "route53_alarm_health_checks",
    "lambda_tracing_role",
    "ecs_placement",
    "s3_eventbridge_notifications",
    "ecr_replication",
    "ecr_scan_on_push",
    "ecs_rollouts",
    "autoscaling_warm_pools",
)


def install() -> list[str]:
    for name in SHIMS:
        importlib.import_module(f"{__name__}.{name}").install()
    return list(SHIMS)
