"""`cost`: the monthly estimate per workspace, staging's saving from its off/on schedule as its
cron expressions and time zone give it, and a surge day against a quiet day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from surgepress.errors import UserError
from surgepress.schedules import fire_times, off_time
from tests.conftest import run_cli

pytestmark = pytest.mark.unit


def test_an_off_on_switch_is_off_the_hours_its_expressions_give_in_its_time_zone():
    # Off at 20:00 and on at 07:00 on weekdays, in Malta: on 13 hours on each of 2026's 261
    # weekdays (1 January is a Thursday: 52 weeks and a Thursday), off the rest of its 8,760
    # hours; the daylight-saving changes fall on Sundays, when it is off anyway.
    switch = off_time("cron(0 20 ? * MON-FRI *)", "cron(0 7 ? * MON-FRI *)", "Europe/Malta", 2026)
    assert (switch.total_hours, switch.off_hours, switch.switches) == (8760, 8760 - 261 * 13, 261)
    # The wall clock, not UTC: 07:00 in Malta is 06:00 UTC in winter, 05:00 in summer.
    assert fire_times("cron(0 7 ? * MON-FRI *)", "Europe/Malta", date(2026, 1, 5), date(2026, 1, 6)) == [
        datetime(2026, 1, 5, 6, tzinfo=UTC)
    ]
    assert fire_times("cron(0 7 ? * MON-FRI *)", "Europe/Malta", date(2026, 7, 6), date(2026, 7, 7)) == [
        datetime(2026, 7, 6, 5, tzinfo=UTC)
    ]


def test_cron_reads_eventbridge_s_dialect():
    # 1 is Sunday; a time the spring-forward skips does not fire; ranges, lists and steps.
    assert fire_times("cron(0 12 ? * 1 *)", "UTC", date(2026, 3, 1), date(2026, 3, 8)) == [
        datetime(2026, 3, 1, 12, tzinfo=UTC)
    ]
    assert fire_times("cron(30 2 ? * SUN *)", "Europe/Malta", date(2026, 3, 29), date(2026, 3, 30)) == []
    assert [
        t.minute for t in fire_times("cron(0/20 9 1 JAN,FEB ? 2026)", "UTC", date(2026, 2, 1), date(2026, 2, 2))
    ] == [
        0,
        20,
        40,
    ]
    assert fire_times("cron(0 9 1 JAN ? 2027)", "UTC", date(2026, 1, 1), date(2026, 1, 2)) == [], "another year"
    with pytest.raises(UserError, match=r"'L' \(last, weekday, nth\) cannot be evaluated here"):
        fire_times("cron(0 9 L * ? *)", "UTC", date(2026, 1, 1), date(2026, 1, 2))
    with pytest.raises(UserError, match=r"'22-2' wraps around; write it as two ranges"):
        fire_times("cron(0 22-2 ? * * *)", "UTC", date(2026, 1, 1), date(2026, 1, 2))
    assert [t.hour for t in fire_times("cron(0 22-23,0-1 ? * * *)", "UTC", date(2026, 1, 1), date(2026, 1, 2))] == [
        0,
        1,
        22,
        23,
    ]


@pytest.fixture(scope="module")
def estimates(synth_paths, local_stacks) -> dict[str, dict]:
    result = run_cli("cost", "--json", build=synth_paths.build)
    assert result.returncode == 0, result.stdout + result.stderr
    return {e["workspace"]: e for e in json.loads(result.stdout)}


def test_every_workspace_gets_an_estimate_with_line_items_that_add_up(estimates, local_stacks):
    assert set(estimates) == set(local_stacks)
    for name, e in estimates.items():
        assert e["monthly_usd"] == pytest.approx(sum(e["line_items"].values()), abs=0.05), name
        keys = len(local_stacks[name]["resource"].get("aws_kms_key") or {})
        assert e["line_items"][f"kms keys ({keys})"] == keys * 1.0, "a customer managed key is $1 a month"
    assert "cloudtrail" in " ".join(estimates["security"]["priced_by_use_not_estimated"]), (
        "what is priced by use is named, not guessed"
    )
    assert not any(k in estimates["management"]["line_items"] for k in ("hosts", "tasks")), "no compute there"


def test_staging_saves_the_off_share_of_its_tasks_and_aurora(estimates, settings):
    staging = estimates["staging"]
    scheduler = settings.get("staging").scheduler
    # Its schedules are the defaults: off at 20:00, on at 07:00, Monday to Friday (the first test's).
    assert (scheduler.off_schedule, scheduler.on_schedule) == ("cron(0 20 ? * MON-FRI *)", "cron(0 7 ? * MON-FRI *)")
    assert staging["schedule"]["off_hours_a_year"] == 8760 - 261 * 13
    off = (8760 - 261 * 13) / 8760
    items = staging["line_items"]
    # What is left of tasks and Aurora is the on share; what was saved is the off share.
    saved = (items["tasks"] + items["aurora"]) / (1 - off) * off
    assert staging["schedule"]["saving_usd_a_month"] == pytest.approx(saved, abs=0.02)
    assert "schedule" not in estimates["production"] or estimates["production"]["schedule"] is None


def test_production_s_surge_day_costs_more_than_its_quiet_day_and_the_month_is_thirty_quiet_days(estimates):
    production = estimates["production"]
    assert production["surge_day_usd"] > production["quiet_day_usd"] > 0
    per_resource = sum(v for k, v in production["line_items"].items() if "(" in k)  # kms keys (13), ...
    assert production["monthly_usd"] - per_resource == pytest.approx(30.4 * production["quiet_day_usd"], rel=1e-3)
    assert estimates["dr"]["surge_day_usd"] is None, "dr has no surge: its floor, no traffic"
    assert "cloudfront bytes" not in estimates["dr"]["line_items"]
