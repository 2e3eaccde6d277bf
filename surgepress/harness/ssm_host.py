"""A pytest-testinfra backend that runs commands on an EC2 instance through SSM Run Command.

The ECS container instances have no public address, no SSH daemon exposed and no key pair;
their instance role carries AmazonSSMManagedInstanceCore (modules/compute), so the SSM agent
already on the ECS-optimized AMI takes commands over its own outbound connection. Each
command is an `AWS-RunShellScript` document sent to one instance and polled, through the
harness's `wait_for`, until it ends.

    host = ssm_host(instance_id, clients.get("ssm"))
    assert host.service("ecs").is_running
"""

from __future__ import annotations

from typing import Any

import testinfra.host
from testinfra.backend.base import BaseBackend, CommandResult

from surgepress.harness import retry, wait_for

COMMAND_TIMEOUT_S = 120
RUNNING = ("Pending", "InProgress", "Delayed")


class SsmBackend(BaseBackend):
    NAME = "ssm"

    def __init__(self, instance_id: str, ssm: Any, **kwargs: Any) -> None:
        self.instance_id = instance_id
        self.ssm = ssm
        super().__init__(instance_id, **kwargs)

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        command = self.get_command(command, *args)
        sent = retry(
            lambda: self.ssm.send_command(
                InstanceIds=[self.instance_id],
                DocumentName="AWS-RunShellScript",
                Parameters={"commands": [command]},
                TimeoutSeconds=COMMAND_TIMEOUT_S,
            ),
            f"send {command!r}",
        )
        command_id = sent["Command"]["CommandId"]
        invocation = wait_for(
            f"SSM command {command_id} ({command!r}) on {self.instance_id}",
            lambda: retry(
                lambda: self.ssm.get_command_invocation(CommandId=command_id, InstanceId=self.instance_id),
                "get_command_invocation",
            ),
            until=lambda answer: answer["Status"] not in RUNNING,
            timeout_s=COMMAND_TIMEOUT_S,
        )
        return self.result(
            int(invocation.get("ResponseCode", -1)),
            self.encode(command),
            invocation.get("StandardOutputContent", ""),
            invocation.get("StandardErrorContent", ""),
        )


def ssm_host(instance_id: str, ssm: Any) -> testinfra.host.Host:
    return testinfra.host.Host(SsmBackend(instance_id, ssm))
