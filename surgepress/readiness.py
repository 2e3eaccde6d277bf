"""Whether what a workspace reads of another already exists, asked of AWS itself.

`deploy` starts a workspace once every workspace it reads is deployed, or earlier: as soon as
each thing it reads exists (surgepress.graph polls these probes while the other one is still
applying, or has not started because it was deployed before). Each kind of read has one
probe, named by the settings alone:

- state: the state bucket holds the state bucket workspace's own state (bootstrap is done);
- apex_zone: the apex hosted zone the reader's zone is delegated from exists;
- log_archive: the log archive bucket exists with its bucket policy (AWS Config checks that
  it may deliver when a delivery channel is created);
- registry: the image the reader's tasks run is in the registry's repository of the reader's
  region (a deploy refuses to roll a service to an image that is not there);
- replica_source: everything the replica's synthesized JSON names of its source exists: the
  secrets it copies (ephemeral SSM reads), the keys and zone it looks up (data sources), the
  global database it joins (with an available writer instance in the source's cluster: a
  secondary joins a global database that has a primary), the source buckets it replicates
  (versioning enabled, which replication requires) and, for its certificate, an issued one
  for the same name in the source's region (the source publishes the validation record).
  Without the replica's JSON there is no probe: it waits for the whole source deploy.

A probe that errors (the thing is not there yet, or not readable yet) answers "not ready".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from modules.names import log_archive_bucket_name
from surgepress import image
from surgepress.accounts import StateStore
from surgepress.aws import WorkspaceClients
from surgepress.config import Read, Settings, Workspace
from surgepress.errors import UserError
from surgepress.policy_rules import blocks

Probe = Callable[[], bool]


class Readiness:
    """`ready(reader, dependency)`: why `reader` may start now although `dependency` has not
    finished (every read has a probe and each answered yes), or None."""

    def __init__(
        self, settings: Settings, env: Mapping[str, str], documents: Callable[[str], dict | None] = lambda name: None
    ) -> None:
        self.settings = settings
        self.env = env
        self.documents = documents
        """A workspace's synthesized JSON (cdk.tf.json), or None."""
        self._clients: dict[str, WorkspaceClients] = {}
        self._probes: dict[tuple[str, str, str], Probe] = {}
        """(reader, dependency, read kind): its probe, asked until it first answers yes."""

    def clients(self, ws: Workspace) -> WorkspaceClients:
        if ws.name not in self._clients:
            self._clients[ws.name] = WorkspaceClients(ws, self.env)
        return self._clients[ws.name]

    def probe(self, reader: Workspace, read: Read) -> Probe | None:
        other = self.settings.get(read.workspace)
        if read.kind == "state":
            store = StateStore(self.settings, self.env)
            return partial(store.holds, other)
        if read.kind == "apex_zone" and reader.parent_zone is not None:
            zone = reader.parent_zone.zone_name

            return partial(_zone_exists, self.clients(other), zone)
        if read.kind == "registry" and reader.image_registry is not None:
            where = reader.image_registry
            ecr = self.clients(other).get("ecr", where.region)
            return partial(image.holds, ecr, where.repository, image.tag_for(reader))
        if read.kind == "log_archive":
            bucket = log_archive_bucket_name(other.project, other.account_id)
            return partial(_admits, self.clients(other), bucket, reader.account_id)
        if read.kind == "replica_source":
            document = self.documents(reader.name)
            if document is None:
                return None
            if unknown_source_reads(document):
                return None  # something of the source this module cannot ask about: wait for all of it
            probes = [_remembered(probe) for probe in source_probes(document, self.clients(other), other.region)]
            if not probes:
                return None
            return lambda: all(probe() for probe in probes)
        return None

    def ready(self, reader_name: str, dependency: str) -> str | None:
        reader = self.settings.get(reader_name)
        reads = [r for r in self.settings.reads(reader) if r.workspace == dependency]
        if not reads:
            return None
        for read in reads:
            key = (reader_name, read.workspace, read.kind)
            if key not in self._probes:
                found = self.probe(reader, read)
                if found is None:
                    return None
                self._probes[key] = _remembered(found)  # what was found to exist is not asked again
            try:
                if not self._probes[key]():
                    return None
            except (ClientError, BotoCoreError, UserError, OSError):
                self._clients.pop(read.workspace, None)  # ask again with a fresh role session next time
                self._probes.pop(key, None)
                return None
        return "what it reads of " + dependency + " exists (" + ", ".join(r.kind.replace("_", " ") for r in reads) + ")"


KNOWN_SOURCE_READS = {("ephemeral", "aws_ssm_parameter"), ("data", "aws_kms_alias")}


def unknown_source_reads(document: dict) -> list[str]:
    """Reads through a provider other than the replica's own (its source's region) that no probe
    covers, or that name what they read by a reference: then the replica waits for the whole source."""
    unknown = []
    for section in ("data", "ephemeral"):
        for rtype, items in (document.get(section) or {}).items():
            for name, item in items.items():
                if not item.get("provider"):
                    continue
                literal = _literal(item.get("arn") or item.get("name"))
                if (section, rtype) not in KNOWN_SOURCE_READS or literal is None:
                    unknown.append(f"{section}.{rtype}.{name}")
    return unknown


def _literal(value: Any) -> str | None:
    """A plain string of the JSON, not a reference to something of the reader's own."""
    return value if isinstance(value, str) and "${" not in value else None


def _resources(document: dict, section: str, rtype: str) -> Iterator[dict]:
    yield from (document.get(section, {}).get(rtype) or {}).values()


def source_probes(document: dict, source: WorkspaceClients, region: str) -> Iterator[Probe]:
    """One probe per thing of the source that a replica's JSON names (see the module's note)."""
    parameters = sorted(
        name.split(":parameter", 1)[1]
        for item in _resources(document, "ephemeral", "aws_ssm_parameter")
        if (name := _literal(item.get("arn"))) and ":parameter/" in name
    )
    if parameters:

        def secrets() -> bool:
            ssm = source.get("ssm", region)
            batches = [parameters[i : i + 10] for i in range(0, len(parameters), 10)]
            return all(not ssm.get_parameters(Names=batch)["InvalidParameters"] for batch in batches)

        yield secrets
    for item in _resources(document, "data", "aws_kms_alias"):
        if (alias := _literal(item.get("name"))) and item.get("provider"):
            yield partial(_key_exists, source, region, alias)
    for item in _resources(document, "data", "aws_route53_zone"):
        if zone := _literal(item.get("name")):
            yield partial(_zone_exists, source, zone)
    for item in _resources(document, "resource", "aws_rds_cluster"):
        if identifier := _literal(item.get("global_cluster_identifier")):
            yield partial(_global_writer_available, source, region, identifier)
    own = {b for item in _resources(document, "resource", "aws_s3_bucket") if (b := _literal(item.get("bucket")))}
    replicated = set()
    for item in _resources(document, "resource", "aws_s3_bucket_replication_configuration"):
        named = [item.get("bucket")] + [
            destination.get("bucket")
            for rule in blocks(item.get("rule"))
            for destination in blocks(rule.get("destination"))
        ]
        replicated |= {text.removeprefix("arn:aws:s3:::") for value in named if (text := _literal(value))}
    for bucket in sorted(replicated - own):
        yield partial(_versioned, source, region, bucket)
    for item in _resources(document, "resource", "aws_acm_certificate"):
        if domain := _literal(item.get("domain_name")):
            yield partial(_certificate_issued, source, region, domain)


def _remembered(probe: Probe) -> Probe:
    """`probe`, asked until it first answers yes: what a deploy has made does not go away
    while another waits for it, so it is not asked about at every poll."""
    seen = False

    def ask() -> bool:
        nonlocal seen
        seen = seen or probe()
        return seen

    return ask


def _admits(archive: WorkspaceClients, bucket: str, account_id: str) -> bool:
    """The archive's policy exists and names the reader's account (it admits delivery by account)."""
    policy = archive.get("s3").get_bucket_policy(Bucket=bucket).get("Policy") or ""
    return f'"{account_id}"' in policy


def _key_exists(source: WorkspaceClients, region: str, alias: str) -> bool:
    return bool(source.get("kms", region).describe_key(KeyId=alias)["KeyMetadata"])


def _zone_exists(source: WorkspaceClients, zone: str) -> bool:
    found = source.get("route53").list_hosted_zones_by_name(DNSName=zone, MaxItems="1")
    return any(z["Name"].rstrip(".") == zone for z in found.get("HostedZones", []))


def _versioned(source: WorkspaceClients, region: str, bucket: str) -> bool:
    return source.get("s3", region).get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"


def _certificate_issued(source: WorkspaceClients, region: str, domain: str) -> bool:
    listed = source.get("acm", region).list_certificates(CertificateStatuses=["ISSUED"])
    return any(c["DomainName"] == domain for c in listed["CertificateSummaryList"])


def _global_writer_available(source: WorkspaceClients, region: str, identifier: str) -> bool:
    rds = source.get("rds", region)
    clusters = rds.describe_global_clusters(GlobalClusterIdentifier=identifier)["GlobalClusters"]
    writers = [m["DBClusterArn"] for c in clusters for m in c.get("GlobalClusterMembers", []) if m.get("IsWriter")]
    if not writers:
        return False
    members = rds.describe_db_clusters(DBClusterIdentifier=writers[0])["DBClusters"][0].get("DBClusterMembers", [])
    writer = next((m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")), None)
    if writer is None:
        return False
    instance = rds.describe_db_instances(DBInstanceIdentifier=writer)["DBInstances"][0]
    return instance.get("DBInstanceStatus") == "available"
