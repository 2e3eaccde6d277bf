"""Pipeline: the delivery pipeline that takes a commit to production.

What it creates
    - A source bucket (the repository's `source.zip` is uploaded there by the VCS hook) and an
      artifact bucket, both versioned and encrypted with the pipeline's own KMS key.
    - CodeBuild projects that install the tested Terraform release (`terraform_version`,
      checked against its SHA256SUMS), then run this project's own CLI, each writing to one
      KMS-encrypted log group:
        checks                synth, unit and policy tests (`pytest -m "unit or policy"`)
        image                 `python main.py images --push`: builds app/ with Docker (privileged
                              mode), pushes it to the registry under its tag (immutable, derived
                              from app/: an unchanged source is the image already there) and
                              fails on the scan's blocking findings; exports IMAGE_TAG
        deploy-<workspace>    `python main.py deploy <workspace> --image-tag $IMAGE_TAG`, which
                              waits for the service's rollout and fails when the deployment
                              circuit breaker rolls it back
        integration-<ws>      `python main.py test integration --target aws --workspace <ws>`
    - A CodePipeline: an EventBridge rule starts it when `source.zip` is written (the source
      bucket sends its events to EventBridge; the source does not poll), then Source ->
      Checks -> Image (when `build_image_stage`) -> for each of `deploy_workspaces` in order: a
      manual approval first when the workspace is in `approval_before`, its deploy of the tag
      the Image stage exported (`#{Image.IMAGE_TAG}`: every environment runs exactly what
      staging tested), then the integration tests when it is `test_workspace`.
    - Roles: the pipeline may start only these builds and use only these buckets and key; the
      builds may assume only the deployer role (`role_name`) in the organisation's accounts —
      the cross-account deploy path, the same one an operator's CLI takes.

Assumptions
    Each account's deployer role trusts this account's build role; account vending creates
    those roles (they exist before any workspace can be deployed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.codebuild_project import (
    CodebuildProject,
    CodebuildProjectArtifacts,
    CodebuildProjectEnvironment,
    CodebuildProjectEnvironmentEnvironmentVariable,
    CodebuildProjectLogsConfig,
    CodebuildProjectLogsConfigCloudwatchLogs,
    CodebuildProjectSource,
)
from cdktf_cdktf_provider_aws.codepipeline import (
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification
from constructs import Construct

from modules.buckets import bucket_policy, retention_lifecycle, secure_bucket
from modules.kms import customer_key
from modules.logs import encrypted_log_group
from modules.names import PIPELINE_BUCKETS, pipeline_bucket_name
from modules.outputs import export
from modules.policy import skip_check
from modules.roles import inline_policy, service_trust

SOURCE_OBJECT_KEY = "surgepress/source.zip"
TERRAFORM_RELEASES = "https://releases.hashicorp.com/terraform"


def install_commands(terraform_version: str) -> list[str]:
    """What a build installs first. CodeBuild's standard image has no Terraform: the release the
    project is tested with is fetched and checked against the release's SHA256SUMS (which
    guards a damaged download; HashiCorp's signature on the sums is not checked here)."""
    release = f"{TERRAFORM_RELEASES}/{terraform_version}"
    archive = f"terraform_{terraform_version}_linux_amd64.zip"
    return [
        f"curl -fsSLo /tmp/{archive} {release}/{archive}",
        f"curl -fsSLo /tmp/terraform_SHA256SUMS {release}/terraform_{terraform_version}_SHA256SUMS",
        f"cd /tmp && grep ' {archive}$' terraform_SHA256SUMS | sha256sum -c - && cd -",
        f"unzip -o -q /tmp/{archive} terraform -d /usr/local/bin && terraform version",
        "python3 -m pip install --quiet pipenv",
        "PIPENV_VENV_IN_PROJECT=1 python3 -m pipenv sync --dev",
        "npm ci --no-audit --no-fund",
    ]


PIPENV_RUN = "PIPENV_VENV_IN_PROJECT=1 python3 -m pipenv run"
IMAGE_STAGE = "Image"
IMAGE_TAG_VARIABLE = "IMAGE_TAG"
IMAGE_COMMANDS = (
    # An assignment alone fails the build when `images --tag` fails; `export X="$(…)"` would not.
    f'{IMAGE_TAG_VARIABLE}="$({PIPENV_RUN} python main.py images --tag)"',
    f"export {IMAGE_TAG_VARIABLE}",
    f"{PIPENV_RUN} python main.py images --push",
)


def buildspec(terraform_version: str, *commands: str, exported: tuple[str, ...] = ()) -> str:
    """Version 0.2: the commands share one shell, so a variable one exports reaches the next."""
    spec: dict = {"version": 0.2}
    if exported:
        spec["env"] = {"exported-variables": list(exported)}
    spec["phases"] = {
        "install": {"commands": install_commands(terraform_version)},
        "build": {"commands": list(commands)},
    }
    return json.dumps(spec, indent=2)


@dataclass(frozen=True)
class PipelineProps:
    name: str
    """Name prefix, e.g. `surgepress-management`."""
    account_id: str
    region: str
    deployer_role_arns: tuple[str, ...]
    """The deployer role of every account the builds reach (state and DNS included)."""
    deploy_workspaces: tuple[str, ...] = ("staging", "production")
    test_workspace: str = "staging"
    approval_before: tuple[str, ...] = ("production",)
    build_image: str = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
    terraform_version: str = "1.11.4"
    """Installed by every build (the write-only `*_wo` arguments need 1.11 or later)."""
    build_compute_type: str = "BUILD_GENERAL1_MEDIUM"
    artifact_retention_days: int = 30
    log_retention_days: int = 365
    build_image_stage: bool = False
    """An Image stage after Checks (the registry lives in this account): its tag is what deploys."""


class Pipeline(Construct):
    def __init__(self, scope: Construct, id: str, *, props: PipelineProps) -> None:
        super().__init__(scope, id)
        if props.test_workspace not in props.deploy_workspaces:
            raise ValueError(
                f"PipelineProps.test_workspace: must be one of deploy_workspaces, got {props.test_workspace!r}"
            )
        self._props = props
        tags = self._tags = {"Name": f"{props.name}-pipeline"}
        account, region = props.account_id, props.region
        self.key = customer_key(
            self, "key", description=f"{props.name} pipeline artifacts", account_id=account, tags=tags
        )
        self.buckets = {}
        for purpose in PIPELINE_BUCKETS:
            bucket = secure_bucket(
                self,
                f"{purpose}-bucket",
                name=pipeline_bucket_name(props.name, purpose, account),
                kms_key_arn=self.key.arn,
                tags={**tags, "Purpose": f"pipeline-{purpose}"},
            )
            skip_check(
                bucket,
                {
                    "CKV_AWS_18": "pipeline buckets hold build inputs and outputs only, written by the pipeline's "
                    "own roles; access logs would need a log bucket the management account does not have",
                    "CKV_AWS_144": "artifacts are rebuilt from the repository; a cross-region copy adds nothing",
                    **(
                        {}
                        if purpose == "source"
                        else {
                            "CKV2_AWS_62": "the pipeline writes and reads its artifacts; nothing consumes their events"
                        }
                    ),
                },
            )
            bucket_policy(self, f"{purpose}-policy", bucket, [])
            retention_lifecycle(
                self,
                f"{purpose}-lifecycle",
                bucket,
                noncurrent_days=props.artifact_retention_days,
                expire_current_days=props.artifact_retention_days if purpose == "artifacts" else None,
            )
            self.buckets[purpose] = bucket
        self.log_group, _ = encrypted_log_group(
            self,
            key_id="logs-key",
            group_id="logs",
            name=f"/aws/codebuild/{props.name}",
            region=region,
            account_id=account,
            retention_days=props.log_retention_days,
            description=f"{props.name} build logs",
            tags=tags,
        )
        self.build_role = IamRole(
            self,
            "build-role",
            name=f"{props.name}-build",
            tags=tags,
            assume_role_policy=service_trust("codebuild.amazonaws.com", source_account=account),
        )
        self.projects: dict[str, CodebuildProject] = {}
        self._project("checks", "synth, unit and policy tests", f"{PIPENV_RUN} pytest -m 'unit or policy'")
        if props.build_image_stage:
            # Docker needs privileged mode; the build pushes through the deployer role (no secret in any layer).
            self._project(
                "image",
                "build, scan and push the WordPress image",
                *IMAGE_COMMANDS,
                privileged=True,
                exported=(IMAGE_TAG_VARIABLE,),
            )
        tag = f' --image-tag "${IMAGE_TAG_VARIABLE}"' if props.build_image_stage else ""
        for workspace in props.deploy_workspaces:
            self._project(
                f"deploy-{workspace}", f"deploy {workspace}", f"{PIPENV_RUN} python main.py deploy {workspace}{tag}"
            )
        self._project(
            f"integration-{props.test_workspace}",
            f"integration tests on {props.test_workspace}",
            f"{PIPENV_RUN} python main.py test integration --workspace {props.test_workspace}",
        )
        inline_policy(
            self,
            "build-policy",
            role=self.build_role.id,
            name="build",
            statements=[
                {
                    "Sid": "Logs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{self.log_group.arn}:log-stream:*",
                },
                {
                    "Sid": "Artifacts",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                    "Resource": f"{self.buckets['artifacts'].arn}/*",
                },
                {
                    "Sid": "ArtifactKey",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                    "Resource": self.key.arn,
                },
                {
                    "Sid": "DeployThroughTheDeployerRoles",
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": sorted(props.deployer_role_arns),
                },
            ],
        )
        self.pipeline_role = IamRole(
            self,
            "pipeline-role",
            name=f"{props.name}-pipeline",
            tags=tags,
            assume_role_policy=service_trust("codepipeline.amazonaws.com", source_account=account),
        )
        inline_policy(
            self,
            "pipeline-policy",
            role=self.pipeline_role.id,
            name="pipeline",
            statements=[
                {
                    "Sid": "Buckets",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning", "s3:PutObject"],
                    "Resource": [b.arn for b in self.buckets.values()] + [f"{b.arn}/*" for b in self.buckets.values()],
                },
                {
                    "Sid": "Key",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                    "Resource": self.key.arn,
                },
                {
                    "Sid": "Builds",
                    "Effect": "Allow",
                    "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                    "Resource": [p.arn for p in self.projects.values()],
                },
            ],
        )
        self.pipeline = Codepipeline(
            self,
            "pipeline",
            name=props.name,
            role_arn=self.pipeline_role.arn,
            tags=tags,
            artifact_store=[
                CodepipelineArtifactStore(
                    location=self.buckets["artifacts"].bucket,
                    type="S3",
                    encryption_key=CodepipelineArtifactStoreEncryptionKey(id=self.key.arn, type="KMS"),
                )
            ],
            stage=self._stages(),
        )
        self._trigger(tags)
        export(
            self,
            {
                "pipeline_name": self.pipeline.name,
                "pipeline_source_bucket": self.buckets["source"].bucket,
                "pipeline_source_key": SOURCE_OBJECT_KEY,
            },
        )

    def _trigger(self, tags: dict[str, str]) -> None:
        """The source does not poll: each new source object starts the pipeline. The bucket sends
        its events to EventBridge, and a rule on Object Created for the source key starts the
        pipeline with a role that may do only that."""
        props, source = self._props, self.buckets["source"]
        S3BucketNotification(self, "source-events", bucket=source.id, eventbridge=True)
        rule = CloudwatchEventRule(
            self,
            "source-rule",
            name=f"{props.name}-source",
            description="a new source.zip starts the pipeline",
            tags=tags,
            event_pattern=json.dumps(
                {
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {"bucket": {"name": [source.bucket]}, "object": {"key": [SOURCE_OBJECT_KEY]}},
                }
            ),
        )
        role = IamRole(
            self,
            "start-role",
            name=f"{props.name}-pipeline-start",
            tags=tags,
            assume_role_policy=service_trust("events.amazonaws.com", source_account=props.account_id),
        )
        inline_policy(
            self,
            "start-policy",
            role=role.id,
            name="start-the-pipeline",
            statements=[
                {
                    "Effect": "Allow",
                    "Action": "codepipeline:StartPipelineExecution",
                    "Resource": self.pipeline.arn,
                }
            ],
        )
        CloudwatchEventTarget(
            self, "source-target", rule=rule.name, target_id="pipeline", arn=self.pipeline.arn, role_arn=role.arn
        )

    def _project(
        self, label: str, description: str, *commands: str, privileged: bool = False, exported: tuple[str, ...] = ()
    ) -> None:
        props = self._props
        project = self.projects[label] = CodebuildProject(
            self,
            f"project-{label}",
            name=f"{props.name}-{label}",
            description=description,
            service_role=self.build_role.arn,
            encryption_key=self.key.arn,
            build_timeout=90,
            tags=self._tags,
            artifacts=CodebuildProjectArtifacts(type="CODEPIPELINE"),
            source=CodebuildProjectSource(
                type="CODEPIPELINE", buildspec=buildspec(props.terraform_version, *commands, exported=exported)
            ),
            environment=CodebuildProjectEnvironment(
                compute_type=props.build_compute_type,
                image=props.build_image,
                type="LINUX_CONTAINER",
                privileged_mode=privileged,
                image_pull_credentials_type="CODEBUILD",
                environment_variable=[
                    CodebuildProjectEnvironmentEnvironmentVariable(name="SURGEPRESS_TARGET", value="aws")
                ],
            ),
            logs_config=CodebuildProjectLogsConfig(
                cloudwatch_logs=CodebuildProjectLogsConfigCloudwatchLogs(
                    group_name=self.log_group.name, stream_name=label
                )
            ),
        )
        if privileged:
            skip_check(
                project,
                {
                    "CKV_AWS_316": "the image build runs Docker, which CodeBuild allows only in privileged mode; "
                    "it builds app/ alone (no secret in the build, pushes through the deployer role)"
                },
            )

    def _build(
        self, label: str, run_order: int = 1, *, namespace: str | None = None, variables: dict[str, str] | None = None
    ) -> CodepipelineStageAction:
        configuration = {"ProjectName": self.projects[label].name}
        if variables:
            configuration["EnvironmentVariables"] = json.dumps(
                [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in sorted(variables.items())]
            )
        return CodepipelineStageAction(
            name=label,
            category="Build",
            owner="AWS",
            provider="CodeBuild",
            version="1",
            input_artifacts=["source"],
            run_order=run_order,
            namespace=namespace,
            configuration=configuration,
        )

    def _stages(self) -> list[CodepipelineStage]:
        props = self._props
        stages = [
            CodepipelineStage(
                name="Source",
                action=[
                    CodepipelineStageAction(
                        name="source",
                        category="Source",
                        owner="AWS",
                        provider="S3",
                        version="1",
                        output_artifacts=["source"],
                        configuration={
                            "S3Bucket": self.buckets["source"].bucket,
                            "S3ObjectKey": SOURCE_OBJECT_KEY,
                            "PollForSourceChanges": "false",
                        },
                    )
                ],
            ),
            CodepipelineStage(name="Checks", action=[self._build("checks")]),
        ]
        released = {}
        if props.build_image_stage:
            stages.append(CodepipelineStage(name=IMAGE_STAGE, action=[self._build("image", namespace=IMAGE_STAGE)]))
            released = {IMAGE_TAG_VARIABLE: f"#{{{IMAGE_STAGE}.{IMAGE_TAG_VARIABLE}}}"}
        for workspace in props.deploy_workspaces:
            if workspace in props.approval_before:
                stages.append(
                    CodepipelineStage(
                        name=f"Approve-{workspace}",
                        action=[
                            CodepipelineStageAction(
                                name="approve",
                                category="Approval",
                                owner="AWS",
                                provider="Manual",
                                version="1",
                                configuration={"CustomData": f"Integration tests passed; release to {workspace}?"},
                            )
                        ],
                    )
                )
            actions = [self._build(f"deploy-{workspace}", variables=released)]
            if workspace == props.test_workspace:
                actions.append(self._build(f"integration-{workspace}", run_order=2))
            stages.append(CodepipelineStage(name=f"Deploy-{workspace}", action=actions))
        return stages
