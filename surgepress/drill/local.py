"""What a drill does to the local data plane, so it follows the emulator's control plane.

On AWS the moves are made by AWS itself: Aurora moves its writer, ECS rolls tasks, Route 53
and CloudFront follow the records. On the embedded AWS the data plane stands in for all of
that, and this is where each drill step tells it to follow: replication roles from the
global cluster, apps restarted with their new SSM settings, the edge re-pointed at the
failover records' answer. `outage` and `end_outage` inject the unplanned case.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from surgepress.accounts import StateStore
from surgepress.config import Workspace
from surgepress.dataplane import DataPlaneError, reconcile_site
from surgepress.dataplane.packages import find_toolchain
from surgepress.dataplane.render import Layout
from surgepress.dataplane.replication import Node
from surgepress.drill.probes import DatabaseEndpoint, HeartbeatWriter, credentials_file
from surgepress.drill.topology import Site
from surgepress.emulator.shims.s3_replication import CONTROL_PATH
from surgepress.errors import UserError
from surgepress.processes import is_running

HTTP_TIMEOUT_S = 5.0
APP_SERVICES = ("app", "web")  # what an ECS deployment replaces: the task (php-fpm and its web server)


def replication_control(env, halted: bool | None = None) -> dict:
    """The emulator's bucket replication: its status, or halt (True) / resume (False) it."""
    body = None if halted is None else json.dumps({"halted": halted}).encode()
    request = urllib.request.Request(
        env["AWS_ENDPOINT_URL"].rstrip("/") + CONTROL_PATH, data=body, method="POST" if body else "GET"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT_S) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ValueError) as exc:
        raise DataPlaneError(f"emulator replication control: {exc}") from None


def outputs_of(session, ws: Workspace) -> dict:
    """A workspace's outputs, read from its state in the state bucket."""
    return StateStore(session.settings, session.env).outputs(ws)


class LocalSite:
    def __init__(self, session, site: Site) -> None:
        self.session, self.site = session, site
        self.paths, self.env = session.paths, session.env

    # --- state of the data plane ------------------------------------------------------------

    def _root(self, ws: Workspace) -> Path:
        return self.paths.build / "dataplane" / ws.name

    def _state(self, ws: Workspace) -> dict:
        try:
            return json.loads((self._root(ws) / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def node(self, ws: Workspace) -> Node:
        return Node.of(ws.name, self._root(ws))

    def require_running(self) -> None:
        for ws in self.site.sides:
            if not self._state(ws).get("services"):
                raise UserError(
                    f"drill: {ws.name}'s data plane is not running; run `python main.py dataplane up "
                    f"{' '.join(w.name for w in self.site.sides)}` first"
                )

    def healthy(self, ws: Workspace) -> tuple[bool, str]:
        """Every service of its set running, its database among them."""
        plane = self.session.dataplane(ws)
        statuses = plane.status()
        down = [f"{s.name} {s.health}" for s in statuses if s.state != "running"]
        if down:
            return False, (
                f"{ws.name}'s data plane: {', '.join(down)}; recover it with `python main.py dataplane up {ws.name}`"
            )
        return True, f"{ws.name}'s data plane: {len(statuses)} services running"

    def replication_lag(self, old: Workspace, new: Workspace, limit: int) -> tuple[bool, str]:
        lag = self.node(new).lag_s() if self.node(new).running else None
        s3 = self.replication_control()
        problems = []
        if lag is None:
            problems.append(f"{new.name}'s database does not replicate from {old.name}")
        elif lag > limit:
            problems.append(f"{new.name}'s database is {lag:.0f}s behind")
        if s3["halted"]:
            problems.append(f"bucket replication is halted with {s3['pending']} copies pending")
        detail = f"database {'-' if lag is None else f'{lag:.0f}s'}, buckets {s3['pending']} copies pending"
        return not problems, "; ".join(problems) or detail

    # --- following the control plane --------------------------------------------------------

    def reconcile(self, diverged: frozenset[str] = frozenset()) -> dict[str, str]:
        return reconcile_site(self.paths, self.site, self.env, diverged=diverged, say=lambda _m: None)

    def fence_and_catch_up(self, old: Workspace, new: Workspace, *, wait: bool) -> bool:
        """While the global cluster moves: no server takes writes; a switchover also waits until
        the new writer has every write the old one logged (Aurora's switchover does the same)."""
        self.reconcile()
        old_node, new_node = self.node(old), self.node(new)
        if wait and old_node.running and new_node.running and not new_node.catch_up(old_node, timeout_s=60):
            raise DataPlaneError(f"{new.name}'s database did not catch up with {old.name} within 60s")
        return True

    def refresh(self, ws: Workspace, *, writer: bool) -> str:
        """Roll the set's app with its current settings (what an ECS deployment does). A region
        whose database is down (an outage) is left as it is: nothing there rolls."""
        if not self.node(ws).running:
            return f"{ws.name}'s data plane is down: not rolled"
        self.session.dataplane(ws).up(outputs_of(self.session, ws), writer=writer, only=APP_SERVICES)
        return f"{ws.name}'s data plane rolled"

    def refresh_edge(self) -> None:
        """The edge re-reads the failover records (Route 53's answer) and reloads."""
        source = self.site.source
        self.session.dataplane(source).up(outputs_of(self.session, source), only=("edge",))

    def edge(self) -> tuple[str, str, Path]:
        endpoint = self.session.dataplane(self.site.source).edge_endpoint()
        if endpoint is None:
            raise UserError(f"drill: {self.site.source.name}'s edge is not running; run `python main.py dataplane up`")
        url, host, ca = endpoint
        return url, host, Path(ca)

    # --- writes -----------------------------------------------------------------------------

    def database_endpoint(self, ws: Workspace) -> DatabaseEndpoint:
        return DatabaseEndpoint(ws.name, self.node(ws).port)

    def heartbeats(self, run_id: str, clock: Callable[[], float], writer: Callable[[], Workspace]) -> HeartbeatWriter:
        from surgepress.aws import WorkspaceClients
        from surgepress.dataplane.discover import ssm_values

        source = self.site.source
        outputs = outputs_of(self.session, source)
        password_name = outputs["secret_parameter_names"]["value"]["db_master_password"]
        password = ssm_values(WorkspaceClients(source, self.env), [password_name])[password_name]
        user = outputs["cluster_master_username"]["value"]
        ca = Layout(self._root(source)).ca
        credentials = credentials_file(self.paths.build / "drill", user, password, ca)
        database = self.node(source).database
        return HeartbeatWriter(
            run_id, find_toolchain()["mariadb"], credentials, database, lambda: self.database_endpoint(writer()), clock
        )

    # --- the unplanned case -----------------------------------------------------------------

    def replication_control(self, halted: bool | None = None) -> dict:
        return replication_control(self.env, halted)

    def outage(self, old: Workspace, new: Workspace, *, lag_s: float) -> str:
        """Replication stops (database and buckets), writes go on for a moment, then the old
        primary's database dies: what a region failure looks like from the other region."""
        self.node(new).sql("STOP SLAVE;")
        self.replication_control(halted=True)
        time.sleep(lag_s)
        service = self._state(old).get("services", {}).get("database")
        if service and is_running(service["pid"], service["marker"]):
            os.kill(service["pid"], signal.SIGKILL)
        return (
            f"replication halted, writes went on {lag_s:.0f}s, then {old.name}'s database was killed "
            f"(pid {service['pid'] if service else '?'})"
        )

    def end_outage(self) -> str:
        status = self.replication_control(halted=False)
        return (
            f"  outage over: bucket replication resumed ({status['pending']} copies pending); recover the old "
            "primary's database with `python main.py dataplane up` (it is reseeded from the new writer)"
        )
