"""`python main.py …`: the operator's CLI over synth, Terraform and the embedded AWS.

Every command validates all of `environments/` first; a mistake there (or in the command
line) prints one line and exits 2 before anything is synthesized or deployed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from modules.names import repository_name
from surgepress import image
from surgepress.accounts import StateStore, aws_error_line, check_identities
from surgepress.aws import WorkspaceClients
from surgepress.config import Settings, Workspace, check_image_tag, check_surge_option, load_settings
from surgepress.dataplane import DataPlane, DataPlaneError, dataplane_workspaces, reconcile_site
from surgepress.drill.topology import read_topology, replicated_site
from surgepress.emulator.control import Emulator, EmulatorError
from surgepress.errors import USAGE_EXIT_CODE, GateFailed, UserError
from surgepress.graph import GraphFailed, Job, check_jobs, default_jobs, run_graph
from surgepress.runner import (
    DEFAULT_PARALLELISM,
    LOCAL_PARALLELISM,
    PLAN_CHANGES,
    DeployedState,
    TerraformError,
    WorkspaceRunner,
    write_cli_config,
)
from surgepress.targets import Paths, Target

if TYPE_CHECKING:
    from surgepress.synth import PendingSynth, Synthesizer

PROG = "python main.py"


@dataclass
class Session:
    """What one CLI invocation works with: settings, target, paths and the Terraform env."""

    settings: Settings
    target: Target
    paths: Paths
    out: TextIO = sys.stdout
    """Messages (progress, summaries): stderr when the command prints `--json`."""
    data: TextIO = sys.stdout
    """Machine-readable output (`--json`), alone on it."""
    env: dict[str, str] = field(default_factory=dict)
    _synthesizer: Synthesizer | None = field(default=None, init=False, repr=False)

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def connect(self, *, start_emulator: bool = True) -> None:
        """Prepare the Terraform environment; on local, reuse or start the emulator."""
        self.env = {
            "TF_CLI_CONFIG_FILE": str(write_cli_config(self.paths.terraform_dir)),
            "CHECKPOINT_DISABLE": "1",  # no version/telemetry calls home from terraform or cdktf-cli
        }
        if self.target is not Target.LOCAL:
            return
        emulator = Emulator(self.paths)
        if start_emulator:
            info, _ = emulator.up(self.settings.operator_account_id, say=self.say)
            self.env.update(info.environment())
            return
        status = emulator.recover(say=self.say)
        if status.state == "running":
            self.env.update(status.info.environment())

    def preflight(self, workspaces: list[Workspace], *, need_state_bucket: bool = True) -> None:
        """Identities first (each role lands in its own account), then the state bucket."""
        check_identities(self.settings, workspaces, self.env, self.target)
        if need_state_bucket:
            StateStore(self.settings, self.env).require()
            state_ws = self.settings.state_workspace
            if self.paths.local_state_file(state_ws.name).exists():
                raise UserError(
                    f"the bootstrap of {state_ws.name} did not finish (its state is still in "
                    f"{self.paths.local_state_file(state_ws.name)}); run `python main.py bootstrap` again"
                )

    def synth(self, workspaces: list[Workspace], *, local_state: frozenset[str] = frozenset()) -> None:
        """Synthesize what is out of date (code, environment files, target or backend changed)."""
        pending = self.prepare_synth(workspaces, local_state=local_state)
        pending.start()
        pending.wait()

    def prepare_synth(self, workspaces: list[Workspace], *, local_state: frozenset[str] = frozenset()) -> PendingSynth:
        """The synth of what is out of date, its child's import begun; nothing is written until
        `start()` (after the preflight)."""
        from surgepress.synth import PendingSynth

        return PendingSynth(
            self.synthesizer, workspaces, target=self.target, paths=self.paths, local_state=local_state, say=self.say
        )

    def synthesizer(self) -> Synthesizer:
        """The command's synth process: forked once, on first need (surgepress.synth)."""
        if self._synthesizer is None:
            from surgepress.synth import Synthesizer

            self._synthesizer = Synthesizer(self.settings, target=self.target, paths=self.paths)
        return self._synthesizer

    def runner(self, ws: Workspace, out: TextIO | None = None) -> WorkspaceRunner:
        return WorkspaceRunner(
            ws.name,
            self.paths.stack_dir(self.target, ws.name),
            self.env,
            out=out or self.out,
            parallelism=LOCAL_PARALLELISM if self.target is Target.LOCAL else DEFAULT_PARALLELISM,
        )

    def run_graph(
        self,
        workspaces: list[Workspace],
        work: Callable[[Job, Workspace], str],
        *,
        verb: str,
        jobs: int,
        reverse: bool = False,
        ordered: bool = True,
        early: bool = False,
        prepare: Mapping[str, Callable[[Job, Workspace], None]] | None = None,
    ) -> None:
        """`work` for each workspace, concurrently along the data graph (surgepress.graph);
        `ordered=False` for read-only work that may run in any order; `early` lets a workspace
        start as soon as what it reads exists (surgepress.readiness), before its needs finish;
        `prepare[name]` runs first for that workspace, whatever its needs (surgepress.graph).
        The first failure is raised once every started run has ended and the table is printed."""
        needs = {ws.name: self.settings.needs(ws) for ws in workspaces} if ordered else {}
        ready = None
        if early:
            from surgepress.readiness import Readiness

            def document(name: str) -> dict | None:
                path = self.paths.stack_dir(self.target, name) / "cdk.tf.json"
                return json.loads(path.read_text()) if path.is_file() else None

            ready = Readiness(self.settings, self.env, document).ready
        try:
            run_graph(
                [ws.name for ws in workspaces],
                needs,
                lambda job: work(job, self.settings.get(job.name)),
                jobs=jobs,
                out=self.out,
                reverse=reverse,
                verb=verb,
                ready=ready,
                prepare={name: partial(self._with_workspace, step) for name, step in (prepare or {}).items()},
            )
        except GraphFailed as failed:
            others = [o.name for o in failed.outcomes if o.status == "not run"]
            if others:
                self.say(f"{verb}: {failed.first.name} failed first; not started: {', '.join(others)}")
            assert failed.first.error is not None, "a failed outcome carries its error"
            raise failed.first.error from None

    def dataplane(self, ws: Workspace, say: Callable[[str], None] | None = None) -> DataPlane:
        status = Emulator(self.paths).status()
        boot_id = status.info.boot_id if status.info else ""
        return DataPlane(self.paths, ws, self.env, boot_id=boot_id, say=say or self.say)

    def start_dataplanes(
        self, workspaces: list[Workspace], *, object_cache: bool = True, known: dict[str, dict] | None = None
    ) -> None:
        """Start each site's data plane; a site in two regions then gets its replication roles from
        the global cluster, and its edge the other region's load balancer as the failover origin.
        `known`: outputs already read (by the deploy that just ran), not read again."""
        planes = dataplane_workspaces(workspaces)
        site = replicated_site(self.settings)
        in_site = [ws for ws in planes if site and ws.name in (site.source.name, site.replica.name)]
        writer = read_topology(site, self.env).writer if site and in_site else None
        outputs = {}
        for ws in planes:
            outputs[ws.name] = (known or {}).get(ws.name) or self.runner(ws).outputs()
            if not outputs[ws.name]:
                raise UserError(f"dataplane: {ws.name} is not deployed; run `python main.py deploy {ws.name}` first")
            self.dataplane(ws).up(
                outputs[ws.name], object_cache=object_cache, writer=ws not in in_site or writer == ws.name
            )
        if in_site:
            reconcile_site(self.paths, site, self.env, say=self.say)
            for ws in in_site:  # the edge learns the load balancers started after it
                if ws.cdn:
                    self.dataplane(ws).up(outputs[ws.name], object_cache=object_cache, only=("edge",))

    def _with_workspace(self, step: Callable[[Job, Workspace], None], job: Job) -> None:
        step(job, self.settings.get(job.name))

    def header(self, job: Job | None, ws: Workspace, action: str) -> None:
        say = job.say if job else self.say
        say(f"==> {action} {ws.name} (account {ws.account_id}, {ws.region}, target {self.target.value})")


# --- commands ---------------------------------------------------------------------------


def cmd_list(s: Session, args) -> int:
    s.say(f"{'workspace':<12} {'account':<13} {'region':<14} {'role':<10} {'network':<15} depends on")
    for ws in s.settings.workspaces.values():
        role = "secondary" if ws.replica_of else "primary"
        network = ws.network.cidr if ws.network else "-"
        s.say(
            f"{ws.name:<12} {ws.account_id:<13} {ws.region:<14} {role:<10} {network:<15} "
            f"{', '.join(ws.depends_on) or '-'}"
        )
    return 0


def _selected(s: Session, args) -> list[Workspace]:
    names = getattr(args, "workspaces", None) or []
    if getattr(args, "all", False):
        if names:
            raise UserError("give workspace names or --all, not both")
        return list(s.settings.workspaces.values())
    if not names:
        raise UserError("name at least one workspace (or --all); see `python main.py list`")
    return s.settings.select(names)


def cmd_synth(s: Session, args) -> int:
    workspaces = s.settings.select(args.workspaces) if args.workspaces else list(s.settings.workspaces.values())
    s.synth(workspaces)
    return 0


def cmd_plan(s: Session, args) -> int:
    workspaces = _selected(s, args)
    s.connect()
    s.preflight(workspaces)
    s.synth(workspaces)
    codes: dict[str, int] = {}

    def plan(job: Job, ws: Workspace) -> str:
        s.header(job, ws, "plan")
        runner = s.runner(ws, job.out)
        job.phase("init")
        runner.init()
        job.phase("plan")
        codes[ws.name] = runner.plan()
        result = "changes pending" if codes[ws.name] == PLAN_CHANGES else "no changes"
        job.say(f"plan {ws.name}: {result}")
        return result

    s.run_graph(workspaces, plan, verb="plan", jobs=args.jobs, ordered=False)  # read-only: any order
    return max(codes.values(), default=0)


LEFT_SHOWN = 20


def _deployed_resources(
    job: Job, runner: WorkspaceRunner, action: Callable[[], None], *, name_left: bool = False
) -> DeployedState:
    """Run `action`; if it fails, say how many resources it left in state (a half-done run),
    and with `name_left` which ones (what a failed destroy leaves for someone to remove)."""
    try:
        action()
    except BaseException:
        try:
            left = runner.resources()
            job.detail = f"{len(left)} resources in state"
            if name_left and left:
                more = f" and {len(left) - LEFT_SHOWN} more" if len(left) > LEFT_SHOWN else ""
                job.say(f"{runner.workspace}: left in state: {', '.join(left[:LEFT_SHOWN])}{more}")
        except (TerraformError, OSError):
            job.detail = "resources in state unknown"
        raise
    return runner.state()


def cmd_deploy(s: Session, args) -> int:
    workspaces = _selected(s, args)
    if args.image_tag is not None:  # before the synth process forks: it synthesizes these settings
        workspaces = _roll_to(s, workspaces, check_image_tag(args.image_tag, "--image-tag"))
    synth = s.prepare_synth(workspaces)  # the synth process imports while the preflight runs
    s.connect()
    s.preflight(workspaces)
    _require_images(s, workspaces, named=args.image_tag is not None)
    synth.start()
    synth.wait()  # not overlapped with the applies: on 2 cores that slows the first ones more than it saves
    started = time.monotonic()
    outputs: dict[str, dict] = {}  # read in each job, right after its apply (several at once)

    def deploy(job: Job, ws: Workspace) -> str:
        s.header(job, ws, "deploy")
        runner = s.runner(ws, job.out)
        job.phase("init")
        runner.init()
        job.phase("apply")
        deployed = _deployed_resources(job, runner, lambda: runner.apply(refresh=not args.no_refresh))
        count, outputs[ws.name] = len(deployed.resources), deployed.outputs
        _record_first_image(s, ws, job)
        if ws.compute:
            job.phase("rollout")
            _await_rollout(s, ws, deployed.outputs, job)
        job.say(f"deploy {ws.name}: done in {time.monotonic() - job.started:.1f}s, {count} resources in state")
        return f"{count} resources"

    s.run_graph(workspaces, deploy, verb="deploy", jobs=args.jobs, early=True)
    s.say(f"\ndeployed {len(workspaces)} workspace(s) in {time.monotonic() - started:.1f}s")
    for ws in workspaces:
        _print_outputs(s, ws, outputs[ws.name])
    if s.target is Target.LOCAL and not args.no_dataplane and dataplane_workspaces(workspaces):
        s.say("")
        s.start_dataplanes(workspaces, known=outputs)
    return 0


def _roll_to(s: Session, workspaces: list[Workspace], tag: str) -> list[Workspace]:
    sites = {ws.name for ws in workspaces if ws.compute}
    if not sites:
        raise UserError(f"--image-tag: none of {', '.join(ws.name for ws in workspaces)} runs WordPress (no compute)")
    s.settings = s.settings.with_image_tag(sites, tag)
    return [s.settings.get(ws.name) for ws in workspaces]


def _repository(s: Session, ws: Workspace):
    """(an ECR client, the repository's name) of the registry a site's tasks pull from, in the
    site's region: the registry workspace's repository, or its replica there."""
    where = ws.image_registry
    assert where is not None, "resolved at load for every workspace with compute"
    return WorkspaceClients(s.settings.get(where.workspace), s.env).get("ecr", where.region), where.repository


def _require_images(s: Session, workspaces: list[Workspace], *, named: bool) -> None:
    """Each site's task definition must name an image the registry holds in its region, or ECS
    starts no task and the circuit breaker rolls the deployment back: refused before anything
    is applied. On the local target the image built from app/ is recorded first (the image
    stage). A registry that does not exist yet is a first deploy: on the local target its
    workspace, deployed in the same run, records the image right after its apply (the sites
    start once it is there: surgepress.readiness); on aws the image stage must push it first."""
    selected = {ws.name for ws in workspaces}
    for ws in workspaces:
        if not ws.compute:
            continue
        tag, (ecr, repository) = image.tag_for(ws), _repository(s, ws)
        owner = ws.image_registry.workspace if ws.image_registry else ""
        try:
            if image.holds(ecr, repository, tag):
                continue
        except ecr.exceptions.RepositoryNotFoundException:
            if not named and s.target is Target.LOCAL and owner in selected and tag == image.default_tag():
                continue
            raise UserError(
                f"{'--image-tag ' + tag if named else 'deploy'}: {ws.name} pulls from the registry of {owner}, "
                f"which has no repository {repository} in {ws.image_registry.region} yet; deploy {owner} first"
                + ("" if s.target is Target.LOCAL else ", then push the image (the pipeline's image stage)")
                + "; nothing was deployed"
            ) from None
        if s.target is Target.LOCAL and tag == image.default_tag():
            _record_built(ecr, repository, s.say)
            continue
        how = (
            f"`python main.py images {ws.name}` lists what it holds"
            if named
            else "push it (the pipeline's image stage), or deploy --image-tag with one it holds"
        )
        raise UserError(
            f"{'--image-tag ' + tag if named else 'deploy'}: {ws.name}'s registry {repository} in "
            f"{ws.image_registry.region} holds no image {tag}; {how}; nothing was deployed"
        )


def _record_first_image(s: Session, ws: Workspace, job: Job) -> None:
    """Local target, right after the registry workspace's apply: the image built from app/ in its
    repository (which the apply may just have created; replication copies it to the replicas),
    as the image stage would push it."""
    if s.target is not Target.LOCAL or not ws.registry:
        return
    ecr = WorkspaceClients(ws, s.env).get("ecr")
    _record_built(ecr, repository_name(ws.project), job.say)


def _await_rollout(s: Session, ws: Workspace, outputs: dict, job: Job) -> None:
    """The service's rollout of what was just applied, as ECS's circuit breaker decides it
    (surgepress.rollout): a rollback fails the deploy, and so the pipeline's deploy stage."""
    from surgepress.rollout import await_rollout

    assert ws.compute is not None
    value = {name: out["value"] for name, out in outputs.items()}
    ended = await_rollout(
        WorkspaceClients(ws, s.env).get("ecs"),
        value["cluster_name"],
        value["service_name"],
        value["task_definition_arn"],
        timeout_s=ws.compute.rollout_timeout_s,
    )
    job.say(f"rollout {ws.name}: {ended.state} ({value['task_definition_arn'].rsplit('/', 1)[-1]})")


def _record_built(ecr, repository: str, say: Callable[[str], None]) -> None:
    """The local target's image stage: the image built from app/ recorded under its tag."""
    if image.record(ecr, repository, image.default_tag()):
        say(f"images: {repository}:{image.default_tag()} recorded (local target: the image built from app/)")


def _confirm_destroy(s: Session, ws: Workspace, approved: set[str], stdin: TextIO) -> None:
    if not ws.protected or ws.name in approved:
        return
    if not stdin.isatty():
        raise UserError(
            f"refusing to destroy protected workspace {ws.name!r} without a terminal; pass --yes-destroy {ws.name}"
        )
    s.out.write(f"{ws.name} is protected. Type its name to destroy it: ")
    s.out.flush()
    if stdin.readline().strip() != ws.name:
        raise UserError(f"destroy of {ws.name!r} not confirmed; nothing was destroyed")


def cmd_destroy(s: Session, args, stdin: TextIO = sys.stdin) -> int:
    workspaces = list(reversed(_selected(s, args)))
    approved = set(args.yes_destroy or [])
    if args.yes_destroy_production:
        approved.add("production")
    state_ws = s.settings.state_workspace
    names = {ws.name for ws in workspaces}
    if state_ws.name in names and s.target is not Target.LOCAL:
        raise UserError(
            f"refusing to destroy {state_ws.name} on aws: it holds the state bucket "
            f"{state_ws.state.bucket} with every workspace's state history; remove it by hand if "
            "you really mean to (README: Tearing down)"
        )
    for ws in workspaces:
        _confirm_destroy(s, ws, approved, stdin)
    released: set[str] = set()
    if args.release_protection:
        before = s.settings
        s.settings = before.released({ws.name for ws in workspaces})
        released = {ws.name for ws in workspaces if s.settings.get(ws.name) != before.get(ws.name)}
        workspaces = [s.settings.get(ws.name) for ws in workspaces]
        state_ws = s.settings.state_workspace
    s.connect()
    s.preflight(workspaces)
    if state_ws.name in names:
        _refuse_keeping_images(s, state_ws)
    # The bucket workspace is synthesized with local state: its state must leave the bucket first.
    s.synth(workspaces, local_state=frozenset({state_ws.name}) if state_ws.name in names else frozenset())

    def destroy(job: Job, ws: Workspace) -> str:
        s.header(job, ws, "destroy")
        if s.target is Target.LOCAL:
            s.dataplane(ws, job.say).down(quiet=not dataplane_workspaces([ws]))
        runner = s.runner(ws, job.out)
        job.phase("init")
        if ws.name == state_ws.name:
            _unbootstrap(s, ws, job)
            if ws.name in released:  # its state is local now: released here, not ahead
                apply_release(job, runner, ws)
        else:
            runner.init()
        job.phase("destroy")
        action = partial(runner.destroy, refresh=not args.no_refresh)
        left = len(_deployed_resources(job, runner, action, name_left=True).resources)
        job.say(f"destroy {ws.name}: done, {left} resources left in state")
        return f"{left} resources left"

    def release(job: Job, ws: Workspace) -> None:
        """An apply of the released settings, while what reads the workspace may still be going:
        a destroy cannot lift deletion protection itself (Terraform deletes with what the state has)."""
        s.header(job, ws, "release")
        runner = s.runner(ws, job.out)
        job.phase("init")
        runner.init()
        apply_release(job, runner, ws)

    def apply_release(job: Job, runner: WorkspaceRunner, ws: Workspace) -> None:
        job.phase("release")
        _deployed_resources(job, runner, lambda: runner.apply(refresh=not args.no_refresh))
        job.say(f"release {ws.name}: deletion protection off, buckets deletable with their objects")

    # The state bucket's workspace is synthesized with local state: it is released in its own
    # destroy, once its state has left the bucket.
    ahead = {name: release for name in released if name != state_ws.name}
    s.run_graph(list(reversed(workspaces)), destroy, verb="destroy", jobs=args.jobs, reverse=True, prepare=ahead)
    return 0


def _refuse_keeping_images(s: Session, ws: Workspace) -> None:
    """The state bucket's workspace goes last and its destroy begins by moving its state out of
    the bucket: a destroy that would then stop at ECR's refusal to delete a repository holding
    images (registry.enable_deletion_protection) is refused before anything is destroyed."""
    if ws.registry is None or not ws.registry.enable_deletion_protection:
        return
    ecr = WorkspaceClients(ws, s.env).get("ecr")
    try:
        held = image.listed(ecr, repository_name(ws.project))
    except ecr.exceptions.RepositoryNotFoundException:
        return
    if held:
        raise UserError(
            f"destroy: {ws.name}'s image registry {repository_name(ws.project)} holds {len(held)} image(s) and "
            f"keeps them (registry.enable_deletion_protection in {ws.file}); destroy with --release-protection "
            "to let them go, or set it false and deploy first; nothing was destroyed"
        )


def _unbootstrap(s: Session, ws: Workspace, job: Job) -> None:
    """Local target only: move the bucket workspace's state out of the bucket it is about to
    delete (its stack is synthesized with local state), then empty the bucket (its versions
    and delete markers), which S3 requires."""
    s.runner(ws, job.out).migrate_state()
    removed = StateStore(s.settings, s.env).empty()
    job.say(
        f"destroy {ws.name}: state moved to {s.paths.local_state_file(ws.name)}; local target only: emptied the "
        f"state bucket {ws.state.bucket} ({removed} object versions) so that it can be deleted"
    )


def cmd_bootstrap(s: Session, args) -> int:
    """Deploy the state bucket's workspace with local state, then move that state into the bucket."""
    ws = s.settings.state_workspace
    s.connect()
    s.preflight([ws], need_state_bucket=False)
    store, local_file = StateStore(s.settings, s.env), s.paths.local_state_file(ws.name)
    exists = store.exists()
    if exists and store.holds(ws) and not local_file.exists():
        s.say(f"bootstrap: state bucket {store.bucket} exists and holds {ws.name}'s state; nothing to do")
        return 0
    if exists and not local_file.exists():
        raise UserError(
            f"bootstrap: bucket {store.bucket} exists but holds no state of {ws.name} and no local "
            f"state is left at {local_file}; import the bucket or choose another state.bucket"
        )

    others = [w for w in s.settings.workspaces.values() if w is not ws]

    def bootstrap(job: Job, ws: Workspace) -> str:
        ahead = None
        if not exists:
            s.header(job, ws, "deploy with local state")
            s.synth([ws], local_state=frozenset({ws.name}))
            # While the apply waits on AWS, the synth process writes the other workspaces' stacks
            # (their first deploy, which follows, then has nothing to synthesize).
            ahead = s.prepare_synth(others)
            ahead.start()
            runner = s.runner(ws, job.out)
            job.phase("init")
            runner.init()
            job.phase("apply")
            _deployed_resources(job, runner, runner.apply)
        if ahead is not None:
            try:
                ahead.wait(unless="bootstrap goes on; the deploy of those workspaces will stop at it")
            except UserError as refused:  # the state bucket does not need those stacks
                job.say(str(refused))
        s.header(job, ws, f"move state into s3://{store.bucket}/{ws.state_key}")
        s.synth([ws])
        job.phase("migrate state")
        s.runner(ws, job.out).migrate_state()
        for leftover in (local_file, local_file.with_name(local_file.name + ".backup")):
            leftover.unlink(missing_ok=True)
        job.say(
            f"bootstrap: done in {time.monotonic() - job.started:.1f}s; every workspace keeps its state in "
            f"s3://{store.bucket}/<project>/<workspace>/terraform.tfstate (native S3 locking)"
        )
        return f"state in s3://{store.bucket}"

    s.synthesizer()  # forked here, not in the job's thread: both synths of the job use it
    s.run_graph([ws], bootstrap, verb="bootstrap", jobs=args.jobs)
    return 0


def _print_outputs(s: Session, ws: Workspace, outputs: dict[str, dict]) -> None:
    s.say(f"\n{ws.name} outputs ({s.target.value}):")
    if not outputs:
        s.say("  (none: not deployed)")
    for name, item in sorted(outputs.items()):
        value = "(sensitive)" if item.get("sensitive") else json.dumps(item["value"])
        s.say(f"  {name} = {value}")


def cmd_unlock(s: Session, args) -> int:
    """Release a state lock left by a run that died, with the project's own CLI config and backend;
    refused while a Terraform on this machine still works in that workspace's directory."""
    import socket

    from surgepress.processes import terraform_in

    ws = s.settings.get(args.workspace)
    s.connect(start_emulator=False)
    if s.target is Target.LOCAL and "AWS_ENDPOINT_URL" not in s.env:
        raise UserError("unlock: the emulator is not running, so no state (and no lock) exists")
    s.preflight([ws])
    store = StateStore(s.settings, s.env)
    lock = store.lock(ws)
    where = f"s3://{store.bucket}/{ws.state_key}"
    if lock is None:
        raise UserError(f"unlock {ws.name}: {where} is not locked; nothing to do")
    held = f"{lock.get('Operation', '?')} by {lock.get('Who', '?')} since {lock.get('Created', '?')}"
    if lock.get("ID") != args.lock_id:
        raise UserError(
            f"unlock {ws.name}: the lock on {where} has ID {lock.get('ID')!r} ({held}), not "
            f"{args.lock_id!r}; nothing was changed"
        )
    host = str(lock.get("Who", "")).rpartition("@")[2]
    if host == socket.gethostname():
        alive = terraform_in(f"stacks/{ws.name}")
        if alive:
            pids = ", ".join(f"{p.pid} in {p.info.get('cwd')}" for p in alive)
            raise UserError(
                f"unlock {ws.name}: refused, the lock's holder may still be running on this machine "
                f"(terraform pid {pids}); wait for it or stop it first"
            )
    if not (s.paths.stack_dir(s.target, ws.name) / "cdk.tf.json").is_file():
        s.synth([ws])
    runner = s.runner(ws)
    runner.init()
    runner.force_unlock(args.lock_id)
    s.say(f"unlock {ws.name}: released lock {args.lock_id} ({held}) on {where}")
    return 0


def cmd_output(s: Session, args) -> int:
    workspaces = _selected(s, args)
    s.connect(start_emulator=False)
    if s.target is Target.LOCAL and "AWS_ENDPOINT_URL" not in s.env:
        raise UserError(
            "output: the emulator is not running, so nothing is deployed; "
            "run `python main.py bootstrap` and `python main.py deploy --all`"
        )
    s.preflight(workspaces)
    missing = [ws for ws in workspaces if not (s.paths.stack_dir(s.target, ws.name) / "cdk.tf.json").is_file()]
    if missing:
        s.synth(missing)
    collected = {}
    for ws in workspaces:
        runner = s.runner(ws)
        runner.init()
        collected[ws.name] = runner.outputs()
    if args.json:
        # Sensitive values stay out of JSON output too; read them with terraform directly.
        print(
            json.dumps(
                {
                    name: {k: (None if v.get("sensitive") else v["value"]) for k, v in outs.items()}
                    for name, outs in collected.items()
                },
                indent=2,
                sort_keys=True,
            ),
            file=s.data,
        )
    else:
        for ws in workspaces:
            _print_outputs(s, ws, collected[ws.name])
    return 0


def cmd_images(s: Session, args) -> int:
    if args.tag:  # what the pipeline's image stage tags its build with: from app/ alone
        s.say(image.default_tag())
        return 0
    chosen = s.settings.select(args.workspaces) if args.workspaces else list(s.settings.workspaces.values())
    workspaces = [ws for ws in chosen if ws.compute]
    if not workspaces:
        raise UserError(f"images: none of {', '.join(ws.name for ws in chosen)} runs WordPress (no compute)")
    s.connect(start_emulator=False)
    if s.target is Target.LOCAL and "AWS_ENDPOINT_URL" not in s.env:
        raise UserError("images: the emulator is not running; run `python main.py bootstrap` and `deploy` first")
    s.preflight(workspaces)
    if args.push:
        _push_built(s)
    for ws in workspaces:
        ecr, repository = _repository(s, ws)
        where = f"{repository} in {ws.image_registry.region}" if ws.image_registry else repository
        try:
            rows = image.listed(ecr, repository)
        except ecr.exceptions.RepositoryNotFoundException:
            raise UserError(f"images: the registry has no repository {where} yet; deploy its workspace first") from None
        s.say(f"{ws.name}: {where}, {len(rows)} image(s); a deploy runs {image.tag_for(ws)}")
        for row in rows:
            s.say(f"  {row.tag:<40} pushed {row.pushed_at:<24} scan {row.scan}")
    return 0


def _push_built(s: Session) -> None:
    """The image stage: the image built from app/ into the registry under its tag (on aws with
    Docker; the local target records its manifest), then ECR's scan judged: a finding at or
    above `registry.block_severity` fails it, so no deploy stage runs the image."""
    owner = next((ws for ws in s.settings.workspaces.values() if ws.registry), None)
    assert owner is not None and owner.registry is not None, "the loader refuses compute without a registry"
    ecr, repository, tag = (
        WorkspaceClients(owner, s.env).get("ecr"),
        repository_name(owner.project),
        image.default_tag(),
    )
    try:
        there = image.holds(ecr, repository, tag)
    except ecr.exceptions.RepositoryNotFoundException:
        raise UserError(f"images --push: {owner.name} has no repository {repository} yet; deploy it first") from None
    if there:
        s.say(f"images: {repository}:{tag} is there already (immutable: the same source is the same tag)")
    elif s.target is Target.LOCAL:
        image.record(ecr, repository, tag)
        s.say(f"images: {repository}:{tag} recorded (local target: the manifest of the image built from app/)")
    else:
        url = f"{owner.account_id}.dkr.ecr.{owner.region}.amazonaws.com/{repository}"
        image.build_and_push(ecr, url, tag, revision=os.environ.get("CODEBUILD_RESOLVED_SOURCE_VERSION", ""))
        s.say(f"images: {url}:{tag} pushed")
    counts = image.scan_findings(ecr, repository, tag, timeout_s=owner.registry.scan_timeout_s)
    found = ", ".join(f"{severity} {n}" for severity, n in counts.items()) or "no findings"
    blocked = image.blocking(counts, owner.registry.block_severity)
    if blocked:
        raise GateFailed(
            f"images --push: {repository}:{tag}: ECR's scan found {found}; {owner.registry.block_severity} or worse "
            f"fails the image (registry.block_severity in {owner.file}), so no environment deploys it"
        )
    s.say(f"images: {repository}:{tag} scanned: {found} (nothing at or above {owner.registry.block_severity})")


def cmd_policy(s: Session, args) -> int:
    from surgepress.policy import scan, scan_image

    workspaces = s.settings.select(args.workspaces) if args.workspaces else list(s.settings.workspaces.values())
    s.synth(workspaces)
    report = scan({ws.name: s.paths.stack_dir(s.target, ws.name) for ws in workspaces})
    report.merge(scan_image(image.DOCKERFILE))
    for finding in report.skipped + report.failed:
        s.say(("SKIP " if finding.reason else "FAIL ") + finding.line())
    s.say(report.summary())
    missed = _surge_gate(s, workspaces)
    return 0 if report.ok and not missed else 1


def _surge_outcomes(s: Session, workspaces: list[Workspace], *, deployed: bool = False, **scenario) -> list:
    """Each site's configured surge, simulated against its synthesized stack, or with `deployed`
    against what its deployment's APIs say (surgepress.surge)."""
    from surgepress.surge import judge, load_calibration, scenario_for
    from surgepress.surge.live import read_deployed

    calibration, which = load_calibration(s.paths)
    outcomes = []
    for ws in workspaces:
        document = json.loads((s.paths.stack_dir(s.target, ws.name) / "cdk.tf.json").read_text())
        site = None
        if deployed:
            runner = s.runner(ws, io.StringIO())  # its outputs only: no init chatter
            runner.init()
            outputs = {name: out["value"] for name, out in runner.outputs().items()}
            site = read_deployed(WorkspaceClients(ws, s.env), ws.name, outputs)
        outcomes.append(judge(ws, document, scenario_for(ws, **scenario), calibration, which, site=site))
    return outcomes


def _surge_gate(s: Session, workspaces: list[Workspace]) -> list[str]:
    """The surge objective of every selected site with a `surge:` section: a miss fails `policy`,
    with the figures and what held the fleet back."""
    from surgepress.surge.report import lines

    sites = [ws for ws in workspaces if ws.surge is not None]
    missed = []
    for outcome in _surge_outcomes(s, sites):
        if outcome.misses:
            missed.append(outcome.workspace.name)
            s.say("FAIL surge " + "\n".join(lines(outcome)))
        else:
            m = outcome.measures
            s.say(
                f"surge {outcome.workspace.name}: meets its objective (absorb {m.absorb_s} s, "
                f"{m.overload_percent:.2f} % over capacity, worst-minute p95 {m.worst_minute_p95_ms:,.0f} ms)"
            )
    skipped = [ws.name for ws in workspaces if ws.compute and ws.surge is None]
    for name in skipped:
        s.say(f"SKIP surge {name}: no `surge:` section, so no objective to hold it to")
    return missed


def cmd_surge(s: Session, args) -> int:
    from surgepress.surge.report import lines, write
    from surgepress.surge.scenario import read_trace

    if args.workspaces[:1] == ["tune"]:
        return _surge_tune(s, args.workspaces[1:])
    if args.workspaces[:1] == ["calibrate"]:
        return _surge_calibrate(s, args.workspaces[1:], args.step_seconds, args.readers)
    chosen = s.settings.select(args.workspaces) if args.workspaces else list(s.settings.workspaces.values())
    workspaces = [ws for ws in chosen if ws.surge is not None] if not args.workspaces else chosen
    if not workspaces:
        raise UserError("surge: no workspace has a `surge:` section")
    for ws in workspaces:
        if ws.compute is None or ws.surge is None:
            raise UserError(
                f"surge: {ws.name} has no {'compute' if ws.compute is None else '`surge:` section'}: "
                "nothing to simulate"
            )
    options = {
        "multiplier": ("--multiplier", args.multiplier),
        "ramp_s": ("--ramp", args.ramp),
        "hold_s": ("--hold", args.hold),
    }
    overrides: dict = {k: check_surge_option(k, v, flag) for k, (flag, v) in options.items() if v is not None}
    if args.trace is not None:
        shaped = [flag for flag, v in options.values() if v is not None]
        if shaped or args.scenario != "breaking-news":
            raise UserError(f"--trace: replays its own demand; {', '.join(shaped) or '--scenario'} would be ignored")
        trace = read_trace(Path(args.trace))
        overrides.update(trace=trace, trace_source=args.trace)
    from surgepress.surge import scenario_for

    for ws in workspaces:  # refused before anything is synthesized
        scenario_for(ws, kind=args.scenario, **overrides)
    if args.from_deployment:
        s.connect(start_emulator=False)
        if s.target is Target.LOCAL and "AWS_ENDPOINT_URL" not in s.env:
            raise UserError("surge --from-deployment: the emulator is not running; deploy first")
        s.preflight(workspaces)
    s.synth(workspaces)
    outcomes = _surge_outcomes(s, workspaces, deployed=args.from_deployment, kind=args.scenario, **overrides)
    md, js = write(outcomes, s.paths.build / "reports" / "surge")
    if args.json:
        print(js.read_text(), file=s.data)
    else:
        from surgepress.surge.result import ABSORB_DEFINITION

        for outcome in outcomes:
            for line in lines(outcome):
                s.say(line)
        s.say(f"({ABSORB_DEFINITION})")
        s.say(f"report: {md}, {js}, " + ", ".join(str(md.with_name(f"{ws.name}.png")) for ws in workspaces))
    return 0


def cmd_cost(s: Session, args) -> int:
    """Each workspace's monthly estimate with its line items (surgepress.estimate)."""
    from surgepress.estimate import estimate, lines, site_costs
    from surgepress.surge import load_calibration
    from surgepress.surge.cost import PriceTable

    workspaces = s.settings.select(args.workspaces) if args.workspaces else list(s.settings.workspaces.values())
    s.synth(workspaces)
    calibration, which = load_calibration(s.paths)
    estimates = []
    for ws in workspaces:
        document = json.loads((s.paths.stack_dir(s.target, ws.name) / "cdk.tf.json").read_text())
        estimates.append(estimate(ws, document, PriceTable.load(), site_costs(ws, document, calibration, which)))
    if args.json:
        print(json.dumps([e.as_json() for e in estimates], indent=2, sort_keys=True), file=s.data)
        return 0
    for e in estimates:
        for line in lines(e):
            s.say(line)
    s.say(f"all workspaces: ${sum(e.total_usd for e in estimates):,.2f} a month (calibration: {which})")
    caveats = sorted({c for e in estimates for c in e.caveats})
    s.say(
        f"{len(caveats)} of the prices used are not AWS's own figure "
        "(surgepress/surge/prices.json; `--json` names them)"
    )
    return 0


def cmd_prices(s: Session, args) -> int:
    """`prices refresh`: the price table rebuilt from AWS's bulk offer files (surgepress.prices)."""
    from surgepress.prices import OFFERS, check_table, http_fetch, refresh, write
    from surgepress.surge.cost import PRICES

    table = Path(args.table) if args.table else PRICES
    try:
        current = check_table(json.loads(table.read_text()), str(table))
    except (OSError, ValueError) as exc:
        raise UserError(f"prices refresh: {table}: not a price table ({exc})") from None
    started = time.monotonic()
    done = refresh(current, http_fetch, base=(args.offers or OFFERS).rstrip("/"))
    write(done, table)
    s.say(
        f"prices refresh: {len(done.updated)} rows from AWS's offer files in "
        f"{time.monotonic() - started:.1f}s -> {table}"
    )
    for line in done.kept:
        s.say(f"  kept: {line}")
    return 0


def _surge_calibrate(s: Session, names: list[str], step_s: float, readers: str | None) -> int:
    """`surge calibrate [ws]`: what one task serves on the workspace's running local data plane
    (surgepress.surge.calibrate), saved where every surge report then reads it."""
    from surgepress.load import LoadError, run
    from surgepress.surge import calibration_file
    from surgepress.surge.calibrate import STEPS, measure, save

    if len(names) > 1:
        raise UserError(f"surge calibrate: name one workspace (default staging), got {' '.join(names)}")
    if s.target is not Target.LOCAL:
        raise UserError("surge calibrate: measures the local data plane; run it with --target local")
    if not 0 < step_s <= 600:
        raise UserError(f"surge calibrate: --step-seconds must be above 0 and at most 600, got {step_s:g}")
    steps = STEPS
    if readers is not None:
        parts = readers.split(",")
        if not all(p.isdigit() and 1 <= int(p) <= 1000 for p in parts) or [int(p) for p in parts] != sorted(
            {int(p) for p in parts}
        ):
            raise UserError(
                f"surge calibrate: --readers expects rising counts from 1 to 1000 such as 2,8,32, got {readers!r}"
            )
        steps = tuple(int(p) for p in parts)
    ws = s.settings.get(names[0] if names else "staging")
    if ws.compute is None or ws.surge is None:
        raise UserError(f"surge calibrate: {ws.name} has no {'compute' if ws.compute is None else '`surge:` section'}")
    plane = s.dataplane(ws)
    task, edge = plane.task_endpoint(), plane.edge_endpoint()
    if task is None or edge is None:
        raise UserError(
            f"surge calibrate: {ws.name}'s data plane is not running; run `python main.py dataplane up {ws.name}`"
        )
    s.say(f"surge calibrate {ws.name}: the reading mix against one task, {step_s:g} s a step")
    try:
        calibration = measure(
            run, task, edge, max_p95_ms=ws.surge.max_p95_ms, workspace=ws.name, steps=steps, step_s=step_s, say=s.say
        )
    except LoadError as exc:
        raise DataPlaneError(f"surge calibrate: {exc}") from None
    path = calibration_file(s.paths)
    save(calibration, path)
    s.say(
        f"surge calibrate: {calibration['rps_per_1024_cpu']:g} req/s per 1024 CPU units, p95 "
        f"{calibration['idle_p95_ms']:g} ms idle and {calibration['at_capacity_p95_ms']:g} ms at capacity; the edge "
        f"answered {calibration['edge_hit_ratio']:.1%} of the mix -> {path}"
    )
    return 0


def _surge_tune(s: Session, names: list[str]) -> int:
    """`surge tune <ws>`: the Pareto front of absorb time against monthly cost over the scaling
    settings, and the cheapest settings that meet the objective (surgepress.surge.tune)."""
    from surgepress.surge import load_calibration
    from surgepress.surge.tune import KNOBS, pareto, search, yaml_change

    if len(names) != 1:
        raise UserError(f"surge tune: name one workspace, got {' '.join(names) or 'none'}")
    ws = s.settings.get(names[0])
    if ws.compute is None or ws.surge is None:
        raise UserError(f"surge tune: {ws.name} has no {'compute' if ws.compute is None else '`surge:` section'}")
    s.synth([ws])
    (outcome,) = _surge_outcomes(s, [ws])
    document = json.loads((s.paths.stack_dir(s.target, ws.name) / "cdk.tf.json").read_text())
    calibration, which = load_calibration(s.paths)
    started = time.monotonic()
    found = search(outcome, document, calibration)
    s.say(f"surge tune {ws.name}: {len(found)} candidates in {time.monotonic() - started:.1f}s (calibration: {which})")
    s.say("Pareto front (absorb time and requests over capacity against the monthly cost):")
    for c in pareto(found):
        absorb = "not absorbed" if c.absorb_s is None else f"absorb {c.absorb_s:>4} s"
        changed = ", ".join(f"{k} {v}" for k, v in sorted(c.changes.items())) or "the committed settings"
        s.say(
            f"  ${c.monthly_usd:>9,.0f}/month  {absorb}  {c.overload_percent:6.2f} % over  "
            f"p95 {c.worst_p95_ms:>7,.0f} ms  {'meets' if c.meets else 'misses'}  {changed}"
        )
    meeting = [c for c in found if c.meets]
    if not meeting:
        s.say(
            "no candidate meets the objective: it needs what the search does not set (a larger host or task "
            "ceiling, a faster custom metric)"
        )
        return 1
    best = min(meeting, key=lambda c: (c.monthly_usd, c.absorb_s or 0))
    s.say(f"cheapest that meets the objective: ${best.monthly_usd:,.0f}/month")
    current = {k: getattr(ws.compute, k) for k in KNOBS}
    for line in yaml_change(ws.file, current, best.changes):
        s.say(line)
    return 0


def cmd_emulator(s: Session, args) -> int:
    if s.target is not Target.LOCAL:
        raise UserError("emulator: only the local target has an emulator (got --target aws)")
    emulator = Emulator(s.paths)
    if args.action == "up":
        info, started = emulator.up(s.settings.operator_account_id, say=s.say)
        if not started:
            s.say(f"emulator: already running on {info.endpoint} (pid {info.pid})")
        return 0
    if args.action == "down":
        for ws in s.settings.workspaces.values():  # they run on what this emulator held
            DataPlane(s.paths, ws, {}, say=s.say).down(quiet=not dataplane_workspaces([ws]))
        status = emulator.down()
        s.say("emulator: stopped; local states reset" if status.info else "emulator: was not running")
        return 0
    status = emulator.status()
    if status.state == "running":
        s.say(
            f"emulator: running on {status.info.endpoint} (pid {status.info.pid}, "
            f"up {time.time() - status.info.started_at:.0f}s, log {emulator.log_file})"
        )
        return 0
    s.say(f"emulator: {status.state}" + (f" ({status.detail})" if status.detail else ""))
    return 3


def cmd_drill(s: Session, args) -> int:
    from surgepress.drill import Drill, require_site

    site = require_site(s.settings)
    s.connect(start_emulator=False)
    if s.target is Target.LOCAL and "AWS_ENDPOINT_URL" not in s.env:
        raise UserError("drill: the emulator is not running; deploy first (`python main.py deploy --all`)")
    s.preflight(list(site.sides))
    return Drill(
        s, args.kind, dry_run=args.dry_run, simulate_outage=args.simulate_outage, marker_grace_s=args.marker_grace
    ).run()


def cmd_dataplane(s: Session, args) -> int:
    if s.target is not Target.LOCAL:
        raise UserError("dataplane: only the local target has a data plane (on aws, ECS runs it)")
    named = s.settings.select(args.workspaces) if args.workspaces else list(s.settings.workspaces.values())
    workspaces = dataplane_workspaces(named)
    if not workspaces:
        raise UserError(
            f"dataplane: {', '.join(ws.name for ws in named)} run(s) no site "
            "(a data plane needs database, cache, compute and cdn sections)"
        )
    if args.action == "up":
        s.connect(start_emulator=False)
        if "AWS_ENDPOINT_URL" not in s.env:
            raise UserError("dataplane: the emulator is not running; deploy first (`python main.py deploy --all`)")
        s.start_dataplanes(workspaces, object_cache=not args.no_object_cache)
        return 0
    if args.action == "down":
        for ws in workspaces:
            s.dataplane(ws).down()
        return 0
    healthy = True
    for ws in workspaces:
        plane = s.dataplane(ws)
        s.say(f"{ws.name}:")
        for service in plane.status():
            healthy &= service.state == "running"
            port = f"127.0.0.1:{service.port}" if service.port else "-"
            pid = str(service.pid or "-")
            s.say(f"  {service.name:<10} {service.state:<8} pid {pid:<8} {port:<16} {service.health}")
        for what, instead in image.FETCHED_AT_BUILD.items():  # app/ serves both; what the build fetches does not
            s.say(f"  unlike the image: {what}: {instead}")
    return 0 if healthy else 3


def cmd_loadtest(s: Session, args) -> int:
    from surgepress.load import LoadError, run

    if args.url:
        url, host_header, ca_file = args.url, "", ""
    else:
        if s.target is not Target.LOCAL:
            raise UserError("loadtest: on --target aws give the site's URL with --url")
        ws = s.settings.get(args.workspace)
        endpoint = s.dataplane(ws).edge_endpoint()
        if endpoint is None:
            raise UserError(
                f"loadtest: {ws.name}'s data plane is not running; run `python main.py dataplane up {ws.name}`"
            )
        url, host_header, ca_file = endpoint
    if args.users < 1 or args.duration <= 0 or not 1 <= args.multiplier <= 20:
        raise UserError(
            f"loadtest: expected --users >= 1, --duration > 0 and 1 <= --multiplier <= 20, got "
            f"{args.users}, {args.duration}, {args.multiplier}"
        )
    try:
        report = run(
            url,
            scenario=args.scenario,
            users=args.users,
            duration_s=args.duration,
            surge_multiplier=args.multiplier,
            surge_ramp_s=args.ramp,
            host_header=host_header,
            ca_file=ca_file,
            max_requests=args.max_requests,
        )
    except LoadError as exc:
        raise DataPlaneError(f"loadtest: {exc}") from None
    if args.json:
        print(json.dumps(report.as_dict(), indent=2), file=s.data)
    else:
        for line in report.lines():
            s.say(line)
    return 0


def cmd_test(s: Session, args) -> int:
    """The integration harness: pytest over tests/integration, stages in order, reports per run."""
    import signal
    import subprocess

    from surgepress.harness import RUN_ID_ENV, TARGET_ENV, WORKSPACES_ENV, HarnessPaths, new_run_id
    from surgepress.targets import REPO_ROOT

    workspaces = [ws.name for ws in s.settings.select(args.workspace)] if args.workspace else []
    if s.target is Target.AWS and not workspaces:
        raise UserError("test integration --target aws: name the workspace(s) to test, e.g. --workspace staging")
    invocation = new_run_id()
    reports = HarnessPaths(s.paths.build).reports(invocation)
    reports.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, TARGET_ENV: s.target.value, WORKSPACES_ENV: ",".join(workspaces), RUN_ID_ENV: invocation}
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "tests/integration",
        "-m",
        "integration",
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_suite_name=surgepress-integration",
        "-o",
        "junit_family=xunit1",  # xunit1 keeps properties
        f"--junitxml={reports / 'junit.xml'}",
        f"--harness-summary={reports / 'summary.md'}",
        *args.extra,
    ]
    s.say(f"harness: {s.target.value} run {invocation}; reports in {reports}")
    # Started in the background of a non-interactive shell (a CI step, scripts/test.sh), this
    # process inherits SIGINT ignored, and pytest with it: an interrupt would then never reach the
    # harness's teardown. Take it back; pytest (exec'd) then starts with SIGINT at its default.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env)
    while True:  # Ctrl-C reaches pytest too (same process group): it runs its teardown; wait for that
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            s.say("harness: interrupted; waiting for its teardown (it destroys what the run deployed)")
    s.say(f"harness: exit {code}; summary {reports / 'summary.md'}, JUnit {reports / 'junit.xml'}")
    return code


def cmd_env(s: Session, args) -> int:
    """Print `export` lines so cdktf-cli (`npx cdktf deploy <ws>`) uses the same setup."""
    s.connect()
    exports = {**s.env, "SURGEPRESS_TARGET": s.target.value}
    for key, value in sorted(exports.items()):
        print(f"unset {key}" if value == "" else f"export {key}='{value}'", file=s.out)
    return 0


# --- parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="surgepress: deploy the WordPress news platform's workspaces to AWS or the embedded local AWS.",
    )
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)

    def add(name: str, handler: Callable, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument(
            "--target",
            choices=[t.value for t in Target],
            default=None,
            help="local (embedded AWS emulator, default; or $SURGEPRESS_TARGET) or aws",
        )
        p.set_defaults(handler=handler)
        return p

    add("list", cmd_list, "list workspaces in dependency order")

    def add_jobs(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--jobs",
            default=None,
            metavar="N",
            help="Terraform runs at once, each starting once what it reads exists (default: two per "
            "core; or $SURGEPRESS_JOBS)",
        )

    add_jobs(
        add(
            "bootstrap",
            cmd_bootstrap,
            "create the S3 state bucket (the workspace with `state_bucket:`, "
            "deployed with local state) and move that state into it; does nothing "
            "when already done",
        )
    )
    p = add("synth", cmd_synth, "synthesize Terraform JSON for the workspaces (all by default), in one process")
    p.add_argument("workspaces", nargs="*", metavar="workspace")
    p = add("plan", cmd_plan, "plan workspaces; exit 0 = no changes, 2 = changes, 1 = error")
    p.add_argument("workspaces", nargs="*", metavar="workspace")
    p.add_argument("--all", action="store_true", help="every workspace")
    add_jobs(p)
    for name, handler, help in (
        ("deploy", cmd_deploy, "deploy workspaces, each once what it reads is deployed, and print their outputs"),
        ("destroy", cmd_destroy, "destroy workspaces, each once what reads it is gone"),
        ("output", cmd_output, "print the outputs of deployed workspaces"),
    ):
        p = add(name, handler, help)
        p.add_argument("workspaces", nargs="*", metavar="workspace")
        p.add_argument("--all", action="store_true", help="every workspace")
        if name == "output":
            p.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "deploy":
            p.add_argument(
                "--image-tag",
                metavar="TAG",
                help="run this image (a tag its repository holds: `images` lists them) instead of the one "
                "built from app/, e.g. to roll back; the workspace's compute.image_tag, for this deploy",
            )
            p.add_argument(
                "--no-dataplane",
                action="store_true",
                help="local target: deploy the control plane only, do not start the data plane",
            )
        if name in ("deploy", "destroy"):
            add_jobs(p)
            p.add_argument(
                "--no-refresh",
                action="store_true",
                help="trust the state: skip reading every resource back first (-refresh=false); for "
                "a state known to be fresh, such as right after a deploy",
            )
        if name == "destroy":
            p.add_argument(
                "--yes-destroy",
                action="append",
                metavar="WORKSPACE",
                help="approve destroying this protected workspace without a prompt (repeatable)",
            )
            p.add_argument("--yes-destroy-production", action="store_true", help="same as --yes-destroy production")
            p.add_argument(
                "--release-protection",
                action="store_true",
                help="destroy for good: first apply each workspace with deletion protection off and its "
                "buckets deletable with their objects (while what reads it is still going), then destroy it",
            )
    p = add(
        "unlock",
        cmd_unlock,
        "release the state lock of a run that died (terraform force-unlock with the "
        "project's set-up); refused while its holder still runs on this machine",
    )
    p.add_argument("workspace")
    p.add_argument("lock_id", metavar="lock-id", help="the lock ID the locked command printed")
    p = add(
        "images",
        cmd_images,
        "what the registry holds in each site's region (tag, push time, scan); --push builds the image "
        "from app/ into it (the pipeline's image stage) and fails on the scan's blocking findings",
    )
    p.add_argument("workspaces", nargs="*", metavar="workspace")
    p.add_argument(
        "--push",
        action="store_true",
        help="build app/ and push it under its tag (aws: with Docker; the local target records its manifest), "
        "then wait for ECR's scan: a finding at or above registry.block_severity fails it (exit 1)",
    )
    p.add_argument("--tag", action="store_true", help="print the tag a build of app/ gets, and nothing else")
    p = add(
        "policy",
        cmd_policy,
        "run Checkov over the synthesized workspaces (all by default), and hold each site to its surge objective",
    )
    p.add_argument("workspaces", nargs="*", metavar="workspace")
    p = add(
        "surge",
        cmd_surge,
        "simulate a breaking-news surge against each site's synthesized scaling: absorb time, requests over "
        "capacity, worst minute, peak tasks and hosts (sites with a `surge:` section by default); "
        "`surge tune <ws>` searches its scaling settings, `surge calibrate [ws]` measures one task on the "
        "local data plane",
    )
    p.add_argument("workspaces", nargs="*", metavar="workspace")
    p.add_argument("--scenario", choices=["breaking-news", "double-wave", "slow-rise"], default="breaking-news")
    p.add_argument("--multiplier", type=float, help="peak over steady demand (default: surge.multiplier)")
    p.add_argument("--ramp", type=int, metavar="S", help="seconds to the peak (default: surge.ramp_s)")
    p.add_argument("--hold", type=int, metavar="S", help="seconds at the peak (default: surge.hold_s)")
    p.add_argument("--trace", metavar="CSV", help="replay edge requests/s, one row a second (a `requests` column)")
    p.add_argument(
        "--from-deployment",
        action="store_true",
        help="read the scaling from the deployed workspace's APIs (what is live) instead of its synthesized JSON",
    )
    p.add_argument("--json", action="store_true", help="print report.json instead of the summary")
    p.add_argument(
        "--step-seconds",
        type=float,
        default=20.0,
        metavar="S",
        help="surge calibrate: seconds of each load step (default 20)",
    )
    p.add_argument(
        "--readers",
        metavar="N,N…",
        help="surge calibrate: the readers of each step, rising (default 2,4,8,12,16,24,32,48)",
    )
    p = add(
        "cost",
        cmd_cost,
        "each workspace's monthly estimate with its line items, from its synthesized stack: staging's "
        "saving from its off/on schedule, a site's surge day against a quiet day",
    )
    p.add_argument("workspaces", nargs="*", metavar="workspace", help="default: every workspace")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add(
        "prices",
        cmd_prices,
        "refresh: rebuild the price table (surgepress/surge/prices.json) from the AWS Price List bulk offer files",
    )
    p.add_argument("action", choices=["refresh"])
    p.add_argument(
        "--offers",
        metavar="URL",
        help="the bulk API or a mirror of it (default: AWS's, https://pricing.us-east-1.amazonaws.com)",
    )
    p.add_argument("--table", metavar="PATH", help="the table to rebuild (default: the committed one)")
    p = add("emulator", cmd_emulator, "start, stop or inspect the embedded local AWS")
    p.add_argument("action", choices=["up", "down", "status"])
    p = add(
        "dataplane",
        cmd_dataplane,
        "local target: start, stop or inspect the data plane (WordPress, MariaDB, "
        "Redis, load balancer, edge) of deployed environments",
    )
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("workspaces", nargs="*", metavar="workspace", help="default: every environment with a site")
    p.add_argument("--no-object-cache", action="store_true", help="run WordPress without the Redis object cache")
    p = add(
        "drill",
        cmd_drill,
        "DR drill of the replicated site: preflight, a timed runbook, a prober (RTO) and "
        "writers (RPO) throughout; report under build/reports/drills/; exit 1 when a step "
        "fails or a target is missed, 2 when preflight refuses",
    )
    p.add_argument(
        "kind",
        choices=["switchover", "failover", "failback"],
        help="switchover: planned, no data loss; failover: unplanned, allows data loss; failback: "
        "switchover back to the source workspace's region",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="run the read-only preflight, print the runbook, change nothing"
    )
    p.add_argument(
        "--simulate-outage",
        action="store_true",
        help="failover on local: halt replication, let writes go on 2s, kill the primary's database",
    )
    p.add_argument(
        "--marker-grace",
        type=int,
        default=None,
        metavar="SECONDS",
        help="how long to wait for replicated marker objects (default: failover.marker_grace_s)",
    )
    p = add(
        "loadtest",
        cmd_loadtest,
        "locust: a steady news-reading mix or a breaking-news surge against the "
        "local edge (default) or a real site (--url)",
    )
    p.add_argument("workspace", nargs="?", default="staging", help="local target: whose edge (default staging)")
    p.add_argument("--scenario", choices=["steady", "surge"], default="steady")
    p.add_argument("--url", help="the site's URL instead of the local edge (e.g. https://www.staging.example)")
    p.add_argument("--users", type=int, default=10, help="steady readers, about one request/s each (default 10)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    p.add_argument("--multiplier", type=float, default=6.0, help="surge: readers x this (default 6)")
    p.add_argument("--ramp", type=float, default=60.0, help="surge: seconds for the surge to arrive (default 60)")
    p.add_argument("--max-requests", type=int, default=None, help="stop after this many requests")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p = add(
        "test",
        cmd_test,
        "integration harness: deploy, verify, drill, teardown (SKIP_<STAGE>=1 skips a "
        "stage); JUnit XML and a markdown summary under build/reports/<run>/; pytest "
        "arguments after -- (e.g. -- -k alb)",
    )
    p.add_argument("suite", choices=["integration"])
    p.add_argument(
        "--workspace",
        action="append",
        metavar="WORKSPACE",
        help="workspace to test (repeatable; default every workspace on local; required on aws)",
    )
    add("env", cmd_env, "print shell exports for running `npx cdktf synth|diff|deploy|destroy <workspace>`")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []  # `test integration -- -k alb`: pytest's
    args = parser.parse_args(argv[: len(argv) - len(extra) - (1 if "--" in argv else 0)])
    args.extra = extra
    if extra and args.command != "test":
        print(f"error: {args.command}: takes no arguments after --, got {' '.join(extra)!r}", file=sys.stderr)
        return USAGE_EXIT_CODE
    try:
        if hasattr(args, "jobs"):  # checked before anything is read, synthesized or deployed
            args.jobs = default_jobs() if args.jobs is None else check_jobs(args.jobs, "--jobs")
        session = Session(
            settings=load_settings(),
            target=Target.parse(args.target),
            paths=Paths.default(),
            out=sys.stderr if getattr(args, "json", False) else sys.stdout,
        )
        return args.handler(session, args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_EXIT_CODE
    except TerraformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code if exc.code not in (0, USAGE_EXIT_CODE) else 1
    except (ClientError, BotoCoreError) as exc:  # an AWS answer to what a setting asked for
        print(f"error: {aws_error_line(exc)}", file=sys.stderr)
        return USAGE_EXIT_CODE
    except (EmulatorError, DataPlaneError, GateFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `… | head`: the reader has gone; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
