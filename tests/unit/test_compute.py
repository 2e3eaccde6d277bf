"""The compute module: WordPress on ECS behind a CloudFront-only ALB, scaled hard and fast."""

from __future__ import annotations

import json

import pytest

from modules.compute import Compute, ComputeProps
from surgepress import image
from tests.conftest import resources

pytestmark = pytest.mark.unit


def _one(stack: dict, rtype: str) -> dict:
    (item,) = resources(stack, rtype).values()
    return item


def _container(stack: dict) -> dict:
    (container,) = json.loads(_one(stack, "aws_ecs_task_definition")["container_definitions"])
    return container


def test_nothing_is_open_to_the_internet_the_alb_admits_cloudfront_only(local_stacks):
    for name, stack in local_stacks.items():
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values():
            assert rule.get("cidr_ipv4") not in ("0.0.0.0/0",) and rule.get("cidr_ipv6") != "::/0", name
        for group in resources(stack, "aws_security_group").values():
            assert "ingress" not in group, f"{name}: inline rules hide from review"
    alb_rules = [
        r
        for r in resources(local_stacks["production"], "aws_vpc_security_group_ingress_rule").values()
        if "compute_alb-" in r["security_group_id"]
    ]
    assert sorted(r["from_port"] for r in alb_rules) == [80, 443]
    assert all(r["prefix_list_id"].startswith("${data.aws_ec2_managed_prefix_list.") for r in alb_rules)


def test_alb_is_strict_https_with_redirect_and_a_403_without_the_origin_secret(local_stacks):
    stack = local_stacks["production"]
    alb = _one(stack, "aws_lb")
    assert alb["drop_invalid_header_fields"] is True and alb["desync_mitigation_mode"] == "strictest"
    assert alb["access_logs"]["enabled"] is True and alb["access_logs"]["prefix"] == "alb"
    listeners = {listener["port"]: listener for listener in resources(stack, "aws_lb_listener").values()}
    assert listeners[443]["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["default_action"][0]["fixed_response"]["status_code"] == "403"
    assert listeners[80]["default_action"][0]["redirect"] == {
        "port": "443",
        "protocol": "HTTPS",
        "status_code": "HTTP_301",
    }
    rule = _one(stack, "aws_lb_listener_rule")
    header = rule["condition"][0]["http_header"]
    assert header["http_header_name"] == "X-Origin-Verify"
    assert header["values"] == ["${data.aws_ssm_parameter.origin-secret.value}"]


def test_load_balancer_deletion_protection_follows_config(local_stacks, settings):
    assert _one(local_stacks["production"], "aws_lb")["enable_deletion_protection"] is True
    assert _one(local_stacks["staging"], "aws_lb")["enable_deletion_protection"] is False
    assert settings.get("staging").compute.enable_deletion_protection is False


def test_hosts_use_imdsv2_no_public_ip_and_encrypted_volumes(local_stacks):
    template = _one(local_stacks["production"], "aws_launch_template")
    assert template["metadata_options"] == {
        "http_endpoint": "enabled",
        "http_put_response_hop_limit": 1,
        "http_tokens": "required",
    }
    assert template["network_interfaces"][0]["associate_public_ip_address"] == "false"
    assert template["block_device_mappings"][0]["ebs"]["encrypted"] == "true"
    assert template["image_id"].startswith("${data.aws_ssm_parameter.compute_ecs-ami")


def test_capacity_provider_keeps_headroom_and_owns_termination(local_stacks, settings):
    compute = settings.get("production").compute
    provider = _one(local_stacks["production"], "aws_ecs_capacity_provider")["auto_scaling_group_provider"]
    assert provider["managed_termination_protection"] == "ENABLED" and provider["managed_draining"] == "ENABLED"
    scaling = provider["managed_scaling"]
    assert scaling["target_capacity"] == compute.capacity_target_percent < 100
    assert (scaling["minimum_scaling_step_size"], scaling["maximum_scaling_step_size"]) == (
        compute.min_scaling_step,
        compute.max_scaling_step,
    )
    group = _one(local_stacks["production"], "aws_autoscaling_group")
    assert group["protect_from_scale_in"] is True
    assert (group["min_size"], group["max_size"]) == (compute.min_hosts, compute.max_hosts)
    assert "desired_capacity" not in group, "the capacity provider owns the host count"


def test_fargate_spot_staging_has_no_hosts_and_keeps_its_floor_on_demand(local_stacks, settings):
    stack = local_stacks["staging"]
    assert resources(stack, "aws_autoscaling_group") == {} and resources(stack, "aws_ecs_capacity_provider") == {}
    strategy = {s["capacity_provider"]: s for s in _one(stack, "aws_ecs_service")["capacity_provider_strategy"]}
    assert strategy["FARGATE"]["base"] == settings.get("staging").compute.min_tasks
    assert strategy["FARGATE_SPOT"]["weight"] == 1
    assert _one(stack, "aws_ecs_task_definition")["requires_compatibilities"] == ["FARGATE"]


def test_task_takes_secrets_from_ssm_and_runs_read_only_unprivileged(local_stacks, settings):
    stack = local_stacks["production"]
    container = _container(stack)
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert {"WORDPRESS_DB_PASSWORD", "WP_REDIS_PASSWORD", "WORDPRESS_AUTH_KEY", "WORDPRESS_NONCE_SALT"} <= set(secrets)
    app_settings = {"WORDPRESS_DB_HOST", "WORDPRESS_DB_READER_HOST", "WP_REDIS_HOST"}
    assert all(
        v.startswith("${aws_ssm_parameter.secrets_") and v.endswith(".arn}")
        for k, v in secrets.items()
        if k not in app_settings
    )
    # Where the data is comes from SSM too: a drill repoints it without a task definition change.
    assert all(secrets[k].startswith("${aws_ssm_parameter.app_") for k in app_settings)
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert not set(environment) & set(secrets)
    assert environment["SURGEPRESS_REGION"] == "eu-west-1"
    assert environment["CDN_DOMAIN"].startswith("${aws_cloudfront_distribution.")
    assert environment["S3_UPLOADS_BUCKET"].startswith("${aws_s3_bucket.storage_media")
    # What WordPress reads of it lives in the image (app/wordpress/wp-config.php), not in the task.
    assert "WORDPRESS_CONFIG_EXTRA" not in environment
    config = (image.APP_DIR / "wordpress" / "wp-config.php").read_text()
    assert "MYSQLI_CLIENT_SSL" in config, "Aurora requires TLS (require_secure_transport)"
    read = ("WP_REDIS_HOST", "WP_REDIS_PASSWORD", "S3_UPLOADS_BUCKET")
    assert all(f"getenv_docker('{name}'" in config for name in read)
    # The image the task runs is the one built from app/, and it says so in every response.
    registry = settings.get("management")
    assert container["image"] == (
        f"{registry.account_id}.dkr.ecr.eu-west-1.amazonaws.com/{registry.project}/wordpress:{image.default_tag()}"
    )
    assert environment["SURGEPRESS_IMAGE_TAG"] == image.default_tag()
    assert container["user"] == "33:33", "the image's USER (www-data): never root"
    assert container["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert container["readonlyRootFilesystem"] is True and container["privileged"] is False
    # Restated: what the image writes (tmp, Apache's run and lock dirs); its code is not among them.
    assert {m["containerPath"] for m in container["mountPoints"]} == {"/tmp", "/var/run/apache2", "/var/lock/apache2"}
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    task = _one(stack, "aws_ecs_task_definition")
    assert task["execution_role_arn"] != task["task_role_arn"]


def test_service_is_private_rolls_back_and_leaves_its_count_to_autoscaling(local_stacks):
    service = _one(local_stacks["production"], "aws_ecs_service")
    assert service["network_configuration"]["assign_public_ip"] is False
    assert all("network_app-" in s for s in service["network_configuration"]["subnets"])
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert service["lifecycle"]["ignore_changes"] == ["desired_count"]
    assert service["health_check_grace_period_seconds"] > 0


def test_scaling_is_fast_out_slow_in_with_a_surge_step_from_config(local_stacks, settings):
    for name in ("staging", "production"):
        stack, compute = local_stacks[name], settings.get(name).compute
        target = _one(stack, "aws_appautoscaling_target")
        assert (target["min_capacity"], target["max_capacity"]) == (compute.min_tasks, compute.max_tasks)
        policies = resources(stack, "aws_appautoscaling_policy").values()
        tracking = {
            p["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"][
                "predefined_metric_type"
            ]: p["target_tracking_scaling_policy_configuration"]
            for p in policies
            if p["policy_type"] == "TargetTrackingScaling"
        }
        assert tracking["ALBRequestCountPerTarget"]["target_value"] == compute.requests_per_target
        assert tracking["ECSServiceAverageCPUUtilization"]["target_value"] == compute.cpu_target_percent
        for config in tracking.values():
            assert config["scale_out_cooldown"] == compute.scale_out_cooldown_s <= 60
            assert config["scale_in_cooldown"] == compute.scale_in_cooldown_s >= 300
        (step,) = [p for p in policies if p["policy_type"] == "StepScaling"]
        alarm = next(
            a for a in resources(stack, "aws_cloudwatch_metric_alarm").values() if a["alarm_name"].endswith("-surge")
        )
        assert alarm["threshold"] == compute.surge_requests_per_minute and alarm["period"] == 60
        assert alarm["alarm_actions"] == [f"${{aws_appautoscaling_policy.{_id(stack, step)}.arn}}"]


def _id(stack: dict, resource: dict) -> str:
    return next(k for k, v in resources(stack, "aws_appautoscaling_policy").items() if v is resource)


def test_only_the_service_reaches_the_database_and_cache(local_stacks):
    stack = local_stacks["production"]
    egress = {
        r["description"]: r
        for r in resources(stack, "aws_vpc_security_group_egress_rule").values()
        if "compute_service-sg" in r["security_group_id"]
    }
    assert egress["to database"]["to_port"] == 3306 and egress["to cache"]["to_port"] == 6379
    assert egress["to database"]["referenced_security_group_id"].startswith("${aws_security_group.database_sg")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"capacity": "lambda"}, "capacity: expected one of ec2, fargate, fargate_spot, got 'lambda'"),
        ({"scale_out_cooldown_s": 120}, "scale_out_cooldown_s: expected 60 or less"),
        ({"scale_in_cooldown_s": 60}, "scale_in_cooldown_s: expected 300 or more"),
        ({"min_tasks": 5, "max_tasks": 2}, "min_tasks: expected 1 to max_tasks"),
        ({"capacity": "fargate", "warm_pool_hosts": 2}, "warm_pool_hosts: expected 0 unless capacity is ec2"),
    ],
)
def test_the_construct_refuses_slow_or_impossible_scaling(change, message):
    with pytest.raises(ValueError, match=message):
        _construct(change)


def _construct(change: dict) -> dict:
    """The module alone in a stack, synthesized: its resources."""
    from cdktf import App, TerraformStack, Testing

    props = dict(
        name="t",
        account_id="100000000003",
        region="eu-west-1",
        vpc_id="vpc-1",
        public_subnet_ids=["a"],
        app_subnet_ids=["b"],
        certificate_arn="arn:c",
        origin_secret="${x}",
        access_log_bucket="logs",
        access_log_prefix="alb",
        media_bucket_arn="arn:m",
        media_key_arn="arn:k",
        secrets_key_arn="arn:s",
    )
    stack = TerraformStack(App(), "s")
    Compute(stack, "compute", props=ComputeProps(**{**props, **change}))
    return json.loads(Testing.synth(stack))["resource"]


def test_a_warm_pool_keeps_its_size_and_its_hosts_out_of_the_cluster_until_they_leave_it():
    (group,) = _construct({"warm_pool_hosts": 3})["aws_autoscaling_group"].values()
    assert group["warm_pool"] == {"pool_state": "Stopped", "min_size": 3, "max_group_prepared_capacity": 3}
    ((template),) = _construct({"warm_pool_hosts": 3})["aws_launch_template"].values()
    assert "ECS_WARM_POOLS_CHECK=true" in template["user_data"]
    plain = _construct({})
    assert "warm_pool" not in next(iter(plain["aws_autoscaling_group"].values()))
    assert "ECS_WARM_POOLS_CHECK" not in next(iter(plain["aws_launch_template"].values()))["user_data"]


def _s3_uploads_put_params(acl: str) -> dict:
    """Load the image's must-use plugin in real PHP (with WordPress's add_filter as a recorder),
    then run its S3-Uploads putObject filter on a request as S3-Uploads builds it (ACL from the
    S3_UPLOADS_OBJECT_ACL constant, which wp-config.php defines from the environment)."""
    import subprocess

    plugin = image.APP_DIR / "wordpress" / "wp-content" / "mu-plugins" / "surgepress.php"
    script = (
        "$filters = [];\n"
        "function add_filter($hook, $callback) { $GLOBALS['filters'][$hook][] = $callback; }\n"
        f"define('S3_UPLOADS_OBJECT_ACL', {json.dumps(acl)});\n"
        "define('WP_CONTENT_DIR', '/nonexistent');\n"  # WordPress's, set before must-use plugins load
        f"require {json.dumps(str(plugin))};\n"
        "$params = ['Bucket' => 'media', 'Key' => 'wp-content/uploads/a.jpg', 'ACL' => S3_UPLOADS_OBJECT_ACL];\n"
        "foreach ($filters['s3_uploads_putObject_params'] as $filter) { $params = $filter($params); }\n"
        "echo json_encode($params);\n"
    )
    done = subprocess.run(["php", "-r", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_uploads_to_the_acl_less_media_bucket_carry_no_acl(local_stacks):
    (task,) = resources(local_stacks["production"], "aws_ecs_task_definition").values()
    (container,) = json.loads(task["container_definitions"])
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["S3_UPLOADS_OBJECT_ACL"] == "none"
    assert _s3_uploads_put_params("none") == {"Bucket": "media", "Key": "wp-content/uploads/a.jpg"}
    # Any other value is S3-Uploads' own business: the hook leaves it as it is.
    assert _s3_uploads_put_params("bucket-owner-full-control")["ACL"] == "bucket-owner-full-control"
