"""The dr workspace's stack: the same modules as its source workspace, secondary role.

It never forks module code: it flips the role flag (recorded on every resource as the
`PlatformRole` tag) and hands the source over, so the shared composition in
`surgepress/stacks.py` joins the source's global database as a secondary, copies its
secrets, replicates its buckets into this region, serves its zone and publishes this
region's side of the origin's failover records. Drills are in `surgepress/drill/` and the
runbooks in `dr/RUNBOOK.md`.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules.roles import PlatformRole
from surgepress.config import Organisation, Workspace
from surgepress.stacks import WorkspaceStack
from surgepress.targets import Paths, Target


class DrStack(WorkspaceStack):
    role = PlatformRole.SECONDARY

    def __init__(
        self,
        scope: Construct,
        workspace: Workspace,
        *,
        source: Workspace,
        target: Target,
        paths: Paths,
        organisation: Organisation,
        local_state: bool = False,
    ) -> None:
        super().__init__(
            scope,
            workspace,
            target=target,
            paths=paths,
            organisation=organisation,
            local_state=local_state,
            source=source,
        )
        TerraformOutput(self, "source_workspace", value=source.name)
        TerraformOutput(self, "source_region", value=source.region)
