"""The local data plane: the deployed platform running for real on loopback.

On the embedded AWS a deploy creates the control plane only. For each environment workspace
this package starts, from Debian's packages and under `<build>/dataplane/<workspace>/`:

    database   mariadbd      the Aurora cluster (its database, user, password, TLS rule)
    cache      redis-server  the ElastiCache group (its AUTH token, TLS)
    app        php-fpm       WordPress, configured only by the task definition's env + secrets
    web        nginx         the container's web server (static files, PHP via php-fpm)
    lb         nginx         the ALB, from its listeners, rules and target group
    s3-origin  python        the media bucket as origin access control reaches it (signed)
    edge       nginx         CloudFront, from the distribution's behaviours and policies

Everything is read from the deployment (see `discover`); deployed host names are mapped to
loopback ports, the one thing the local target has to translate. Ports are chosen free once
and recorded with every pid in `state.json`; `up` twice keeps what runs and restarts only a
service whose configuration changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from surgepress import image
from surgepress.aws import WorkspaceClients
from surgepress.config import Workspace
from surgepress.dataplane import render
from surgepress.dataplane.discover import (
    WORDPRESS_KEYS,
    WORDPRESS_REQUIRED_ENV,
    Deployment,
    DiscoveryError,
    discover,
    failover_records,
)
from surgepress.dataplane.packages import MissingPackage, Toolchain, find_toolchain
from surgepress.dataplane.render import Layout, OriginServer, Ports, Rendered
from surgepress.dataplane.tls import LocalCa, TlsError
from surgepress.processes import free_port, is_running, listening, spawn, stop
from surgepress.targets import REPO_ROOT, Paths

ASSETS = Path(__file__).resolve().parent / "wordpress"  # the local installer (the image's come from app/)
OBJECT_CACHE_DROP_IN = "wp-content/object-cache.php"
SERVICES = ("database", "cache", "app", "web", "lb", "s3-origin", "edge")
EDGE_SERVICES = ("s3-origin", "edge")
RELOADABLE = ("web", "lb", "edge")  # nginx: a changed configuration is reloaded in place
# The Ports field each service is checked on (the load balancer and edge: their HTTPS side).
LISTEN_PORT = {
    "database": "database",
    "cache": "cache",
    "app": "app",
    "web": "web",
    "lb": "lb_https",
    "s3-origin": "s3_origin",
    "edge": "edge_https",
}
READY_TIMEOUT_S = {"database": 90.0}
DEFAULT_READY_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.1
HTTP_TIMEOUT_S = 5.0
ADMIN_USER = "surgepress-admin"
SAMPLE_POSTS = 30
INSTALL_TIMEOUT_S = 180.0
TASK_CPU_UNITS_PER_VCPU = 1024


class DataPlaneError(Exception):
    """The data plane could not start; the message names the service or the missing piece."""


def dataplane_workspaces(workspaces) -> list[Workspace]:
    """Workspaces that run a site: a database, a cache, compute, and a CDN or (a replica) its source's."""
    return [ws for ws in workspaces if ws.database and ws.cache and ws.compute and (ws.cdn or ws.replica_of)]


@dataclass
class ServiceState:
    name: str
    pid: int | None
    port: int
    marker: str
    config_hash: str


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # running | dead | stopped
    pid: int | None
    port: int
    health: str


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        os.chmod(path, mode)
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _identifier(value: str, what: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", value):
        raise DataPlaneError(f"database {what} {value!r} is not a plain identifier")
    return value


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


class DataPlane:
    """One environment workspace's data plane."""

    def __init__(
        self,
        paths: Paths,
        ws: Workspace,
        env: Mapping[str, str],
        *,
        boot_id: str = "",
        say: Callable[[str], None] = print,
    ) -> None:
        self.paths = paths
        self.workspace = ws
        self.env = dict(env)
        self.boot_id = boot_id
        self.say = say
        self.root = paths.build / "dataplane" / ws.name
        self.state_file = self.root / "state.json"
        self.layout = Layout(self.root, run_as_root=os.geteuid() == 0)

    # --- state ------------------------------------------------------------------------------

    def _load(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict) -> None:
        _write(self.state_file, json.dumps(state, indent=2, sort_keys=True) + "\n", 0o600)

    def _services(self, state: dict) -> dict[str, ServiceState]:
        return {name: ServiceState(**s) for name, s in state.get("services", {}).items()}

    @property
    def admin_password_file(self) -> Path:
        return self.root / "admin-password"

    # --- public -----------------------------------------------------------------------------

    def up(
        self, outputs: Mapping, *, object_cache: bool = True, writer: bool = True, only: tuple[str, ...] | None = None
    ) -> dict:
        """Start (or keep) every service; returns the recorded state.

        `writer=False` (a global database's secondary) leaves WordPress's install to the writer:
        its data arrives by replication (`reconcile_site`). `only` limits the (re)starts to those
        services (a drill rolls the app or re-points the edge, and never revives a dead database)."""
        started = time.monotonic()
        try:
            tools = find_toolchain()
        except MissingPackage as exc:
            raise DataPlaneError(str(exc)) from None
        try:
            deployment = discover(WorkspaceClients(self.workspace, self.env), outputs)
        except DiscoveryError as exc:
            raise DataPlaneError(str(exc)) from None
        app_env = self._application_environment(deployment)  # fails before anything starts
        state = self._load()
        if state.get("boot_id") != self.boot_id or state.get("cluster") != deployment.database.endpoint:
            if state:
                self.say(
                    f"dataplane {self.workspace.name}: the deployment changed since the last start; "
                    "starting over with empty data"
                )
            self.down(quiet=True)
            shutil.rmtree(self.root, ignore_errors=True)
            state = {}
        ports = self._ports(state)
        state.update(
            boot_id=self.boot_id,
            cluster=deployment.database.endpoint,
            ports=asdict(ports),
            object_cache=object_cache,
            admin_user=ADMIN_USER,
            database_name=deployment.database.name,
            health_path=deployment.load_balancer.health_path,
            site_domain=deployment.site_domain,
            load_balancer=deployment.load_balancer.dns_name,
            region=deployment.region,
            origin_domain=deployment.edge.origin_domain if deployment.edge else None,
        )
        state.setdefault("services", {})
        self._save(state)
        try:
            self._certificates(tools, deployment)
            self._docroot(tools, object_cache)
        except (TlsError, OSError) as exc:
            raise DataPlaneError(f"dataplane {self.workspace.name}: {exc}") from None
        endpoints = self._endpoint_map(deployment, ports)
        wordpress_env = self._localised(app_env, endpoints, deployment)
        vcpus = deployment.task.cpu_units / TASK_CPU_UNITS_PER_VCPU
        plan: list[tuple[str, Rendered, list[str], dict[str, str], str]] = []
        d, layout = deployment, self.layout
        base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        configs = {
            "database": (render.mariadb(d, ports, layout), "my.cnf"),
            "cache": (render.redis(d, ports, layout), "redis.conf"),
            "app": (render.php_fpm(d, ports, layout, vcpus, image.source_digest()), "php-fpm.conf"),
            "web": (render.web(d, ports, layout), "nginx.conf"),
            "lb": (render.load_balancer(d, ports, layout), "nginx.conf"),
        }
        if d.edge:
            configs["edge"] = (render.edge(d, ports, layout, self._origins(d, ports)), "nginx.conf")
        secret_names = {"cache": "auth.conf", "lb": "rules.conf", "edge": "origin-headers.conf"}
        for name in self._services_of(d):
            home = layout.service(name)
            (home / "tmp").mkdir(parents=True, exist_ok=True)
            if name == "s3-origin":
                argv = [
                    sys.executable,
                    "-m",
                    "surgepress.dataplane.s3_origin",
                    "--port",
                    str(ports.s3_origin),
                    "--bucket",
                    d.edge.media_bucket,
                    "--region",
                    d.region,
                    "--role-arn",
                    self.workspace.role_arn,
                ]
                # An empty value means "unset" in the emulator's environment (AWS_PROFILE, say).
                env = {**base_env, **{k: v for k, v in self.env.items() if v}, "PYTHONPATH": str(REPO_ROOT)}
                plan.append((name, Rendered(" ".join(argv)), argv, env, f"--port {ports.s3_origin}"))
                continue
            rendered, file_name = configs[name]
            config = home / file_name
            _write(config, rendered.text)
            if name in secret_names:
                _write(home / "secrets" / secret_names[name], rendered.secret, 0o600)
                os.chmod(home / "secrets", 0o700)
            argv = {
                "database": [tools["mariadbd"], f"--defaults-file={config}"],
                "cache": [tools["redis-server"], str(config)],
                "app": [
                    tools["php-fpm"],
                    "--nodaemonize",
                    "--fpm-config",
                    str(config),
                    *(["--allow-to-run-as-root"] if layout.run_as_root else []),
                ],
            }.get(name, [tools["nginx"], "-e", str(home / "error.log"), "-p", str(home), "-c", str(config)])
            # php-fpm reads the image's PHP settings after Debian's own (the leading ":").
            php_env = {**base_env, **wordpress_env, "PHP_INI_SCAN_DIR": f":{image.APP_DIR / 'php'}"}
            env = php_env if name == "app" else base_env
            plan.append((name, rendered, argv, env, str(config)))
        kept = restarted = reloaded = 0
        for name, rendered, argv, env, marker in plan:
            if only is not None and name not in only:
                continue
            port = getattr(ports, LISTEN_PORT[name])
            config_hash = hashlib.sha256(
                (rendered.text + rendered.secret + json.dumps(env, sort_keys=True)).encode()
            ).hexdigest()
            current = self._services(state).get(name)
            if current and is_running(current.pid, current.marker) and current.config_hash == config_hash:
                kept += 1
            elif current and current.pid and name in RELOADABLE and is_running(current.pid, current.marker):
                os.kill(current.pid, signal.SIGHUP)  # nginx re-reads its configuration without a gap
                state["services"][name] = asdict(ServiceState(name, current.pid, port, marker, config_hash))
                self._save(state)
                reloaded += 1
            else:
                if current:
                    stop(current.pid, current.marker)
                if name == "database":
                    self._initialise_database(tools, marker)
                pid = self._start(name, argv, env, port, marker)
                state["services"][name] = asdict(ServiceState(name, pid, port, marker, config_hash))
                self._save(state)
                restarted += 1
            if name == "database":
                self._ensure_database_user(tools, d, marker)
            if name == "web" and writer:
                self._install_wordpress(tools, wordpress_env, d)
        entry = (
            f"https://127.0.0.1:{ports.edge_https} (edge), origin on " if d.edge else "its source's edge; origin on "
        )
        self.say(
            f"dataplane {self.workspace.name}: {restarted} started, {kept} kept running"
            f"{f' ({reloaded} reloaded)' if reloaded else ''} in {time.monotonic() - started:.1f}s; site "
            f"https://{d.site_domain} on {entry}https://127.0.0.1:{ports.lb_https} (lb)"
        )
        return state

    def down(self, *, quiet: bool = False) -> int:
        """Stop every recorded process (edge first); returns how many were running."""
        state = self._load()
        stopped = 0
        for name in reversed(SERVICES):
            service = self._services(state).get(name)
            if service and stop(service.pid, service.marker):
                stopped += 1
        if state.get("services"):
            state["services"] = {}
            self._save(state)
        if not quiet:
            self.say(f"dataplane {self.workspace.name}: stopped {stopped} service(s)")
        return stopped

    def status(self) -> list[ServiceStatus]:
        state = self._load()
        services = self._services(state)
        ports = state.get("ports", {})
        result = []
        names = SERVICES if state.get("origin_domain", True) else tuple(n for n in SERVICES if n not in EDGE_SERVICES)
        for name in names:
            service = services.get(name)
            if service is None:
                result.append(ServiceStatus(name, "stopped", None, 0, "-"))
                continue
            alive = is_running(service.pid, service.marker)
            answering = alive and listening(service.port)
            health = "-"
            if answering:
                health = self._health(name, ports, state)
            result.append(
                ServiceStatus(
                    name,
                    "running" if answering else "dead",
                    service.pid,
                    service.port,
                    health if answering else ("not listening" if alive else "process gone"),
                )
            )
        return result

    def edge_endpoint(self) -> tuple[str, str, str] | None:
        """(URL, Host header, CA file) of the running edge, or None."""
        state = self._load()
        edge = self._services(state).get("edge")
        if edge is None or not is_running(edge.pid, edge.marker):
            return None
        return f"https://127.0.0.1:{state['ports']['edge_https']}", state["site_domain"], str(self.layout.ca)

    def task_endpoint(self) -> tuple[str, str, int] | None:
        """(URL, Host header, php-fpm's master pid) of the running task stand-in (the container's
        web server and PHP, behind no load balancer and no edge), or None."""
        state = self._load()
        services = self._services(state)
        web, app = services.get("web"), services.get("app")
        if web is None or app is None or app.pid is None:
            return None
        if not is_running(web.pid, web.marker) or not is_running(app.pid, app.marker):
            return None
        return f"http://127.0.0.1:{state['ports']['web']}", state["site_domain"], app.pid

    # --- pieces -----------------------------------------------------------------------------

    def _ports(self, state: dict) -> Ports:
        recorded = state.get("ports") or {}
        chosen: dict[str, int] = {}
        for field_name in Ports.__dataclass_fields__:
            port = recorded.get(field_name)
            if not port or port in chosen.values():
                port = free_port()
                while port in chosen.values():
                    port = free_port()
            chosen[field_name] = port
        return Ports(**chosen)

    def _application_environment(self, d: Deployment) -> dict[str, str]:
        """The container's environment: the task definition's `environment` and `secrets`."""
        env = {**d.task.environment, **d.task.secrets}
        missing = [name for name in (*WORDPRESS_REQUIRED_ENV, *WORDPRESS_KEYS) if not env.get(name)]
        if missing:
            raise DataPlaneError(
                f"dataplane {self.workspace.name}: task definition {d.task.family} does not give "
                f"WordPress {', '.join(missing)} (in `environment` or `secrets`)"
            )
        return env

    def _endpoint_map(self, d: Deployment, ports: Ports) -> dict[str, int]:
        """Deployed host names -> the loopback port of the service standing in for them."""
        return {
            d.database.endpoint: ports.database,
            d.database.reader_endpoint: ports.database,
            d.cache.primary_endpoint: ports.cache,
            d.cache.reader_endpoint: ports.cache,
        }

    def _localised(self, env: dict[str, str], endpoints: dict[str, int], d: Deployment) -> dict[str, str]:
        """The task's env with deployed endpoints pointed at loopback.

        `X_HOST=<endpoint>` with a sibling `X_PORT` becomes 127.0.0.1 and the local port;
        without one (WORDPRESS_DB_HOST), `127.0.0.1:<port>`, the host:port form WordPress reads.
        """
        local = dict(env)
        for name, value in env.items():
            host, _, _ = value.partition(":")
            if host not in endpoints:
                continue
            sibling = name[: -len("_HOST")] + "_PORT" if name.endswith("_HOST") else None
            if sibling and sibling in env:
                local[name], local[sibling] = "127.0.0.1", str(endpoints[host])
            else:
                local[name] = f"127.0.0.1:{endpoints[host]}"
        return local

    def _certificates(self, tools: Toolchain, d: Deployment) -> None:
        tls = self.root / "tls"
        ca = LocalCa(self.layout.ca_dir, tools["openssl"]).ensure()
        ca.issue(tls, "database", [d.database.endpoint, d.database.reader_endpoint])
        ca.issue(tls, "cache", [d.cache.primary_endpoint, d.cache.reader_endpoint])
        ca.issue(
            tls,
            "lb",
            [*d.load_balancer.certificate_names, *([d.edge.origin_domain] if d.edge else []), d.load_balancer.dns_name],
        )
        if d.edge:
            ca.issue(tls, "edge", [*d.edge.aliases, d.edge.domain_name])

    def _services_of(self, d: Deployment) -> tuple[str, ...]:
        """A replica's set has no edge and no media origin: its source's edge serves the site."""
        return SERVICES if d.edge else tuple(name for name in SERVICES if name not in EDGE_SERVICES)

    def _origins(self, d: Deployment, ports: Ports) -> tuple[OriginServer, ...]:
        """Route 53's answer for the origin name, in failover order, as local load balancer ports.

        Without failover records the origin is this environment's own load balancer."""
        records = failover_records(WorkspaceClients(self.workspace, self.env), d.edge.origin_domain)
        if not records:
            return ()
        running = local_load_balancers(self.paths)
        running[_normal(d.load_balancer.dns_name)] = (ports.lb_https, self.workspace.name)
        failover = self.workspace.failover
        fail_timeout = failover.unhealthy_minutes * 60 if failover else render.DEFAULT_FAIL_TIMEOUT_S
        origins = []
        for record in records:  # PRIMARY first
            found = running.get(_normal(record.target))
            if found:
                origins.append(
                    OriginServer(found[0], f"{found[1]} {record.set_identifier} {record.role}", fail_timeout)
                )
        return tuple(origins)

    def _docroot(self, tools: Toolchain, object_cache: bool) -> None:
        """Debian's WordPress copied into the build dir, with the image's wp-config.php."""
        docroot = self.layout.docroot
        version = (tools.wordpress / "wp-includes" / "version.php").read_text()
        marker = docroot / ".surgepress-wordpress"
        if not marker.is_file() or marker.read_text() != hashlib.sha256(version.encode()).hexdigest():
            shutil.rmtree(docroot, ignore_errors=True)
            shutil.copytree(tools.wordpress, docroot, symlinks=True)
            marker.write_text(hashlib.sha256(version.encode()).hexdigest())
        # The image's additions to WordPress (app/wordpress/), as the image has them.
        for name in image.wordpress_files():
            if name == OBJECT_CACHE_DROP_IN and not object_cache:
                (docroot / name).unlink(missing_ok=True)
                continue
            _write(docroot / name, (image.APP_DIR / image.WORDPRESS_FILES / name).read_text(), 0o640)
        shutil.copyfile(ASSETS / "install.php", docroot / "surgepress-install.php")
        (docroot / "wp-content" / "uploads").mkdir(parents=True, exist_ok=True)

    def _start(self, name: str, argv: list[str], env: dict[str, str], port: int, marker: str) -> int:
        home = self.layout.service(name)
        log = home / "process.log"
        proc = spawn(argv, log=log, cwd=home, env=env)
        deadline = time.monotonic() + READY_TIMEOUT_S.get(name, DEFAULT_READY_TIMEOUT_S)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise DataPlaneError(
                    f"dataplane {self.workspace.name}: {name} exited with code {proc.returncode} "
                    f"while starting: {_tail(log)} (logs in {home})"
                )
            if listening(port):
                return proc.pid
            time.sleep(POLL_INTERVAL_S)
        stop(proc.pid, marker)
        raise DataPlaneError(
            f"dataplane {self.workspace.name}: {name} did not listen on 127.0.0.1:{port} within "
            f"{READY_TIMEOUT_S.get(name, DEFAULT_READY_TIMEOUT_S):.0f}s (logs in {home})"
        )

    def _initialise_database(self, tools: Toolchain, config: str) -> None:
        data = self.layout.service("database") / "data"
        if (data / "mysql").is_dir():
            return
        user = ["--user=root"] if self.layout.run_as_root else []
        proc = subprocess.run(
            [
                tools["mariadb-install-db"],
                f"--defaults-file={config}",
                *user,
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise DataPlaneError(
                f"dataplane {self.workspace.name}: mariadb-install-db failed: "
                f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:]}"
            )

    def _ensure_database_user(self, tools: Toolchain, d: Deployment, config: str) -> None:
        """The cluster's database and master user, with its password from SSM; TLS required."""
        db, user = _identifier(d.database.name, "name"), _identifier(d.database.user, "user")
        account = f"'{user}'@'127.0.0.1'"
        require = " REQUIRE SSL" if d.database.require_tls else ""
        sql = "\n".join(
            [
                "SET SESSION sql_log_bin = 0;",  # each server's own account, never replicated
                f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET {d.database.charset} COLLATE utf8mb4_unicode_ci;",
                f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {_sql_string(d.database.password)};",
                f"ALTER USER {account} IDENTIFIED BY {_sql_string(d.database.password)}{require};",
                f"GRANT ALL PRIVILEGES ON `{db}`.* TO {account};",
                "",
            ]
        )
        proc = subprocess.run(
            [tools["mariadb"], f"--defaults-file={config}", "--user=root"], input=sql, capture_output=True, text=True
        )  # the password goes on stdin, never argv
        if proc.returncode != 0:
            raise DataPlaneError(
                f"dataplane {self.workspace.name}: could not create database {db} and user "
                f"{user}: {proc.stderr.strip().splitlines()[-1:]}"
            )

    def _install_wordpress(self, tools: Toolchain, env: dict[str, str], d: Deployment) -> None:
        password_file = self.admin_password_file
        if not password_file.is_file():
            _write(password_file, secrets.token_urlsafe(24) + "\n", 0o600)
        docroot = self.layout.docroot
        argv = [
            tools["php"],
            "-d",
            f"openssl.cafile={self.layout.ca}",
            str(docroot / "surgepress-install.php"),
            ADMIN_USER,
            f"admin@{d.site_domain}",
            f"surgepress {self.workspace.name}",
            str(SAMPLE_POSTS),
        ]
        try:
            proc = subprocess.run(
                argv,
                cwd=docroot,
                input=password_file.read_text().strip(),
                capture_output=True,
                text=True,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
                timeout=INSTALL_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise DataPlaneError(
                f"dataplane {self.workspace.name}: WordPress install did not finish within {INSTALL_TIMEOUT_S:.0f}s"
            ) from None
        answer = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
        try:
            result = json.loads(answer[0]) if answer else None
        except ValueError:
            result = None
        if proc.returncode != 0 or result is None:
            detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
            raise DataPlaneError(f"dataplane {self.workspace.name}: WordPress install failed: {' | '.join(detail)}")
        if result["installed"]:
            self.say(
                f"dataplane {self.workspace.name}: WordPress installed; admin {result['admin']}, "
                f"password in {password_file} (mode 600), {result['posts']} sample posts"
            )

    def _health(self, name: str, ports: dict, state: dict) -> str:
        """What an operator wants to know per service beyond 'listening'."""
        if name == "web":
            return _http_status(f"http://127.0.0.1:{ports['web']}{self._health_path(state)}", "target")
        if name == "lb":
            return _http_status(f"https://127.0.0.1:{ports['lb_https']}/", "without origin secret", ca=self.layout.ca)
        if name == "edge":
            return _http_status(f"https://127.0.0.1:{ports['edge_https']}/", "site", ca=self.layout.ca)
        return "listening"

    def _health_path(self, state: dict) -> str:
        return state.get("health_path", "/")


def reconcile_site(
    paths: Paths,
    site,
    env: Mapping[str, str],
    *,
    diverged: frozenset[str] = frozenset(),
    say: Callable[[str], None] = print,
) -> dict[str, str]:
    """Make both regions' MariaDB agree with the emulator's global cluster (see `replication`)."""
    from surgepress.dataplane.replication import Node, ReplicationError, reconcile, replication_password
    from surgepress.drill.topology import read_topology

    topology = read_topology(site, env)
    nodes = {ws.name: Node.of(ws.name, paths.build / "dataplane" / ws.name) for ws in site.sides}
    for node in nodes.values():
        _identifier(node.database, "name")  # it goes into SQL
    shared = Layout(paths.build / "dataplane" / site.source.name).ca_dir
    try:
        roles = reconcile(
            nodes,
            writer=topology.writer,
            settled=topology.settled,
            ca=shared / "ca.pem",
            password=replication_password(shared),
            diverged=diverged,
        )
    except ReplicationError as exc:
        raise DataPlaneError(f"dataplane replication: {exc}") from None
    say(
        "dataplane replication (global cluster "
        + topology.identifier
        + ", "
        + topology.status
        + "): "
        + "; ".join(f"{name} {role}" for name, role in roles.items())
    )
    return roles


def _normal(dns_name: str) -> str:
    """A load balancer's name as Route 53 aliases and ELB spell it alike."""
    return dns_name.lower().rstrip(".").removeprefix("dualstack.")


def local_load_balancers(paths: Paths) -> dict[str, tuple[int, str]]:
    """Every running data plane's load balancer: deployed DNS name -> (local HTTPS port, workspace)."""
    found = {}
    for state_file in (paths.build / "dataplane").glob("*/state.json"):
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            continue
        lb = state.get("services", {}).get("lb")
        if state.get("load_balancer") and lb and is_running(lb["pid"], lb["marker"]):
            found[_normal(state["load_balancer"])] = (state["ports"]["lb_https"], state_file.parent.name)
    return found


def _http_status(url: str, label: str, ca: Path | None = None) -> str:
    context = ssl.create_default_context(cafile=str(ca)) if ca else None
    if context:
        context.check_hostname = False  # loopback; the chain is still verified against the local CA
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=HTTP_TIMEOUT_S) as response:
            return f"{label} {response.status}"
    except urllib.error.HTTPError as error:
        return f"{label} {error.code}"
    except OSError as error:
        return f"{label} unreachable ({error})"
