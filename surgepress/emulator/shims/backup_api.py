"""AWS Backup: backup selections, and tags read the way the Go SDK asks for them.

- moto has vaults and plans but no `CreateBackupSelection`, `GetBackupSelection`,
  `ListBackupSelections` or `DeleteBackupSelection`. A selection is kept per plan as AWS
  describes it (the request's `BackupSelection`, plus ids, the creation time and the creator
  request id); a plan that does not exist is a `ResourceNotFoundException`.
- moto finds the resource of `ListTags` as the path's second-to-last segment, which holds
  for boto3's `/tags/<arn>/` but not for the provider's `/tags/<arn>` (it then reads the
  tags of "tags": none, and every plan adds them again).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

SELECTIONS = "surgepress_backup_selections"
TAGS_PATH = re.compile(r"/tags/(?P<arn>[^?]+?)/?(\?.*)?$")
PATH = re.compile(r"/backup/plans/(?P<plan>[^/]+)/selections/?(?P<selection>[^/]*)/?$")


def install() -> None:
    from moto.backup.exceptions import BackupClientError
    from moto.backup.responses import BackupResponse

    def locate(self: Any) -> tuple[str, str, dict[str, dict[str, Any]]]:
        match = PATH.search(self.path.split("?")[0])
        plan_id, selection_id = match.group("plan"), match.group("selection")
        if plan_id not in self.backup_backend.plans:
            raise BackupClientError("ResourceNotFoundException", f"Failed reading backup plan {plan_id}")
        return plan_id, selection_id, self.backup_backend.__dict__.setdefault(SELECTIONS, {}).setdefault(plan_id, {})

    def create_backup_selection(self: Any) -> str:
        plan_id, _, selections = locate(self)
        body = json.loads(self.body or "{}")
        entry = {
            "SelectionId": str(uuid.uuid4()),
            "BackupPlanId": plan_id,
            "BackupSelection": body["BackupSelection"],
            "CreationDate": datetime.now(UTC).timestamp(),
            "CreatorRequestId": body.get("CreatorRequestId"),
        }
        selections[entry["SelectionId"]] = entry
        return json.dumps({key: entry[key] for key in ("SelectionId", "BackupPlanId", "CreationDate")})

    def get_backup_selection(self: Any) -> str:
        _, selection_id, selections = locate(self)
        if selection_id not in selections:
            raise BackupClientError("ResourceNotFoundException", f"Failed reading backup selection {selection_id}")
        return json.dumps(selections[selection_id])

    def delete_backup_selection(self: Any) -> str:
        _, selection_id, selections = locate(self)
        if selections.pop(selection_id, None) is None:
            raise BackupClientError("ResourceNotFoundException", f"Failed reading backup selection {selection_id}")
        return "{}"

    def list_backup_selections(self: Any) -> str:
        plan_id, _, selections = locate(self)
        return json.dumps(
            {
                "BackupSelectionsList": [
                    {
                        "SelectionId": e["SelectionId"],
                        "SelectionName": e["BackupSelection"]["SelectionName"],
                        "BackupPlanId": plan_id,
                        "CreationDate": e["CreationDate"],
                        "IamRoleArn": e["BackupSelection"]["IamRoleArn"],
                    }
                    for e in selections.values()
                ]
            }
        )

    def list_tags(self: Any) -> str:
        arn = unquote(TAGS_PATH.search(self.path).group("arn"))
        return json.dumps({"Tags": self.backup_backend.list_tags(resource_arn=arn)})

    for function in (
        create_backup_selection,
        get_backup_selection,
        delete_backup_selection,
        list_backup_selections,
        list_tags,
    ):
        setattr(BackupResponse, function.__name__, function)
