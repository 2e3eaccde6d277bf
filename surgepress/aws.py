"""boto3 sessions in a workspace's account, the way the provider gets them: assume its role.

On the local target the base identity is the emulator's operator (its endpoint and keys come
from the emulator's environment); on aws it is whatever the environment provides.
"""

from __future__ import annotations

from collections.abc import Mapping

import boto3

from surgepress.config import Workspace

SESSION_NAME = "surgepress-cli"


def base_session(env: Mapping[str, str], region: str) -> boto3.Session:
    keys = {}
    if env.get("AWS_ACCESS_KEY_ID"):
        keys = {
            "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": env.get("AWS_SESSION_TOKEN") or None,
        }
    return boto3.Session(region_name=region, **keys)


def role_session(env: Mapping[str, str], role_arn: str, region: str, name: str = SESSION_NAME) -> boto3.Session:
    sts = base_session(env, region).client("sts", endpoint_url=env.get("AWS_ENDPOINT_URL") or None)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def endpoint_for(env: Mapping[str, str], service: str) -> str | None:
    """The endpoint a client of `service` uses: `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`,
    else AWS's own (None). The local emulator serves S3 over TLS on an endpoint of its own."""
    return env.get(f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}") or env.get("AWS_ENDPOINT_URL") or None


def client(session: boto3.Session, env: Mapping[str, str], service: str, region: str | None = None):
    """A client the way Terraform's provider reaches the service: its endpoint, and the CA
    bundle `AWS_CA_BUNDLE` names (the emulator's), else the default trust store."""
    return session.client(
        service, region_name=region, endpoint_url=endpoint_for(env, service), verify=env.get("AWS_CA_BUNDLE") or None
    )


class WorkspaceClients:
    """boto3 clients in one workspace's account: `clients.get("ssm")`, `clients.get("cloudfront", "us-east-1")`."""

    def __init__(self, ws: Workspace, env: Mapping[str, str]) -> None:
        self.workspace = ws
        self.endpoint = env.get("AWS_ENDPOINT_URL") or None
        self._env = dict(env)
        self._sessions: dict[str, boto3.Session] = {}

    def session(self, region: str | None = None) -> boto3.Session:
        region = region or self.workspace.region
        if region not in self._sessions:
            self._sessions[region] = role_session(self._env, self.workspace.role_arn, region)
        return self._sessions[region]

    def get(self, service: str, region: str | None = None):
        env = {**self._env, "AWS_ENDPOINT_URL": self.endpoint or ""}
        return client(self.session(region), env, service)
