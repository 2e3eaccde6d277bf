"""modules/registry: the image's one repository in the shared services account, its replicas in
the other regions sites run in, who may pull and who may write, and what a destroy keeps."""

from __future__ import annotations

import json

import pytest

from tests.conftest import resources

pytestmark = pytest.mark.unit

PULL = {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}


def test_only_the_registry_workspace_holds_image_repositories(local_stacks):
    holders = [name for name, stack in local_stacks.items() if resources(stack, "aws_ecr_repository")]
    assert holders == ["management"]


def test_one_repository_here_and_a_replica_in_each_other_site_region(local_stacks, settings):
    ws = settings.get("management")
    stack = local_stacks["management"]
    repositories = list(resources(stack, "aws_ecr_repository").values())
    site_regions = {w.region for w in settings.workspaces.values() if w.compute}
    assert site_regions == {"eu-west-1", "eu-central-1"}  # production and staging, dr
    assert sorted(r.get("provider", "aws") for r in repositories) == ["aws", "aws.registry_eu_central_1"]
    assert {r["name"] for r in repositories} == {f"{ws.project}/wordpress"}
    keys = resources(stack, "aws_kms_key")
    for repository in repositories:
        assert repository["image_tag_mutability"] == "IMMUTABLE"
        assert repository["image_scanning_configuration"]["scan_on_push"] is True
        (encryption,) = repository["encryption_configuration"]
        assert encryption["encryption_type"] == "KMS"
        key_id = encryption["kms_key"].split(".")[1]
        assert keys[key_id].get("provider") == repository.get("provider"), "a repository's key is of its region"
        assert repository["force_delete"] is False, "a destroy keeps the images (the rollback targets)"
    (replication,) = resources(stack, "aws_ecr_replication_configuration").values()
    (rule,) = replication["replication_configuration"]["rule"]
    assert rule["destination"] == [{"region": "eu-central-1", "registry_id": ws.account_id}]
    assert rule["repository_filter"] == [{"filter": f"{ws.project}/wordpress", "filter_type": "PREFIX_MATCH"}]
    for lifecycle in resources(stack, "aws_ecr_lifecycle_policy").values():
        (kept,) = json.loads(lifecycle["policy"])["rules"]
        assert kept["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30}
        assert kept["action"] == {"type": "expire"}


def test_site_execution_roles_pull_and_only_the_deployer_writes(local_stacks, settings):
    ws = settings.get("management")
    sites = [w for w in settings.workspaces.values() if w.compute]
    policies = list(resources(local_stacks["management"], "aws_ecr_repository_policy").values())
    assert len(policies) == 2
    for item in policies:
        pull, deny = json.loads(item["policy"])["Statement"]
        assert pull["Effect"] == "Allow" and set(pull["Action"]) == PULL
        # Accounts by root (ECR refuses a policy naming a role that does not exist yet), narrowed to
        # each site's task execution role by the principal's ARN.
        assert pull["Principal"]["AWS"] == sorted({f"arn:aws:iam::{w.account_id}:root" for w in sites})
        assert pull["Condition"]["ArnLike"]["aws:PrincipalArn"] == sorted(
            f"arn:aws:iam::{w.account_id}:role/{w.project}-{w.name}-task-execution" for w in sites
        )
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
        assert {
            "ecr:PutImage",
            "ecr:BatchDeleteImage",
            "ecr:InitiateLayerUpload",
            "ecr:DeleteRepository",
            "ecr:SetRepositoryPolicy",
            "ecr:DeleteRepositoryPolicy",
        } <= set(deny["Action"])
        assert deny["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [ws.role_arn]}}


def test_each_site_pulls_from_the_registry_in_its_own_region(local_stacks, settings):
    registry = settings.get("management")
    for ws in (w for w in settings.workspaces.values() if w.compute):
        (definition,) = resources(local_stacks[ws.name], "aws_ecs_task_definition").values()
        (container,) = json.loads(definition["container_definitions"])
        url = f"{registry.account_id}.dkr.ecr.{ws.region}.amazonaws.com/{registry.project}/wordpress"
        assert container["image"].rsplit(":", 1)[0] == url, ws.name
        assert "management" in settings.needs(ws), f"{ws.name} reads the registry: it deploys after management"


def test_released_settings_let_the_images_go_with_a_destroy(settings):
    released = settings.released({"management"})
    assert released.get("management").registry.enable_deletion_protection is False
    assert settings.get("management").registry.enable_deletion_protection is True
    assert released.get("production") == settings.get("production"), "only the named workspaces are released"
    site = settings.released({"production"}).get("production")
    assert site.database.enable_deletion_protection is False and site.compute.enable_deletion_protection is False
    assert site.storage.enable_force_destroy is True


def test_a_destroy_that_would_stop_at_the_registrys_images_is_refused_before_anything_goes(settings, emulator):
    import io
    import os
    from pathlib import Path

    from surgepress import image
    from surgepress.aws import WorkspaceClients
    from surgepress.cli import Session, _refuse_keeping_images
    from surgepress.errors import UserError
    from surgepress.targets import Paths, Target

    session = Session(settings=settings, target=Target.LOCAL, paths=Paths(Path("/nonexistent")), out=io.StringIO())
    session.env = {**os.environ, **emulator.environment()}
    management = settings.get("management")
    _refuse_keeping_images(session, management)  # no repository yet: nothing to keep
    ecr = WorkspaceClients(management, session.env).get("ecr")
    ecr.create_repository(repositoryName=f"{management.project}/wordpress")
    _refuse_keeping_images(session, management)  # an empty repository goes with the destroy
    image.record(ecr, f"{management.project}/wordpress", "kept")
    with pytest.raises(UserError, match=r"holds 1 image\(s\) and keeps them \(registry.enable_deletion_protection in "):
        _refuse_keeping_images(session, management)
    _refuse_keeping_images(session, settings.released({"management"}).get("management"))  # --release-protection
