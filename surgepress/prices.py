"""`python main.py prices refresh`: the price table (surgepress/surge/prices.json) rebuilt from
AWS's Price List bulk offer files.

The bulk API (../shared/research/pricing.md): `/offers/v1.0/aws/index.json` names each
service's `currentRegionIndexUrl`; a region index names each region's `currentVersionUrl`,
the offer file: `products{sku: {productFamily, attributes{usagetype, …}}}` and
`terms.OnDemand{sku: {term: {priceDimensions{rate: {unit, pricePerUnit.USD, beginRange}}}}}`,
with its `publicationDate`. A regional EC2 offer is hundreds of MB: each file is streamed to a
temporary file and read twice with ijson (products, then the on-demand terms of the SKUs
wanted), never held in memory.

Each row of the table is found by its usage type (with the region's prefix, e.g. `EU-` for
eu-west-1) and, where one usage type covers several products, attributes that must match
(EC2: Linux, shared tenancy, no pre-installed software, capacity status Used). Its first
price tier (beginRange 0) is taken, scaled to the table's unit. A row the offer does not
have keeps its old figure and basis, and the command says so. Global services (CloudFront,
Route 53) come from the service's own offer file; CloudFront at its European edge prices
(`EU-`, the price class the sites use).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

import ijson
import requests

from surgepress.errors import UserError

OFFERS = "https://pricing.us-east-1.amazonaws.com"
INDEX = "/offers/v1.0/aws/index.json"
USAGE_PREFIX = {
    "us-east-1": "",
    "eu-west-1": "EU-",
    "eu-west-2": "EUW2-",
    "eu-central-1": "EUC1-",
    "eu-north-1": "EUN1-",
}
"""Region -> the prefix of its usage types in the offer files."""
EDGE_PREFIX = "EU-"
"""CloudFront's usage types for its European edges (PriceClass_100 serves Europe and North America at one price)."""
GLOBAL = ("AmazonCloudFront", "AmazonRoute53")
TIMEOUT_S = 60
CHUNK = 1 << 20


@dataclass(frozen=True)
class Row:
    """How one row of the table is found in an offer file."""

    service: str
    usagetype: str
    """Without the region's prefix."""
    attributes: tuple[tuple[str, str], ...] = ()
    scale: float = 1.0
    """Offer unit -> the table's (e.g. one request -> 10,000)."""


FIXED_ROWS = {
    "nat:hour": Row("AmazonEC2", "NatGateway-Hours"),
    "nat:gb": Row("AmazonEC2", "NatGateway-Bytes"),
    "ebs:gp3": Row("AmazonEC2", "EBS:VolumeUsage.gp3"),
    "fargate:vcpu": Row("AmazonECS", "Fargate-vCPU-Hours:perCPU"),
    "fargate:gb": Row("AmazonECS", "Fargate-GB-Hours"),
    "fargate-spot:vcpu": Row("AmazonECS", "SpotUsage-Fargate-vCPU-Hours:perCPU"),
    "fargate-spot:gb": Row("AmazonECS", "SpotUsage-Fargate-GB-Hours"),
    "rds:acu": Row("AmazonRDS", "Aurora:ServerlessV2Usage"),
    "alb:hour": Row("AWSELB", "LoadBalancerUsage", (("productFamily", "Load Balancer-Application"),)),
    "alb:lcu": Row("AWSELB", "LCUUsage", (("productFamily", "Load Balancer-Application"),)),
    "vpce:hour": Row("AmazonVPC", "VpcEndpoint-Hours"),
    "cloudfront:gb": Row("AmazonCloudFront", "DataTransfer-Out-Bytes"),
    "cloudfront:requests": Row("AmazonCloudFront", "Requests-Tier2-HTTPS", scale=10_000),
    "s3:gb-month": Row("AmazonS3", "TimedStorage-ByteHrs"),
    "kms:key": Row("awskms", "KMS-Keys"),
    "route53:zone": Row("AmazonRoute53", "HostedZone"),
    "cloudwatch:alarm": Row("AmazonCloudWatch", "CW:AlarmMonitorUsage"),
}
EC2_LINUX = (
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("preInstalledSw", "NA"),
    ("capacitystatus", "Used"),
)


def row_for(key: str) -> Row | None:
    """How the table's row `key` is found; None for a key no offer file prices."""
    if key in FIXED_ROWS:
        return FIXED_ROWS[key]
    kind, _, size = key.partition(":")
    if kind == "ec2":
        return Row("AmazonEC2", f"BoxUsage:{size}", EC2_LINUX)
    if kind == "rds":
        return Row("AmazonRDS", f"InstanceUsage:{size}", (("databaseEngine", "Aurora MySQL"),))
    if kind == "elasticache":
        return Row("AmazonElastiCache", f"NodeUsage:{size}", (("cacheEngine", "Redis"),))
    return None


def prefix_of(row: Row, region: str) -> str:
    if row.service == "AmazonCloudFront":
        return EDGE_PREFIX
    if row.service in GLOBAL:
        return ""
    if region not in USAGE_PREFIX:
        raise UserError(f"prices refresh: no usage-type prefix known for {region} (surgepress/prices.py USAGE_PREFIX)")
    return USAGE_PREFIX[region]


@dataclass
class Offer:
    """What one offer file gave: (usagetype, attributes) -> (USD per offer unit, offer unit)."""

    publication: str
    found: dict[str, tuple[float, str]] = field(default_factory=dict)
    """Table key -> (USD in the table's unit, the offer's unit)."""


Fetch = Callable[[str, IO[bytes]], None]


def http_fetch(url: str, out: IO[bytes]) -> None:
    """GET `url` into `out`, streamed (requests; gzip undone)."""
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT_S) as response:
            response.raise_for_status()
            for chunk in response.iter_content(CHUNK):
                out.write(chunk)
    except requests.RequestException as exc:
        raise UserError(f"prices refresh: GET {url} failed: {exc}") from None


def _json(fetch: Fetch, url: str) -> dict:
    with tempfile.TemporaryFile() as spool:
        fetch(url, spool)
        spool.seek(0)
        try:
            return json.load(spool)
        except ValueError as exc:
            raise UserError(f"prices refresh: {url} is not JSON ({exc})") from None


def read_offer(fetch: Fetch, url: str, wanted: dict[str, tuple[str, tuple[tuple[str, str], ...], float]]) -> Offer:
    """The first-tier on-demand price of each wanted row (key -> (usagetype, attributes, scale))."""
    with tempfile.TemporaryFile() as spool:
        fetch(url, spool)
        try:
            spool.seek(0)
            publication = next((v for p, e, v in ijson.parse(spool) if p == "publicationDate"), "")
            spool.seek(0)
            skus: dict[str, list[str]] = {}
            """SKU -> every wanted key it prices (a global service's row is wanted once per region)."""
            for sku, product in ijson.kvitems(spool, "products"):
                attributes = {**(product.get("attributes") or {}), "productFamily": product.get("productFamily", "")}
                for key, (usagetype, required, _) in wanted.items():
                    if attributes.get("usagetype") == usagetype and all(attributes.get(k) == v for k, v in required):
                        skus.setdefault(sku, []).append(key)
            spool.seek(0)
            offer = Offer(str(publication))
            for sku, terms in ijson.kvitems(spool, "terms.OnDemand"):
                for row_key in skus.get(sku, []):
                    for term in terms.values():
                        for dimension in (term.get("priceDimensions") or {}).values():
                            if str(dimension.get("beginRange", "0")) == "0":
                                usd = float(dimension["pricePerUnit"]["USD"]) * wanted[row_key][2]
                                offer.found.setdefault(row_key, (usd, str(dimension.get("unit", ""))))
            return offer
        except (ijson.JSONError, KeyError, ValueError, TypeError) as exc:
            raise UserError(
                f"prices refresh: {url} is not an offer file as the Price List API writes it ({exc})"
            ) from None


@dataclass
class Refreshed:
    table: dict
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def check_table(table: object, where: str) -> dict:
    """The table's shape, or one line naming what is wrong."""
    if not isinstance(table, dict) or not isinstance(table.get("regions"), dict):
        got = table.get("regions") if isinstance(table, dict) else table
        raise UserError(f"{where}: regions: expected a mapping of region -> rows, got {got!r}")
    for region, rows in table["regions"].items():
        if not isinstance(rows, dict):
            raise UserError(f"{where}: regions.{region}: expected a mapping of rows, got {rows!r}")
        for key, row in rows.items():
            if not isinstance(row, dict) or not isinstance(row.get("usd"), (int, float)):
                raise UserError(f"{where}: regions.{region}.{key}: expected a row with a number `usd`, got {row!r}")
    return table


def refresh(table: dict, fetch: Fetch, base: str = OFFERS, today: date | None = None) -> Refreshed:
    """The table with every row an offer file prices replaced by AWS's figure (see the module's note)."""
    index = _json(fetch, base + INDEX)
    offers = index.get("offers") or {}
    out = Refreshed(json.loads(json.dumps(table)))
    plan: dict[tuple[str, str], dict[str, tuple[str, tuple[tuple[str, str], ...], float]]] = {}
    for region, rows in table["regions"].items():
        for key in rows:
            row = row_for(key)
            if row is None:
                out.kept.append(f"{region} {key}: no offer file prices it")
                continue
            where = "global" if row.service in GLOBAL else region
            plan.setdefault((row.service, where), {})[f"{region}|{key}"] = (
                prefix_of(row, region) + row.usagetype,
                row.attributes,
                row.scale,
            )
    for (service, where), wanted in sorted(plan.items()):
        if service not in offers:
            raise UserError(f"prices refresh: {base}{INDEX} lists no offer {service}")
        if where == "global":
            url = offers[service]["currentVersionUrl"]
        else:
            regions = _json(fetch, base + offers[service]["currentRegionIndexUrl"]).get("regions") or {}
            if where not in regions:
                raise UserError(f"prices refresh: {service}'s region index lists no {where}")
            url = regions[where]["currentVersionUrl"]
        offer = read_offer(fetch, base + url, wanted)
        for composite, (usagetype, _, _) in wanted.items():
            region, key = composite.split("|", 1)
            if composite not in offer.found:
                out.kept.append(f"{region} {key}: {service} has no on-demand {usagetype}")
                continue
            usd, unit = offer.found[composite]
            old = out.table["regions"][region][key]
            old.update(
                usd=round(usd, 8),
                basis="aws",
                source=f"AWS Price List {service} offer of {offer.publication}: {usagetype} (per {unit})",
            )
            out.updated.append(f"{region} {key}")
    out.table["date"] = (today or date.today()).isoformat()
    return out


def write(refreshed: Refreshed, path: Path) -> None:
    """The table, one row per line (as committed), so a refresh diffs row by row."""
    data = refreshed.table
    lines = [
        "{",
        f'  "about": {json.dumps(data.get("about", ""))},',
        f'  "date": {json.dumps(data["date"])},',
        '  "regions": {',
    ]
    regions = list(data["regions"].items())
    for n, (region, rows) in enumerate(regions):
        lines.append(f"    {json.dumps(region)}: {{")
        items = list(rows.items())
        lines += [
            f"      {json.dumps(k)}: {json.dumps(v)}" + ("," if i < len(items) - 1 else "")
            for i, (k, v) in enumerate(items)
        ]
        lines.append("    }" + ("," if n < len(regions) - 1 else ""))
    lines += ["  }", "}"]
    path.write_text("\n".join(lines) + "\n")
