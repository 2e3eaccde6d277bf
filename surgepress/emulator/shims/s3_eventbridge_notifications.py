"""S3: a bucket that sends its events to EventBridge says so when asked.

moto keeps `EventBridgeConfiguration` from PutBucketNotificationConfiguration but leaves it
out of GetBucketNotificationConfiguration, so the provider reads `eventbridge = false` back
and every plan wants to turn it on again. S3 answers an empty `EventBridgeConfiguration`
element for such a bucket, beside its topic, queue and function configurations.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    from moto.core.responses import ActionResult
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        answer = original(self)
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return answer
        # moto answers the other configurations already; add the element S3 answers with them.
        result = {
            "TopicConfigurations": [_item(t, "TopicArn") for t in configuration.topic],
            "QueueConfigurations": [_item(q, "QueueArn") for q in configuration.queue],
            "LambdaFunctionConfigurations": [_item(c, "LambdaFunctionArn") for c in configuration.cloud_function],
            "EventBridgeConfiguration": {},
        }
        self.data["Action"] = "GetBucketNotificationConfiguration"
        return self.serialized(ActionResult(result))

    S3Response.get_bucket_notification = get_bucket_notification


def _item(item: Any, arn_key: str) -> dict[str, Any]:
    config: dict[str, Any] = {"Id": item.id, arn_key: item.arn, "Events": item.events}
    if item.filters:
        config["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
    return config
