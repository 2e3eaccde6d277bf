"""CloudFront: keep what a client sends, and the three policy APIs moto lacks.

- Distributions: moto rebuilds a distribution's config from the parts it models and drops
  the rest (logging, origin access control ids, Origin Shield, function associations, the
  response-headers policy of ordered behaviours…), so every read differs from what was
  written. AWS returns the config as written. Here moto still validates a config, but
  stores and returns the config exactly as the client sent it.
- Cache, origin-request and response-headers policies (`/2020-05-31/cache-policy`, …) do
  not exist in moto. They are stored per account with an ETag that changes on update;
  `If-Match` must name the current ETag, and a policy still used by a distribution cannot
  be deleted (`<Kind>InUse`), as on AWS.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

API = "2020-05-31"
# kind -> (URL segment, output/config member names, error-code stem)
POLICY_KINDS: dict[str, str] = {
    "CachePolicy": "cache-policy",
    "OriginRequestPolicy": "origin-request-policy",
    "ResponseHeadersPolicy": "response-headers-policy",
}
# What AWS returns for members a client may leave out of a config (the provider reads them all).
DISTRIBUTION_DEFAULTS: dict[str, Any] = {
    "Aliases": {"Quantity": 0},
    "OriginGroups": {"Quantity": 0},
    "CacheBehaviors": {"Quantity": 0},
    "CustomErrorResponses": {"Quantity": 0},
    "DefaultRootObject": "",
    "WebACLId": "",
    "Comment": "",
    "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
}
BEHAVIOR_REFERENCE = {
    "CachePolicy": "CachePolicyId",
    "OriginRequestPolicy": "OriginRequestPolicyId",
    "ResponseHeadersPolicy": "ResponseHeadersPolicyId",
}


def _policies(backend: Any, kind: str) -> dict[str, dict[str, Any]]:
    store = backend.__dict__.setdefault("surgepress_policies", {})
    return store.setdefault(kind, {})


def _behaviors(config: Any) -> list[dict[str, Any]]:
    behaviors = [config.get("DefaultCacheBehavior") or {}]
    behaviors += (config.get("CacheBehaviors") or {}).get("Items") or []
    return behaviors


def install() -> None:
    from moto.cloudfront import models, urls
    from moto.cloudfront.exceptions import CloudFrontException, InvalidIfMatchVersion
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.core.responses import ActionResult, EmptyResult
    from moto.core.utils import camelcase_to_underscores

    validate = models.DistributionConfig

    class RawDistributionConfig(dict):
        """The config exactly as sent; attribute reads (moto's own code) see its members."""

        def __init__(self, config: dict[str, Any]) -> None:
            validate(copy.deepcopy(config))  # moto's checks: origins exist, S3 origin names
            super().__init__({**copy.deepcopy(DISTRIBUTION_DEFAULTS), **config})
            self.caller_reference = config["CallerReference"]

        def __getattr__(self, name: str) -> Any:
            try:
                return self[name]
            except KeyError:
                raise AttributeError(name) from None

    models.DistributionConfig = RawDistributionConfig

    def handlers(kind: str) -> dict[str, Any]:
        config_key = f"{kind}Config"

        def output(entry: dict[str, Any]) -> dict[str, Any]:
            return {"Id": entry["Id"], "LastModifiedTime": entry["LastModifiedTime"], config_key: entry["Config"]}

        def lookup(self: Any) -> dict[str, Any]:
            entry = _policies(self.backend, kind).get(self._get_param("Id"))
            if entry is None:
                raise CloudFrontException(f"NoSuch{kind}", f"The {kind} does not exist.")
            return entry

        def check_etag(self: Any, entry: dict[str, Any]) -> None:
            if self._get_param("IfMatch") != entry["ETag"]:
                raise InvalidIfMatchVersion()

        def create(self: Any) -> Any:
            config = self._get_param(config_key)
            policies = _policies(self.backend, kind)
            if any(p["Config"].get("Name") == config.get("Name") for p in policies.values()):
                raise CloudFrontException(f"{kind}AlreadyExists", f"A {kind} named {config.get('Name')} exists.")
            entry = {
                "Id": str(uuid.uuid4()),
                "ETag": uuid.uuid4().hex[:14].upper(),
                "Config": config,
                "LastModifiedTime": datetime.now(UTC),
            }
            policies[entry["Id"]] = entry
            return ActionResult(
                {
                    kind: output(entry),
                    "ETag": entry["ETag"],
                    "Location": f"https://cloudfront.amazonaws.com/{API}/{POLICY_KINDS[kind]}/{entry['Id']}",
                }
            )

        def get(self: Any) -> Any:
            entry = lookup(self)
            return ActionResult({kind: output(entry), "ETag": entry["ETag"]})

        def get_config(self: Any) -> Any:
            entry = lookup(self)
            return ActionResult({config_key: entry["Config"], "ETag": entry["ETag"]})

        def update(self: Any) -> Any:
            entry = lookup(self)
            check_etag(self, entry)
            entry.update(
                Config=self._get_param(config_key),
                ETag=uuid.uuid4().hex[:14].upper(),
                LastModifiedTime=datetime.now(UTC),
            )
            return ActionResult({kind: output(entry), "ETag": entry["ETag"]})

        def delete(self: Any) -> Any:
            entry = lookup(self)
            check_etag(self, entry)
            reference = BEHAVIOR_REFERENCE[kind]
            for dist in self.backend.distributions.values():
                if any(b.get(reference) == entry["Id"] for b in _behaviors(dist.distribution_config)):
                    raise CloudFrontException(f"{kind}InUse", f"The {kind} is attached to {dist.distribution_id}.")
            del _policies(self.backend, kind)[entry["Id"]]
            return EmptyResult()

        def list_(self: Any) -> Any:
            items = [output(e) for e in _policies(self.backend, kind).values()]
            summaries = [{"Type": "custom", kind: item} for item in items]
            return ActionResult(
                {f"{kind}List": {"MaxItems": 100, "Quantity": len(summaries), "Items": summaries or None}}
            )

        stem = camelcase_to_underscores(kind)
        return {
            f"create_{stem}": create,
            f"get_{stem}": get,
            f"get_{stem}_config": get_config,
            f"update_{stem}": update,
            f"delete_{stem}": delete,
            f"list_{stem.replace('policy', 'policies')}": list_,
        }

    for kind, segment in POLICY_KINDS.items():
        for method, function in handlers(kind).items():
            setattr(CloudFrontResponse, method, function)
        base = "{0}/" + API + "/" + segment
        urls.url_paths[base + "$"] = CloudFrontResponse.dispatch
        urls.url_paths[base + "/(?P<Id>[^/]+)$"] = CloudFrontResponse.dispatch
        urls.url_paths[base + "/(?P<Id>[^/]+)/config$"] = CloudFrontResponse.dispatch
