"""Registry: the WordPress image's one repository, pulled by every account that runs the site.

What it creates
    - An ECR repository `<project>/wordpress` in this (shared services) account's region, and
      one of the same name in each other region a site runs in (the replicas): immutable
      tags, scan on push, encrypted with a customer key of its own region, and a lifecycle
      that keeps the newest `keep_images` (what the last releases need to roll back to).
    - The same repository policy on each: the site accounts' task execution roles may pull;
      only the roles in `writer_role_arns` (the pipeline's build, the deployer an operator
      uses) may push, delete or change the repository and its policy; no one else may.
    - The registry's replication configuration: every image pushed here is copied, under the
      same digest, into each replica. A region's tasks then pull from their own region, so a
      primary-region outage does not stop the DR region's scale-out.

Why one repository in the shared services account, not one per site account
    The pipeline builds an image once; staging tests that digest and production runs the
    same digest: promotion is the tag a deploy is given, never a copy that could differ. A
    new site account needs no image of its own before its first deploy, only the pull grant.

Assumptions
    ECR creates its KMS grant when a repository is created, so pullers need no key
    permission. The repository policy names the accounts' roots with a principal-ARN
    condition: ECR refuses a policy naming a role that does not exist yet, and the site
    accounts' roles are created after this workspace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_replication_configuration import (
    EcrReplicationConfiguration,
    EcrReplicationConfigurationReplicationConfiguration,
    EcrReplicationConfigurationReplicationConfigurationRule,
    EcrReplicationConfigurationReplicationConfigurationRuleDestination,
    EcrReplicationConfigurationReplicationConfigurationRuleRepositoryFilter,
)
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from cdktf_cdktf_provider_aws.ecr_repository_policy import EcrRepositoryPolicy
from constructs import Construct

from modules.kms import customer_key
from modules.outputs import export

PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
WRITE_ACTIONS = (
    "ecr:BatchDeleteImage",
    "ecr:CompleteLayerUpload",
    "ecr:DeleteLifecyclePolicy",
    "ecr:DeleteRepository",
    "ecr:DeleteRepositoryPolicy",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:PutLifecyclePolicy",
    "ecr:SetRepositoryPolicy",
    "ecr:UploadLayerPart",
)
"""Pushes, deletes and every change to the repository's own settings and policy: the deployer
role's alone (replication writes through ECR's service-linked role, which is not a principal
this policy names)."""


def repository_policy(puller_role_arns: tuple[str, ...], writer_role_arns: tuple[str, ...]) -> str:
    """Pull for the sites' execution roles (named by condition: see Assumptions), writes for the
    writers only."""
    accounts = sorted({arn.split(":")[4] for arn in puller_role_arns})
    statements: list[dict] = []
    if puller_role_arns:
        statements.append(
            {
                "Sid": "SitesPull",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in accounts]},
                "Action": list(PULL_ACTIONS),
                "Condition": {"ArnLike": {"aws:PrincipalArn": sorted(puller_role_arns)}},
            }
        )
    statements.append(
        {
            "Sid": "OnlyTheWritersWrite",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(WRITE_ACTIONS),
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": sorted(writer_role_arns)}},
        }
    )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def lifecycle_policy(keep_images: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {keep_images} images (the rollback targets)",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
                    "action": {"type": "expire"},
                }
            ]
        }
    )


@dataclass(frozen=True)
class RegistryProps:
    name: str
    """Name prefix of its keys, e.g. `surgepress-management`."""
    repository: str
    """The repository's name (modules.names.repository_name)."""
    account_id: str
    region: str
    puller_role_arns: tuple[str, ...]
    """The task execution roles of every site that runs the image."""
    writer_role_arns: tuple[str, ...]
    """Who may push and delete: the pipeline's build role, the deployer role."""
    replica_providers: dict[str, TerraformProvider] = field(default_factory=dict)
    """region -> a provider of this account in that region: one replica each."""
    keep_images: int = 30
    enable_deletion_protection: bool = True
    """ECR refuses to delete a repository that holds images: on, a destroy keeps them (the
    rollback targets); off, they go with it."""


class Registry(Construct):
    def __init__(self, scope: Construct, id: str, *, props: RegistryProps) -> None:
        super().__init__(scope, id)
        self._props = props
        self._tags = {"Name": props.repository}
        self.repositories = {props.region: self._repository("repository", None)}
        for region, provider in sorted(props.replica_providers.items()):
            self.repositories[region] = self._repository(f"replica-{region}", provider)
        if props.replica_providers:
            EcrReplicationConfiguration(
                self,
                "replication",
                replication_configuration=EcrReplicationConfigurationReplicationConfiguration(
                    rule=[
                        EcrReplicationConfigurationReplicationConfigurationRule(
                            destination=[
                                EcrReplicationConfigurationReplicationConfigurationRuleDestination(
                                    region=region, registry_id=props.account_id
                                )
                                for region in sorted(props.replica_providers)
                            ],
                            repository_filter=[
                                EcrReplicationConfigurationReplicationConfigurationRuleRepositoryFilter(
                                    filter=props.repository, filter_type="PREFIX_MATCH"
                                )
                            ],
                        )
                    ]
                ),
                # Replication copies into the replicas: they must exist first, with their policy.
                depends_on=list(self.repositories.values()),
            )
        export(
            self,
            {
                "image_repository_url": self.repositories[props.region].repository_url,
                "image_replica_regions": sorted(props.replica_providers),
            },
        )

    def _repository(self, id: str, provider: TerraformProvider | None) -> EcrRepository:
        props = self._props
        key = customer_key(
            self,
            f"{id}-key",
            description=f"{props.repository} images",
            account_id=props.account_id,
            tags=self._tags,
            provider=provider,
        )
        repository = EcrRepository(
            self,
            id,
            name=props.repository,
            image_tag_mutability="IMMUTABLE",
            force_delete=not props.enable_deletion_protection,
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=key.arn)],
            tags=self._tags,
            provider=provider,
        )
        EcrRepositoryPolicy(
            self,
            f"{id}-policy",
            repository=repository.name,
            policy=repository_policy(props.puller_role_arns, props.writer_role_arns),
            provider=provider,
        )
        EcrLifecyclePolicy(
            self,
            f"{id}-lifecycle",
            repository=repository.name,
            policy=lifecycle_policy(props.keep_images),
            provider=provider,
        )
        return repository
