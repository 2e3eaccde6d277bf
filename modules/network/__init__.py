"""Network: a three-tier VPC over N Availability Zones.

What it creates
    One VPC; per AZ a *public* subnet (load balancer and NAT only), an *app* subnet (ECS
    hosts and tasks) and a *data* subnet (Aurora, Redis); an internet gateway; NAT gateways
    (one per AZ or one shared); route tables per tier; an S3 gateway endpoint on the app and
    data route tables; VPC flow logs (all traffic) into a CloudWatch log group encrypted with
    a customer-managed KMS key; the default security group stripped of every rule.

Assumptions
    Subnet CIDRs are computed here, in Python, from the VPC CIDR: tier `t`, AZ `i` takes
    slot `t * SUBNET_SLOTS_PER_TIER + i` of the VPC split by `subnet_newbits`. Addresses
    therefore never move when AZs are added (up to the slot count). AZs are named
    explicitly, not looked up at plan time, so an AZ that AWS adds, or one impaired
    during a plan, can never shift subnets between zones and replace them.

Defaults and why
    - Data subnets have no route to the internet at all (isolated), only the S3 endpoint.
    - Public subnets never hand out public IPs: only the NAT's Elastic IP and the load
      balancer are public.
    - Flow logs default to one year of retention, encrypted with a rotating CMK, because
      they are security evidence (and Checkov's CKV_AWS_338 asks for a year).
    - `nat_gateways="single"` is the cheap choice for staging and DR; production uses
      `per_az` so an AZ failure cannot cut egress for the other AZs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.logs import encrypted_log_group, log_group_arn
from modules.outputs import export
from modules.roles import PlatformRole
from modules.subnet_layout import SUBNET_SLOTS_PER_TIER, TIERS, subnet_cidrs


@dataclass(frozen=True)
class NetworkProps:
    name: str
    """Prefix for every resource name and Name tag (e.g. `surgepress-staging`)."""
    account_id: str
    """Account that owns the VPC; scopes the flow-log role's trust and the key policy."""
    region: str
    """Region of the VPC; used for the S3 endpoint service name and the logs principal."""
    cidr: str
    """IPv4 CIDR of the VPC (/16 to /24)."""
    availability_zones: tuple[str, ...]
    """AZ names to spread over (2 to 4), one subnet per tier in each, in this order."""
    nat_gateways: str = "single"
    """`per_az`: a NAT gateway in every AZ (AZ-independent egress). `single`: one shared NAT."""
    subnet_newbits: int = 4
    """Bits added to the VPC prefix for each subnet (/16 + 4 = /20 subnets)."""
    flow_log_retention_days: int = 365
    """Retention of the flow-log group; one year by default (security evidence)."""
    interface_endpoints: tuple[str, ...] = ()
    """AWS services reached through interface endpoints in the app subnets (e.g. `ecr.dkr`),
    not through NAT: a surge's image pulls do not queue on NAT, and a NAT outage does not stop
    scale-out. One ENI per AZ each, private DNS on, HTTPS from inside the VPC only."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag on every resource."""
    extra_tags: dict[str, str] = field(default_factory=dict)
    """Tags added to the Name/role tags of every resource (provider default tags still apply)."""


class Network(Construct):
    """Three-tier VPC; see the module docstring for the design note."""

    def __init__(self, scope: Construct, id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, id)
        if props.nat_gateways not in ("single", "per_az"):
            raise ValueError(f"NetworkProps.nat_gateways: expected 'single' or 'per_az', got {props.nat_gateways!r}")
        if not 2 <= len(props.availability_zones) <= SUBNET_SLOTS_PER_TIER:
            raise ValueError(
                f"NetworkProps.availability_zones: expected 2 to {SUBNET_SLOTS_PER_TIER} zones, "
                f"got {props.availability_zones!r}"
            )
        self._props = props
        name = props.name

        az_count = len(props.availability_zones)
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self._tags(name),
        )
        # The default SG comes with every VPC and allows all traffic between its members;
        # managing it with no rules takes that away (nothing should use it).
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id, tags=self._tags(f"{name}-default-deny"))

        self.subnets: dict[str, list[Subnet]] = {}
        for tier in TIERS:
            self.subnets[tier] = [
                Subnet(
                    self,
                    f"{tier}-{i}",
                    vpc_id=self.vpc.id,
                    cidr_block=cidr,
                    availability_zone=props.availability_zones[i],
                    map_public_ip_on_launch=False,
                    tags={**self._tags(f"{name}-{tier}-{i}"), "Tier": tier},
                )
                for i, cidr in enumerate(subnet_cidrs(props.cidr, props.subnet_newbits, tier, az_count))
            ]

        igw = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags=self._tags(name))
        public_rt = RouteTable(self, "public-rt", vpc_id=self.vpc.id, tags=self._tags(f"{name}-public"))
        Route(
            self, "public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id
        )
        self._associate("public", [public_rt] * az_count)

        nat_count = az_count if props.nat_gateways == "per_az" else 1
        self.nat_gateways: list[NatGateway] = []
        for i in range(nat_count):
            eip = Eip(self, f"nat-eip-{i}", domain="vpc", tags=self._tags(f"{name}-nat-{i}"))
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=self.subnets["public"][i].id,
                    tags=self._tags(f"{name}-nat-{i}"),
                    depends_on=[igw],
                )
            )

        app_rts = []
        for i in range(az_count):
            rt = RouteTable(self, f"app-rt-{i}", vpc_id=self.vpc.id, tags=self._tags(f"{name}-app-{i}"))
            Route(
                self,
                f"app-default-{i}",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=self.nat_gateways[i % nat_count].id,
            )
            app_rts.append(rt)
        self._associate("app", app_rts)

        data_rt = RouteTable(self, "data-rt", vpc_id=self.vpc.id, tags=self._tags(f"{name}-data"))
        self._associate("data", [data_rt] * az_count)

        VpcEndpoint(
            self,
            "s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{props.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in app_rts] + [data_rt.id],
            tags=self._tags(f"{name}-s3"),
        )

        self._interface_endpoints()
        self.flow_log_group = self._flow_logs()
        self._outputs()

    # --- pieces ---------------------------------------------------------------------------

    def _tags(self, name: str) -> dict[str, str]:
        return {**self._props.extra_tags, "Name": name, "PlatformRole": self._props.role.value}

    def _associate(self, tier: str, tables: list[RouteTable]) -> None:
        for i, (subnet, table) in enumerate(zip(self.subnets[tier], tables, strict=True)):
            RouteTableAssociation(self, f"{tier}-rta-{i}", subnet_id=subnet.id, route_table_id=table.id)

    def _interface_endpoints(self) -> None:
        props = self._props
        if not props.interface_endpoints:
            return
        group = SecurityGroup(
            self,
            "endpoints-sg",
            name=f"{props.name}-endpoints",
            vpc_id=self.vpc.id,
            description="Interface endpoints: HTTPS from inside the VPC only",
            tags=self._tags(f"{props.name}-endpoints"),
        )
        VpcSecurityGroupIngressRule(
            self,
            "endpoints-https",
            security_group_id=group.id,
            cidr_ipv4=props.cidr,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to the AWS service endpoints from the VPC",
        )
        for service in props.interface_endpoints:
            VpcEndpoint(
                self,
                f"{service.replace('.', '-')}-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in self.subnets["app"]],
                security_group_ids=[group.id],
                tags=self._tags(f"{props.name}-{service}"),
            )

    def _flow_logs(self) -> CloudwatchLogGroup:
        props = self._props
        name = f"/vpc/{props.name}/flow-logs"
        arn = log_group_arn(region=props.region, account_id=props.account_id, name=name)
        group, _ = encrypted_log_group(
            self,
            key_id="flow-log-key",
            group_id="flow-log-group",
            name=name,
            region=props.region,
            account_id=props.account_id,
            retention_days=props.flow_log_retention_days,
            description=f"{props.name} VPC flow logs",
            tags=self._tags(f"{props.name}-flow-logs"),
        )
        trust = DataAwsIamPolicyDocument(
            self,
            "flow-log-trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    actions=["sts:AssumeRole"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["vpc-flow-logs.amazonaws.com"]
                        )
                    ],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable="aws:SourceAccount", values=[props.account_id]
                        )
                    ],
                ),
            ],
        )
        role = IamRole(
            self,
            "flow-log-role",
            name=f"{props.name}-flow-logs",
            assume_role_policy=trust.json,
            tags=self._tags(f"{props.name}-flow-logs"),
        )
        write = DataAwsIamPolicyDocument(
            self,
            "flow-log-write",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[f"{arn}:*"],
                ),
            ],
        )
        IamRolePolicy(self, "flow-log-write-policy", name="write-flow-logs", role=role.id, policy=write.json)
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=self._tags(f"{props.name}-flow-logs"),
        )
        return group

    def _outputs(self) -> None:
        outputs = {
            "vpc_id": self.vpc.id,
            "vpc_cidr_block": self.vpc.cidr_block,
            "public_subnet_ids": [s.id for s in self.subnets["public"]],
            "app_subnet_ids": [s.id for s in self.subnets["app"]],
            "data_subnet_ids": [s.id for s in self.subnets["data"]],
            "nat_gateway_public_ips": [n.public_ip for n in self.nat_gateways],
            "flow_log_group_name": self.flow_log_group.name,
        }
        export(self, outputs)
