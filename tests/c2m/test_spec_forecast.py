"""The spec forecast: ordered quantiles, no peeking past as-of, named spec problems, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from cpfr.c2m.spec_forecast import QUANTILES, LaunchSpec, read_spec, spec_forecast
from cpfr.data.store import Store
from cpfr.exceptions import InputError

Cli = Callable[..., Result]


def _latest_launch(store: Store) -> tuple[LaunchSpec, dt.date]:
    products = store.read_table("products")
    product = products.loc[pd.to_datetime(products["launch_date"]).idxmax()]
    launch = pd.Timestamp(product["launch_date"]).date()
    spec = LaunchSpec(
        partner_id=product["partner_id"],
        category_id=product["category_id"],
        list_price=float(product["list_price"]),
        attributes=json.loads(product["attributes"]),
        launch_date=launch,
        channels=["JD_ONLINE", "JD_MALL"],
    )
    return spec, launch


def test_an_existing_launch_gets_finite_ordered_quantiles_around_its_mean(small_demo_store: Store) -> None:
    spec, launch = _latest_launch(small_demo_store)
    result = spec_forecast(small_demo_store, spec, as_of=launch, horizon_days=60)
    values = [result.quantiles[f"q{level!r}"] for level in QUANTILES]
    assert all(np.isfinite(values)) and values == sorted(values)
    assert values[0] <= result.units <= values[-1]
    assert 0.0 <= result.cannibalisation.share <= 1.0
    assert 0.0 <= result.cannibalisation.units <= result.units
    assert result.launches_learnt_from >= 3
    assert len(result.daily) == 60 and result.daily["ds"].iloc[0] == pd.Timestamp(launch)
    assert result.daily["mean"].sum() == pytest.approx(result.units)
    assert result.daily["q0.95"].sum() == pytest.approx(result.quantiles["q0.95"])


def test_sales_on_or_after_as_of_change_nothing(
    small_demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, launch = _latest_launch(small_demo_store)
    before = spec_forecast(small_demo_store, spec, as_of=launch, horizon_days=60)
    original = small_demo_store.read_table

    def inflated(table: str, **options: Any) -> pd.DataFrame:
        options.pop("end", None)  # as if the store ignored the bound: the forecast must cut itself
        frame = original(table, **options)
        if table == "sales":
            later = pd.to_datetime(frame["date"]) >= pd.Timestamp(launch)
            frame.loc[later, "units"] = frame.loc[later, "units"] * 10 + 7
        return frame

    monkeypatch.setattr(small_demo_store, "read_table", inflated)
    after = spec_forecast(small_demo_store, spec, as_of=launch, horizon_days=60)
    assert after.units == before.units and after.quantiles == before.quantiles
    pd.testing.assert_frame_equal(after.daily, before.daily)


def test_spec_problems_name_the_file_and_field(write_file: Callable[[str, str], Path]) -> None:
    good = {
        "partner_id": "XIAOMI",
        "category_id": "PHONE",
        "list_price": 1999,
        "launch_date": "2025-03-01",
        "channels": ["JD_ONLINE"],
    }
    assert read_spec(write_file("ok.json", json.dumps(good))).list_price == 1999
    with pytest.raises(InputError, match=r"bad\.json: list_price: .*greater than 0"):
        read_spec(write_file("bad.json", json.dumps({**good, "list_price": -5})))
    with pytest.raises(InputError, match=r"extra\.yaml: colour: unknown field"):
        read_spec(write_file("extra.yaml", "colour: red\n" + "".join(f"{k}: {v}\n" for k, v in good.items())))
    with pytest.raises(InputError, match=r"none\.json: channels: expected at least 1"):
        read_spec(write_file("none.json", json.dumps({**good, "channels": []})))


def test_unknown_ids_and_an_early_as_of_are_refused(small_demo_store: Store) -> None:
    spec, launch = _latest_launch(small_demo_store)
    with pytest.raises(InputError, match=r"SPEC: category_id: unknown 'NOPE', known: .*PHONE"):
        spec_forecast(
            small_demo_store, spec.model_copy(update={"category_id": "NOPE"}), as_of=launch, horizon_days=60
        )
    with pytest.raises(InputError, match=r"SPEC: partner_id: unknown 'ACME', known: .*XIAOMI"):
        spec_forecast(
            small_demo_store, spec.model_copy(update={"partner_id": "ACME"}), as_of=launch, horizon_days=60
        )
    with pytest.raises(InputError, match="nothing to learn from"):
        spec_forecast(small_demo_store, spec, as_of=dt.date(2024, 1, 5), horizon_days=60)


def test_the_cli_prints_json_and_writes_the_daily_curve(
    small_demo_store: Store, cli: Cli, write_file: Callable[[str, str], Path], tmp_path: Path
) -> None:
    spec, launch = _latest_launch(small_demo_store)
    path = write_file("spec.json", spec.model_dump_json())
    output = tmp_path / "daily.csv"
    db = small_demo_store.location
    args = ("launch", "forecast", "--db", db, "--spec", path, "--as-of", str(launch), "--horizon", "30")
    result = cli(*args, "--json", "--output", output)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    expected = {"units", "horizon_days", "as_of", "launches_learnt_from", "method"}
    expected |= {"cell_skus", "cannibalised_share", "cannibalised_units"}
    assert set(summary) == expected | {f"q{level!r}" for level in QUANTILES}
    assert summary["horizon_days"] == 30 and summary["as_of"] == str(launch)
    daily = pd.read_csv(output)
    assert len(daily) == 30 and daily["mean"].sum() == pytest.approx(summary["units"])
    bad = cli(*args[:-4], "--as-of", "2024-01-05", "--horizon", "30")
    assert bad.exit_code == 2 and "nothing to learn from" in bad.output
