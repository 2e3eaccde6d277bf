"""SNS topics as every module makes them: a rotating key of their own, which only the named
AWS services may use to publish (and only for this account), and a topic policy that lets
those services publish and the account administer the topic.
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from constructs import Construct

from modules.kms import customer_key


def encrypted_topic(
    scope: Construct,
    id: str,
    *,
    name: str,
    account_id: str,
    publishers: tuple[str, ...],
    description: str,
    tags: dict[str, str],
) -> SnsTopic:
    """`publishers`: service principals such as `events.amazonaws.com`."""
    source = {"StringEquals": {"aws:SourceAccount": account_id}}
    key = customer_key(
        scope,
        f"{id}-key",
        description=description,
        account_id=account_id,
        tags=tags,
        statements=(
            {
                "Sid": "ServicesPublishThroughTheKey",
                "Effect": "Allow",
                "Principal": {"Service": list(publishers)},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": source,
            },
        ),
    )
    topic = SnsTopic(scope, id, name=name, kms_master_key_id=key.arn, tags=tags)
    SnsTopicPolicy(
        scope,
        f"{id}-policy",
        arn=topic.arn,
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AccountAdministers",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                        "Action": [
                            "sns:GetTopicAttributes",
                            "sns:SetTopicAttributes",
                            "sns:AddPermission",
                            "sns:RemovePermission",
                            "sns:DeleteTopic",
                            "sns:Subscribe",
                            "sns:ListSubscriptionsByTopic",
                            "sns:Publish",
                        ],
                        "Resource": topic.arn,
                    },
                    {
                        "Sid": "ServicesPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": list(publishers)},
                        "Action": "sns:Publish",
                        "Resource": topic.arn,
                        "Condition": source,
                    },
                ],
            }
        ),
    )
    return topic
