"""Budgets: subscribers of a notification, and tags of a budget.

moto stores each notification's subscribers but has no `DescribeSubscribersForNotification`,
which the provider reads for every notification of a budget, and no tagging API
(`ListTagsForResource`, `TagResource`, `UntagResource`), which it reads for every budget.
"""

from __future__ import annotations

import json
from typing import Any

MATCHED = ("NotificationType", "ComparisonOperator", "ThresholdType")
TAGS = "surgepress_budget_tags"


def same_notification(stored: dict[str, Any], asked: dict[str, Any]) -> bool:
    """As AWS matches a notification: its type, operator, threshold and threshold type."""
    return all(stored.get(k) == asked.get(k) for k in MATCHED) and float(stored.get("Threshold", 0)) == float(
        asked.get("Threshold", 0)
    )


def install() -> None:
    from moto.budgets.exceptions import NotFoundException
    from moto.budgets.responses import BudgetsResponse

    def tags(self: Any) -> dict[str, dict[str, str]]:
        return self.backend.__dict__.setdefault(TAGS, {})

    def describe_subscribers_for_notification(self: Any) -> str:
        account_id, name = self._get_param("AccountId"), self._get_param("BudgetName")
        asked = self._get_param("Notification")
        budget = self.backend.budgets.get(account_id, {}).get(name)
        if budget is None:
            raise NotFoundException(f"Unable to get subscribers - the budget {name} doesn't exist.")
        for notification in budget.notifications:
            if same_notification(notification.details, asked):
                return json.dumps({"Subscribers": notification.subscribers})
        raise NotFoundException("Unable to get subscribers - the notification doesn't exist.")

    def list_tags_for_resource(self: Any) -> str:
        found = tags(self).get(self._get_param("ResourceARN"), {})
        return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in sorted(found.items())]})

    def tag_resource(self: Any) -> str:
        entry = tags(self).setdefault(self._get_param("ResourceARN"), {})
        entry.update({t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []})
        return json.dumps({})

    def untag_resource(self: Any) -> str:
        entry = tags(self).setdefault(self._get_param("ResourceARN"), {})
        for key in self._get_param("ResourceTagKeys") or []:
            entry.pop(key, None)
        return json.dumps({})

    original_create = BudgetsResponse.create_budget

    def create_budget(self: Any) -> str:
        result = original_create(self)
        name = (self._get_param("Budget") or {}).get("BudgetName")
        given = self._get_param("ResourceTags") or []
        if given:
            arn = f"arn:aws:budgets::{self._get_param('AccountId')}:budget/{name}"
            tags(self).setdefault(arn, {}).update({t["Key"]: t["Value"] for t in given})
        return result

    for function in (
        describe_subscribers_for_notification,
        list_tags_for_resource,
        tag_resource,
        untag_resource,
        create_budget,
    ):
        setattr(BudgetsResponse, function.__name__, function)
