"""ECR: a registry's replication configuration replicates.

moto stores `PutReplicationConfiguration` and answers `DescribeRegistry` with it, but a
pushed image stays where it was pushed. AWS copies each image pushed to a repository the
rule's filters match into every destination, under the same digest and tag, and creates the
destination repository when it does not exist (with default settings); an image already
there under that tag is left alone. The copy is made at the push here; AWS makes it within
minutes (asynchronously, by its own account). Destinations in another account are not
modelled (that needs the destination registry's policy): the platform replicates within
its own registry, so only those are copied.
"""

from __future__ import annotations

from typing import Any


def _matches(rule: dict[str, Any], repository: str) -> bool:
    filters = rule.get("repositoryFilters") or []
    # A rule without filters replicates every repository; PREFIX_MATCH is ECR's only filter type.
    return not filters or any(repository.startswith(f["filter"]) for f in filters)


def install() -> None:
    from moto.ecr.models import ECRBackend, ecr_backends

    original = ECRBackend.put_image

    def put_image(
        self: ECRBackend, repository_name: str, image_manifest: str, image_tag: str, *args: Any, **kwargs: Any
    ):
        image = original(self, repository_name, image_manifest, image_tag, *args, **kwargs)
        rules = (self.replication_config or {}).get("rules") or []
        for rule in rules:
            if not _matches(rule, repository_name):
                continue
            for destination in rule["destinations"]:
                if destination["registryId"] != self.account_id:
                    continue
                _copy(ecr_backends[self.account_id][destination["region"]], self, repository_name, image_tag)
        return image

    ECRBackend.put_image = put_image


def _copy(target: Any, source: Any, repository_name: str, image_tag: str) -> None:
    image = source.repositories[repository_name]._get_image(image_tag, None)
    if repository_name not in target.repositories:
        target.create_repository(
            repository_name=repository_name,
            registry_id=None,
            encryption_config=None,
            image_scan_config=None,
            image_tag_mutability=None,
            tags=[],
        )
    repository = target.repositories[repository_name]
    if any(image_tag in held.image_tags for held in repository.images):
        return
    target.put_image(repository_name, image.image_manifest, image_tag, image.image_manifest_media_type)
