"""DNS: the environment's public hosted zone and its DNS-validated ACM certificates.

What it creates
    A Route 53 public zone for `zone_name`, on request its delegation (NS record) in the
    parent zone held by another account (management's apex zone), an ACM certificate per host name —
    validated through a record in this zone, so issuance needs no human — and alias records
    to load balancers and distributions.

Assumptions
    Without a delegation a real certificate stays pending. Certificates for CloudFront must live in
    us-east-1: the caller passes that region's provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from constructs import Construct

from modules.outputs import export
from modules.policy import skip_check
from modules.roles import PlatformRole

VALIDATION_RECORD_TTL_S = 300
DELEGATION_TTL_S = 172800  # two days, as parent zones usually publish NS records


@dataclass(frozen=True)
class DnsProps:
    zone_name: str
    """Public zone of the environment, e.g. `staging.surgepress.example`."""
    existing: bool = False
    """Look the zone up instead of creating it: a replica serves its source's zone. Its
    certificates then reuse the validation records the source's certificates published for the
    same names (ACM's validation record depends on the name and account, not the region)."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag."""


class Dns(Construct):
    def __init__(self, scope: Construct, id: str, *, props: DnsProps) -> None:
        super().__init__(scope, id)
        if props.zone_name.endswith(".") or "." not in props.zone_name:
            raise ValueError(
                f"DnsProps.zone_name: expected a domain such as staging.example.com, got {props.zone_name!r}"
            )
        self._props = props
        self._tags = {"Name": props.zone_name, "PlatformRole": props.role.value}
        self.zone: Route53Zone | DataAwsRoute53Zone
        if props.existing:
            self.zone = DataAwsRoute53Zone(self, "zone", name=props.zone_name, private_zone=False)
            return
        self.zone = Route53Zone(
            self, "zone", name=props.zone_name, comment="surgepress environment zone", tags=self._tags
        )
        skip_check(
            self.zone,
            {
                "CKV2_AWS_38": "DNSSEC signing needs a KMS key in us-east-1 and a DS record chain up to the "
                "registrar's apex; not enabled yet (the apex is not registered)",
                "CKV2_AWS_39": "public zones only answer public DNS; query logs need a us-east-1 log group and "
                "resource policy, not set up yet",
            },
        )
        export(self, {"zone_id": self.zone.zone_id, "zone_name_servers": self.zone.name_servers})

    def delegate_from(self, parent_zone_name: str, *, provider: TerraformProvider) -> Route53Record:
        """The NS record of this zone in its parent zone, written through the parent account's
        provider (its zone is looked up by name, so no other workspace's state is read)."""
        parent = DataAwsRoute53Zone(self, "parent-zone", name=parent_zone_name, private_zone=False, provider=provider)
        return Route53Record(
            self,
            "delegation",
            zone_id=parent.zone_id,
            name=self._props.zone_name,
            type="NS",
            ttl=DELEGATION_TTL_S,
            records=self.zone.name_servers,
            provider=provider,
        )

    def fqdn(self, host: str) -> str:
        return f"{host}.{self._props.zone_name}"

    def certificate(self, id: str, host: str, *, provider: TerraformProvider | None = None) -> str:
        """A DNS-validated certificate for `host` in this zone; returns its ARN once issued."""
        cert = AcmCertificate(
            self,
            f"{id}-certificate",
            domain_name=self.fqdn(host),
            validation_method="DNS",
            key_algorithm="RSA_2048",
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            lifecycle={"create_before_destroy": True},
            provider=provider,
            tags={**self._tags, "Name": self.fqdn(host)},
        )
        option = cert.domain_validation_options.get(0)
        if self._props.existing:  # published by the zone's owner for its own certificate of this name
            fqdn = option.resource_record_name
        else:
            fqdn = Route53Record(
                self,
                f"{id}-validation",
                zone_id=self.zone.zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=VALIDATION_RECORD_TTL_S,
                allow_overwrite=True,
            ).fqdn
        validation = AcmCertificateValidation(
            self, f"{id}-issued", certificate_arn=cert.arn, validation_record_fqdns=[fqdn], provider=provider
        )
        return validation.certificate_arn

    def alias(
        self, id: str, host: str, *, target_dns_name: str, target_zone_id: str, evaluate_target_health: bool
    ) -> Route53Record:
        """`host` in this zone, as an alias (A record) of a load balancer or distribution.
        Route 53 evaluates a load balancer's health, and refuses to for a CloudFront
        distribution: the caller says which."""
        return Route53Record(
            self,
            id,
            zone_id=self.zone.zone_id,
            name=self.fqdn(host),
            type="A",
            alias=Route53RecordAlias(
                name=target_dns_name, zone_id=target_zone_id, evaluate_target_health=evaluate_target_health
            ),
        )
