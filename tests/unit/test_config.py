"""Environment loading: merging over defaults, the typed result, and every bad input."""

from __future__ import annotations

import dataclasses

import pytest

from surgepress.config import load_settings
from surgepress.errors import ConfigError, UserError
from tests.conftest import edit_yaml, run_cli

pytestmark = pytest.mark.unit


def test_all_five_workspaces_load_in_dependency_order(settings):
    names = settings.names
    assert set(names) == {"management", "security", "staging", "production", "dr"}
    for ws in settings.workspaces.values():
        for dep in ws.depends_on:
            assert names.index(dep) < names.index(ws.name), f"{ws.name} before its dependency {dep}"


def test_workspace_values_override_defaults_and_defaults_fill_the_rest(settings):
    production = settings.get("production")
    assert production.network.az_count == 3  # from production.yaml
    assert production.network.nat_gateways == "per_az"  # from production.yaml
    assert production.network.subnet_newbits == 4  # from defaults.yaml
    assert production.role_name == "surgepress-deployer"  # from defaults.yaml
    assert production.role_arn == "arn:aws:iam::100000000004:role/surgepress-deployer"


def test_network_section_only_where_a_workspace_declares_one(settings):
    assert settings.get("management").network is None
    assert settings.get("security").network is None
    assert settings.get("staging").network.cidr == "10.20.0.0/16"


def test_availability_zones_default_to_the_regions_first_zones(settings):
    assert settings.get("production").network.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    assert settings.get("dr").network.availability_zones == ("eu-central-1a", "eu-central-1b")


def test_settings_are_frozen(settings):
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.get("staging").region = "us-east-1"
    with pytest.raises(TypeError):
        settings.get("staging").tags["Project"] = "other"


def test_replica_sits_in_its_sources_dr_region(settings):
    dr, production = settings.get("dr"), settings.get("production")
    assert dr.replica_of == "production"
    assert dr.region == production.dr_region != production.region


def test_release_order_is_not_in_the_data_graph(settings):
    # Production reads nothing of staging's: "staging first" is the pipeline's order, not the graph's.
    assert "staging" not in settings.needs(settings.get("production"))
    assert settings.needs(settings.get("staging")) == ("management", "security")
    assert settings.needs(settings.get("dr")) == ("production", "management")  # + the state bucket's workspace
    assert settings.needs(settings.get("management")) == ()


def test_unknown_workspace_is_a_user_error(settings):
    with pytest.raises(UserError, match=r"unknown workspace 'qa': no environments/qa.yaml \(known: "):
        settings.get("qa")


# (file to edit, edit, expected one-line message)
BAD_INPUTS = {
    "project AWS would refuse": (
        "defaults.yaml",
        lambda d: d.update(project="Surge_Press"),
        "environments/defaults.yaml: project: expected lower-case letters, digits and hyphens, 2-30 long",
    ),
    "project too long for production's target group but not staging's": (
        "production.yaml",  # the same name in staging.yaml loads: "surgepress-newsroom-eu-staging" fits 32
        lambda d: d.update(project="surgepress-newsroom-eu"),
        "environments/production.yaml: project: makes production's load balancer name "
        "'surgepress-newsroom-eu-production' 33 characters; AWS allows 32, got 'surgepress-newsroom-eu'",
    ),
    "role name IAM refuses": (
        "defaults.yaml",
        lambda d: d.update(role_name="deployer role"),
        "environments/defaults.yaml: role_name: expected an IAM role name: 1-64 of letters, digits and +=,.@_-, "
        "got 'deployer role'",
    ),
    "state bucket S3 refuses": (
        "defaults.yaml",
        lambda d: d["state"].update(bucket="Surgepress_TFState"),
        "environments/defaults.yaml: state.bucket: an S3 bucket name is lower-case letters, digits, dots and hyphens",
    ),
    "reserved tag prefix": (
        "staging.yaml",
        lambda d: d.update(tags={"aws:owner": "me"}),
        "environments/staging.yaml: tags.aws:owner: the aws: prefix is reserved for AWS's own tags",
    ),
    "too many tags": (
        "staging.yaml",
        lambda d: d.update(tags={f"T{i}": "x" for i in range(50)}),
        "environments/staging.yaml: tags: AWS allows 50 tags per resource and the platform adds 1; 50 given",
    ),
    "tag value too long": (
        "staging.yaml",
        lambda d: d.update(tags={"Owner": "x" * 257}),
        "environments/staging.yaml: tags.Owner: a tag value is 0-256 letters",
    ),
    "tag key with a character AWS refuses": (
        "staging.yaml",
        lambda d: d.update(tags={"Cost#Centre": "news"}),
        "environments/staging.yaml: tags.Cost#Centre: a tag key is 1-128 letters, digits, spaces and _.:/=+-@, "
        "got 'Cost#Centre'",
    ),
    "tag value with a newline": (
        "staging.yaml",
        lambda d: d.update(tags={"Owner": "news\ndesk"}),
        "environments/staging.yaml: tags.Owner: a tag value is 0-256 letters, digits, spaces and _.:/=+-@",
    ),
    "a tag the platform sets itself": (
        "staging.yaml",
        lambda d: d.update(tags={"Workspace": "other"}),
        "environments/staging.yaml: tags.Workspace: the platform sets this tag itself, got 'Workspace'",
    ),
    "database instance class without its db. prefix": (
        "production.yaml",
        lambda d: d["database"].update(instance_class="r6g.large"),
        "environments/production.yaml: database.instance_class: expected an RDS instance class such as "
        "db.r6g.large, got 'r6g.large'",
    ),
    "role name with a letter IAM does not take": (
        "defaults.yaml",
        lambda d: d.update(role_name="déployeur"),
        "environments/defaults.yaml: role_name: expected an IAM role name",
    ),
    "state bucket with a reserved suffix": (
        "defaults.yaml",
        lambda d: d["state"].update(bucket="surgepress-state--x-s3"),
        "environments/defaults.yaml: state.bucket: an S3 bucket name may not use the prefixes",
    ),
    "image tag ECR refuses": (
        "staging.yaml",
        lambda d: d["compute"].update(image_tag="-latest!"),
        "environments/staging.yaml: compute.image_tag: expected an image tag",
    ),
    "instance type without a size": (
        "production.yaml",
        lambda d: d["compute"].update(instance_type="c7ixlarge"),
        "environments/production.yaml: compute.instance_type: expected one of c7i.large, c7i.xlarge",
    ),
    "instance type whose placement is not known": (
        "production.yaml",
        lambda d: d["compute"].update(instance_type="t3.nano"),
        "got 't3.nano'",
    ),
    # c7i.xlarge: 4 vCPUs, 8192 MiB less the agent's 256, 4 ENIs (one is the host's): 3 tasks of 1024/2048.
    "task ceiling the hosts cannot place": (
        "production.yaml",
        lambda d: d["compute"].update(max_hosts=30),
        "environments/production.yaml: compute.max_tasks: 30 x c7i.xlarge hosts place 90 tasks of 1024 CPU units / "
        "2048 MiB (3 per host, limited by its memory; modules/instances.py); raise compute.max_hosts or lower "
        "compute.max_tasks, got 120",
    ),
    "task ceiling bound by ENIs": (
        "production.yaml",
        lambda d: d["compute"].update(task_cpu_units=512, task_memory_mib=1024, max_tasks=100, max_hosts=30),
        "30 x c7i.xlarge hosts place 90 tasks of 512 CPU units / 1024 MiB (3 per host, limited by its ENIs;",
    ),
    "organization trail without an organization": (
        "security.yaml",
        lambda d: d.setdefault("log_archive", {}).update(organization_trail=True),
        "environments/security.yaml: log_archive.organization_trail: an organization trail needs an AWS "
        "Organization with CloudTrail trusted access",
    ),
    "terraform too old for write-only arguments": (
        "management.yaml",
        lambda d: d.setdefault("pipeline", {}).update(terraform_version="1.10.5"),
        "environments/management.yaml: pipeline.terraform_version: expected a Terraform release 1.11.0 or later, "
        "such as 1.11.4, got '1.10.5'",
    ),
    "node type of another service": (
        "staging.yaml",
        lambda d: d["cache"].update(node_type="t4g.small"),
        "environments/staging.yaml: cache.node_type: expected an ElastiCache node type such as cache.t4g.small",
    ),
    "zone letter the region lacks": (
        "staging.yaml",
        lambda d: d["network"].update(availability_zones=["eu-west-1a", "eu-west-1z"]),
        "environments/staging.yaml: network.availability_zones: eu-west-1 has no zone 'eu-west-1z'",
    ),
    "an interface endpoint the platform does not know": (
        "production.yaml",
        lambda d: d["network"].update(interface_endpoints=["ecr.api", "ec2"]),
        "environments/production.yaml: network.interface_endpoints: expected a list of ecr.api, ecr.dkr, logs,",
    ),
    "an interface endpoint named twice": (
        "production.yaml",
        lambda d: d["network"].update(interface_endpoints=["logs", "logs"]),
        "environments/production.yaml: network.interface_endpoints: expected a list of ecr.api",
    ),
    "a boolean where a numeric choice is expected": (
        "staging.yaml",
        lambda d: d["network"].update(flow_log_retention_days=True),
        "environments/staging.yaml: network.flow_log_retention_days: expected one of 1, 3,",
    ),
    "a float where a numeric choice is expected": (
        "staging.yaml",
        lambda d: d["compute"].update(task_cpu_units=512.0),
        "environments/staging.yaml: compute.task_cpu_units: expected one of 256, 512",
    ),
    "fargate memory the cpu does not take": (
        "staging.yaml",
        lambda d: d["compute"].update(capacity="fargate", task_cpu_units=256, task_memory_mib=4096),
        "environments/staging.yaml: compute.task_memory_mib: Fargate with 256 CPU units takes 512-2048 MiB in "
        "steps of 512, got 4096",
    ),
    "a cron increment of zero": (
        "staging.yaml",
        lambda d: d.update(scheduler={"off_schedule": "cron(*/0 20 ? * MON-FRI *)"}),
        "environments/staging.yaml: scheduler.off_schedule: not an EventBridge schedule expression (minutes '*/0' "
        "needs a value on each side of '-' and a positive increment after '/')",
    ),
    "a warm pool without hosts": (
        "staging.yaml",
        lambda d: d["compute"].update(warm_pool_hosts=2),
        "environments/staging.yaml: compute.warm_pool_hosts: a warm pool keeps EC2 hosts; capacity fargate_spot "
        "runs no hosts (set it to 0), got 2",
    ),
    "a warm pool larger than the group": (
        "production.yaml",
        lambda d: d["compute"].update(warm_pool_hosts=500),
        "environments/production.yaml: compute.warm_pool_hosts: more than compute.max_hosts (40): the group could "
        "never take them, got 500",
    ),
    "subnets too small for the load balancer": (
        "staging.yaml",
        lambda d: d["network"].update(cidr="10.20.0.0/24", subnet_newbits=4),
        "environments/staging.yaml: network.subnet_newbits: 10.20.0.0/24 split by 4 bits gives /28 subnets; the "
        "load balancer needs /27 or larger, got 4",
    ),
    "more tasks than the app subnets have addresses": (
        "staging.yaml",
        lambda d: (d["network"].update(cidr="10.20.0.0/21", subnet_newbits=4), d["compute"].update(max_tasks=300)),
        "environments/staging.yaml: compute.max_tasks: 300 tasks (one network interface each, awsvpc)",
    ),
    "archiving on the day retention ends": (
        "security.yaml",
        lambda d: d.update(log_archive={"object_lock_retention_days": 90, "archive_after_days": 90}),
        "environments/security.yaml: log_archive.archive_after_days: must be below object_lock_retention_days (90)",
    ),
    "single-label zone": (
        "staging.yaml",
        lambda d: d["dns"].update(zone_name="staging"),
        "environments/staging.yaml: dns.zone_name: expected a domain of two labels or more, got 'staging'",
    ),
    "account id not 12 digits": (
        "staging.yaml",
        lambda d: d.update(account_id="12345"),
        "environments/staging.yaml: account_id: expected a quoted 12-digit AWS account id, got '12345'",
    ),
    "account id unquoted": (
        "staging.yaml",
        lambda d: d.update(account_id=100000000003),
        "environments/staging.yaml: account_id: expected a quoted 12-digit AWS account id, got 100000000003",
    ),
    "unknown region": (
        "staging.yaml",
        lambda d: d.update(region="eu-west-9"),
        "environments/staging.yaml: region: unknown AWS region, got 'eu-west-9'",
    ),
    "unknown key": (
        "staging.yaml",
        lambda d: d.update(netwrk={}),
        "environments/staging.yaml: netwrk: unknown key (known: ",
    ),
    "unknown nested key": (
        "production.yaml",
        lambda d: d["network"].update(nat="per_az"),
        "environments/production.yaml: network.nat: unknown key (known: ",
    ),
    "missing key": (
        "defaults.yaml",
        lambda d: d.pop("role_name"),
        "environments/dr.yaml: role_name: missing (set it here or in defaults.yaml)",
    ),
    "missing nested key": (
        "staging.yaml",
        lambda d: d["network"].pop("cidr"),
        "environments/staging.yaml: network.cidr: missing (set it here or in defaults.yaml)",
    ),
    "bad value in defaults names defaults": (
        "defaults.yaml",
        lambda d: d["network"].update(nat_gateways="two"),
        "environments/defaults.yaml: network.nat_gateways: expected one of single, per_az, got 'two'",
    ),
    "az count larger than the region has": (
        "dr.yaml",
        lambda d: d["network"].update(az_count=4),
        "environments/dr.yaml: network.az_count: eu-central-1 has only 3 availability zones, got 4",
    ),
    "zone of another region": (
        "staging.yaml",
        lambda d: d["network"].update(availability_zones=["eu-west-1a", "us-east-1b"]),
        "environments/staging.yaml: network.availability_zones: 'us-east-1b' is not a zone of eu-west-1, "
        "got ['eu-west-1a', 'us-east-1b']",
    ),
    "cidr overlap": (
        "staging.yaml",
        lambda d: d["network"].update(cidr="10.30.128.0/17"),
        "environments/staging.yaml: network.cidr: overlaps production's 10.30.0.0/16 (environments/production.yaml), "
        "got '10.30.128.0/17'",
    ),
    "cidr overlap across regions": (
        "dr.yaml",
        lambda d: d["network"].update(cidr="10.20.0.0/16"),
        "network.cidr: overlaps ",
    ),
    "not a cidr": (
        "staging.yaml",
        lambda d: d["network"].update(cidr="10.20.0.0/33"),
        "environments/staging.yaml: network.cidr: expected an IPv4 network such as 10.20.0.0/16, got '10.20.0.0/33'",
    ),
    "dr region equal to primary": (
        "production.yaml",
        lambda d: d.update(dr_region="eu-west-1"),
        "environments/production.yaml: dr_region: must differ from region (eu-west-1), got 'eu-west-1'",
    ),
    "replica outside its source's dr region": (
        "dr.yaml",
        lambda d: d.update(region="eu-west-2"),
        "environments/dr.yaml: region: a replica of production must sit in its dr_region (eu-central-1), "
        "got 'eu-west-2'",
    ),
    "unknown dependency": (
        "staging.yaml",
        lambda d: d.update(depends_on=["managment"]),
        "environments/staging.yaml: depends_on: unknown workspace 'managment', got ['managment']",
    ),
    "a read missing from depends_on": (
        "staging.yaml",
        lambda d: d.update(depends_on=["management"]),
        "environments/staging.yaml: depends_on: add 'security': its guardrails deliver into that workspace's log "
        "archive bucket, got ['management']",
    ),
    "dependency cycle": (
        "management.yaml",
        lambda d: d.update(depends_on=["security"]),
        "depends_on: dependency cycle ",
    ),
    "two owners of one account": (
        "dr.yaml",
        lambda d: d.update(owns_account_settings=True),
        "owns_account_settings: account 100000000004 is already managed by ",
    ),
    "wrong type": (
        "production.yaml",
        lambda d: d.update(protected="yes"),
        "environments/production.yaml: protected: expected true or false, got 'yes'",
    ),
    "database without secrets": (
        "production.yaml",
        lambda d: d.pop("secrets"),
        "environments/production.yaml: database: needs a `secrets:` section in the same workspace",
    ),
    "cache without failover": (
        "production.yaml",
        lambda d: d["cache"].update(node_count=1),
        "environments/production.yaml: cache.node_count: expected a whole number from 2 to 6, got 1",
    ),
    "cache without network": (
        "staging.yaml",
        lambda d: (d.pop("network"), d.pop("database")),
        "environments/staging.yaml: cache: needs a `network:` section in the same workspace",
    ),
    "serverless range upside down": (
        "staging.yaml",
        lambda d: d["database"].update(serverless_min_acu=8),
        "environments/staging.yaml: database.serverless_min_acu: exceeds serverless_max_acu (4.0), got 8.0",
    ),
    "capacity units off the half-step grid": (
        "staging.yaml",
        lambda d: d["database"].update(serverless_max_acu=3.3),
        "environments/staging.yaml: database.serverless_max_acu: expected Aurora capacity units from 0.5 to 256 "
        "in steps of 0.5, got 3.3",
    ),
    "schedule that does not parse": (
        "staging.yaml",
        lambda d: d["scheduler"].update(off_schedule="every night at 8"),
        "environments/staging.yaml: scheduler.off_schedule: not an EventBridge schedule expression (neither "
        "cron(...) nor rate(...)); expected e.g. cron(0 20 ? * MON-FRI *) or rate(12 hours), got 'every night at 8'",
    ),
    "cron with both day fields set": (
        "staging.yaml",
        lambda d: d["scheduler"].update(on_schedule="cron(0 7 * * MON-FRI *)"),
        "environments/staging.yaml: scheduler.on_schedule: not an EventBridge schedule expression (exactly one of "
        "day-of-month and day-of-week must be '?')",
    ),
    "cron with five fields": (
        "defaults.yaml",
        lambda d: d["backup"].update(daily_schedule="cron(0 3 * * ?)"),
        "environments/defaults.yaml: backup.daily_schedule: not an EventBridge schedule expression (cron needs 6 "
        "fields (minutes hours day-of-month month day-of-week year), got 5)",
    ),
    "cron hour out of range": (
        "staging.yaml",
        lambda d: d["scheduler"].update(off_schedule="cron(0 25 ? * MON-FRI *)"),
        "scheduler.off_schedule: not an EventBridge schedule expression (hours 25 is outside 0-23)",
    ),
    "rate with a plural for one": (
        "staging.yaml",
        lambda d: d["scheduler"].update(off_schedule="rate(1 hours)"),
        "(rate needs a positive count and a unit such as '1 hour' or '12 hours', got '1 hours')",
    ),
    "unknown time zone": (
        "staging.yaml",
        lambda d: d["scheduler"].update(timezone="Europe/Valletta-ish"),
        "environments/staging.yaml: scheduler.timezone: expected an IANA time zone such as Europe/Malta, "
        "got 'Europe/Valletta-ish'",
    ),
    "object lock shorter than archiving": (
        "security.yaml",
        lambda d: d.update(log_archive={"object_lock_retention_days": 30}),
        "environments/security.yaml: log_archive.archive_after_days: exceeds object_lock_retention_days (30), got 90",
    ),
    "guardrails without a log archive": (
        "security.yaml",
        lambda d: d.pop("log_archive"),
        "guardrails: needs a workspace with `log_archive:` to deliver to",
    ),
    "two state buckets": (
        "security.yaml",
        lambda d: d.update(state_bucket={}),
        "environments/security.yaml: state_bucket: only one workspace may declare it; management "
        "(environments/management.yaml) already does",
    ),
    "state account not the bucket's": (
        "defaults.yaml",
        lambda d: d["state"].update(account_id="100000000002"),
        "environments/management.yaml: state.account_id: the state bucket is deployed by management (account "
        "100000000001, eu-west-1); state must name that account and region, got '100000000002 eu-west-1'",
    ),
    "pipeline deploys an unknown workspace": (
        "management.yaml",
        lambda d: d.update(pipeline={"deploy_workspaces": ["staging", "prod"]}),
        "environments/management.yaml: pipeline.deploy_workspaces: unknown workspace 'prod', got ['staging', 'prod']",
    ),
    "budget thresholds not numbers": (
        "staging.yaml",
        lambda d: d["budget"].update(alert_thresholds_percent=["half"]),
        "environments/staging.yaml: budget.alert_thresholds_percent: expected a list of distinct whole numbers "
        "from 1 to 1000, got ['half']",
    ),
    "primary region neither side's": (
        "production.yaml",
        lambda d: d["failover"].update(primary_region="us-east-1"),
        "environments/production.yaml: failover.primary_region: expected eu-west-1 or eu-central-1 (the source's or "
        "its replica's region), got 'us-east-1'",
    ),
    "failover settings in the replica": (
        "dr.yaml",
        lambda d: d.update(failover={"rto_target_s": 60}),
        "environments/dr.yaml: failover: belongs in the source's file (environments/production.yaml); a replica "
        "follows it",
    ),
    "replica of a database that is not global": (
        "production.yaml",
        lambda d: d["database"].update(global_cluster="none"),
        "environments/production.yaml: database.global_cluster: dr (environments/dr.yaml) joins it as a secondary; "
        "expected 'primary', got 'none'",
    ),
    "replica serving another zone": (
        "dr.yaml",
        lambda d: d["dns"].update(zone_name="dr.surgepress.example"),
        "environments/dr.yaml: dns.zone_name: a replica serves its source's zone (live.surgepress.example), "
        "got 'dr.surgepress.example'",
    ),
    "replicated site without failover settings": (
        "production.yaml",
        lambda d: d.pop("failover"),
        "environments/production.yaml: failover: dr (environments/dr.yaml) runs a replica of this site; the source "
        "needs a `failover:` section",
    ),
    "rto target not a number": (
        "production.yaml",
        lambda d: d["failover"].update(rto_target_s="fast"),
        "environments/production.yaml: failover.rto_target_s: ",
    ),
    "retention CloudWatch does not offer": (
        "staging.yaml",
        lambda d: d["network"].update(flow_log_retention_days=100),
        "environments/staging.yaml: network.flow_log_retention_days: expected one of 1, 3, ",
    ),
}


def _break(env_dir, case):
    file, change, _ = BAD_INPUTS[case]
    edit_yaml(env_dir / file, change)


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_raises_one_line_naming_file_field_and_value(env_dir, case):
    _break(env_dir, case)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_dir)
    message = str(caught.value)
    assert BAD_INPUTS[case][2] in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "file, old, new, message",
    [
        (
            "staging.yaml",
            'account_id: "100000000003"\n',
            'account_id: "100000000003"\naccount_id: "100000000009"\n',
            "environments/staging.yaml: malformed YAML at line 3, column 1: key 'account_id' is given twice in one "
            "mapping",
        ),
        (
            "defaults.yaml",
            "protected: false ",
            "protected: no ",
            "environments/defaults.yaml: protected: expected true or false, got 'no'",
        ),
        (
            "defaults.yaml",
            "health_check_grace_s: 60",
            "health_check_grace_s: 1:30",
            "environments/defaults.yaml: compute.health_check_grace_s: expected a whole number from 0 to 2147483, "
            "got '1:30'",
        ),
        (  # YAML 1.1 reads a leading zero as octal (and 08 as an error); 1.2 core reads a string
            "defaults.yaml",
            "health_check_grace_s: 60",
            "health_check_grace_s: 0755",
            "environments/defaults.yaml: compute.health_check_grace_s: expected a whole number from 0 to 2147483, "
            "got '0755'",
        ),
        (
            "defaults.yaml",
            "health_check_grace_s: 60",
            "health_check_grace_s: 08",
            "environments/defaults.yaml: compute.health_check_grace_s: expected a whole number from 0 to 2147483, "
            "got '08'",
        ),
        (
            "defaults.yaml",
            "response_time_p95_s: 1.5",
            "response_time_p95_s: 1:30.5",
            "environments/defaults.yaml: alarms.response_time_p95_s: expected seconds above 0 and up to 60, "
            "got '1:30.5'",
        ),
        (
            "staging.yaml",
            'account_id: "100000000003"\n',
            'account_id: "100000000003"\n? [a, b]\n: 1\n',
            "environments/staging.yaml: malformed YAML at line 3, column 3: a key must be a plain value, not a list "
            "or mapping",
        ),
    ],
)
def test_yaml_surprises_are_refused_not_reinterpreted(env_dir, file, old, new, message):
    path = env_dir / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(UserError) as caught:
        load_settings(env_dir)
    assert str(caught.value) == message


def test_a_file_that_is_not_utf8_is_one_line(env_dir, tmp_path):
    (env_dir / "staging.yaml").write_bytes("account_id: '100000000003'\n# caf\u00e9\n".encode("latin-1"))
    result = run_cli("synth", build=tmp_path / "build", environments=env_dir)
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "error: environments/staging.yaml: not UTF-8 text (byte 0xe9 at line 2); save it as UTF-8",
    )
    assert not (tmp_path / "build").exists()


def test_malformed_yaml_names_file_and_line(env_dir):
    (env_dir / "staging.yaml").write_text("account_id: '100000000003'\nnetwork: [unclosed\n")
    with pytest.raises(UserError, match=r"^environments/staging.yaml: malformed YAML at line 3, column 1: "):
        load_settings(env_dir)


def test_a_file_that_is_not_a_mapping_is_refused(env_dir):
    (env_dir / "staging.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match=r"environments/staging.yaml: \(top level\): expected a mapping"):
        load_settings(env_dir)


@pytest.mark.parametrize(
    "case",
    [
        "account id not 12 digits",
        "cidr overlap",
        "dr region equal to primary",
        "unknown key",
        "az count larger than the region has",
        "schedule that does not parse",
        "two state buckets",
    ],
)
def test_cli_exits_2_with_one_line_and_synthesizes_nothing(env_dir, tmp_path, case):
    _break(env_dir, case)
    build = tmp_path / "build"
    result = run_cli("deploy", "--all", build=build, environments=env_dir)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {result.stderr.strip()[7:]}"]
    assert BAD_INPUTS[case][2] in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not build.exists(), "nothing may be synthesized, started or deployed on bad input"


def test_cli_malformed_yaml_exits_2(env_dir, tmp_path):
    (env_dir / "dr.yaml").write_text("region: [\n")
    result = run_cli("synth", build=tmp_path / "build", environments=env_dir)
    assert result.returncode == 2
    assert result.stderr.startswith("error: environments/dr.yaml: malformed YAML at line 2")
    assert not (tmp_path / "build").exists()


def test_cli_unknown_workspace_exits_2(tmp_path):
    result = run_cli("plan", "qa", build=tmp_path / "build")
    assert result.returncode == 2
    assert "unknown workspace 'qa'" in result.stderr
    assert not (tmp_path / "build").exists()


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 20 ? * MON-FRI *)",
        "cron(0 7 ? * MON-FRI *)",
        "cron(0 3 ? * * *)",
        "cron(0 4 ? * SUN *)",
        "cron(15 10 L * ? 2027)",
        "cron(0/15 * ? * 2#1 *)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(5 minutes)",
    ],
)
def test_valid_eventbridge_schedules_are_accepted(expression):
    from surgepress.config import schedule_problem

    assert schedule_problem(expression) == ""


def test_each_workspace_learns_where_its_zone_is_delegated_from_and_where_logs_go(settings):
    management, security = settings.get("management"), settings.get("security")
    for name in ("staging", "production"):
        parent = settings.get(name).parent_zone
        assert (parent.zone_name, parent.account_id, parent.role_arn) == (
            management.apex_zone.zone_name,
            management.account_id,
            management.role_arn,
        )
    assert settings.get("dr").parent_zone is None, "dr has no zone of its own yet"
    assert {ws.log_archive_account_id for ws in settings.workspaces.values() if ws.guardrails} == {security.account_id}
    assert settings.state_workspace is management


def test_a_workspace_name_that_would_end_a_load_balancer_name_with_a_hyphen_is_refused(env_dir):
    (env_dir / "qa-.yaml").write_text('account_id: "100000000009"\n')
    with pytest.raises(UserError) as caught:
        load_settings(env_dir)
    assert str(caught.value) == (
        "environments/qa-.yaml: workspace name 'qa-' must be 1-31 lower-case letters, digits and dashes, "
        "starting with a letter and not ending with a dash"
    )
