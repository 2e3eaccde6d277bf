"""prices refresh: the table rebuilt from AWS's bulk offer files, over real HTTP, on the excerpt
the tests ship (tests/data/offers): the right product's first on-demand tier, in the table's
unit, and no decoy."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.unit

EXCERPT = Path(__file__).resolve().parents[1] / "data" / "offers"
TABLE = {
    "about": "a table to refresh",
    "date": "2026-01-01",
    "regions": {
        "eu-west-1": {
            "ec2:c7i.large": {"usd": 0.0997, "unit": "hour", "basis": "unverified", "source": "memory"},
            "nat:hour": {"usd": 0.05, "unit": "hour", "basis": "third-party", "source": "a calculator"},
            "fargate:vcpu": {"usd": 0.04, "unit": "vCPU-hour", "basis": "third-party", "source": "vantage"},
            "fargate:gb": {"usd": 0.0044, "unit": "GB-hour", "basis": "third-party", "source": "vantage"},
            "cloudfront:gb": {"usd": 0.09, "unit": "GB", "basis": "aws", "source": "pricing page"},
            "cloudfront:requests": {"usd": 0.01, "unit": "10k HTTPS requests", "basis": "unverified", "source": "?"},
            "route53:zone": {"usd": 1.0, "unit": "hosted-zone-month", "basis": "unverified", "source": "?"},
        },
        "eu-central-1": {
            "ec2:c7i.large": {"usd": 0.1071, "unit": "hour", "basis": "unverified", "source": "memory"},
            "cloudfront:gb": {"usd": 0.09, "unit": "GB", "basis": "aws", "source": "pricing page"},
        },
    },
}


class _Offers(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path: str) -> str:
        prefix = "/offers/v1.0/aws/"
        return str(EXCERPT / path.split("?")[0].removeprefix(prefix)) if path.startswith(prefix) else "/nonexistent"

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def offers():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Offers, directory=str(EXCERPT)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_refresh_takes_each_row_from_its_offer_file_and_no_decoy(offers, tmp_path):
    table = tmp_path / "prices.json"
    table.write_text(json.dumps(TABLE))
    result = run_cli("prices", "refresh", "--offers", offers, "--table", str(table), build=tmp_path / "build")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = json.loads(table.read_text())["regions"]
    west = rows["eu-west-1"]
    # Linux, shared, no software, capacity Used: not Windows, Dedicated or an unused reservation.
    assert west["ec2:c7i.large"]["usd"] == 0.1053 and west["ec2:c7i.large"]["basis"] == "aws"
    assert rows["eu-central-1"]["ec2:c7i.large"]["usd"] == 0.1134, "eu-central-1's own offer (EUC1- usage types)"
    assert west["nat:hour"]["usd"] == 0.048
    assert west["fargate:vcpu"]["usd"] == 0.04448, "x86, not ARM"
    assert west["cloudfront:gb"]["usd"] == 0.085, "the first tier, not the next 40 TB"
    assert rows["eu-central-1"]["cloudfront:gb"]["usd"] == 0.085, "a global offer's row, in every region that has it"
    assert west["cloudfront:requests"]["usd"] == pytest.approx(0.012), "per 10,000 requests, Europe's"
    assert west["route53:zone"]["usd"] == 0.5
    assert west["ec2:c7i.large"]["source"] == (
        "AWS Price List AmazonEC2 offer of 2026-11-20T18:03:11Z: EU-BoxUsage:c7i.large (per Hrs)"
    )
    # A row the offer does not have keeps its figure and basis, and the command says so.
    assert west["fargate:gb"] == TABLE["regions"]["eu-west-1"]["fargate:gb"]
    assert "kept: eu-west-1 fargate:gb: AmazonECS has no on-demand EU-Fargate-GB-Hours" in result.stdout
    assert "prices refresh: 8 rows from AWS's offer files" in result.stdout


def test_an_unreachable_price_list_is_one_line_and_the_table_is_untouched(tmp_path):
    table = tmp_path / "prices.json"
    table.write_text(json.dumps(TABLE))
    result = run_cli("prices", "refresh", "--offers", "http://127.0.0.1:9", "--table", str(table), build=tmp_path / "b")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: prices refresh: GET http://127.0.0.1:9/offers/v1.0/aws/index.json failed:")
    assert json.loads(table.read_text()) == TABLE


@pytest.mark.parametrize(
    "table, line",
    [
        ({"date": "x"}, "regions: expected a mapping of region -> rows, got None"),
        (
            {"regions": {"eu-west-1": {"nat:hour": {"usd": "cheap"}}}},
            "regions.eu-west-1.nat:hour: expected a row with a number `usd`, got {'usd': 'cheap'}",
        ),
    ],
)
def test_a_table_of_the_wrong_shape_is_one_line(tmp_path, table, line):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(table))
    result = run_cli("prices", "refresh", "--offers", "http://127.0.0.1:9", "--table", str(path), build=tmp_path / "b")
    assert (result.returncode, result.stderr.strip()) == (2, f"error: {path}: {line}")
