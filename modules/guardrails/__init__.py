"""Guardrails: the security services every account runs, reporting to the security account.

What it creates (in the workspace's account and region)
    - GuardDuty: a detector publishing every `finding_publishing_frequency`; an EventBridge
      rule sends its findings to a KMS-encrypted SNS topic `<name>-security-findings`.
    - AWS Config: a recorder of all supported resource types (global types such as IAM only
      where `record_global_types`, once per account), its delivery channel into the log
      archive bucket (in the archive's own account, through the recorder's role, which gets
      the write and the key for it), the managed rules named in `config_rules`, and an authorisation for the
      security account's aggregator.
    - Security Hub with the AWS Foundational Security Best Practices standard.
    - With `account_trail_key`: the account's multi-region trail (management events, global
      services, log-file validation) into the log archive, encrypted with the archive's key,
      once per account (the workspace that owns its settings) while no organization trail
      covers the accounts.

Assumptions
    The log archive (security workspace) is deployed first: Config checks the bucket when the
    delivery channel is created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudtrail import Cloudtrail, CloudtrailEventSelector
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.config_aggregate_authorization import ConfigAggregateAuthorization
from cdktf_cdktf_provider_aws.config_config_rule import ConfigConfigRule, ConfigConfigRuleSource
from cdktf_cdktf_provider_aws.config_configuration_recorder import (
    ConfigConfigurationRecorder,
    ConfigConfigurationRecorderRecordingGroup,
)
from cdktf_cdktf_provider_aws.config_configuration_recorder_status import ConfigConfigurationRecorderStatus
from cdktf_cdktf_provider_aws.config_delivery_channel import (
    ConfigDeliveryChannel,
    ConfigDeliveryChannelSnapshotDeliveryProperties,
)
from cdktf_cdktf_provider_aws.guardduty_detector import GuarddutyDetector
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.securityhub_account import SecurityhubAccount
from cdktf_cdktf_provider_aws.securityhub_standards_subscription import SecurityhubStandardsSubscription
from constructs import Construct

from modules.names import config_role_name
from modules.notifications import encrypted_topic
from modules.outputs import export
from modules.policy import skip_check
from modules.roles import PlatformRole, inline_policy, service_trust

FSBP_STANDARD = "standards/aws-foundational-security-best-practices/v/1.0.0"
CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"


@dataclass(frozen=True)
class GuardrailsProps:
    name: str
    """Name prefix, e.g. `surgepress-staging`."""
    account_id: str
    region: str
    log_archive_bucket: str
    """The security account's log archive bucket (Config delivers there)."""
    log_archive_account_id: str
    """The security account (its aggregator is authorised here)."""
    log_archive_key_arn: str | None = None
    """Set when the archive is in this account: Config then delivers with the recorder's role,
    which gets s3:PutObject there and this key (AWS Config's bucket-permissions guide)."""
    record_global_types: bool = False
    account_trail_key: str | None = None
    """With it, an account trail into the log archive, encrypted with this key (the archive's
    key by its alias ARN): the account's own API activity, as no organization trail covers it."""
    """Record IAM and other global resources: once per account, in its primary workspace."""
    finding_publishing_frequency: str = "FIFTEEN_MINUTES"
    config_rules: tuple[str, ...] = ()
    """AWS managed Config rule identifiers, e.g. S3_BUCKET_SSL_REQUESTS_ONLY."""
    role: PlatformRole = PlatformRole.PRIMARY


class Guardrails(Construct):
    def __init__(self, scope: Construct, id: str, *, props: GuardrailsProps) -> None:
        super().__init__(scope, id)
        tags = {"Name": f"{props.name}-guardrails", "PlatformRole": props.role.value}
        self.detector = GuarddutyDetector(
            self, "guardduty", enable=True, tags=tags, finding_publishing_frequency=props.finding_publishing_frequency
        )
        skip_check(
            self.detector,
            {
                "CKV2_AWS_3": "each workspace with guardrails runs its own detector in its account and region; "
                "organisation auto-enable needs an AWS Organizations management account, which no workspace "
                "manages yet",
            },
        )
        self.findings_topic = encrypted_topic(
            self,
            "findings",
            name=f"{props.name}-security-findings",
            account_id=props.account_id,
            publishers=("events.amazonaws.com",),
            description=f"{props.name} security findings",
            tags=tags,
        )
        rule = CloudwatchEventRule(
            self,
            "findings-rule",
            name=f"{props.name}-security-findings",
            tags=tags,
            description="GuardDuty and Security Hub findings to SNS",
            event_pattern=json.dumps(
                {
                    "source": ["aws.guardduty", "aws.securityhub"],
                    "detail-type": ["GuardDuty Finding", "Security Hub Findings - Imported"],
                }
            ),
        )
        CloudwatchEventTarget(self, "findings-target", rule=rule.name, target_id="sns", arn=self.findings_topic.arn)

        role = IamRole(
            self,
            "config-role",
            name=config_role_name(props.name, props.region),
            tags=tags,
            assume_role_policy=service_trust("config.amazonaws.com", source_account=props.account_id),
        )
        IamRolePolicyAttachment(self, "config-role-policy", role=role.name, policy_arn=CONFIG_ROLE_POLICY)
        delivery_grant = []
        if props.log_archive_key_arn is not None:
            bucket_arn = f"arn:aws:s3:::{props.log_archive_bucket}"
            delivery_grant = [
                inline_policy(
                    self,
                    "config-delivery-policy",
                    role=role.id,
                    name="deliver-to-the-log-archive",
                    statements=[
                        {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": bucket_arn},
                        {
                            "Effect": "Allow",
                            "Action": "s3:PutObject",
                            "Resource": f"{bucket_arn}/AWSLogs/{props.account_id}/Config/*",
                            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                            "Resource": props.log_archive_key_arn,
                        },
                    ],
                )
            ]
        recorder = ConfigConfigurationRecorder(
            self,
            "config-recorder",
            name=props.name,
            role_arn=role.arn,
            recording_group=ConfigConfigurationRecorderRecordingGroup(
                all_supported=True, include_global_resource_types=props.record_global_types
            ),
        )
        if not props.record_global_types:
            skip_check(
                recorder,
                {
                    "CKV2_AWS_48": "global resources (IAM) are recorded once per account, by the recorder of the "
                    "workspace that owns the account's settings; twice would double every item",
                },
            )
        channel = ConfigDeliveryChannel(
            self,
            "config-delivery",
            name=props.name,
            s3_bucket_name=props.log_archive_bucket,
            snapshot_delivery_properties=ConfigDeliveryChannelSnapshotDeliveryProperties(
                delivery_frequency="TwentyFour_Hours"
            ),
            depends_on=[recorder, *delivery_grant],
        )
        status = ConfigConfigurationRecorderStatus(
            self, "config-recording", name=recorder.name, is_enabled=True, depends_on=[channel]
        )
        for identifier in props.config_rules:
            ConfigConfigRule(
                self,
                f"rule-{identifier.lower()}",
                name=f"{props.name}-{identifier.lower()}"[:128],
                source=ConfigConfigRuleSource(owner="AWS", source_identifier=identifier),
                depends_on=[status],
                tags=tags,
            )
        ConfigAggregateAuthorization(
            self, "config-aggregation", account_id=props.log_archive_account_id, region=props.region, tags=tags
        )

        if props.account_trail_key is not None:
            trail = Cloudtrail(
                self,
                "account-trail",
                name=f"{props.name}-account",
                s3_bucket_name=props.log_archive_bucket,
                kms_key_id=props.account_trail_key,
                is_multi_region_trail=True,
                include_global_service_events=True,
                enable_log_file_validation=True,
                enable_logging=True,
                event_selector=[CloudtrailEventSelector(read_write_type="All", include_management_events=True)],
                tags=tags,
            )
            skip_check(
                trail,
                {
                    "CKV_AWS_252": "no subscriber needs a notice per delivered log file; findings reach SNS through "
                    "GuardDuty and Security Hub (above)",
                    "CKV2_AWS_10": "the archive keeps this account's trail; the CloudWatch Logs copy for metric "
                    "filters is the security account's own trail's (modules/log_archive)",
                },
            )
        hub = SecurityhubAccount(self, "securityhub", enable_default_standards=False, auto_enable_controls=True)
        SecurityhubStandardsSubscription(
            self, "fsbp", depends_on=[hub], standards_arn=f"arn:aws:securityhub:{props.region}::{FSBP_STANDARD}"
        )
        export(
            self,
            {
                "guardduty_detector_id": self.detector.id,
                "security_findings_topic_arn": self.findings_topic.arn,
                "config_recorder_name": recorder.name,
            },
        )
