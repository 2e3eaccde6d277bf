"""Last stage: release protection as an operator would, destroy everything, and check that
nothing is left in any account (the data plane's processes included)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import client, destroy_all_args, session_in
from tests.integration.conftest import release_protection

pytestmark = pytest.mark.integration


def test_destroy_leaves_nothing_behind(cli, deployed, emulator_info, settings, outputs):
    release_protection(cli.environments)
    released = cli("deploy", "--all")  # the operator's step before destroying for good
    assert released.returncode == 0, released.stdout[-3000:] + released.stderr[-3000:]
    result = cli(*destroy_all_args(settings))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("0 resources left in state") == len(settings.names)
    # The data plane ran on what was destroyed: its processes went first.
    assert "dataplane staging: stopped 7 service(s)" in result.stdout
    assert subprocess.run(["pgrep", "-f", str(cli.build / "dataplane")], capture_output=True).returncode == 1
    for ws in settings.workspaces.values():
        session = session_in(emulator_info, ws.account_id, ws.region)
        ec2, kms, logs, iam = (client(emulator_info, session, s) for s in ("ec2", "kms", "logs", "iam"))
        assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == [], ws.name
        assert ec2.describe_addresses()["Addresses"] == [], ws.name
        assert {g["State"] for g in ec2.describe_nat_gateways()["NatGateways"]} <= {"deleted"}, ws.name
        assert ec2.describe_flow_logs()["FlowLogs"] == [], ws.name
        assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False, ws.name
        # AWS-managed keys (alias/aws/*: the default EBS key of the hosts' encrypted volumes) are
        # the account's, not the platform's; every key the platform made must be going away.
        managed = {a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")}
        states = {kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] for k in kms.list_keys()["Keys"]
                  if k["KeyId"] not in managed}
        assert states <= {"PendingDeletion"}, ws.name
        assert logs.describe_log_groups()["logGroups"] == [], ws.name
        assert client(emulator_info, session, "ssm").describe_parameters()["Parameters"] == [], ws.name
        assert client(emulator_info, session, "s3").list_buckets()["Buckets"] == [], ws.name
        rds = client(emulator_info, session, "rds")
        assert rds.describe_db_clusters()["DBClusters"] == [], ws.name
        if ws.database is not None:
            snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
            assert [s["DBClusterSnapshotIdentifier"] for s in snapshots] == [f"surgepress-{ws.name}-final"]
        assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("surgepress-")] == []
        assert client(emulator_info, session, "elasticache").describe_replication_groups()["ReplicationGroups"] == []
        assert client(emulator_info, session, "elbv2").describe_load_balancers()["LoadBalancers"] == [], ws.name
        ecs = client(emulator_info, session, "ecs")
        clusters = ecs.list_clusters()["clusterArns"]  # a deleted cluster stays visible as INACTIVE a while
        assert not clusters or {c["status"] for c in ecs.describe_clusters(clusters=clusters)["clusters"]} == {
            "INACTIVE"}, ws.name
        assert client(emulator_info, session, "ecr").describe_repositories()["repositories"] == [], ws.name
        assert client(emulator_info, session, "route53").list_hosted_zones()["HostedZones"] == [], ws.name
        edge = session_in(emulator_info, ws.account_id, "us-east-1")
        assert client(emulator_info, edge, "cloudfront").list_distributions()["DistributionList"].get(
            "Items", []) == [], ws.name
