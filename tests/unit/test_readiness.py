"""surgepress.readiness against the emulator: each probe says "not yet" until the thing a reader
reads exists, then "ready"; a replica's read of its source has no probe (it waits for all of it)."""

from __future__ import annotations

import json

import pytest

from surgepress import image
from surgepress.aws import WorkspaceClients
from surgepress.emulator.control import Emulator
from surgepress.readiness import Readiness
from surgepress.targets import Paths

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def emulator(tmp_path_factory, settings):
    """An emulator of this module's own: the probes must see only what these tests create."""
    control = Emulator(Paths(tmp_path_factory.mktemp("readiness-build")))
    info, _ = control.up(settings.operator_account_id, say=lambda _message: None)
    yield info
    control.down()


@pytest.fixture
def readiness(settings, emulator):
    return Readiness(settings, emulator.environment())


def test_the_log_archive_is_ready_once_its_bucket_has_its_policy(settings, emulator, readiness):
    security = settings.get("security")
    s3 = WorkspaceClients(security, emulator.environment()).get("s3")
    bucket = f"surgepress-log-archive-{security.account_id}"
    assert readiness.ready("staging", "security") is None, "nothing exists yet"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": security.region})
    assert readiness.ready("staging", "security") is None, "a bucket without its policy is not enough"

    def admit(accounts: list[str]) -> None:
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": accounts}},
        }
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))

    admit(["100000000002"])
    assert readiness.ready("staging", "security") is None, "a policy that does not admit staging's account yet"
    admit(["100000000002", "100000000003"])
    assert readiness.ready("staging", "security") == "what it reads of security exists (log archive)"


def test_the_management_reads_need_the_bootstrapped_state_the_apex_zone_and_the_image(settings, emulator, readiness):
    management = settings.get("management")
    clients = WorkspaceClients(management, emulator.environment())
    assert readiness.ready("staging", "management") is None
    s3 = clients.get("s3", management.state.region)
    s3.create_bucket(
        Bucket=management.state.bucket, CreateBucketConfiguration={"LocationConstraint": management.state.region}
    )
    s3.put_object(Bucket=management.state.bucket, Key=management.state_key, Body=b"{}")
    assert readiness.ready("security", "management") == "what it reads of management exists (state)"
    assert readiness.ready("staging", "management") is None, "staging also reads the apex zone"
    clients.get("route53").create_hosted_zone(Name=management.apex_zone.zone_name, CallerReference="apex")
    assert readiness.ready("staging", "management") is None, "staging's tasks also pull the image from its registry"
    staging = settings.get("staging")
    ecr = clients.get("ecr", staging.image_registry.region)
    ecr.create_repository(repositoryName=staging.image_registry.repository)
    assert readiness.ready("staging", "management") is None, "a registry without the image staging runs"
    assert image.record(ecr, staging.image_registry.repository, image.tag_for(staging))
    assert readiness.ready("staging", "management") == "what it reads of management exists (state, registry, apex zone)"


def test_a_replica_waits_for_its_whole_source(readiness):
    assert readiness.ready("dr", "production") is None


def test_a_replica_probes_exactly_what_its_json_names_of_its_source(settings, local_stacks, emulator):
    from surgepress.readiness import source_probes

    production = settings.get("production")
    probes = list(source_probes(local_stacks["dr"], WorkspaceClients(production, emulator.environment()), "eu-west-1"))
    named = sorted((p.func.__name__, *p.args[2:]) if hasattr(p, "func") else (p.__name__,) for p in probes)
    assert named == sorted(
        [
            ("secrets",),  # the eleven SSM parameters dr copies, in one probe
            ("_key_exists", "alias/surgepress-production-buckets"),
            ("_zone_exists",),  # partial(_zone_exists, clients, zone): the zone is args[1]
            ("_global_writer_available", "surgepress-production-global"),
            ("_versioned", "surgepress-production-media-100000000004-eu-west-1"),
            ("_versioned", "surgepress-production-misc-100000000004-eu-west-1"),
            ("_certificate_issued", "origin.live.surgepress.example"),
        ]
    )
    zone = next(p for p in probes if getattr(p, "func", None) and p.func.__name__ == "_zone_exists")
    assert zone.args[1] == "live.surgepress.example"


def test_a_replica_is_ready_only_once_the_source_bucket_is_versioned(settings, emulator):
    from surgepress.readiness import _versioned

    clients = WorkspaceClients(settings.get("production"), emulator.environment())
    s3 = clients.get("s3", "eu-west-1")
    bucket = "surgepress-production-media-100000000004-eu-west-1"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert not _versioned(clients, "eu-west-1", bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert _versioned(clients, "eu-west-1", bucket)
