"""Fault injection: a full disk, unwritable folders, corrupt stores, SIGKILL at random moments, two writers.

Each fault is real: the commands run as separate processes (the installed ``cpfr``), the disk fills
(a size-limited tmpfs where this machine lets the test mount one, else a file-size limit), folders
are unwritable for a process without root's override capabilities, processes are killed.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpfr.data.store import open_store

CPFR = str(Path(sys.executable).parent / "cpfr")
# A process with these capabilities removed obeys file permissions even when it runs as root.
_NO_OVERRIDE = [
    "--bounding-set",
    "-dac_override,-dac_read_search,-fowner",
    "--inh-caps",
    "-dac_override,-dac_read_search,-fowner",
]


def run(
    *args: str | Path,
    prefix: Sequence[str] = (),
    preexec: Callable[[], None] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``cpfr`` in its own process; fail the test on a traceback."""
    result = subprocess.run(
        [*prefix, CPFR, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def digest(path: Path) -> dict[str, str]:
    """The store's content, with the ingest log counted but not compared row by row (ids and times differ)."""
    with open_store(path, mode="read") as store:
        content = store.content_digest()
        content["ingest_log"] = str(len(store.read_table("ingest_log")))
    return content


def sales_file(folder: Path, days: int, name: str = "sales.parquet") -> Path:
    """Sales of the tiny alliance's two SKUs online on ``days`` days from 1995 on."""
    dates = pd.Timestamp("1995-01-01") + pd.to_timedelta(np.arange(days), unit="D")
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates, 2),
            "sku_id": np.tile(["P1", "A1"], days),
            "location_id": "Z-N-1",
            "units": np.arange(2 * days) % 7,
        }
    )
    path = folder / name
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def copy_store(db_path: Path, tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copy(db_path, target)
        return target

    yield copy


# -- a full disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A 6 MB tmpfs mounted for the test, or None where this machine does not allow mounting."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)], capture_output=True
        ).returncode
        == 0
        if shutil.which("mount") and os.geteuid() == 0
        else False
    )
    yield mount_point if mounted else None
    if mounted:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_during_ingest_leaves_the_store_as_it_was(
    db_path: Path, tmp_path: Path, small_disk: Path | None
) -> None:
    big = sales_file(tmp_path, 20_000)
    if small_disk is not None:
        store = small_disk / "alliance.duckdb"
        shutil.copy(db_path, store)
        filler = small_disk / "filler"
        free = shutil.disk_usage(small_disk).free
        filler.write_bytes(b"\0" * max(0, free - 200_000))  # leave 200 kB: the WAL needs more
        preexec = None
    else:
        store = tmp_path / "alliance.duckdb"
        shutil.copy(db_path, store)
        limit = store.stat().st_size + 200_000

        def preexec() -> None:  # the process may write no file larger than this: EFBIG, as a full disk
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    before = digest(store)
    result = run("ingest", big, "--table", "sales", "--db", store, preexec=preexec)
    assert result.returncode == 4, result.stderr
    assert "nothing was written" in result.stderr
    assert digest(store) == before
    if small_disk is not None:
        (small_disk / "filler").unlink()
    else:
        shutil.copy(store, tmp_path / "roomy.duckdb")
        store = tmp_path / "roomy.duckdb"
    again = run("ingest", big, "--table", "sales", "--db", store)
    assert again.returncode == 0, again.stderr


# -- folders and files that cannot be written ------------------------------------------------------


@pytest.fixture
def without_override() -> list[str]:
    """The command prefix that makes a process obey file permissions (root ignores them)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without util-linux's setpriv: permissions cannot be enforced")
    return ["setpriv", *_NO_OVERRIDE]


def test_unwritable_folders_and_read_only_stores(
    copy_store: Callable[[str], Path],
    tmp_path: Path,
    write_file: Callable[[str, str], Path],
    without_override: list[str],
) -> None:
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    store = shelf / "alliance.duckdb"
    shutil.move(copy_store("moved.duckdb"), store)
    partners = write_file("partners.csv", "partner_id,name\nLENOVO,Lenovo\n")
    before = digest(store)
    store.chmod(0o444)
    shelf.chmod(0o555)
    try:
        readable = run("summary", "--db", store, prefix=without_override)
        assert readable.returncode == 0 and "XIAOMI" in readable.stdout
        exported = run(
            "export", "sales", "-o", tmp_path / "sales.csv", "--db", store, prefix=without_override
        )
        assert exported.returncode == 0
        refused = run("ingest", partners, "--table", "partners", "--db", store, prefix=without_override)
        assert refused.returncode == 4 and "read-only" in refused.stderr
        created = run("db", "init", "--db", shelf / "new.duckdb", prefix=without_override)
        assert created.returncode == 4 and "not writable" in created.stderr
        output = run("export", "sales", "-o", shelf / "sales.csv", "--db", store, prefix=without_override)
        assert output.returncode == 4 and "sales.csv" in output.stderr
        demo = run("demo", "generate", "--small", "--out", shelf / "demo", prefix=without_override)
        assert demo.returncode == 4 and "Permission denied" in demo.stderr
    finally:
        shelf.chmod(0o755)
        store.chmod(0o644)
    assert digest(store) == before
    assert sorted(path.name for path in shelf.iterdir()) == ["alliance.duckdb"]


# -- corrupt stores -------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["scrambled", "truncated", "emptied"])
def test_a_corrupt_store_is_an_error_not_a_traceback(copy_store: Callable[[str], Path], damage: str) -> None:
    store = copy_store("corrupt.duckdb")
    data = bytearray(store.read_bytes())
    if damage == "scrambled":
        rng = random.Random(7)
        for offset in rng.sample(range(4096, len(data)), 20_000):
            data[offset] = rng.randrange(256)
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        data = bytearray()
    store.write_bytes(bytes(data))
    for args in (("db", "info"), ("summary",), ("export", "sales", "-o", store.with_suffix(".csv"))):
        result = run(*args, "--db", store)
        assert result.returncode in (1, 4), (args, result.stderr)
        assert result.stderr.startswith("error:") or "problem" in result.stderr, result.stderr


# -- SIGKILL at random moments ------------------------------------------------------------------


def test_sigkill_at_random_moments_of_an_ingest_leaves_before_or_after(
    copy_store: Callable[[str], Path], tmp_path: Path
) -> None:
    big = sales_file(tmp_path, 30_000)
    finished = copy_store("finished.duckdb")
    started = time.perf_counter()
    assert run("ingest", big, "--table", "sales", "--db", finished).returncode == 0
    full_seconds = time.perf_counter() - started
    before_digest, after_digest = digest(copy_store("reference.duckdb")), digest(finished)
    rng = random.Random(11)
    outcomes = []
    for attempt in range(4):
        store = copy_store(f"killed-{attempt}.duckdb")
        process = subprocess.Popen([CPFR, "ingest", str(big), "--table", "sales", "--db", str(store)])
        time.sleep(rng.uniform(0.2, full_seconds))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        state = digest(store)
        assert state in (before_digest, after_digest), f"attempt {attempt}: the store is half-written"
        outcomes.append("after" if state == after_digest else "before")
        assert run("ingest", big, "--table", "sales", "--db", store).returncode == 0  # a re-run succeeds
        rerun = digest(store)
        assert int(rerun.pop("ingest_log")) >= int(
            after_digest["ingest_log"]
        )  # one more line if it had landed
        assert rerun == {name: value for name, value in after_digest.items() if name != "ingest_log"}
    assert outcomes  # every kill ended in one of the two states


@pytest.mark.slow
def test_sigkill_during_plan_leaves_the_store_and_a_rerun_succeeds(tmp_path: Path) -> None:
    store = tmp_path / "demo.duckdb"
    assert (
        run("demo", "run", "--small", "--db", store, "--out", tmp_path / "demo", timeout=300).returncode == 0
    )
    before = digest(store)
    process = subprocess.Popen(
        [CPFR, "plan", "--db", str(store), "--out", str(tmp_path / "plan"), "--no-network", "--weeks", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(random.Random(3).uniform(2.0, 6.0))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert _plan_runs_are_whole(store) <= 1
    assert _without_results(digest(store)) == _without_results(before)  # the user's data as it was
    rerun = run(
        "plan", "--db", store, "--out", tmp_path / "plan", "--no-network", "--weeks", "4", timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "plan" / "report.html").exists()
    assert not list((tmp_path / "plan").glob(".*partial*"))
    assert _plan_runs_are_whole(store) >= 1


def _without_results(content: dict[str, str]) -> dict[str, str]:
    from cpfr.data import schema

    return {name: value for name, value in content.items() if not schema.table(name).protected}


def _plan_runs_are_whole(path: Path) -> int:
    """Count the plan runs stored, asserting that every result table holds rows of those runs only."""
    with open_store(path, mode="read") as store:
        runs = set(store.read_table("plan_runs")["run_id"])
        for table in ("plan_targets", "plan_exceptions", "plan_consensus", "plan_kpis"):
            assert set(store.read_table(table)["run_id"]) == runs, table
    return len(runs)


# -- two writers ----------------------------------------------------------------------------------

_HOLD_LOCK = """
import sys, time
from cpfr.data.store import open_store
with open_store(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_locked_store_waits_then_fails_with_its_own_exit_code(
    copy_store: Callable[[str], Path], write_file: Callable[[str, str], Path]
) -> None:
    store = copy_store("shared.duckdb")
    partners = write_file("partners.csv", "partner_id,name\nLENOVO,Lenovo\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(store), "8"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.perf_counter()
        busy = run("ingest", partners, "--table", "partners", "--db", store, "--wait", "0.5")
        assert busy.returncode == 3 and "in use by another process" in busy.stderr
        assert time.perf_counter() - started < 7  # it gave up long before the holder let go
        patient = run("ingest", partners, "--table", "partners", "--db", store, "--wait", "60")
        assert patient.returncode == 0, patient.stderr
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()


def test_two_writers_at_once_both_land(copy_store: Callable[[str], Path], tmp_path: Path) -> None:
    store = copy_store("shared.duckdb")
    first = sales_file(tmp_path, 15_000, "first.parquet")
    second_frame = pd.read_parquet(first)
    second_frame["date"] = second_frame["date"] + pd.Timedelta(days=15_000)
    second = tmp_path / "second.parquet"
    second_frame.to_parquet(second, index=False)
    processes = [
        subprocess.Popen(
            [CPFR, "ingest", str(path), "--table", "sales", "--db", str(store), "--wait", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (first, second)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    with open_store(store, mode="read") as opened:
        # Both files' days, and of the three stored rows the one the first file did not replace.
        assert len(opened.read_table("sales")) == 1 + 2 * 30_000
