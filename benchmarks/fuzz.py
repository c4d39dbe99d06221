"""Fuzz campaign of issue 10: hostile and careless input files and command lines against a real store.

Every case has a known verdict (see ``tests/data/hostile.py``): a file cpfr must accept or refuse, or a
command line of a store-reading command that may fail but never crash. Cases run through the command
line in-process (as the tests do); a share also runs as separate ``cpfr`` processes, which is how
people run it. The table counts what went wrong; the goal is 0 in every column but the first.

Run: ``python benchmarks/fuzz.py [--cases 5000] [--seed 1] [--processes 100]``.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import GOOD_SALES, REFERENCE_FILES  # noqa: E402
from tests.data.hostile import Verdict, build_case, build_command, judge  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from cpfr.cli.main import app  # noqa: E402
from cpfr.data.ingest import ingest_file  # noqa: E402
from cpfr.data.store import open_store  # noqa: E402

COLUMNS = ["crash", "hang", "partial_write", "unclear_message", "bad_input_accepted", "good_input_refused"]


def tiny_store(folder: Path) -> Path:
    db = folder / "alliance.duckdb"
    with open_store(db, mode="create") as store:
        for table, content in REFERENCE_FILES.items():
            path = folder / f"{table}.csv"
            path.write_text(content, encoding="utf-8")
            ingest_file(store, path, table)
        (folder / "sales.csv").write_text(GOOD_SALES, encoding="utf-8")
        ingest_file(store, folder / "sales.csv", "sales")
    return db


class Campaign:
    """One store, one runner; runs cases through the command line and keeps the tally."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = tiny_store(folder)
        self.runner = CliRunner()
        self.cpfr = str(Path(sys.executable).parent / "cpfr")
        self.tally: dict[str, Counter[str]] = {}
        self.failures: list[str] = []

    def run_cli(self, args: list[str], in_process: bool) -> tuple[int, str]:
        """Run ``cpfr ARGS`` in this process (as the tests do) or as its own process; exit code and output."""
        if in_process:
            result = self.runner.invoke(app, args)
            return result.exit_code, result.output
        # No process can be given an argument holding a NUL byte: the shell would cut it there too.
        argv = [self.cpfr, *(argument.split("\x00", 1)[0] for argument in args)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout + done.stderr

    def digest(self) -> dict[str, str]:
        """Return the store's content (the ingest log aside)."""
        with open_store(self.db, mode="read") as store:
            content = store.content_digest()
        content.pop("ingest_log")  # a valid ingest adds a log line; a refused one must not
        return content

    def file_case(self, rng: random.Random, in_process: bool) -> Verdict:
        """Ingest one hostile or careless file."""
        case = build_case(rng.choice)
        args = ["--table", case.table, "--db", str(self.db)]
        return judge(
            case,
            self.folder,
            lambda path: self.run_cli(["ingest", str(path), *args], in_process),
            self.digest,
        )

    def command_case(self, rng: random.Random, in_process: bool) -> Verdict:
        """Run one store-reading command with hostile values: it may fail, never crash or write."""
        args = [*build_command(rng.choice, self.folder), "--db", str(self.db)]
        verdict = Verdict()
        before = self.digest()
        begun = time.perf_counter()
        code, output = self.run_cli(args, in_process)
        verdict.seconds = time.perf_counter() - begun
        verdict.hang = verdict.seconds > 20
        verdict.crash = code not in (0, 1, 2, 4) or "Traceback" in output
        verdict.partial_write = self.digest() != before  # these commands only read the store
        verdict.unclear_message = code != 0 and not output.strip()
        if not verdict.ok:
            verdict.details.append(f"{' '.join(args)[:160]!r}: exit {code}: {output[:300]}")
        return verdict

    def count(self, family: str, verdict: Verdict) -> None:
        """Add one verdict to the tally."""
        counts = self.tally.setdefault(family, Counter())
        counts["cases"] += 1
        for column in COLUMNS:
            counts[column] += int(getattr(verdict, column))
        if not verdict.ok:
            self.failures += verdict.details


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000, help="in-process cases (files and command lines)")
    parser.add_argument("--processes", type=int, default=100, help="further cases run as separate processes")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    started = time.perf_counter()
    total = options.cases + options.processes
    with tempfile.TemporaryDirectory() as scratch:
        campaign = Campaign(Path(scratch))
        for number in range(total):
            in_process = number < options.cases
            where = "in-process" if in_process else "own process"
            if rng.random() < 0.8:
                campaign.count(f"files, {where}", campaign.file_case(rng, in_process))
            else:
                campaign.count(f"command lines, {where}", campaign.command_case(rng, in_process))
            if (number + 1) % 500 == 0 or number + 1 == total:
                elapsed = time.perf_counter() - started
                print(f"  {number + 1:,}/{total:,} cases, {elapsed:.0f} s", file=sys.stderr, flush=True)
    _print(campaign.tally, time.perf_counter() - started)
    for line in campaign.failures[:30]:
        print("  failed:", line)


def _print(tally: dict[str, Counter[str]], seconds: float) -> None:
    header = ["cases", *COLUMNS]
    print(f"\nfuzz campaign: {sum(c['cases'] for c in tally.values()):,} cases in {seconds:.0f} s")
    print(f"{'family':<28}" + "".join(f"{name:>20}" for name in header))
    rows = [*tally.items(), ("all", sum(tally.values(), Counter()))]
    for name, counts in rows:
        print(f"{name:<28}" + "".join(f"{counts[column]:>20,}" for column in header))


if __name__ == "__main__":
    main()
