"""Security group rules as every module writes them: one rule per client group, by reference,
never by CIDR inside the VPC.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct


def allow_tcp_from(
    scope: Construct, id: str, *, security_group_id: str, client_security_group_id: str, port: int, description: str
) -> VpcSecurityGroupIngressRule:
    return VpcSecurityGroupIngressRule(
        scope,
        f"from-{id}",
        security_group_id=security_group_id,
        referenced_security_group_id=client_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
    )
