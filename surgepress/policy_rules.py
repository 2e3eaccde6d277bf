"""The platform's own policy rules: what AWS refuses, or lets misbehave, that moto accepts.

Each rule judges one resource of a workspace's synthesized JSON (cdk.tf.json) against the
rest of the document, and — for rules that span accounts — the other workspaces' documents.
`surgepress/policy_checks/` wraps each as a Checkov custom check, so `python main.py policy`
runs them beside Checkov's own; `CHECKS` names them with the AWS rule each one encodes.

A rule answers (passed, why): `why` says what is missing when it fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path
from typing import Any

from modules.instances import INSTANCE_TYPES, tasks_per_host
from surgepress import image
from surgepress.iam_conditions import condition_holds

Verdict = tuple[bool, str]
DOCUMENT_ENV = "SURGEPRESS_POLICY_DOCUMENT"
"""The workspace document a Checkov run judges (surgepress.policy sets it per run)."""
OTHERS_ENV = "SURGEPRESS_POLICY_OTHERS"
"""The other workspaces' documents, os.pathsep-separated (for rules that span accounts)."""
REFERENCE = re.compile(r"^\$\{((?:data\.)?[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.([a-z0-9_]+))?(?:\[\d+\])?\}")
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"  # Route 53's hosted zone for every CloudFront alias target
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# Managed policies known to grant what a rule asks (AWS documents each one's actions).
MANAGED_GRANTS = {
    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess": XRAY_ACTIONS,
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": XRAY_ACTIONS,
}
UPLOADS_ACL_HOOK = "s3_uploads_putObject_params"
"""The S3-Uploads filter through which the image's WordPress (app/wordpress) leaves the ACL out for `none`."""
ACL_FREE_UPLOADS = ("none", "bucket-owner-full-control")
"""`S3_UPLOADS_OBJECT_ACL` values an ACL-less bucket accepts: no ACL, or the one ACL S3 still
admits with ACLs disabled (it grants the bucket owner what it has anyway)."""


def blocks(value: Any) -> list[dict]:
    """A nested block as the JSON has it: one object, or a list of them."""
    return [b for b in (value if isinstance(value, list) else [value]) if isinstance(b, dict)]


def listed(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def statements_of(document: Any) -> list[dict]:
    """The statements of an IAM policy document: its JSON text, or the parsed object."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return []
    return blocks(document.get("Statement")) if isinstance(document, dict) else []


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _statement_of_block(block: dict) -> dict:
    """A `data.aws_iam_policy_document` statement block as IAM's JSON says it."""
    statement: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
    for json_key, block_key in (
        ("Action", "actions"),
        ("NotAction", "not_actions"),
        ("Resource", "resources"),
        ("NotResource", "not_resources"),
    ):
        if block.get(block_key):
            statement[json_key] = block[block_key]
    if "Action" not in statement and "NotAction" not in statement:
        statement["Action"] = []
    if "Resource" not in statement and "NotResource" not in statement:
        statement["Resource"] = ["*"]
    principals = blocks(block.get("principals"))
    if principals:
        statement["Principal"] = (
            "*"
            if any(p.get("type") == "*" for p in principals)
            else {p.get("type"): p.get("identifiers") for p in principals}
        )
    conditions: dict[str, dict] = {}
    for c in blocks(block.get("condition")):
        conditions.setdefault(str(c.get("test")), {})[str(c.get("variable"))] = c.get("values")
    if conditions:
        statement["Condition"] = conditions
    return statement


@dataclass(frozen=True)
class Document:
    """One workspace's synthesized JSON, with the lookups the rules share."""

    name: str
    body: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path) -> Document:
        return cls(path.parent.name, json.loads(path.read_text()))

    def resources(self, rtype: str) -> dict[str, dict]:
        return self.body.get("resource", {}).get(rtype) or {}

    def data(self, rtype: str) -> dict[str, dict]:
        return self.body.get("data", {}).get(rtype) or {}

    def get(self, rtype: str, name: str) -> dict | None:
        if rtype.startswith("data."):
            return self.data(rtype.removeprefix("data.")).get(name)
        return self.resources(rtype).get(name)

    def referenced(self, value: Any, rtype: str | None = None) -> tuple[str, str] | None:
        """(type, name) of the resource a `${type.name.attr}` value points at."""
        match = REFERENCE.match(value) if isinstance(value, str) else None
        if match is None or (rtype is not None and match.group(1) != rtype):
            return None
        return match.group(1), match.group(2)

    def refers_to(self, value: Any, rtype: str, name: str) -> bool:
        return self.referenced(value, rtype) == (rtype, name)

    @cached_property
    def account_id(self) -> str | None:
        """The account the workspace's default provider may act in."""
        providers = blocks(self.body.get("provider", {}).get("aws"))
        default = next((p for p in providers if not p.get("alias")), None)
        accounts = listed((default or {}).get("allowed_account_ids"))
        return accounts[0] if len(accounts) == 1 else None

    def policy_statements(self, value: Any) -> list[dict]:
        """The statements of a policy argument: a JSON string, or a policy document data source."""
        target = self.referenced(value, "data.aws_iam_policy_document")
        if target is not None:
            data = self.get(*target) or {}
            return [_statement_of_block(s) for s in blocks(data.get("statement"))]
        return statements_of(value)

    def role_grants(self, role_value: Any) -> list[Grant] | None:
        """Every policy on a `${aws_iam_role.x.arn}` role, each with what it allows and the
        resource that carries it (None for the role's own `inline_policy`/`managed_policy_arns`,
        which exist with the role); None when the role is not in this document."""
        target = self.referenced(role_value, "aws_iam_role")
        if target is None:
            return None
        _, name = target
        role = self.get("aws_iam_role", name) or {}
        grants = [
            Grant(None, self.policy_statements(inline.get("policy")), frozenset())
            for inline in blocks(role.get("inline_policy"))
        ]
        grants.append(Grant(None, [], frozenset(listed(role.get("managed_policy_arns")))))
        for pname, policy in self.resources("aws_iam_role_policy").items():
            if self.refers_to(policy.get("role"), "aws_iam_role", name):
                grants.append(Grant(f"aws_iam_role_policy.{pname}", self.policy_statements(policy.get("policy"))))
        for aname, attachment in self.resources("aws_iam_role_policy_attachment").items():
            if self.refers_to(attachment.get("role"), "aws_iam_role", name):
                arn = str(attachment.get("policy_arn"))
                customer = self.referenced(arn, "aws_iam_policy")
                statements = self.policy_statements((self.get(*customer) or {}).get("policy")) if customer else []
                grants.append(Grant(f"aws_iam_role_policy_attachment.{aname}", statements, frozenset([arn])))
        return grants

    def role_statements(self, role_value: Any) -> list[dict] | None:
        """Every statement on the role (its inline and attached customer policies)."""
        grants = self.role_grants(role_value)
        return None if grants is None else [s for g in grants for s in g.statements]


@dataclass(frozen=True)
class Grant:
    """One policy on a role: the resource that carries it (None: the role itself), what it allows."""

    address: str | None
    statements: list[dict]
    managed: frozenset[str] = frozenset()

    def allows(self, action: str, resource: str = "*") -> bool:
        managed = {a for arn in self.managed for a in MANAGED_GRANTS.get(arn, ())}
        return action in managed or allows(self.statements, action, resource)


def _names(statement: dict, action: str, resource: str) -> bool:
    """The statement is about this action on this resource (Action/NotAction, Resource/NotResource)."""

    def any_of(patterns: Any, value: str, fold: bool) -> bool:
        return any(
            fnmatchcase(value.lower(), str(p).lower()) if fold else fnmatchcase(value, str(p)) for p in listed(patterns)
        )

    acts = (
        any_of(statement["Action"], action, True)
        if "Action" in statement
        else not any_of(statement.get("NotAction"), action, True)
    )
    on = (
        any_of(statement["Resource"], resource, False)
        if "Resource" in statement
        else not any_of(statement.get("NotResource"), resource, False)
    )
    return acts and on


def decision(
    statements: list[dict], action: str, resource: str = "*", context: Mapping[str, str] | None = None
) -> str | None:
    """IAM's verdict from one set of statements: "Deny" when an explicit Deny names the request
    (unless its condition surely fails), "Allow" when an Allow names it and its condition holds
    for `context` (the request's keys; an Allow with a condition needs them), else None (an
    implicit deny, which another policy may still lift)."""
    request = dict(context or {})
    for statement in statements:
        condition = statement.get("Condition")
        denies = statement.get("Effect") == "Deny" and _names(statement, action, resource)
        if denies and (not condition or condition_holds(condition, request) is not False):
            return "Deny"
    allowed = any(
        statement.get("Effect", "Allow") == "Allow"
        and _names(statement, action, resource)
        and (not statement.get("Condition") or condition_holds(statement["Condition"], request) is True)
        for statement in statements
    )
    return "Allow" if allowed else None


def allows(statements: list[dict], action: str, resource: str = "*", context: Mapping[str, str] | None = None) -> bool:
    """IAM's answer to one request from these statements alone (see `decision`)."""
    return decision(statements, action, resource, context) == "Allow"


def names_principal(statement: dict, role_arn: str) -> str | None:
    """How a resource policy's statement names this role: "role" (its ARN, or anyone), "account"
    (its account, by root ARN or ID: IAM then asks the role's own policies too), or None."""
    principal = statement.get("Principal")
    if principal == "*":
        return "role"
    named = listed(principal.get("AWS")) if isinstance(principal, dict) else []
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    if "*" in named or role_arn in named:
        return "role"
    if f"arn:aws:iam::{account}:root" in named or account in named:
        return "account"
    return None


# --- the rules ----------------------------------------------------------------------------


def tracing_has_xray_permissions(doc: Document, rtype: str, name: str, others: list[Document]) -> Verdict:
    """Lambda refuses CreateFunction with active tracing unless the execution role may call
    PutTraceSegments and PutTelemetryRecords (InvalidParameterValueException); and Terraform
    must create the grant first (the function depends on it)."""
    function = doc.get(rtype, name) or {}
    modes = [t.get("mode") for t in blocks(function.get("tracing_config"))]
    if "Active" not in modes:
        return True, "tracing is not active"
    grants = doc.role_grants(function.get("role"))
    if grants is None:
        return False, "active tracing, and its role is not in this workspace: nothing shows it may write to X-Ray"
    missing = [a for a in XRAY_ACTIONS if not any(g.allows(a) for g in grants)]
    if missing:
        return False, f"active tracing, but its role may not call {', '.join(missing)}"
    depends = set(listed(function.get("depends_on")))
    for action in XRAY_ACTIONS:
        supplying = [g for g in grants if g.allows(action)]
        if not any(g.address is None or g.address in depends for g in supplying):
            return False, (
                f"active tracing: the function must depend on what grants {action} "
                f"({', '.join(str(g.address) for g in supplying)}), or it may be created first"
            )
    return True, "its role may write traces"


def organization_trail_has_organization(doc: Document, rtype: str, name: str, others: list[Document]) -> Verdict:
    """An organization trail needs an all-features organization with CloudTrail trusted
    access, created in its management account or by a registered delegated administrator."""
    trail = doc.get(rtype, name) or {}
    if not truthy(trail.get("is_organization_trail")):
        return True, "an account trail"
    every = [doc, *others]
    managing = [
        d
        for d in every
        for org in d.resources("aws_organizations_organization").values()
        if org.get("feature_set", "ALL") == "ALL"
        and "cloudtrail.amazonaws.com" in listed(org.get("aws_service_access_principals"))
    ]
    if not managing:
        return False, "an organization trail, but no workspace manages an organization with CloudTrail trusted access"
    if doc in managing:
        return True, "the organization's management account creates it"
    delegated = [
        admin
        for d in managing
        for admin in d.resources("aws_organizations_delegated_administrator").values()
        if admin.get("service_principal") == "cloudtrail.amazonaws.com" and admin.get("account_id") == doc.account_id
    ]
    if not delegated:
        return False, f"an organization trail in account {doc.account_id}, which is not CloudTrail's delegated admin"
    return True, "created by CloudTrail's delegated administrator"


def _bucket_in(doc: Document, value: Any) -> str | None:
    """The name of the aws_s3_bucket a value points at, by reference or by its literal name."""
    target = doc.referenced(value, "aws_s3_bucket")
    if target is not None:
        return target[1]
    return next((n for n, b in doc.resources("aws_s3_bucket").items() if b.get("bucket") == value), None)


def _bucket_arn(doc: Document, bucket: str) -> str:
    literal = (doc.get("aws_s3_bucket", bucket) or {}).get("bucket")
    return f"arn:aws:s3:::{literal}" if isinstance(literal, str) and "${" not in literal else ""


def _bucket_key(doc: Document, bucket: str) -> tuple[str, str] | None:
    for sse in doc.resources("aws_s3_bucket_server_side_encryption_configuration").values():
        if _bucket_in(doc, sse.get("bucket")) != bucket:
            continue
        for rule in blocks(sse.get("rule")):
            for default in blocks(rule.get("apply_server_side_encryption_by_default")):
                key = doc.referenced(default.get("kms_master_key_id"), "aws_kms_key")
                if key is not None:
                    return key
    return None


def _denied_to_role(doc: Document, bucket: str, role: str, action: str) -> bool:
    """A Deny of the bucket's policy for every principal that no condition lifts for the role's
    TLS request (a role is no AWS service: aws:PrincipalServiceName is absent for it)."""
    literal = (doc.get("aws_iam_role", role) or {}).get("name")
    arns = {f"${{aws_iam_role.{role}.arn}}", f"arn:aws:iam::{doc.account_id}:role/{literal}"}
    for policy in doc.resources("aws_s3_bucket_policy").values():
        if _bucket_in(doc, policy.get("bucket")) != bucket:
            continue
        for statement in doc.policy_statements(policy.get("policy")):
            if statement.get("Effect") != "Deny" or statement.get("Principal") not in (
                "*",
                {"AWS": "*"},
                {"AWS": ["*"]},
            ):
                continue
            if not any(fnmatchcase(action.lower(), str(a).lower()) for a in listed(statement.get("Action"))):
                continue
            conditions = [
                (operator, key.lower(), [str(v).lower() for v in listed(values)])
                for operator, keys in (statement.get("Condition") or {}).items()
                for key, values in (keys or {}).items()
            ]
            exempt = any(  # the role is named as an exception, or the Deny is for plain HTTP only
                (key == "aws:principalarn" and operator.startswith(("ArnNot", "StringNot")))
                and {a.lower() for a in arns} & set(values)
                or (operator == "Bool" and key == "aws:securetransport" and values == ["false"])
                for operator, key, values in conditions
            )
            if not exempt:
                return True
    return False


def same_account_config_delivery(doc: Document, rtype: str, name: str, others: list[Document]) -> Verdict:
    """AWS Config delivers into a bucket of its own account with the recorder's role, so the
    role needs s3:PutObject (and the bucket key's GenerateDataKey), and no bucket-policy Deny
    may stop it."""
    channel = doc.get(rtype, name) or {}
    bucket = _bucket_in(doc, channel.get("s3_bucket_name"))
    if bucket is None:
        return True, "delivers to another account's bucket (with the config service principal)"
    recorders = list(doc.resources("aws_config_configuration_recorder").values())
    if not recorders:
        return False, "no configuration recorder in this workspace"
    role_value = recorders[0].get("role_arn")
    statements = doc.role_statements(role_value)
    if statements is None:
        return False, "same-account delivery, and the recorder's role is not in this workspace"
    role = (doc.referenced(role_value, "aws_iam_role") or ("", ""))[1]
    arns = [a for a in (f"${{aws_s3_bucket.{bucket}.arn}}", _bucket_arn(doc, bucket)) if a]
    prefix = (channel.get("s3_key_prefix") or "").strip("/")
    key = "/".join(p for p in (prefix, "AWSLogs", doc.account_id or "111111111111", "Config", "x") if p)
    missing = []
    config_sends = {"s3:x-amz-acl": "bucket-owner-full-control"}  # what AWS Config writes with
    if not any(allows(statements, "s3:PutObject", f"{arn}/{key}", config_sends) for arn in arns):
        missing.append("s3:PutObject on its prefix")
    if not any(allows(statements, "s3:GetBucketAcl", arn) for arn in arns):
        missing.append("s3:GetBucketAcl on the bucket")
    bucket_key = _bucket_key(doc, bucket)
    if bucket_key is not None and not allows(
        statements, "kms:GenerateDataKey", f"${{aws_kms_key.{bucket_key[1]}.arn}}"
    ):
        missing.append("kms:GenerateDataKey on the bucket's key")
    if missing:
        return False, "same-account delivery with the recorder's role, which lacks " + ", ".join(missing)
    if _denied_to_role(doc, bucket, role, "s3:PutObject"):
        return False, "same-account delivery, but the bucket policy denies the recorder's role s3:PutObject"
    return True, "the recorder's role may deliver"


def s3_source_is_triggered(doc: Document, rtype: str, name: str, others: list[Document]) -> Verdict:
    """A CodePipeline S3 source that does not poll starts only from an EventBridge rule on
    the bucket's events (sent to EventBridge) whose target may start this pipeline."""
    pipeline = doc.get(rtype, name) or {}
    for stage in blocks(pipeline.get("stage")):
        for action in blocks(stage.get("action")):
            if action.get("category") != "Source" or action.get("provider") != "S3":
                continue
            config = action.get("configuration") or {}
            if str(config.get("PollForSourceChanges", "true")).lower() != "false":
                continue
            bucket = _bucket_in(doc, config.get("S3Bucket"))
            if bucket is None:
                return False, "its S3 source's bucket is not in this workspace: nothing shows it sends events"
            notified = any(
                _bucket_in(doc, n.get("bucket")) == bucket and truthy(n.get("eventbridge"))
                for n in doc.resources("aws_s3_bucket_notification").values()
            )
            if not notified:
                return False, "its S3 source does not poll, and the source bucket sends no events to EventBridge"
            pipeline_arn = f"${{aws_codepipeline.{name}.arn}}"
            targets = [
                t
                for t in doc.resources("aws_cloudwatch_event_target").values()
                if doc.refers_to(t.get("arn"), "aws_codepipeline", name)
                and _may_start(doc, t.get("role_arn"), pipeline_arn)
            ]
            rules = {doc.referenced(t.get("rule"), "aws_cloudwatch_event_rule") for t in targets if t.get("rule")}
            names = {f"${{aws_s3_bucket.{bucket}.bucket}}", f"${{aws_s3_bucket.{bucket}.id}}"}
            names.add(str((doc.get("aws_s3_bucket", bucket) or {}).get("bucket")))
            key = config.get("S3ObjectKey")
            if not any(_object_created_in(doc.get(*rule) or {}, names, key) for rule in rules if rule is not None):
                return (
                    False,
                    "its S3 source does not poll, and no EventBridge rule on its object's Object Created starts it "
                    "through a role EventBridge may assume and that may start this pipeline",
                )
    return True, "every non-polling S3 source is started by an event rule"


def _may_start(doc: Document, role_value: Any, pipeline_arn: str) -> bool:
    """The target's role trusts EventBridge and may start the pipeline."""
    target = doc.referenced(role_value, "aws_iam_role")
    statements = doc.role_statements(role_value)
    if target is None or statements is None:
        return False
    trust = doc.policy_statements((doc.get(*target) or {}).get("assume_role_policy"))
    trusted = any(
        s.get("Effect", "Allow") == "Allow"
        and "events.amazonaws.com" in listed((s.get("Principal") or {}).get("Service"))
        for s in trust
    )
    return trusted and allows(statements, "codepipeline:StartPipelineExecution", pipeline_arn)


def _object_created_in(rule: dict, bucket_names: set[str], key: Any) -> bool:
    """An EventBridge rule's pattern matches S3's Object Created events of this bucket's `key`."""
    try:
        pattern = json.loads(rule.get("event_pattern") or "{}")
    except json.JSONDecodeError:
        return False
    detail = pattern.get("detail") or {}
    named = set(listed((detail.get("bucket") or {}).get("name")))
    keys = listed((detail.get("object") or {}).get("key"))
    return (
        "aws.s3" in listed(pattern.get("source"))
        and "Object Created" in listed(pattern.get("detail-type"))
        and bool(named & bucket_names)
        and (not keys or key in keys)
    )


def _names_cluster(doc: Document, value: Any, cluster: str) -> bool:
    literal = (doc.get("aws_ecs_cluster", cluster) or {}).get("name")
    return value in (f"${{aws_ecs_cluster.{cluster}.name}}", f"${{aws_ecs_cluster.{cluster}.id}}", literal)


def _resource_via_arn(doc: Document, value: Any, rtype: str) -> tuple[str, dict] | None:
    target = doc.referenced(value, rtype)
    if target is None:
        return None
    found = doc.get(*target)
    return (target[1], found) if found is not None else None


def task_ceiling_fits_hosts(doc: Document, rtype: str, name: str, others: list[Document]) -> Verdict:
    """ECS leaves tasks PROVISIONING that no host can place: a service's scaling ceiling must
    fit the host group's ceiling times the tasks one host takes (CPU, memory, and in awsvpc
    mode its ENIs: one per task, one for the host; modules/instances.py)."""
    target = doc.get(rtype, name) or {}
    if target.get("service_namespace") != "ecs":
        return True, "not an ECS service"
    resource_id = target.get("resource_id") or ""
    service_ref = re.search(r"\$\{aws_ecs_service\.([A-Za-z0-9_-]+)\.name\}", resource_id)
    service = doc.get("aws_ecs_service", service_ref.group(1)) if service_ref else None
    if service is None:
        return False, "its service is not in this workspace"
    strategies = blocks(service.get("capacity_provider_strategy"))
    if not strategies and service.get("launch_type") not in ("FARGATE", "EXTERNAL"):
        # No strategy of its own: the cluster's default places it (or an EC2 launch type).
        cluster = doc.referenced(service.get("cluster"), "aws_ecs_cluster")
        strategies = [
            s
            for c in doc.resources("aws_ecs_cluster_capacity_providers").values()
            if cluster is not None and _names_cluster(doc, c.get("cluster_name"), cluster[1])
            for s in blocks(c.get("default_capacity_provider_strategy"))
        ]
        if not strategies:
            return (
                False,
                "its tasks are placed on EC2 hosts that no capacity provider here names, so nothing sizes them",
            )
    providers = [doc.referenced(s.get("capacity_provider"), "aws_ecs_capacity_provider") for s in strategies]
    ec2 = [p for p in providers if p is not None]
    if not ec2:
        names = [str(s.get("capacity_provider")) for s in strategies]
        if all(n in ("FARGATE", "FARGATE_SPOT") for n in names):
            return True, "Fargate places every task"
        return False, f"capacity providers {names} are not in this workspace, so nothing sizes their hosts"
    task = _resource_via_arn(doc, service.get("task_definition"), "aws_ecs_task_definition")
    if task is None:
        return False, "its task definition is not in this workspace"
    cpu, memory = int(task[1]["cpu"]), int(task[1]["memory"])
    awsvpc = task[1].get("network_mode") == "awsvpc"
    capacity = 0
    notes = []
    for provider in ec2:
        body = doc.get(*provider) or {}
        asg_arn = next(iter(blocks(body.get("auto_scaling_group_provider"))), {}).get("auto_scaling_group_arn")
        group = _resource_via_arn(doc, asg_arn, "aws_autoscaling_group")
        if group is None:
            return False, "its capacity provider's host group is not in this workspace"
        template_ref = next(iter(blocks(group[1].get("launch_template"))), {}).get("id")
        template = _resource_via_arn(doc, template_ref, "aws_launch_template")
        instance_type = (template[1] if template else {}).get("instance_type")
        if instance_type not in INSTANCE_TYPES:
            return False, f"its hosts' instance type {instance_type!r} is not in modules/instances.py"
        per_host, binding = tasks_per_host(instance_type, cpu, memory, awsvpc=awsvpc)
        hosts = int(group[1]["max_size"])
        capacity += hosts * per_host
        notes.append(f"{hosts} x {instance_type} at {per_host} per host ({binding} binds)")
    ceiling = int(target["max_capacity"])
    if ceiling > capacity:
        return False, f"{ceiling} tasks allowed, but {' + '.join(notes)} place {capacity}"
    return True, f"{ceiling} tasks fit {' + '.join(notes)}"


def cloudfront_alias_without_health(doc: Document, rtype: str, name: str, others: list[Document]) -> Verdict:
    """Route 53 does not evaluate target health of a CloudFront alias: it refuses
    EvaluateTargetHealth true for one."""
    record = doc.get(rtype, name) or {}
    for alias in blocks(record.get("alias")):
        zone, target = alias.get("zone_id"), alias.get("name")
        cloudfront = (
            zone == CLOUDFRONT_ZONE_ID
            or doc.referenced(zone, "aws_cloudfront_distribution") is not None
            or (isinstance(target, str) and target.rstrip(".").endswith(".cloudfront.net"))
            or doc.referenced(target, "aws_cloudfront_distribution") is not None
        )
        if cloudfront and truthy(alias.get("evaluate_target_health")):
            return False, "a CloudFront alias with evaluate_target_health true"
    return True, "no CloudFront alias evaluates health"


def _container_environment(task: dict) -> list[dict[str, str]]:
    definitions = task.get("container_definitions")
    try:
        containers = json.loads(definitions) if isinstance(definitions, str) else definitions
    except json.JSONDecodeError:
        return []
    return [{str(e.get("name")): str(e.get("value")) for e in blocks(c.get("environment"))} for c in blocks(containers)]


def uploads_acl_fits_bucket(doc: Document, rtype: str, name: str, others: list[Document]) -> Verdict:
    """S3-Uploads writes each upload with S3_UPLOADS_OBJECT_ACL (public-read when unset); a
    bucket with ACLs disabled (BucketOwnerEnforced) refuses every ACL but
    bucket-owner-full-control (AccessControlListNotSupported)."""
    task = doc.get(rtype, name) or {}
    for environment in _container_environment(task):
        target = environment.get("S3_UPLOADS_BUCKET")
        if not target:
            continue
        bucket = _bucket_in(doc, target.split("/", 1)[0])
        # S3 disables ACLs on new buckets (BucketOwnerEnforced) unless ownership controls say otherwise.
        ownership = [
            r.get("object_ownership")
            for o in doc.resources("aws_s3_bucket_ownership_controls").values()
            if bucket is not None and _bucket_in(doc, o.get("bucket")) == bucket
            for r in blocks(o.get("rule"))
        ]
        enforced = not ownership or "BucketOwnerEnforced" in ownership
        acl = environment.get("S3_UPLOADS_OBJECT_ACL")
        if enforced and acl not in ACL_FREE_UPLOADS:
            return False, (
                f"uploads to a bucket with ACLs disabled with S3_UPLOADS_OBJECT_ACL {acl!r} "
                f"(S3-Uploads sends public-read when unset; the bucket accepts {' or '.join(ACL_FREE_UPLOADS)})"
            )
        if acl == "none" and not image.registers_filter(UPLOADS_ACL_HOOK):
            return False, (
                f"S3_UPLOADS_OBJECT_ACL 'none' but the image's source ({image.APP_DIR}) registers no "
                f"{UPLOADS_ACL_HOOK} filter that drops the ACL: S3-Uploads would send x-amz-acl: none, which S3 refuses"
            )
    return True, "uploads carry an ACL their bucket accepts"


Rule = Callable[[Document, str, str, list[Document]], Verdict]


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    resource_type: str
    rule: Rule


CHECKS: tuple[Check, ...] = (
    Check("CKV_SURGE_1", "Active tracing has X-Ray permissions", "aws_lambda_function", tracing_has_xray_permissions),
    Check(
        "CKV_SURGE_2",
        "An organization trail has an organization with CloudTrail access",
        "aws_cloudtrail",
        organization_trail_has_organization,
    ),
    Check(
        "CKV_SURGE_3",
        "Same-account Config delivery has the recorder role's permissions",
        "aws_config_delivery_channel",
        same_account_config_delivery,
    ),
    Check("CKV_SURGE_4", "A non-polling S3 pipeline source has a trigger", "aws_codepipeline", s3_source_is_triggered),
    Check(
        "CKV_SURGE_5",
        "The task ceiling fits the hosts' ENIs, CPU and memory",
        "aws_appautoscaling_target",
        task_ceiling_fits_hosts,
    ),
    Check(
        "CKV_SURGE_6",
        "No health evaluation on CloudFront aliases",
        "aws_route53_record",
        cloudfront_alias_without_health,
    ),
    Check(
        "CKV_SURGE_7",
        "S3 uploads carry an ACL their ACL-less bucket accepts",
        "aws_ecs_task_definition",
        uploads_acl_fits_bucket,
    ),
)
