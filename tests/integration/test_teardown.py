"""Stage teardown: release protection as an operator would, destroy what the run deployed,
and check that nothing of it is left (on local: nothing at all in any emulated account, and
no data plane process; on aws: none of the run's named resources)."""

from __future__ import annotations

import subprocess

import botocore.exceptions
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.stage("teardown")]


def test_destroy_leaves_nothing_behind(deployed, clients, outputs, record_property):
    settings = deployed.settings
    result = deployed.destroy()
    if result.returncode != 0:  # the run fails, naming what the destroy left behind
        left = [line for line in result.stdout.splitlines() if "left in state" in line]
        pytest.fail(
            "destroy failed (exit {}); left behind:\n{}\n{}".format(
                result.returncode, "\n".join(left) or "(no workspace reported its state)", result.stderr[-2000:]
            ),
            pytrace=False,
        )
    assert result.stdout.count("0 resources left in state") == len(deployed.state.workspaces)
    record_property("detail", f"{len(deployed.state.workspaces)} workspaces destroyed")
    if not deployed.local:
        return check_named_resources_are_gone(clients, outputs)
    # The data plane ran on what was destroyed: its processes went first.
    assert "dataplane staging: stopped 7 service(s)" in result.stdout
    assert subprocess.run(["pgrep", "-f", str(deployed.build / "dataplane")], capture_output=True).returncode == 1
    for ws in settings.workspaces.values():
        ec2, kms, logs, iam = (clients(ws.name).get(s) for s in ("ec2", "kms", "logs", "iam"))
        assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == [], ws.name
        assert ec2.describe_addresses()["Addresses"] == [], ws.name
        assert {g["State"] for g in ec2.describe_nat_gateways()["NatGateways"]} <= {"deleted"}, ws.name
        assert ec2.describe_flow_logs()["FlowLogs"] == [], ws.name
        assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False, ws.name
        # AWS-managed keys (alias/aws/*: the default EBS key of the hosts' encrypted volumes) are
        # the account's, not the platform's; every key the platform made must be going away.
        managed = {
            a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")
        }
        states = {
            kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"]
            for k in kms.list_keys()["Keys"]
            if k["KeyId"] not in managed
        }
        assert states <= {"PendingDeletion"}, ws.name
        assert logs.describe_log_groups()["logGroups"] == [], ws.name
        assert clients(ws.name).get("ssm").describe_parameters()["Parameters"] == [], ws.name
        assert clients(ws.name).get("s3").list_buckets()["Buckets"] == [], ws.name
        rds = clients(ws.name).get("rds")
        assert rds.describe_db_clusters()["DBClusters"] == [], ws.name
        if ws.database is not None:
            snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
            assert [s["DBClusterSnapshotIdentifier"] for s in snapshots] == [f"{ws.project}-{ws.name}-final"]
        assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(ws.project)] == []
        assert clients(ws.name).get("elasticache").describe_replication_groups()["ReplicationGroups"] == []
        assert clients(ws.name).get("elbv2").describe_load_balancers()["LoadBalancers"] == [], ws.name
        ecs = clients(ws.name).get("ecs")
        clusters = ecs.list_clusters()["clusterArns"]  # a deleted cluster stays visible as INACTIVE a while
        assert not clusters or {c["status"] for c in ecs.describe_clusters(clusters=clusters)["clusters"]} == {
            "INACTIVE"
        }, ws.name
        for region in (ws.region, *ws.registry_replica_regions):  # the registry's replicas too
            assert clients(ws.name).get("ecr", region).describe_repositories()["repositories"] == [], ws.name
        assert clients(ws.name).get("route53").list_hosted_zones()["HostedZones"] == [], ws.name
        assert clients(ws.name).get("codebuild").list_projects()["projects"] == [], ws.name
        assert (
            clients(ws.name).get("cloudfront", "us-east-1").list_distributions()["DistributionList"].get("Items", [])
            == []
        ), ws.name


def check_named_resources_are_gone(clients, outputs) -> None:
    """On a real account other things live too: check only what this run named."""
    for name, out in outputs.items():
        if "cluster_identifier" in out:
            rds = clients(name).get("rds")
            with pytest.raises(botocore.exceptions.ClientError, match="DBClusterNotFound"):
                rds.describe_db_clusters(DBClusterIdentifier=out["cluster_identifier"])
        for key in ("media_bucket_name", "misc_bucket_name", "logs_bucket_name"):
            if key in out:
                with pytest.raises(botocore.exceptions.ClientError, match="NoSuchBucket|404|Not Found"):
                    clients(name).get("s3").head_bucket(Bucket=out[key])
        if "alb_dns_name" in out:
            balancers = clients(name).get("elbv2").describe_load_balancers()["LoadBalancers"]
            assert out["alb_dns_name"] not in [lb["DNSName"] for lb in balancers]
