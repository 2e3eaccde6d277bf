"""The harness's own machinery: stage skipping, retries and waits (with a fake clock, no
sleeping), run state, and the markdown summary."""

from __future__ import annotations

import botocore.exceptions
import pytest
import requests

from surgepress.harness import (
    MAX_RETRIES,
    HarnessPaths,
    RunState,
    WaitTimeout,
    is_retryable,
    name_suffix,
    new_run_id,
    retry,
    skipped,
    wait_for,
)
from surgepress.harness.report import Collector, Outcome, skip_outcome, summary_markdown

pytestmark = pytest.mark.unit


def aws_error(code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": code}}, "DescribeThings")


def test_a_stage_is_skipped_only_when_its_variable_says_so(monkeypatch):
    monkeypatch.delenv("SKIP_VERIFY", raising=False)
    assert skipped("verify") is None
    for value, expected in (("1", "SKIP_VERIFY=1"), ("yes", "SKIP_VERIFY=yes"), ("0", None), ("", None)):
        monkeypatch.setenv("SKIP_VERIFY", value)
        assert skipped("verify") == expected
    with pytest.raises(ValueError, match="unknown stage 'verfy'"):
        skipped("verfy")


def test_only_listed_errors_are_retried():
    assert is_retryable(aws_error("ThrottlingException")) and is_retryable(requests.ConnectionError())
    assert not is_retryable(aws_error("AccessDenied")) and not is_retryable(ValueError("bug"))


def test_retry_gives_up_after_max_retries_and_never_retries_the_rest():
    pauses, calls = [], []

    def throttled():
        calls.append(1)
        raise aws_error("Throttling")

    with pytest.raises(botocore.exceptions.ClientError):
        retry(throttled, "describe", sleep=pauses.append)
    assert len(calls) == MAX_RETRIES and len(pauses) == MAX_RETRIES - 1
    calls.clear()
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        retry(
            lambda: calls.append(1) or (_ for _ in ()).throw(aws_error("AccessDenied")), "describe", sleep=pauses.append
        )
    assert len(calls) == 1
    answers = iter([aws_error("RequestLimitExceeded"), "ok"])

    def flaky():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retry(flaky, "describe", sleep=lambda _s: None) == "ok"


def test_wait_for_says_what_it_waited_for_and_what_it_last_saw():
    now = [0.0]
    clock, sleep = (lambda: now[0]), (lambda s: now.__setitem__(0, now[0] + s))
    with pytest.raises(WaitTimeout, match=r"waited 10s for the cluster to be available; last saw 'creating'"):
        wait_for(
            "the cluster to be available",
            lambda: "creating",
            until=lambda s: s == "available",
            timeout_s=10,
            clock=clock,
            sleep=sleep,
        )
    assert now[0] == 10.0  # five pauses of SLEEP_BETWEEN_S, then it gave up
    states = iter(["creating", "modifying", "available"])
    assert (
        wait_for(
            "available", lambda: next(states), until=lambda s: s == "available", timeout_s=60, clock=clock, sleep=sleep
        )
        == "available"
    )
    answers = iter([requests.ConnectionError("refused"), "up"])

    def probe():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_for("the site", probe, timeout_s=60, clock=clock, sleep=sleep) == "up"  # retryable: not yet


def test_run_ids_are_unique_and_their_suffix_fits_aws_names(tmp_path):
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50
    suffix = name_suffix(next(iter(ids)))
    assert len(suffix) == 6 and int(suffix, 16) >= 0
    assert len(f"surgepress-{suffix}-production-wp") <= 32  # the target group, the tightest name
    paths = HarnessPaths(tmp_path)
    state = RunState(run_id="r1", target="local", workspaces=["staging"], project="surgepress-abc123")
    state.save(paths.state_file("r1"))
    assert paths.current_run() is None  # not current until named so
    paths.current.write_text("r1\n")
    assert paths.current_run() == "r1" and RunState.load(paths.state_file("r1")) == state


def test_summary_lists_each_check_and_the_time_per_stage():
    collector = Collector(
        run={"run_id": "r1", "target": "local", "workspaces": ["staging"], "project": "surgepress-abc123"}
    )
    collector.outcomes = {
        "a": Outcome("deploy", "test_deploy", "pass", 200.0, "staging 154 resources"),
        "b": Outcome("verify", "test_site[alb]", "fail", 1.5, "443 uses | old policy"),
        "c": Outcome("drill", "test_switchover", "not applicable", 0.0, "no drill yet"),
        "d": Outcome("teardown", "test_destroy", "not run", 0.0, "(deploy failed): nothing deployed in run r1"),
    }
    text = summary_markdown(collector)
    assert "# Integration run r1" in text
    assert "**1 passed, 1 failed, 1 not applicable, 1 not run**" in text
    assert "| deploy | 200.0 | 1 | 0 | 0 | 0 |" in text and "| teardown | 0.0 | 0 | 0 | 0 | 1 |" in text
    assert "| verify | test_site[alb] | fail | 1.5 | 443 uses \\| old policy |" in text
    assert "| drill | test_switchover | not applicable | 0.0 | no drill yet |" in text


def test_a_check_whose_subject_was_never_deployed_is_not_run_not_not_applicable():
    assert skip_outcome("Skipped: not run (deploy failed): nothing deployed in run r1") == (
        "not run",
        "(deploy failed): nothing deployed in run r1",
    )
    assert skip_outcome("Skipped: local target only: it checks the data plane") == (
        "not applicable",
        "local target only: it checks the data plane",
    )
