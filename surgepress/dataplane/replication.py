"""The local stand-in for an Aurora Global Database's storage replication: GTID replication
between the two regions' MariaDB servers, always following the emulator's global cluster.

`reconcile` makes the servers agree with the global cluster's roles:
    - while the global cluster is switching or failing over, every server is fenced
      read-only (Aurora refuses writes during the move too);
    - once it settles, the writer's server stops replicating and takes writes; every other
      server is read-only and replicates from it. A server that has never been seeded, or
      that holds writes the writer never got (the old writer after a failover that allowed
      data loss), is reseeded from a consistent dump of the writer at a known GTID position,
      the way Aurora rebuilds a recovered region's cluster from the new primary's storage.

Replication runs over TLS with the data plane's CA, as a user that exists on every server
(created without binary logging), whose password is a mode-600 file next to the CA.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from surgepress.dataplane.packages import find_toolchain
from surgepress.processes import is_running

REPLICATION_USER = "surgepress_repl"
SQL_TIMEOUT_S = 60.0
START_CHECK_S = 3.0
DUMP_POSITION = re.compile(r"gtid_slave_pos\s*=\s*'([^']*)'")


class ReplicationError(Exception):
    """A server could not take the role the global cluster gives it; the message says which."""


@dataclass
class Node:
    """One environment's MariaDB, reached as root over its unix socket."""

    workspace: str
    root: Path  # the environment's data plane directory
    database: str  # the schema the site uses (replicated)

    @classmethod
    def of(cls, workspace: str, root: Path) -> Node:
        """The node of a data plane directory, with the schema its state records."""
        database = cls(workspace, root, "")._state().get("database_name") or "wordpress"
        return cls(workspace, root, database)

    @property
    def config(self) -> Path:
        return self.root / "database" / "my.cnf"

    def _state(self) -> dict:
        import json

        try:
            return json.loads((self.root / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    @property
    def port(self) -> int:
        return int(self._state().get("ports", {}).get("database", 0))

    @property
    def running(self) -> bool:
        service = self._state().get("services", {}).get("database")
        return bool(service) and is_running(service["pid"], service["marker"])

    def sql(self, statement: str, *, timeout: float = SQL_TIMEOUT_S) -> list[dict[str, str]]:
        """Run statements; the last result set as rows of column -> value (NULL as "")."""
        tools = find_toolchain()
        try:
            proc = subprocess.run(
                [tools["mariadb"], f"--defaults-file={self.config}", "--user=root", "--batch", "--raw"],
                input=statement,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ReplicationError(f"{self.workspace}: database did not answer within {timeout:.0f}s") from None
        if proc.returncode != 0:
            raise ReplicationError(f"{self.workspace}: {proc.stderr.strip().splitlines()[-1:]}")
        lines = [line.split("\t") for line in proc.stdout.splitlines()]
        if not lines:
            return []
        header = lines[0]
        return [dict(zip(header, ["" if v == "NULL" else v for v in row], strict=False)) for row in lines[1:]]

    def value(self, expression: str) -> str:
        rows = self.sql(f"SELECT {expression} AS v;")
        return rows[0]["v"] if rows else ""

    def replica_status(self) -> dict[str, str]:
        rows = self.sql("SHOW SLAVE STATUS;")
        return rows[0] if rows else {}

    def ensure_replication_user(self, password: str) -> None:
        self.sql(
            "SET SESSION sql_log_bin = 0;\n"
            f"CREATE USER IF NOT EXISTS '{REPLICATION_USER}'@'127.0.0.1' IDENTIFIED BY '{password}' REQUIRE SSL;\n"
            f"ALTER USER '{REPLICATION_USER}'@'127.0.0.1' IDENTIFIED BY '{password}' REQUIRE SSL;\n"
            f"GRANT REPLICATION SLAVE ON *.* TO '{REPLICATION_USER}'@'127.0.0.1';\n"
        )

    def fence(self) -> None:
        self.sql("SET GLOBAL read_only = 1;")

    def promote(self) -> None:
        self.sql("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0;")

    def lag_s(self) -> float | None:
        """Seconds behind its source (None when it does not replicate)."""
        status = self.replica_status()
        if status.get("Slave_IO_Running") != "Yes" or status.get("Slave_SQL_Running") != "Yes":
            return None
        return float(status.get("Seconds_Behind_Master") or 0)

    def catch_up(self, writer: Node, timeout_s: float) -> bool:
        """Wait until every write the writer has logged is applied here."""
        position = writer.value("@@gtid_binlog_pos")
        if not position:
            return True
        return self.value(f"MASTER_GTID_WAIT('{position}', {timeout_s:.1f})") == "0"

    def has_schema(self) -> bool:
        rows = self.sql(f"SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = '{self.database}';")
        return bool(rows) and rows[0]["n"] != "0"


def _change_master(writer: Node, ca: Path, password: str) -> str:
    return (
        f"CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {writer.port}, "
        f"MASTER_USER = '{REPLICATION_USER}', MASTER_PASSWORD = '{password}', MASTER_SSL = 1, "
        f"MASTER_SSL_CA = '{ca}', MASTER_SSL_VERIFY_SERVER_CERT = 1, MASTER_USE_GTID = slave_pos;"
    )


def replication_password(directory: Path) -> str:
    path = directory / "replication-password"
    if not path.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _healthy_follower(node: Node, writer: Node) -> bool:
    status = node.replica_status()
    return (
        status.get("Master_Port") == str(writer.port)
        and status.get("Slave_IO_Running") == "Yes"
        and status.get("Slave_SQL_Running") == "Yes"
    )


def _follow(node: Node, writer: Node, ca: Path, password: str) -> None:
    """Replicate from where this server is (a demoted writer, a stopped replica)."""
    node.sql(
        "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL gtid_slave_pos = @@gtid_current_pos;\n"
        + _change_master(writer, ca, password)
        + "\nSTART SLAVE;"
    )


def _seed(node: Node, writer: Node, ca: Path, password: str) -> None:
    """A consistent dump of the writer's schema at a GTID position, then replicate from there."""
    tools = find_toolchain()
    proc = subprocess.run(
        [
            tools["mariadb-dump"],
            f"--defaults-file={writer.config}",
            "--user=root",
            "--single-transaction",
            "--gtid",
            "--master-data=2",
            "--databases",
            writer.database,
        ],
        capture_output=True,
        text=True,
        timeout=SQL_TIMEOUT_S * 5,
    )
    if proc.returncode != 0:
        raise ReplicationError(
            f"{writer.workspace}: dump for {node.workspace} failed: {proc.stderr.strip().splitlines()[-1:]}"
        )
    found = DUMP_POSITION.search(proc.stdout)
    if found is None:
        raise ReplicationError(f"{writer.workspace}: its dump names no GTID position (is binary logging on?)")
    # Its binary log starts at the dump's position, so it can feed the others from there once it writes.
    node.sql(
        f"STOP SLAVE; RESET SLAVE ALL; RESET MASTER; SET GLOBAL gtid_binlog_state = '{found.group(1)}';\n"
        f"SET SESSION sql_log_bin = 0; DROP DATABASE IF EXISTS `{node.database}`;\n" + proc.stdout + "\n"
        f"SET GLOBAL gtid_slave_pos = '{found.group(1)}';\n" + _change_master(writer, ca, password) + "\nSTART SLAVE;",
        timeout=SQL_TIMEOUT_S * 5,
    )


def _started(node: Node) -> bool:
    deadline = time.monotonic() + START_CHECK_S
    while time.monotonic() < deadline:
        status = node.replica_status()
        if status.get("Last_IO_Errno", "0") not in ("", "0") or status.get("Last_SQL_Errno", "0") not in ("", "0"):
            return False
        if status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes":
            return True
        time.sleep(0.2)
    return False


def reconcile(
    nodes: dict[str, Node],
    *,
    writer: str | None,
    settled: bool,
    ca: Path,
    password: str,
    diverged: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Give each running server its role; returns workspace -> what it is now."""
    roles: dict[str, str] = {}
    running = {name: node for name, node in nodes.items() if node.running}
    for name in nodes:
        if name not in running:
            roles[name] = "down"
    for node in running.values():
        node.ensure_replication_user(password)
    if not settled or writer is None:
        for name, node in running.items():
            node.fence()
            roles[name] = "fenced (global cluster is moving)"
        return roles
    if writer not in running:
        for name, node in running.items():
            node.fence()
            roles[name] = f"fenced (the writer, {writer}, is down)"
        return roles
    source = running[writer]
    source.promote()
    roles[writer] = "writer"
    for name, node in running.items():
        if name == writer:
            continue
        node.fence()
        if name not in diverged and _healthy_follower(node, source):
            roles[name] = f"replica of {writer}"
            continue
        if name in diverged or not node.has_schema():
            _seed(node, source, ca, password)
            how = "reseeded"
        else:
            _follow(node, source, ca, password)
            how = "following"
            if not _started(node):  # it has writes the writer lacks: rebuild it from the writer
                _seed(node, source, ca, password)
                how = "reseeded"
        if not _started(node):
            status = node.replica_status()
            raise ReplicationError(
                f"{name}: replication from {writer} did not start: "
                f"{status.get('Last_IO_Error') or status.get('Last_SQL_Error') or 'no error given'}"
            )
        roles[name] = f"replica of {writer} ({how})"
    return roles
