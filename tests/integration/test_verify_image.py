"""Stage verify, the WordPress image: pushed through the ECR API into the registry under the
tag built from app/ and replicated into the DR region, the task definition naming it, its scan
judged, `deploy --image-tag` rolling to an older image and a plain deploy rolling back (each
waiting for the service's rollout), a tag the registry lacks refused before anything is
applied, and the interface endpoints a surge's scale-out uses instead of NAT."""

from __future__ import annotations

import json
import shutil

import pytest

from surgepress import image

pytestmark = [pytest.mark.integration, pytest.mark.stage("verify")]

SITE = "staging"


def _running_tag(clients, outputs) -> str:
    ecs = clients(SITE).get("ecs")
    family = outputs[SITE]["task_definition_family"]
    (container,) = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["containerDefinitions"]
    return container["image"].rsplit(":", 1)[1]


def test_the_image_is_pushed_and_a_deploy_rolls_to_an_older_one_and_back(
    deployed, clients, outputs, tmp_path, local_only
):
    # local_only: on aws the pipeline's image stage pushes (`images --push` is refused there).
    if SITE not in deployed.state.workspaces:
        pytest.skip(f"{SITE} is not deployed in this run")
    ws = deployed.settings.get(SITE)
    registry = ws.image_registry
    repository, built = registry.repository, image.default_tag()
    ecr = clients(registry.workspace).get("ecr", registry.region)

    # The run's deploy put the image built from app/ into the registry its management workspace
    # created (the local target's image stage), and the task definition names it.
    (stored,) = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": built}])["images"]
    manifest = json.loads(stored["imageManifest"])
    assert manifest["mediaType"] == image.MANIFEST_TYPE
    assert manifest["layers"][0]["digest"] == "sha256:" + image.source_digest()
    assert _running_tag(clients, outputs) == built, "the task definition runs the image built from app/"
    # Replicated into the DR region's repository under the same digest: DR pulls in its own region.
    if "dr" in deployed.state.workspaces:
        dr = deployed.settings.get("dr").image_registry
        (copy,) = (
            clients(dr.workspace)
            .get("ecr", dr.region)
            .describe_images(repositoryName=dr.repository, imageIds=[{"imageTag": built}])["imageDetails"]
        )
        assert dr.region != registry.region and copy["imageDigest"] == stored["imageId"]["imageDigest"]
    again = deployed.cli("images", SITE, "--push")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"images: {repository}:{built} is there already" in again.stdout, again.stdout  # immutable: pushed once
    assert f"images: {repository}:{built} scanned: no findings (nothing at or above CRITICAL)" in again.stdout

    # An older image: the source as it was before a change to it.
    older_app = tmp_path / "app"
    shutil.copytree(image.APP_DIR, older_app)
    (older_app / "php" / "surgepress.ini").write_text("memory_limit = 128M\n")
    older = image.default_tag(older_app)
    assert image.record(ecr, repository, older, older_app)
    listing = deployed.cli("images", SITE)
    assert listing.returncode == 0 and older in listing.stdout and built in listing.stdout, listing.stdout

    refused = deployed.cli("deploy", SITE, "--image-tag", "never-pushed", "--no-dataplane", "--no-refresh")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: --image-tag never-pushed: {SITE}'s registry {repository} in {registry.region} holds no image "
        f"never-pushed; `python main.py images {SITE}` lists what it holds; nothing was deployed"
    ]
    assert _running_tag(clients, outputs) == built

    rolled = deployed.cli("deploy", SITE, "--image-tag", older, "--no-dataplane", "--no-refresh")
    assert rolled.returncode == 0, rolled.stdout[-3000:] + rolled.stderr
    assert _running_tag(clients, outputs) == older
    assert f"rollout {SITE}: COMPLETED" in rolled.stdout, "the deploy waited for the service's rollout"
    back = deployed.cli("deploy", SITE, "--no-dataplane", "--no-refresh")
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr
    assert _running_tag(clients, outputs) == built


def test_production_reaches_ecr_logs_ssm_and_sts_through_interface_endpoints(deployed, clients, outputs):
    if "production" not in deployed.state.workspaces:
        pytest.skip("production is not deployed in this run")
    ws = deployed.settings.get("production")
    ec2 = clients("production").get("ec2")
    vpc = outputs["production"]["vpc_id"]
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    interface = {e["ServiceName"]: e for e in found if e["VpcEndpointType"] == "Interface"}
    assert set(interface) == {f"com.amazonaws.{ws.region}.{s}" for s in ws.network.interface_endpoints}
    for endpoint in interface.values():
        assert endpoint["PrivateDnsEnabled"] is True
        assert len(endpoint["SubnetIds"]) == ws.network.az_count
