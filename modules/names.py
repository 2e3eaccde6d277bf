"""The names modules give AWS resources, where a name has a limit AWS enforces.

Plain functions without cdktf imports, so the environment loader can check at load time
that every derived name fits (S3 buckets 63 characters, target groups and load balancers
32, IAM roles 64) and the modules build the same names from the same functions.
"""

from __future__ import annotations

DATA_BUCKETS = ("media", "misc")
LOGS_BUCKET = "logs"
PIPELINE_BUCKETS = ("source", "artifacts")

BUCKET_NAME_MAX = 63
LOAD_BALANCER_NAME_MAX = 32  # target groups too
IAM_ROLE_NAME_MAX = 64


def bucket_name(name: str, purpose: str, account_id: str, region: str) -> str:
    """A site bucket's name, known before it exists (the DR workspace names its source's buckets)."""
    return f"{name}-{purpose}-{account_id}-{region}"


def log_archive_bucket_name(name: str, account_id: str) -> str:
    """The archive's bucket name: members name it without reading the security workspace's state."""
    return f"{name}-log-archive-{account_id}"


def pipeline_bucket_name(name: str, purpose: str, account_id: str) -> str:
    return f"{name}-pipeline-{purpose}-{account_id}"


def target_group_name(name: str) -> str:
    return f"{name}-wp"


def task_execution_role_name(name: str) -> str:
    return f"{name}-task-execution"


def config_role_name(name: str, region: str) -> str:
    return f"{name}-config-{region}"


def log_archive_key_alias(project: str) -> str:
    """The log archive key's alias: member accounts' trails name the key by it."""
    return f"alias/{project}-log-archive"


def log_archive_trail_name(project: str, organization: bool) -> str:
    """The security account's trail (or, once there is an organization, the organization's)."""
    return f"{project}-organization" if organization else f"{project}-security"


IMAGE_NAME = "wordpress"
"""The WordPress image, and its container in the task definition."""


def repository_name(project: str) -> str:
    """The ECR repository of the WordPress image (modules/registry), one per project."""
    return f"{project}/{IMAGE_NAME}"
