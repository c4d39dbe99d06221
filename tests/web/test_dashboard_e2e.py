"""The dashboard end to end: `cpfr serve` over a small planned store, driven in Debian's chromium by Playwright.

Three people use it in turn: Xiaomi's planner (sees only Xiaomi, uploads a bad then a good forecast,
comments on an exception, proposes a consensus value), the platform's planner (overrides that
consensus value, which the audit trail then shows) and Midea's planner (sees none of Xiaomi's data).
A screenshot of every page each of them opens is saved under ``test-artifacts/screenshots`` (or
``$CPFR_SCREENSHOTS``).

No browser is downloaded: the test drives ``/usr/bin/chromium`` (``make chromium`` installs it). When it
is missing the test is skipped, unless ``$CI`` or ``$CPFR_REQUIRE_BROWSER`` is set: then it fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CPFR_SCREENSHOTS", REPO / "test-artifacts" / "screenshots"))
PAGES = ["alliance", "forecasts", "exceptions", "orders", "kpis", "levers", "audit"]
SERVER_START_SECONDS = 60.0
STEP_MS = 30_000  # the longest a page may take to answer one step


def _browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("CPFR_REQUIRE_BROWSER"))


def _need_browser() -> None:
    reason = ""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: run `make chromium` (Debian's chromium package)"
    else:
        try:
            import playwright.sync_api  # noqa: F401 - only whether it imports
        except ImportError:
            reason = "the playwright package is missing: pip install -e '.[dev]'"
    if reason and _browser_required():
        pytest.fail(f"{reason} ($CI or $CPFR_REQUIRE_BROWSER is set, so the browser test must run)")
    if reason:
        pytest.skip(reason)


def _cpfr(*args: str | Path, cwd: Path) -> str:
    """Run the cpfr CLI of this checkout in a subprocess; return its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "cpfr.cli.main", *map(str, args)],
        cwd=cwd,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"cpfr {' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _child_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "CPFR_DB"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running `cpfr serve`, its keys and what the test needs to know of its store."""

    url: str
    keys: dict[str, str]
    partner_names: dict[str, str]  # partner_id -> name, as the platform sees them
    product_names: dict[str, str]  # sku_id -> partner_id

    def get(self, path: str, who: str) -> Any:
        """GET an API route as ``who``; return the JSON body."""
        request = urllib.request.Request(
            f"{self.url}/api/v1{path}", headers={"Authorization": f"Bearer {self.keys[who]}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Serve a small demo store with a plan run (network orders skipped: their step alone takes minutes)."""
    _need_browser()
    folder = tmp_path_factory.mktemp("dashboard")
    db = folder / "cpfr.duckdb"
    _cpfr("demo", "run", "--small", "--db", db, "--out", folder / "demo", cwd=folder)
    _cpfr("plan", "--no-network", "--weeks", "8", "--db", db, "--out", folder / "plan", cwd=folder)
    keys = {}
    for who, options in {
        "xiaomi": ["--partner", "XIAOMI", "--role", "partner_planner"],
        "midea": ["--partner", "MIDEA", "--role", "partner_planner"],
        "platform": ["--role", "platform_planner"],
    }.items():
        keys[who] = _cpfr("users", "add", *options, "--db", db, cwd=folder).strip().splitlines()[-1].strip()
    port = _free_port()
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "cpfr.cli.main", "serve", "--db", str(db), "--port", str(port)],
        cwd=folder,
        env=_child_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, folder / "serve.log")
        probe = Server(url, keys, {}, {})
        partners = {row["partner_id"]: row["name"] for row in probe.get("/partners", "platform")["items"]}
        products = {}
        for page in range(1, 100):
            body = probe.get(f"/products?page={page}&page_size=1000", "platform")
            products.update({row["name"]: row["partner_id"] for row in body["items"]})
            if len(products) >= body["total"] or not body["items"]:
                break
        yield Server(url, keys, partners, products)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"cpfr serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/static/index.html", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    pytest.fail(f"cpfr serve did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (no download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_as(server: Server, browser: Any) -> Iterator[Any]:
    """Return a function signing a new page in as one of the server's users."""
    contexts = []

    def sign_in(who: str) -> Any:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(STEP_MS)
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))
        page.goto(server.url + "/")
        page.fill("#api-key", server.keys[who])
        page.click("#login-button")
        page.wait_for_selector("#who-user")
        page.script_errors = failures
        return page

    yield sign_in
    for context in contexts:
        context.close()


def visit(page: Any, name: str) -> None:
    """Open a tab and wait until its page has drawn."""
    page.click(f"#tab-{name}")
    page.wait_for_selector(f"#page-{name}[data-state=ready]")


def shoot(page: Any, who: str, name: str) -> Path:
    """Save a full-page screenshot; assert the file exists and is not empty."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{who}-{name}.png"
    page.wait_for_timeout(300)  # the charts' first frame
    page.screenshot(path=str(path), full_page=True)
    assert path.is_file() and path.stat().st_size > 1000, path
    return path


def page_text(page: Any) -> str:
    """Every text of the page, hidden tabs and <option>s included."""
    return str(page.evaluate("document.body.textContent"))


def assert_only(server: Server, page: Any, partner_id: str) -> None:
    """Assert that no other partner's id, name or product name is anywhere in the page."""
    text = page_text(page)
    lowered = text.lower()
    for other, name in server.partner_names.items():
        if other == partner_id:
            continue
        assert other.lower() not in lowered, f"{other} appears in {partner_id}'s page"
        assert name.lower() not in lowered, f"{name} appears in {partner_id}'s page"
    leaked = [name for name, owner in server.product_names.items() if owner != partner_id and name in text]
    assert not leaked, f"other partners' products in {partner_id}'s page: {leaked[:5]}"


def _consensus_exception(server: Server, who: str) -> dict[str, Any]:
    """Return an open exception of ``who`` whose SKU and channel have consensus weeks."""
    for row in server.get("/exceptions?page_size=1000", who)["items"]:
        if (
            row["channel_id"]
            and server.get(f"/consensus?sku_id={row['sku_id']}&channel_id={row['channel_id']}", who)["total"]
        ):
            return dict(row)
    pytest.fail(f"{who} has no exception with a consensus to change")


def _forecast_file(server: Server, who: str) -> tuple[str, str]:
    """Return a good forecast file (from the consensus weeks of one series) and one with a bad row."""
    cells = server.get("/consensus?page_size=4", who)["items"]
    rows = [
        f"{cell['sku_id']},{cell['channel_id']},{cell['ds'][:10]},{round(cell['consensus'] + 1, 1)}"
        for cell in cells
    ]
    header = "sku_id,channel_id,ds,units"
    good = "\n".join([header, *rows]) + "\n"
    bad = "\n".join([header, rows[0], rows[1].rsplit(",", 1)[0] + ",lots", *rows[2:]]) + "\n"
    return good, bad


def test_xiaomi_planner_sees_only_xiaomi_uploads_comments_and_proposes(server: Server, open_as: Any) -> None:
    page = open_as("xiaomi")
    assert page.text_content("#who-side") == server.partner_names["XIAOMI"]
    assert page.text_content("#who-role") == "partner planner"
    for name in PAGES:
        visit(page, name)
        assert_only(server, page, "XIAOMI")
        shoot(page, "xiaomi", name)
    visit(page, "orders")
    network = page.text_content("#network-panel")
    assert "Cost a day" in network and "proven gap" in network, network
    assert len(page.query_selector_all("#network-list tbody tr")) == 6  # the demo's six FDCs

    good, bad = _forecast_file(server, "xiaomi")
    visit(page, "forecasts")
    page.set_input_files(
        "#upload-file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}]
    )
    page.click("#upload-button")
    error = page.wait_for_selector("#upload-result .notice.error")
    cells = [cell.text_content() for cell in error.query_selector_all("tbody td")]
    assert cells[:5] == ["bad.csv", "3", "units", "lots", "a number of units >= 0"], cells
    assert "Error 422" in error.text_content()
    shoot(page, "xiaomi", "forecasts-upload-refused")
    page.set_input_files(
        "#upload-file", files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": good.encode()}]
    )
    page.click("#upload-button")
    accepted = page.wait_for_selector("#upload-result .notice.ok")
    assert "Forecast accepted: 4 rows" in accepted.text_content()

    chosen = _consensus_exception(server, "xiaomi")
    visit(page, "exceptions")
    page.select_option("#exception-status", "")
    page.click(f"tr[data-exception-id='{chosen['exception_id']}']")
    page.fill("#note-text", "Checked with the sales team: the promotion plan changed.")
    page.click("#note-comment")
    page.wait_for_selector("#exception-notes li:has-text('the promotion plan changed')")
    page.wait_for_selector("#consensus-week")
    assert page.text_content("#consensus-submit") == "Propose consensus"
    page.fill("#consensus-units", "123")
    page.fill("#consensus-why", "Xiaomi adds a live-stream this week")
    page.click("#consensus-submit")
    proposed = page.wait_for_selector("#consensus-result .notice.ok")
    assert "Proposal of 123.0 units" in proposed.text_content()
    assert_only(server, page, "XIAOMI")
    shoot(page, "xiaomi", "exceptions-proposed")
    assert not page.script_errors

    trail = server.get("/consensus/proposals", "xiaomi")["items"]
    assert [(row["units"], row["why"]) for row in trail] == [(123.0, "Xiaomi adds a live-stream this week")]
    notes = server.get(f"/exceptions/{chosen['exception_id']}", "xiaomi")["notes"]
    assert [note["kind"] for note in notes] == ["comment"]


def test_platform_planner_overrides_the_consensus_and_the_audit_shows_it(
    server: Server, open_as: Any
) -> None:
    page = open_as("platform")
    assert page.text_content("#who-side") == "platform"
    chosen = _consensus_exception(server, "platform")
    visit(page, "exceptions")
    page.select_option("#exception-status", "")
    page.click(f"tr[data-exception-id='{chosen['exception_id']}']")
    page.wait_for_selector("#consensus-week")
    assert page.text_content("#consensus-submit") == "Override consensus"
    week = page.input_value("#consensus-week")
    page.fill("#consensus-units", "456")
    page.click("#consensus-submit")  # no reason: refused in the page
    page.wait_for_selector("#consensus-result .notice.error:has-text('A reason is required')")
    page.fill("#consensus-why", "Agreed with the brand in the Monday call")
    page.click("#consensus-submit")
    done = page.wait_for_selector("#consensus-result .notice.ok")
    assert "to 456.0" in done.text_content()
    shoot(page, "platform", "exceptions-overridden")

    audit = server.get("/audit?action=consensus.override", "platform")["items"]
    assert len(audit) == 1
    assert audit[0]["target"] == f"{chosen['sku_id']}/{chosen['channel_id']}/{week}"
    assert json.loads(audit[0]["detail"])["why"] == "Agreed with the brand in the Monday call"
    visit(page, "audit")
    assert page.locator("#audit-list tr:has-text('consensus.override')").count() == 1
    for name in PAGES:
        visit(page, name)
        shoot(page, "platform", name)
    assert not page.script_errors


def test_xiaomi_reads_its_subsidy_effects_and_splits_a_budget(server: Server, open_as: Any) -> None:
    page = open_as("xiaomi")
    visit(page, "levers")
    assert page.locator("#uplift-table tbody tr").count() >= 3
    assert page.locator("#uplift-chart canvas").count() == 1
    summary = page.text_content("#allocation-summary")
    assert "pro rata" in summary and "of GMV" in summary
    page.fill("#budget", "2000000")
    page.select_option("#objective", "units")
    page.click("#allocate")
    page.wait_for_selector("#allocation-summary:has-text('units')")
    assert "¥2.0 m" in page.text_content("#allocation-summary")
    assert page.locator("#gaps tbody tr").count() >= 1
    assert page.locator("#launch-partner").count() == 0  # a brand forecasts its own products only
    page.fill("#launch-price", "1999")
    page.click("#launch-go")
    summary = page.wait_for_selector("#launch-summary").text_content()
    assert "units expected in 90 days" in summary and "launches" in summary
    assert page.locator("#launch-chart canvas").count() == 1
    assert_only(server, page, "XIAOMI")
    shoot(page, "xiaomi", "levers-units")
    assert not page.script_errors


def test_midea_planner_sees_none_of_xiaomi(server: Server, open_as: Any) -> None:
    page = open_as("midea")
    assert page.text_content("#who-side") == server.partner_names["MIDEA"]
    for name in PAGES:
        visit(page, name)
        assert_only(server, page, "MIDEA")
        shoot(page, "midea", name)
    text = page_text(page)
    assert "XIAOMI" not in text and "Xiaomi" not in text
    channels = server.get("/channels", "midea")["items"]
    assert {row["partner_id"] for row in channels} <= {None, "MIDEA"}
    assert not page.script_errors

    page.click("#logout")
    page.wait_for_selector("#login-form")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.is_hidden("#app") and page.text_content("#pages") == ""
