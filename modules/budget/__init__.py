"""Budget: a monthly cost budget with alerts into a KMS-encrypted SNS topic.

What it creates
    A topic `<name>-budget` that only AWS Budgets may publish to, and a monthly COST budget
    of `monthly_limit_usd` that alerts at each of `alert_thresholds_percent` of actual spend,
    and once more when the month's forecast passes 100 %. A workspace that shares its account
    (`account_wide: false`) counts only what carries its `Workspace` tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetCostFilter, BudgetsBudgetNotification
from constructs import Construct

from modules.notifications import encrypted_topic
from modules.outputs import export
from modules.roles import PlatformRole


@dataclass(frozen=True)
class BudgetProps:
    name: str
    account_id: str
    workspace: str
    account_wide: bool
    """Count the whole account (it is the workspace's own), or only the workspace's tag."""
    monthly_limit_usd: int = 1000
    alert_thresholds_percent: tuple[int, ...] = (50, 80, 100)
    role: PlatformRole = PlatformRole.PRIMARY


class Budget(Construct):
    def __init__(self, scope: Construct, id: str, *, props: BudgetProps) -> None:
        super().__init__(scope, id)
        tags = {"Name": f"{props.name}-budget", "PlatformRole": props.role.value}
        self.topic = encrypted_topic(
            self,
            "topic",
            name=f"{props.name}-budget",
            account_id=props.account_id,
            publishers=("budgets.amazonaws.com",),
            description=f"{props.name} budget alerts",
            tags=tags,
        )
        notifications = [
            BudgetsBudgetNotification(
                comparison_operator="GREATER_THAN",
                threshold=percent,
                threshold_type="PERCENTAGE",
                notification_type="ACTUAL",
                subscriber_sns_topic_arns=[self.topic.arn],
            )
            for percent in sorted(props.alert_thresholds_percent)
        ]
        notifications.append(
            BudgetsBudgetNotification(
                comparison_operator="GREATER_THAN",
                threshold=100,
                threshold_type="PERCENTAGE",
                notification_type="FORECASTED",
                subscriber_sns_topic_arns=[self.topic.arn],
            )
        )
        self.budget = BudgetsBudget(
            self,
            "budget",
            name=f"{props.name}-monthly",
            account_id=props.account_id,
            budget_type="COST",
            limit_amount=str(props.monthly_limit_usd),
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filter=None
            if props.account_wide
            else [BudgetsBudgetCostFilter(name="TagKeyValue", values=[f"user:Workspace${props.workspace}"])],
            notification=notifications,
            tags=tags,
        )
        export(self, {"budget_name": self.budget.name, "budget_topic_arn": self.topic.arn})
