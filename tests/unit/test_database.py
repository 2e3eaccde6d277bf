"""The database module: Aurora MySQL in the data tier, protected and encrypted, no password in JSON."""

from __future__ import annotations

import json

import pytest
from cdktf import App, TerraformStack

from modules.database import Database, DatabaseProps
from tests.conftest import resources

pytestmark = pytest.mark.unit


def _cluster(stack: dict) -> dict:
    (cluster,) = resources(stack, "aws_rds_cluster").values()
    return cluster


def test_production_is_protected_with_a_final_snapshot_staging_may_not_be(local_stacks):
    production, staging = _cluster(local_stacks["production"]), _cluster(local_stacks["staging"])
    assert production["deletion_protection"] is True
    assert staging["deletion_protection"] is False
    for cluster in (production, staging):
        assert cluster["skip_final_snapshot"] is False
        assert cluster["final_snapshot_identifier"].endswith("-final")


def test_storage_is_encrypted_with_the_modules_key_and_logs_are_exported(local_stacks):
    cluster = _cluster(local_stacks["production"])
    assert cluster["storage_encrypted"] is True and "database_key" in cluster["kms_key_id"]
    assert cluster["enabled_cloudwatch_logs_exports"] == ["audit", "error", "slowquery"]
    assert cluster["copy_tags_to_snapshot"] is True and cluster["engine"] == "aurora-mysql"


def test_master_password_is_read_ephemerally_from_ssm_and_never_synthesized(local_stacks):
    stack = local_stacks["production"]
    cluster = _cluster(stack)
    assert "master_password" not in cluster
    assert cluster["master_password_wo"] == "${ephemeral.aws_ssm_parameter.database_master_password.value}"
    reader = stack["ephemeral"]["aws_ssm_parameter"]["database_master_password"]
    assert reader["with_decryption"] is True
    assert reader["arn"].startswith("${aws_ssm_parameter.secrets_db_master_password")


def test_writer_and_readers_spread_over_the_azs_privately(local_stacks, settings):
    for name in ("staging", "production"):
        ws = settings.get(name)
        instances = resources(local_stacks[name], "aws_rds_cluster_instance").values()
        assert len(instances) == 1 + ws.database.reader_count
        assert [i["availability_zone"] for i in instances] == list(ws.network.availability_zones)[: len(instances)]
        assert all(i["publicly_accessible"] is False and i["performance_insights_enabled"] is True for i in instances)


def test_serverless_v2_in_staging_provisioned_in_production(local_stacks, settings):
    staging = _cluster(local_stacks["staging"])
    assert staging["serverlessv2_scaling_configuration"] == {
        "min_capacity": settings.get("staging").database.serverless_min_acu,
        "max_capacity": settings.get("staging").database.serverless_max_acu,
    }
    assert {i["instance_class"] for i in resources(local_stacks["staging"], "aws_rds_cluster_instance").values()} == {
        "db.serverless"
    }
    assert "serverlessv2_scaling_configuration" not in _cluster(local_stacks["production"])


def test_cluster_lives_in_the_data_subnets_reachable_from_the_service_only(local_stacks):
    stack = local_stacks["production"]
    (group,) = resources(stack, "aws_db_subnet_group").values()
    assert all("network_data-" in subnet for subnet in group["subnet_ids"])
    sg = next(sg for sg_id, sg in resources(stack, "aws_security_group").items() if sg_id.startswith("database_sg"))
    assert "ingress" not in sg and "egress" not in sg
    rules = [
        r
        for r in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"].startswith("${aws_security_group.database_sg")
    ]
    assert rules, "the database must admit its client"
    for rule in rules:
        assert "referenced_security_group_id" in rule and "cidr_ipv4" not in rule
        assert rule["from_port"] == rule["to_port"] == 3306


def test_parameter_group_enforces_utf8mb4_and_tls(local_stacks):
    (group,) = resources(local_stacks["production"], "aws_rds_cluster_parameter_group").values()
    # Restated: utf8mb4 throughout, TLS required, the audit log of connections and DDL/DCL, and
    # the slow-query log from one second.
    assert {p["name"]: p["value"] for p in group["parameter"]} == {
        "character_set_server": "utf8mb4",
        "collation_server": "utf8mb4_unicode_ci",
        "require_secure_transport": "ON",
        "server_audit_logging": "1",
        "server_audit_events": "CONNECT,QUERY_DCL,QUERY_DDL",
        "slow_query_log": "1",
        "long_query_time": "1",
    }


def test_a_client_group_is_admitted_on_3306_only():
    import json

    from cdktf import App, TerraformStack, Testing

    stack = TerraformStack(App(), "probe")
    Database(
        stack,
        "database",
        props=DatabaseProps(
            name="probe",
            account_id="100000000003",
            vpc_id="vpc-1",
            subnet_ids=["s-1", "s-2"],
            availability_zones=("eu-west-1a", "eu-west-1b"),
            master_password_parameter_arn="arn:aws:ssm:x",
            client_security_group_ids=("sg-service",),
        ),
    )
    (rule,) = json.loads(Testing.synth(stack))["resource"]["aws_vpc_security_group_ingress_rule"].values()
    assert (rule["referenced_security_group_id"], rule["from_port"], rule["to_port"]) == ("sg-service", 3306, 3306)


def test_an_unknown_capacity_mode_is_refused():
    from cdktf import App, TerraformStack

    with pytest.raises(ValueError, match="capacity"):
        Database(
            TerraformStack(App(), "s"),
            "database",
            props=DatabaseProps(
                name="x",
                account_id="100000000003",
                vpc_id="v",
                subnet_ids=[],
                availability_zones=("a",),
                master_password_parameter_arn="arn",
                capacity="aurora-v1",
            ),
        )


def test_production_leads_a_global_cluster_staging_stands_alone(local_stacks):
    (global_cluster,) = resources(local_stacks["production"], "aws_rds_global_cluster").values()
    assert global_cluster["global_cluster_identifier"] == "surgepress-production-global"
    assert global_cluster["storage_encrypted"] is True and global_cluster["deletion_protection"] is True
    assert _cluster(local_stacks["production"])["global_cluster_identifier"].startswith("${aws_rds_global_cluster.")
    assert resources(local_stacks["staging"], "aws_rds_global_cluster") == {}
    assert "global_cluster_identifier" not in _cluster(local_stacks["staging"])


def test_a_secondary_joins_the_global_cluster_without_credentials_of_its_own():
    from cdktf import App, Testing

    stack = TerraformStack(App(), "dr")
    Database(
        stack,
        "database",
        props=DatabaseProps(
            name="surgepress-dr",
            account_id="100000000004",
            vpc_id="vpc-1",
            subnet_ids=["a", "b"],
            availability_zones=("eu-central-1a", "eu-central-1b"),
            master_password_parameter_arn="arn:p",
            global_cluster="secondary",
            global_cluster_identifier="surgepress-production-global",
        ),
    )
    synthesized = json.loads(Testing.synth(stack))
    (cluster,) = synthesized["resource"]["aws_rds_cluster"].values()
    assert cluster["global_cluster_identifier"] == "surgepress-production-global"
    assert not {"master_username", "master_password_wo", "database_name"} & set(cluster)
    assert "ephemeral" not in synthesized


@pytest.mark.parametrize(
    "change, message",
    [
        ({"global_cluster": "secondary"}, "global_cluster_identifier: needed exactly when"),
        ({"global_cluster": "tertiary"}, "global_cluster: expected one of"),
    ],
)
def test_global_cluster_roles_are_checked(change, message):
    with pytest.raises(ValueError, match=message):
        Database(
            TerraformStack(App(), "s"),
            "database",
            props=DatabaseProps(
                name="t",
                account_id="100000000004",
                vpc_id="vpc-1",
                subnet_ids=["a"],
                availability_zones=("z",),
                master_password_parameter_arn="arn:p",
                **change,
            ),
        )
