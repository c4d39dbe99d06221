"""Property-based: for every table, malformed and hostile files end as they must (issue 10).

Each case is a file with a known verdict (see ``tests/data/hostile.py``); through the command line it
must end with exit code 0 (valid) or 1/2 (refused, naming file, row and column where one exists), never
a traceback or an internal error, within seconds, and a refused file leaves the store's content as it was.
``benchmarks/fuzz.py`` runs the same cases at a larger count.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from cpfr.data.store import open_store
from tests.data.hostile import build_case, judge

Cli = Callable[..., Result]


@settings(
    max_examples=500,  # benchmarks/fuzz.py runs thousands; 500 keep the suite's share near a minute
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_hostile_or_careless_file_ends_as_it_must(
    data: st.DataObject, db_path: Path, tmp_path: Path, cli: Cli
) -> None:
    case = build_case(lambda options: data.draw(st.sampled_from(list(options))))
    folder = tmp_path / "cases"
    folder.mkdir(exist_ok=True)

    def ingest(path: Path) -> tuple[int, str]:
        result = cli("ingest", path, "--table", case.table, "--db", db_path)
        return result.exit_code, result.output

    def digest() -> dict[str, str]:
        with open_store(db_path, mode="read") as store:
            content = store.content_digest()
        content.pop("ingest_log")  # a valid re-ingest adds a log line and nothing else
        return content

    verdict = judge(case, folder, ingest, digest)
    assert verdict.ok, verdict.details
