"""The demo alliance (``demo generate``, ``demo run``) and the alliance ``summary``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from time import perf_counter
from typing import Annotated

import typer

from cpfr.cli.common import DEFAULT_WAIT_SECONDS, DbOption, WaitOption, console, reported_errors
from cpfr.cli.progress import ProgressLog
from cpfr.cli.render import render_summary
from cpfr.data.ingest import ingest_file
from cpfr.data.store import open_store
from cpfr.targets import alliance_summary

demo_app = typer.Typer(
    help="The demo alliance scenario: generate it, load it, look at it.", no_args_is_help=True
)

SeedOption = Annotated[
    int, typer.Option("--seed", help="Random seed; the same seed gives the same scenario.")
]
OutOption = Annotated[Path, typer.Option("--out", help="Directory for the scenario's Parquet files.")]
SmallOption = Annotated[
    bool,
    typer.Option("--small", help="A small scenario (fewer SKUs and stores, 18 months) for quick trials."),
]


def _generate(seed: int, out: Path, small: bool, log: ProgressLog) -> list[Path]:
    # Imported here: the generator's numpy work is not needed by `summary`.
    from cpfr.data.demo import DemoConfig, generate_scenario, write_scenario

    config = DemoConfig.small() if small else DemoConfig()
    log(f"generating the {'small ' if small else ''}demo alliance (seed {seed})")
    started = perf_counter()
    scenario = generate_scenario(config, seed=seed)
    log(f"writing {len(scenario.tables)} tables to {out}")
    paths = write_scenario(scenario, out)
    rows = sum(len(frame) for frame in scenario.tables.values())
    seconds = perf_counter() - started
    log(
        f"generated {len(scenario.tables)} tables, {rows:,} rows in {seconds:.1f} s; truth in {out / 'truth'}"
    )
    return [path for path in paths if path.parent == out]


@demo_app.command("generate")
def generate(seed: SeedOption = 42, out: OutOption = Path("demo_data"), small: SmallOption = False) -> None:
    """Write the demo alliance (one Parquet file per table, plus its ground truth) to --out."""
    with reported_errors():
        _generate(seed, out, small, ProgressLog("demo"))


@demo_app.command("run")
def run(
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
    seed: SeedOption = 42,
    out: OutOption = Path("demo_data"),
    small: SmallOption = False,
) -> None:
    """Generate the demo alliance, load it into the store, and print the alliance summary."""
    with reported_errors():
        log = ProgressLog("demo")
        paths = _generate(seed, out, small, log)
        with open_store(db, mode="create", wait_seconds=wait) as store:
            for number, path in enumerate(paths, start=1):
                result = ingest_file(store, path, path.stem)
                rows, seconds = result.rows, result.seconds
                log(f"loaded {number}/{len(paths)} {result.table}: {rows:,} rows in {seconds:.1f} s")
        with open_store(db, mode="read", wait_seconds=wait) as store:
            render_summary(alliance_summary(store), console)
            location = store.location
    console.print(
        f"store: {location} — try `cpfr summary --partner XIAOMI` or `cpfr db info`", highlight=False
    )


def summary(
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
    partner: Annotated[str | None, typer.Option("--partner", help="Only this brand partner.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Count sales up to this day (YYYY-MM-DD); default the last.")
    ] = None,
) -> None:
    """Print each partner's sales to date against target, by category, channel, city tier and month."""
    with reported_errors():
        day = _parse_day(as_of, "--as-of") if as_of else None
        with open_store(db, mode="read", wait_seconds=wait) as store:
            render_summary(alliance_summary(store, partner_id=partner, as_of=day), console)


def _parse_day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option) from None
