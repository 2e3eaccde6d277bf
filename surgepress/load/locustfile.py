"""Locust scenarios for a WordPress news site: a steady reading mix and a breaking-news surge.

The same file runs against the local data plane's edge and against a real site:

    locust -f surgepress/load/locustfile.py --host https://www.staging.example --headless \
        --users 20 --spawn-rate 5 --run-time 2m            # steady mix, any site
    SURGE_MULTIPLIER=8 locust -f surgepress/load/locustfile.py --host … --headless   # surge shape

Settings come from the environment (so locust's own CLI stays untouched):
    LOAD_SCENARIO        steady | surge (default steady; surge switches the shape on)
    LOAD_STEADY_USERS    users during the steady phase (each reads about once a second)
    LOAD_DURATION_S      total run time of the shape
    SURGE_MULTIPLIER     surge users = steady users x this (5-10 in the case study)
    SURGE_RAMP_S         how fast the surge arrives (the case study: within a minute)
    LOAD_HOST_HEADER     Host header to send (the local edge is reached on 127.0.0.1)
    LOAD_CA_FILE         CA bundle to verify TLS with (the local data plane's CA)
    LOAD_RESULTS_FILE    where to write one JSON line per request (surgepress.load summarises them)
    LOAD_MAX_REQUESTS    stop after this many requests (0: only the duration bounds the run)
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from urllib.parse import urlsplit

from locust import HttpUser, LoadTestShape, constant_throughput, events, task

SCENARIO = os.environ.get("LOAD_SCENARIO", "steady")
STEADY_USERS = int(os.environ.get("LOAD_STEADY_USERS", "10"))
DURATION_S = float(os.environ.get("LOAD_DURATION_S", "60"))
SURGE_MULTIPLIER = float(os.environ.get("SURGE_MULTIPLIER", "6"))
SURGE_RAMP_S = float(os.environ.get("SURGE_RAMP_S", "60"))
HOST_HEADER = os.environ.get("LOAD_HOST_HEADER", "")
CA_FILE = os.environ.get("LOAD_CA_FILE", "")
RESULTS_FILE = os.environ.get("LOAD_RESULTS_FILE", "")
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "0"))  # 0: bounded by time only
# The surge begins after this share of the run (the rest is the surge at full height).
SURGE_STARTS_AT = 0.4
SEARCH_TERMS = ("election", "storm", "match", "budget", "traffic", "festival", "strike", "ferry", "court", "price")

_started = time.monotonic()
_environment = None
_samples: list[tuple[float, str, float, bool, str]] = []  # (t, name, ms, ok, x-cache)


def phase_at(elapsed: float) -> str:
    if SCENARIO != "surge":
        return "steady"
    return "steady" if elapsed < DURATION_S * SURGE_STARTS_AT else "surge"


class NewsReader(HttpUser):
    """A reader: the front page, articles, now and then a section, a search or an image."""

    wait_time = constant_throughput(1.0)

    def on_start(self) -> None:
        if CA_FILE:
            self.client.verify = CA_FILE
        if HOST_HEADER:
            self.client.headers["Host"] = HOST_HEADER
        # The latest stories, as the site's feed lists them (paths only: the feed names the public host).
        feed = self.client.get("/feed/", name="/feed/")
        links = re.findall(r"<link>(https?://[^<]+)</link>", feed.text if feed.ok else "")
        self.articles = [urlsplit(link).path for link in links if urlsplit(link).path not in ("", "/")] or ["/"]

    @task(35)
    def front_page(self) -> None:
        self.client.get("/", name="/", allow_redirects=False)

    @task(40)
    def article(self) -> None:
        self.client.get(random.choice(self.articles), name="/[article]", allow_redirects=False)

    @task(10)
    def section(self) -> None:
        self.client.get("/category/uncategorized/", name="/category/[section]", allow_redirects=False)

    @task(5)
    def search(self) -> None:
        term = f"{random.choice(SEARCH_TERMS)} {random.randint(1, 500)}"
        self.client.get("/", params={"s": term}, name="/?s=[search]", allow_redirects=False)

    @task(10)
    def stylesheet(self) -> None:
        self.client.get(
            "/wp-includes/css/dist/block-library/style.min.css", name="/wp-includes/[asset]", allow_redirects=False
        )


class SurgeShape(LoadTestShape):
    """Steady readers, then 5-10x as many within SURGE_RAMP_S: breaking news."""

    use_common_options = True

    def tick(self):
        elapsed = self.get_run_time()
        if elapsed >= DURATION_S:
            return None
        if SCENARIO != "surge":
            return STEADY_USERS, STEADY_USERS
        surge_at = DURATION_S * SURGE_STARTS_AT
        if elapsed < surge_at:
            return STEADY_USERS, STEADY_USERS
        peak = round(STEADY_USERS * SURGE_MULTIPLIER)
        # Spawn rate so the whole surge has arrived within the ramp.
        return peak, max(1.0, (peak - STEADY_USERS) / max(SURGE_RAMP_S, 1.0))


@events.test_start.add_listener
def _reset_clock(environment, **_kw):
    global _started, _environment
    _started = time.monotonic()
    _environment = environment


_environment = None


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **_kw):
    cache = ""
    if response is not None and getattr(response, "headers", None) is not None:
        cache = response.headers.get("X-Cache", "")
    ok = exception is None and response is not None and 200 <= response.status_code < 400
    _samples.append((time.monotonic() - _started, name, float(response_time), ok, cache))
    if MAX_REQUESTS and len(_samples) == MAX_REQUESTS and _environment is not None and _environment.runner:
        _environment.runner.quit()


@events.test_stop.add_listener
def _write_results(environment, **_kw):
    if not RESULTS_FILE:
        return
    with open(RESULTS_FILE, "w") as out:
        for t, name, ms, ok, cache in _samples:
            out.write(
                json.dumps(
                    {"t": round(t, 3), "phase": phase_at(t), "name": name, "ms": round(ms, 2), "ok": ok, "cache": cache}
                )
                + "\n"
            )
