"""What reaches the CLI from AWS or from a construct ends as one line and exit 2, never a traceback."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.stub import Stubber

from surgepress import cli
from surgepress.accounts import StateStore, aws_error_line
from surgepress.errors import UserError

pytestmark = pytest.mark.unit


def test_an_aws_refusal_is_one_line_saying_what_was_tried():
    refused = ClientError({"Error": {"Code": "AccessDenied", "Message": "Access\nDenied"}}, "HeadObject")
    assert aws_error_line(refused) == "AWS HeadObject: refused (AccessDenied: Access Denied)"
    invalid = ParamValidationError(report='Invalid bucket name "Bad_Bucket": Bucket name must match\n the regex')
    assert aws_error_line(invalid, "state bucket Bad_Bucket: HeadBucket") == (
        'state bucket Bad_Bucket: HeadBucket: Parameter validation failed: Invalid bucket name "Bad_Bucket": '
        "Bucket name must match the regex"
    )


def test_access_denied_on_the_state_bucket_names_bucket_key_and_role(settings, emulator):
    store = StateStore(settings, emulator.environment())
    staging = settings.get("staging")
    with Stubber(store._s3) as stub:
        stub.add_client_error(
            "head_object", service_error_code="AccessDenied", service_message="Access Denied", http_status_code=403
        )
        with pytest.raises(UserError) as caught:
            store.holds(staging)
    assert str(caught.value) == (
        f"state bucket {store.bucket}: HeadObject {staging.state_key} as "
        f"arn:aws:iam::100000000001:role/surgepress-deployer: refused (AccessDenied: Access Denied)"
    )


def test_an_aws_error_escaping_a_command_ends_as_one_line(monkeypatch, capsys):
    def refuse(session, args):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeStacks")

    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_handler(parser(), "list", refuse))
    assert cli.main(["list"]) == 2
    assert capsys.readouterr().err == "error: AWS DescribeStacks: refused (ThrottlingException: Rate exceeded)\n"


def test_a_construct_check_the_loader_missed_ends_as_one_line(monkeypatch, tmp_path, capsys):
    # Every construct check has a load-time twin today (tests/unit/test_config.py); this is the net
    # for one that does not: synth says it in one line and nothing is synthesized or deployed.
    import modules.compute as compute

    def refuse(props):
        raise ValueError("ComputeProps.name: expected 29 characters\nor fewer, got 'x'")

    monkeypatch.setattr(compute, "_validate", refuse)
    monkeypatch.setenv("SURGEPRESS_BUILD_DIR", str(tmp_path))
    assert cli.main(["synth", "staging"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: synth: ComputeProps.name: expected 29 characters or fewer, got 'x'; nothing was deployed\n")
    assert not list(tmp_path.glob("synth/*/stacks/staging/cdk.tf.json"))


def _with_handler(parser, command, handler):
    """The real parser, with one command's handler swapped (argparse keeps it in set_defaults)."""
    sub = next(a for a in parser._subparsers._group_actions if a.dest == "command")
    sub.choices[command].set_defaults(handler=handler)
    return parser
