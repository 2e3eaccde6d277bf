"""Who the CLI acts as, and where state lives: checked before anything is planned or changed.

- The caller identity: the operator's credentials work, each workspace's role can be
  assumed, and the identity it gives is in that workspace's account (the provider's
  `allowed_account_ids` would stop Terraform too, but only after init and refresh).
- The state bucket: every workspace's state lives in it (`python main.py bootstrap` makes
  it); the state store also moves the bucket workspace's own state in and out of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from surgepress.aws import WorkspaceClients, base_session
from surgepress.config import Settings, Workspace
from surgepress.errors import ConfigError, UserError
from surgepress.targets import Target

IDENTITY_CHECKS_AT_ONCE = 8


def _error_code(exc: Exception) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__


def aws_error_line(exc: Exception, tried: str = "") -> str:
    """One line for an AWS refusal: what was tried (the call, or `tried`), the code, AWS's words."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        what = tried or f"AWS {exc.operation_name}"
        message = " ".join(str(error.get("Message", "")).split())
        return f"{what}: refused ({error.get('Code', 'unknown')}{': ' + message if message else ''})"
    # botocore's own errors (ParamValidationError: a value AWS would refuse, caught before sending)
    return f"{tried or 'an AWS call'}: {' '.join(str(exc).split())}"


def check_identities(settings: Settings, workspaces: list[Workspace], env: Mapping[str, str], target: Target) -> None:
    """Stop with one line unless every workspace's role gives an identity in its own account."""
    state_ws = settings.state_workspace
    endpoint = env.get("AWS_ENDPOINT_URL") or None
    try:
        caller = base_session(env, state_ws.region).client("sts", endpoint_url=endpoint).get_caller_identity()
    except (NoCredentialsError, ClientError, BotoCoreError) as exc:
        raise UserError(
            f"no usable AWS credentials for --target {target.value} ({_error_code(exc)}); "
            "sign in (e.g. aws sso login) or export AWS_PROFILE"
        ) from None
    if target is Target.LOCAL and caller["Account"] != state_ws.state.account_id:
        # The emulator's operator was started for another configuration.
        raise ConfigError(
            state_ws.file,
            "state.account_id",
            f"the running emulator's operator identity is in account {caller['Account']}; "
            "stop it (`python main.py emulator down`) or restore the account",
            state_ws.state.account_id,
        )
    ordered = [state_ws, *[w for w in workspaces if w is not state_ws]]

    def identity(ws: Workspace) -> dict | Exception:
        try:
            return WorkspaceClients(ws, env).get("sts").get_caller_identity()
        except (ClientError, BotoCoreError) as exc:
            return exc

    # Each role is asked at once (STS answers in parallel); the first problem in order is the one said.
    with ThreadPoolExecutor(max_workers=min(IDENTITY_CHECKS_AT_ONCE, len(ordered))) as pool:
        answers = list(pool.map(identity, ordered))
    for ws, answer in zip(ordered, answers, strict=True):
        if isinstance(answer, Exception):
            raise ConfigError(
                ws.file, "role_name", f"cannot assume {ws.role_arn} ({_error_code(answer)})", ws.role_name
            ) from None
        if answer["Account"] != ws.account_id:
            raise ConfigError(
                ws.file,
                "account_id",
                f"assuming {ws.role_arn} gives an identity in account {answer['Account']} ({answer['Arn']})",
                ws.account_id,
            )


LOCK_SUFFIX = ".tflock"  # the S3 backend's native lock (use_lockfile): an object beside the state


class StateStore:
    """The state bucket, reached the way the S3 backend reaches it (the state account's role)."""

    def __init__(self, settings: Settings, env: Mapping[str, str]) -> None:
        self.workspace = settings.state_workspace
        self.bucket = self.workspace.state.bucket
        self._s3 = WorkspaceClients(self.workspace, env).get("s3", self.workspace.state.region)

    def exists(self) -> bool:
        try:
            self._s3.head_bucket(Bucket=self.bucket)
            return True
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise UserError(aws_error_line(exc, self._tried("HeadBucket"))) from None
        except BotoCoreError as exc:
            raise UserError(aws_error_line(exc, self._tried("HeadBucket"))) from None

    def require(self) -> None:
        if not self.exists():
            ws = self.workspace
            raise UserError(
                f"state bucket {self.bucket} does not exist in account {ws.state.account_id} "
                f"({ws.state.region}); run `python main.py bootstrap` first"
            )

    def _tried(self, call: str, key: str = "") -> str:
        return f"state bucket {self.bucket}: {call} {key} as {self.workspace.role_arn}".replace("  ", " ")

    def holds(self, ws: Workspace) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=ws.state_key)
            return True
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise UserError(aws_error_line(exc, self._tried("HeadObject", ws.state_key))) from None
        except BotoCoreError as exc:
            raise UserError(aws_error_line(exc, self._tried("HeadObject", ws.state_key))) from None

    def document(self, ws: Workspace, key: str | None = None) -> str:
        """A workspace's Terraform state (or another object of it, e.g. its lock) as the S3 backend keeps it."""
        key = key or ws.state_key
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()
        except (ClientError, BotoCoreError) as exc:
            raise UserError(aws_error_line(exc, self._tried("GetObject", key))) from None

    def lock(self, ws: Workspace) -> dict | None:
        """The workspace's state lock (the S3 backend's `<key>.tflock` object), or None when unlocked."""
        key = ws.state_key + LOCK_SUFFIX
        try:
            text = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise UserError(aws_error_line(exc, self._tried("GetObject", key))) from None
        except BotoCoreError as exc:
            raise UserError(aws_error_line(exc, self._tried("GetObject", key))) from None
        try:
            return dict(json.loads(text))
        except (ValueError, TypeError):
            raise UserError(f"state bucket {self.bucket}: {key} is not a Terraform lock (not JSON)") from None

    def outputs(self, ws: Workspace) -> dict[str, dict]:
        """The workspace's outputs ({name: {"value", ...}}) straight from its state, no terraform init."""
        if not self.holds(ws):
            raise UserError(f"{ws.name} has no state in s3://{self.bucket}/{ws.state_key}; is it deployed?")
        return json.loads(self.document(ws)).get("outputs", {})

    def empty(self) -> int:
        """Delete every object version and delete marker; returns how many. Local target only:
        on AWS the state bucket's history is kept and the bucket is removed by hand, if ever."""
        removed = 0
        for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": doomed, "Quiet": True})
                removed += len(doomed)
        return removed
