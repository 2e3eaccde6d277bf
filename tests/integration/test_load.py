"""Stage verify: a short load run, the steady mix then a 6x surge arriving within seconds,
bounded in time and requests: on local against the data plane's edge (loopback), on aws
against the site's public URL. (bench/dataplane_bench.py runs longer.)"""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.stage("verify")]

STEADY_USERS = 4
SURGE_MULTIPLIER = 6
DURATION_S = 20
MAX_REQUESTS = 3000


def test_a_breaking_news_surge_is_absorbed_by_the_edge(deployed, outputs, record_property):
    if "staging" not in deployed.state.workspaces:
        pytest.skip("staging is not deployed in this run")
    where = [] if deployed.local else ["--url", outputs["staging"]["site_url"]]
    result = deployed.cli(
        "loadtest",
        "staging",
        *where,
        "--scenario",
        "surge",
        "--users",
        str(STEADY_USERS),
        "--multiplier",
        str(SURGE_MULTIPLIER),
        "--ramp",
        "4",
        "--duration",
        str(DURATION_S),
        "--max-requests",
        str(MAX_REQUESTS),
        "--json",
        timeout=DURATION_S + 120,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    phases = {p["phase"]: p for p in report["phases"]}
    steady, surge = phases["steady"], phases["surge"]
    assert steady["requests"] > 0 and surge["requests"] > 0
    assert steady["requests"] + surge["requests"] <= MAX_REQUESTS
    # Each reader reads about once a second: the surge brings ~6x the requests per second.
    assert surge["rps"] >= 3 * steady["rps"], (steady, surge)
    assert surge["error_rate"] <= 0.01, surge
    # Most of a news mix is pages and assets every reader shares.
    assert surge["edge_hit_ratio"] >= 0.6, surge
    for phase in (steady, surge):
        assert 0 < phase["p50_ms"] <= phase["p95_ms"] <= phase["p99_ms"]
    record_property(
        "detail",
        f"steady {steady['rps']} req/s, surge {surge['rps']} req/s, surge p95 "
        f"{surge['p95_ms']} ms, edge hits {surge['edge_hit_ratio']:.0%}",
    )
