"""Configuration files of the data plane's services, rendered from a discovered Deployment.

Pure functions: (deployment, ports, directories) -> text. Anything secret is rendered into a
separate file (`Rendered.secret`) that the caller writes with mode 600 and the main file
includes, so the main files stay readable for an operator.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from surgepress.dataplane.discover import Behaviour, Deployment, LoadBalancer

# How many PHP workers one task's vCPU is worth (php-fpm's pm.max_children per 1024 CPU units).
PHP_WORKERS_PER_VCPU = 8
NGINX_MIME_TYPES = "/etc/nginx/mime.types"
NGINX_FASTCGI_PARAMS = "/etc/nginx/fastcgi_params"
# CloudFront's viewer security policies -> the protocols they allow.
VIEWER_PROTOCOLS = {
    "TLSv1.2_2021": "TLSv1.2 TLSv1.3",
    "TLSv1.2_2019": "TLSv1.2 TLSv1.3",
    "TLSv1.2_2018": "TLSv1.2 TLSv1.3",
    "TLSv1.1_2016": "TLSv1.1 TLSv1.2 TLSv1.3",
}
# ALB security policies -> protocols.
LB_PROTOCOLS = {
    "ELBSecurityPolicy-TLS13-1-2-2021-06": "TLSv1.2 TLSv1.3",
    "ELBSecurityPolicy-TLS13-1-3-2021-06": "TLSv1.3",
}
EDGE_CACHE_MAX_SIZE = "512m"
# CloudFront compresses these types (a subset of its list that WordPress serves).
COMPRESSED_TYPES = "text/css text/plain text/xml application/javascript application/json image/svg+xml"


@dataclass(frozen=True)
class Ports:
    database: int
    cache: int
    app: int
    web: int
    lb_http: int
    lb_https: int
    edge_http: int
    edge_https: int
    s3_origin: int


DEFAULT_FAIL_TIMEOUT_S = 10


@dataclass(frozen=True)
class OriginServer:
    """One load balancer behind the edge's origin name."""

    port: int
    label: str  # e.g. "production eu-west-1 PRIMARY"
    fail_timeout_s: int = DEFAULT_FAIL_TIMEOUT_S


@dataclass(frozen=True)
class Rendered:
    text: str
    secret: str = ""  # written to a mode-600 file the main file includes


@dataclass(frozen=True)
class Layout:
    """Where one environment's services keep their files."""

    root: Path
    run_as_root: bool = False

    def service(self, name: str) -> Path:
        return self.root / name

    @property
    def ca_dir(self) -> Path:
        """One CA for every environment's data plane: a DR set's load balancer and database are
        trusted by its source's edge and database, as AWS's certificates are in both regions."""
        return self.root.parent / "ca"

    @property
    def ca(self) -> Path:
        return self.ca_dir / "ca.pem"

    @property
    def docroot(self) -> Path:
        return self.root / "wordpress"


def server_id(workspace: str) -> int:
    """A MariaDB server id per environment, stable across restarts (replication needs them distinct)."""
    return 1 + int(hashlib.sha256(workspace.encode()).hexdigest()[:7], 16)


def mariadb(d: Deployment, ports: Ports, layout: Layout) -> Rendered:
    home = layout.service("database")
    tls = layout.root / "tls"
    lines = [
        "# MariaDB standing in for Aurora cluster " + d.database.identifier,
        "[mysqld]",
        *(["user = root"] if layout.run_as_root else []),
        f"datadir = {home / 'data'}",
        f"socket = {home / 'mysqld.sock'}",
        f"pid-file = {home / 'mysqld.pid'}",
        f"log-error = {home / 'error.log'}",
        "bind-address = 127.0.0.1",
        f"port = {ports.database}",
        "skip-name-resolve",
        f"character-set-server = {d.database.charset}",
        "collation-server = utf8mb4_unicode_ci",
        f"ssl-ca = {layout.ca}",
        f"ssl-cert = {tls / 'database.pem'}",
        f"ssl-key = {tls / 'database.key'}",
        f"require-secure-transport = {'ON' if d.database.require_tls else 'OFF'}",
        "tls-version = TLSv1.2,TLSv1.3",
        "innodb-buffer-pool-size = 128M",
        "max-connections = 300",
        # A global database's storage replication, played by GTID replication: every node logs
        # its own and replicated writes, so any node can become the writer and feed the others.
        f"server-id = {server_id(d.workspace)}",
        f"log-bin = {home / 'data' / 'binlog'}",
        "log-slave-updates = ON",
        "binlog-format = ROW",
        "gtid-strict-mode = ON",
        "skip-slave-start = ON",
        "",
        "[client]",
        f"socket = {home / 'mysqld.sock'}",
        "",
    ]
    return Rendered("\n".join(lines))


def redis(d: Deployment, ports: Ports, layout: Layout) -> Rendered:
    home = layout.service("cache")
    tls = layout.root / "tls"
    lines = [
        f"# redis-server standing in for ElastiCache replication group {d.cache.group_id}",
        "bind 127.0.0.1",
        "protected-mode yes",
        "daemonize no",
        f"dir {home}",
        f"logfile {home / 'redis.log'}",
        'save ""',
        "appendonly no",
        "maxmemory 256mb",
        "maxmemory-policy allkeys-lru",
        'proc-title-template "{title} {listen-addr} {config-file}"',
    ]
    if d.cache.tls:
        lines += [
            "port 0",
            f"tls-port {ports.cache}",
            f"tls-cert-file {tls / 'cache.pem'}",
            f"tls-key-file {tls / 'cache.key'}",
            f"tls-ca-cert-file {layout.ca}",
            "tls-auth-clients no",
            'tls-protocols "TLSv1.2 TLSv1.3"',
        ]
    else:
        lines += [f"port {ports.cache}"]
    lines += [f"include {home / 'secrets' / 'auth.conf'}", ""]
    secret = f"requirepass {d.cache.auth_token}\n" if d.cache.auth_token else "# no AUTH token\n"
    return Rendered("\n".join(lines), secret=secret)


def php_fpm(d: Deployment, ports: Ports, layout: Layout, vcpus: float, app_digest: str) -> Rendered:
    """`app_digest`: of the image's source (app/), whose PHP settings never re-check a file:
    a change to it is a change to this file, and php-fpm restarts."""
    home = layout.service("app")
    workers = max(2, int(vcpus * PHP_WORKERS_PER_VCPU))
    lines = [
        f"; php-fpm running the {d.task.container} container of task family {d.task.family}",
        f"; with the image's source (app/) at {app_digest}",
        "[global]",
        f"pid = {home / 'php-fpm.pid'}",
        f"error_log = {home / 'php-fpm.log'}",
        "daemonize = no",
        "",
        "[wordpress]",
        *(["user = root", "group = root"] if layout.run_as_root else []),
        f"listen = 127.0.0.1:{ports.app}",
        "listen.allowed_clients = 127.0.0.1",
        "pm = dynamic",
        f"pm.max_children = {workers}",
        "pm.start_servers = 2",
        "pm.min_spare_servers = 1",
        f"pm.max_spare_servers = {max(2, workers // 2)}",
        "; the task's environment reaches WordPress through the process environment, never a file",
        "clear_env = no",
        "catch_workers_output = yes",
        f"php_admin_value[error_log] = {home / 'php-error.log'}",
        f"php_admin_value[openssl.cafile] = {layout.ca}",
        f"php_admin_value[upload_tmp_dir] = {home / 'tmp'}",
        f"php_admin_value[session.save_path] = {home / 'tmp'}",
        f"php_admin_value[sys_temp_dir] = {home / 'tmp'}",
        "",
    ]
    return Rendered("\n".join(lines))


def _nginx(name: str, home: Path, layout: Layout, http_body: list[str]) -> str:
    temp = home / "tmp"
    lines = [
        f"# nginx: {name}",
        *(["user root;"] if layout.run_as_root else []),
        "worker_processes 1;",
        "daemon off;",
        f"pid {home / 'nginx.pid'};",
        f"error_log {home / 'error.log'} warn;",
        "events { worker_connections 2048; }",
        "http {",
        f"    include {NGINX_MIME_TYPES};",
        "    default_type application/octet-stream;",
        "    sendfile on;",
        "    server_tokens off;",
        "    keepalive_timeout 65;",
        "    map_hash_bucket_size 256;",
        f"    access_log {home / 'access.log'};",
        *(f"    {kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        *("    " + line if line else "" for line in http_body),
        "}",
        "",
    ]
    return "\n".join(lines)


def web(d: Deployment, ports: Ports, layout: Layout) -> Rendered:
    """The container's web server (the image's Apache): static files, PHP through php-fpm."""
    home = layout.service("web")
    body = [
        "server {",
        f"    listen 127.0.0.1:{ports.web};",
        f"    root {layout.docroot};",
        "    index index.php;",
        "    client_max_body_size 64m;",
        "    location / { try_files $uri $uri/ /index.php?$args; }",
        "    location ~ /\\.ht { deny all; }",
        "    location ~ \\.php$ {",
        "        try_files $uri =404;",
        f"        include {NGINX_FASTCGI_PARAMS};",
        "        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;",
        f"        fastcgi_pass 127.0.0.1:{ports.app};",
        "    }",
        "}",
    ]
    return Rendered(_nginx(f"web server of task family {d.task.family}", home, layout, body))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _header_variable(name: str) -> str:
    return "$http_" + name.lower().replace("-", "_")


def load_balancer(d: Deployment, ports: Ports, layout: Layout) -> Rendered:
    """The ALB: HTTP redirects, HTTPS forwards only what a listener rule admits."""
    lb: LoadBalancer = d.load_balancer
    home = layout.service("lb")
    tls = layout.root / "tls"
    maps = []
    checks = []
    for route in lb.routes:
        names = sorted(route.headers)
        source = "|".join(_header_variable(n) for n in names)
        combos: list[list[str]] = [[]]
        for name in names:
            combos = [c + [v] for c in combos for v in route.headers[name]]
        maps += [
            f'map "{source}" $lb_rule_{route.priority} {{',
            "    default 0;",
            *(f"    {_quote('|'.join(c))} 1;" for c in combos),
            "}",
        ]
        checks.append(f"    if ($lb_rule_{route.priority}) {{ set $lb_target target; }}")
    protocols = LB_PROTOCOLS.get(lb.ssl_policy, "TLSv1.2 TLSv1.3")
    body = [
        f"# listener rules (they hold the origin secret): {home / 'secrets' / 'rules.conf'}",
        f"include {home / 'secrets' / 'rules.conf'};",
        f"upstream target {{ server 127.0.0.1:{ports.web}; keepalive 32; }}",
        "server {",
        f"    # HTTP listener: redirect ({lb.redirect_status}) to HTTPS",
        f"    listen 127.0.0.1:{ports.lb_http};",
        f"    return {lb.redirect_status} https://$host:{ports.lb_https}$request_uri;",
        "}",
        "server {",
        f"    # HTTPS listener ({lb.ssl_policy}); default action: fixed {lb.default_status}",
        f"    listen 127.0.0.1:{ports.lb_https} ssl;",
        f"    ssl_certificate {tls / 'lb.pem'};",
        f"    ssl_certificate_key {tls / 'lb.key'};",
        f"    ssl_protocols {protocols};",
        "    client_max_body_size 64m;",
        '    set $lb_target "";',
        *checks,
        "    location / {",
        f'        if ($lb_target = "") {{ return {lb.default_status} {_quote(lb.default_body)}; }}',
        "        proxy_pass http://$lb_target;",
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        "        proxy_set_header Host $host;",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "        proxy_set_header X-Forwarded-Proto https;",
        f"        proxy_set_header X-Forwarded-Port {lb.https_port};",
        "        proxy_read_timeout 60s;",
        "    }",
        "}",
    ]
    return Rendered(_nginx(f"load balancer {lb.dns_name}", home, layout, body), secret="\n".join(maps) + "\n")


def path_pattern_regex(pattern: str) -> str:
    """A CloudFront path pattern (`*` any run, `?` one character) as an anchored regex."""
    parts = []
    for char in pattern.lstrip("/"):
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return "^/" + "".join(parts) + "$"


def _cookie_variable(index: int) -> str:
    return f"$edge_cookie_{index}"


def _behaviour_location(
    b: Behaviour, index: int, cookies: dict[str, int], d: Deployment, ports: Ports, layout: Layout
) -> list[str]:
    home = layout.service("edge")
    opening = f"location ~ {_quote(path_pattern_regex(b.pattern))} {{" if b.pattern else "location / {"
    lines = [f"# behaviour {index}: {b.pattern or 'default'} -> {b.origin}", opening]
    if set(b.allowed_methods) <= {"GET", "HEAD", "OPTIONS"}:
        lines.append(f"    limit_except {' '.join(m for m in b.allowed_methods if m != 'HEAD')} {{ deny all; }}")
    if b.max_ttl == 0:
        lines.append("    proxy_cache off;")
    else:
        key = "$uri"
        if b.key_query_strings != "none":
            key += "$is_args$args"
        key += "".join(f"|{_cookie_variable(cookies[name])}" for name in b.key_cookie_names)
        lines += [
            "    proxy_cache edge;",
            f'    proxy_cache_key "{key}";',
            "    proxy_cache_lock on;",
            "    proxy_cache_lock_timeout 10s;",
        ]
        if b.default_ttl > 0:
            lines.append(f"    proxy_cache_valid 200 203 300 301 410 {b.default_ttl}s;")
        lines += [f"    proxy_cache_valid {code} {ttl}s;" for code, ttl in sorted(d.edge.error_caching.items()) if ttl]
        if b.forward_cookies == "none":
            lines += ["    proxy_ignore_headers Set-Cookie;", "    proxy_hide_header Set-Cookie;"]
    lines.append(f"    gzip {'on' if b.compress else 'off'};")
    if b.forward_query_strings == "none":
        lines.append("    rewrite ^(.*)$ $1? break;")
    # Only what the policies forward reaches the origin (CloudFront drops other viewer headers).
    lines += [
        "    proxy_pass_request_headers off;",
        "    proxy_set_header Content-Type $content_type;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    ]
    for header in b.forward_headers:
        value = "https" if header.lower() == "cloudfront-forwarded-proto" else _header_variable(header)
        lines.append(f"    proxy_set_header {header} {value};")
    if b.forward_cookies == "all":
        lines.append("    proxy_set_header Cookie $http_cookie;")
    elif b.forward_cookies == "whitelist":
        pairs = "; ".join(f"{name}={_cookie_variable(cookies[name])}" for name in b.key_cookie_names)
        lines.append(f'    proxy_set_header Cookie "{pairs}";')
    if b.origin == "lb":
        lines += [
            f"    include {home / 'secrets' / 'origin-headers.conf'};",
            f"    proxy_set_header Host {d.edge.origin_domain};",
            "    proxy_pass https://origin_lb;",
            "    proxy_http_version 1.1;",
            '    proxy_set_header Connection "";',
            "    proxy_ssl_server_name on;",
            f"    proxy_ssl_name {d.edge.origin_domain};",
            "    proxy_ssl_verify on;",
            f"    proxy_ssl_trusted_certificate {layout.ca};",
            "    proxy_ssl_protocols TLSv1.2 TLSv1.3;",
            "    proxy_read_timeout 30s;",
            "    proxy_connect_timeout 2s;",
            # An origin whose load balancer is gone or has no healthy target (502/503/504) hands a
            # GET/HEAD to the next one: Route 53's health checks watch exactly that. An app that
            # answers 500 (its database is gone) keeps the traffic, as on AWS.
            "    proxy_next_upstream error timeout http_502 http_503 http_504;",
        ]
    else:
        lines += [
            "    proxy_pass http://origin_s3;",
            "    proxy_http_version 1.1;",
            '    proxy_set_header Connection "";',
        ]
    lines.append("}")
    return lines


def edge(d: Deployment, ports: Ports, layout: Layout, origins: tuple[OriginServer, ...] = ()) -> Rendered:
    """CloudFront: each behaviour a location, in the distribution's order.

    `origins` are the load balancers the origin's name resolves to, in Route 53's failover
    order (default: this environment's own). The first serves; the others take over when it
    fails (nginx's passive health checks standing in for Route 53's: at once, where Route 53
    waits `unhealthy_minutes`)."""
    home = layout.service("edge")
    tls = layout.root / "tls"
    policies = {b.viewer_protocol_policy for b in d.edge.behaviours}
    if not policies <= {"redirect-to-https", "https-only"}:
        raise ValueError(f"viewer protocol policies {sorted(policies)}: the local edge serves HTTPS only")
    cookie_names = sorted({n for b in d.edge.behaviours for n in b.key_cookie_names})
    cookies = {name: i for i, name in enumerate(cookie_names)}
    body = [
        f"proxy_cache_path {home / 'cache'} levels=1:2 keys_zone=edge:20m max_size={EDGE_CACHE_MAX_SIZE} "
        "inactive=1d use_temp_path=off;",
        "map $upstream_cache_status $edge_x_cache {",
        '    HIT "Hit from cloudfront";',
        '    STALE "RefreshHit from cloudfront";',
        '    UPDATING "RefreshHit from cloudfront";',
        '    REVALIDATED "RefreshHit from cloudfront";',
        '    default "Miss from cloudfront";',
        "}",
    ]
    for name, i in cookies.items():
        body += [
            f"map $http_cookie {_cookie_variable(i)} {{",
            f'    "~(?:^|;\\s*){re.escape(name)}=(?<value>[^;]*)" $value;',
            '    default "";',
            "}",
        ]
    body += [
        "upstream origin_lb {",
        *(
            f"    server 127.0.0.1:{o.port}{' backup' if i else f' max_fails=1 fail_timeout={o.fail_timeout_s}s'};"
            f"  # {o.label}"
            for i, o in enumerate(origins or (OriginServer(ports.lb_https, d.workspace),))
        ),
        "    keepalive 32;",
        "}",
        f"upstream origin_s3 {{ server 127.0.0.1:{ports.s3_origin}; keepalive 8; }}",
        f"gzip_types {COMPRESSED_TYPES};",
        "gzip_min_length 1000;",
        "gzip_proxied any;",
        "server {",
        f"    listen 127.0.0.1:{ports.edge_http};",
        "    location / { return 301 " + f"https://$host:{ports.edge_https}$request_uri; }}"
        if policies == {"redirect-to-https"}
        else "    location / { return 403; }",
        "}",
        "server {",
        f"    # distribution {d.edge.distribution_id} ({d.edge.domain_name}), aliases {', '.join(d.edge.aliases)}",
        f"    listen 127.0.0.1:{ports.edge_https} ssl;",
        f"    server_name {' '.join(d.edge.aliases)} {d.edge.domain_name} 127.0.0.1 localhost;",
        f"    ssl_certificate {tls / 'edge.pem'};",
        f"    ssl_certificate_key {tls / 'edge.key'};",
        f"    ssl_protocols {VIEWER_PROTOCOLS.get(d.edge.minimum_protocol_version, 'TLSv1.2 TLSv1.3')};",
        "    client_max_body_size 64m;",
        "    add_header X-Cache $edge_x_cache always;",
        "    add_header X-Amz-Cf-Pop LOCAL1-P1 always;",
        *(f"    proxy_hide_header {name};" for name in d.edge.response_headers),
        *(f"    add_header {name} {_quote(value)} always;" for name, value in d.edge.response_headers.items()),
    ]
    for index, behaviour in enumerate(d.edge.behaviours):
        body += ["    " + line for line in _behaviour_location(behaviour, index, cookies, d, ports, layout)]
    body.append("}")
    secret = "".join(f"proxy_set_header {name} {_quote(value)};\n" for name, value in d.edge.origin_headers.items())
    return Rendered(_nginx(f"edge for distribution {d.edge.distribution_id}", home, layout, body), secret=secret)
