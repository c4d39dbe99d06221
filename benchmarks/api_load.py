"""Load on the REST API: concurrent clients on the read endpoints of `cpfr serve` over a demo store.

Builds the default demo (``cpfr demo run``) in a temporary folder, or copies ``--db`` (a demo
store with a plan run; the original is never touched), adds a platform and a partner user,
starts ``cpfr serve`` on loopback and lets ``--clients`` threads call the read endpoints for
``--seconds``, half as the platform, half as a partner. Prints per endpoint: requests, req/s,
p50 and p99 latency and errors, and the total against the goal (>= 200 req/s, p99 < 200 ms).

    python benchmarks/api_load.py [--db PATH] [--clients 8] [--seconds 20]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

from cpfr.api.keys import add_user
from cpfr.data.store import open_store

ENDPOINTS = (
    "/me",
    "/targets",
    "/exceptions",
    "/consensus?page_size=100",
    "/kpis",
    "/network-orders",
    "/sales?page_size=100",
    "/forecasts",
)
GOAL_RPS, GOAL_P99_MS = 200.0, 200.0
PARTNER = "XIAOMI"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a demo store with a plan run (copied, never changed)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    cpfr = [sys.executable, "-c", "from cpfr.cli.main import app; app()"]  # this interpreter's cpfr
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "cpfr.duckdb"
        if args.db:
            shutil.copyfile(args.db, db)
        else:
            subprocess.run([*cpfr, "demo", "run", "--db", db, "--out", Path(folder) / "demo"], check=True)
            subprocess.run([*cpfr, "plan", "--db", db, "--out", Path(folder) / "plan"], check=True)
        with open_store(db) as store:
            keys = {
                "platform": add_user(store, partner_id=None, role="platform_planner")[1],
                "partner": add_user(store, partner_id=PARTNER, role="partner_viewer")[1],
            }
        port = _free_port()
        server = subprocess.Popen([*cpfr, "serve", "--db", str(db), "--port", str(port)])
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            _wait_until_up(base, keys["platform"])
            results = _load(base, keys, args.clients, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    _report(results, args.seconds, args.clients)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base: str, key: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("cpfr serve did not answer within 60 s")


def _load(
    base: str, keys: dict[str, str], clients: int, seconds: float
) -> dict[str, list[tuple[float, bool]]]:
    results: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        side = "platform" if number % 2 == 0 else "partner"
        mine: list[tuple[str, float, bool]] = []
        with httpx.Client(headers={"Authorization": f"Bearer {keys[side]}"}, timeout=30) as http:
            for endpoint in itertools.cycle(ENDPOINTS[number % len(ENDPOINTS) :] + ENDPOINTS):
                if time.monotonic() >= stop:
                    break
                began = time.perf_counter()
                try:
                    ok = http.get(base + endpoint).status_code == 200
                except httpx.HTTPError:
                    ok = False
                mine.append((f"{endpoint.split('?')[0]} ({side})", time.perf_counter() - began, ok))
        with lock:
            for name, seconds_taken, ok in mine:
                results[name].append((seconds_taken, ok))

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _report(results: dict[str, list[tuple[float, bool]]], seconds: float, clients: int) -> None:
    print(f"{'endpoint':<34}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}")
    every = []
    for name in sorted(results):
        times = np.array([taken for taken, _ in results[name]]) * 1000
        errors = sum(not ok for _, ok in results[name])
        every.extend(times)
        print(
            f"{name:<34}{len(times):>9}{len(times) / seconds:>8.1f}{np.percentile(times, 50):>8.1f}"
            f"{np.percentile(times, 99):>8.1f}{errors:>7}"
        )
    total = np.array(every)
    rate, p99 = len(total) / seconds, float(np.percentile(total, 99))
    met = "met" if rate >= GOAL_RPS and p99 < GOAL_P99_MS else "MISSED"
    print(
        f"{'total':<34}{len(total):>9}{rate:>8.1f}{np.percentile(total, 50):>8.1f}{p99:>8.1f}"
        f"{sum(not ok for rows in results.values() for _, ok in rows):>7}"
    )
    print(f"goal >= {GOAL_RPS:.0f} req/s with p99 < {GOAL_P99_MS:.0f} ms ({clients} clients): {met}")


if __name__ == "__main__":
    main()
