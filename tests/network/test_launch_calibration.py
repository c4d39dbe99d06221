"""Launch demand learnt from earlier launches: ML presence and dispersion, the sell-out total, time order."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from cpfr.data.store import Store
from cpfr.exceptions import NotFittedError
from cpfr.network.allocation import zero_inflated_negative_binomial
from cpfr.network.launch_calibration import ZeroInflatedDispersion, conditional_total
from cpfr.network.launch_demand import launch_demand, past_launches


def test_maximum_likelihood_recovers_a_known_dispersion_and_presence() -> None:
    rng = np.random.default_rng(7)
    size = 30_000
    means = rng.uniform(1.0, 40.0, size)
    groups = rng.choice(["JD_ONLINE", "JD_HA", "XIAOMI_HOME"], size)
    presence = pd.Series({"JD_ONLINE": 1.0, "JD_HA": 0.15, "XIAOMI_HOME": 0.4})[groups].to_numpy()
    dispersion = 2.5
    selling_mean = means / presence
    units = rng.negative_binomial(dispersion, dispersion / (dispersion + selling_mean))
    units = np.where(rng.random(size) < presence, units, 0)
    model = ZeroInflatedDispersion().fit(units, means, groups)
    assert model.dispersion_ == pytest.approx(dispersion, rel=0.05)
    assert model.presence_["JD_HA"] == pytest.approx(0.15, abs=0.01)
    assert model.presence_["XIAOMI_HOME"] == pytest.approx(0.4, abs=0.02)
    assert model.presence_["JD_ONLINE"] > 0.98
    assert model.presence("NEW_CHANNEL") == 1.0 and model.n_observations_ == size


def test_presence_before_fit_is_refused() -> None:
    with pytest.raises(NotFittedError):
        ZeroInflatedDispersion().presence("JD_HA")


def test_zero_inflated_demand_keeps_its_mean_and_adds_zeros() -> None:
    demand = zero_inflated_negative_binomial(12.0, 0.25, 3.0)
    assert demand.mean == pytest.approx(12.0, rel=1e-9)
    selling_zero = (3.0 / (3.0 + 48.0)) ** 3.0
    assert demand.probabilities[0] == pytest.approx(0.75 + 0.25 * selling_zero)


def test_conditional_total_is_the_truncated_lognormal_mean() -> None:
    errors = [math.log(0.5), 0.0, math.log(3.0), math.log(1.2)]
    location, spread = math.log(200.0) + float(np.median(errors)), float(np.std(errors, ddof=1))
    draws = np.exp(np.random.default_rng(3).normal(location, spread, 2_000_000))
    assert conditional_total(200.0, errors, 0) == pytest.approx(draws.mean(), rel=0.01)
    assert conditional_total(200.0, errors, 400.0) == pytest.approx(draws[draws >= 400.0].mean(), rel=0.01)
    assert conditional_total(200.0, errors, 1e9) >= 1e9  # far in the tail: never below Q


def test_a_launch_learns_only_from_launches_that_ended_before_it(small_demo_store: Store) -> None:
    events = small_demo_store.read_table("events", where={"kind": "launch"}).sort_values("start_date")
    sku = str(events["event_id"].iloc[-1]).removeprefix("LAUNCH-")
    _, last_day = small_demo_store.date_range("sales")
    everything = past_launches(small_demo_store, before=last_day + pd.Timedelta(days=1), days=28)
    launch = launch_demand(small_demo_store, sku, days=28, quantity=500).launch_date
    earlier = [past for past in everything if past.window_end < launch]
    assert len(earlier) >= 3 and len(everything) > len(earlier)  # the later ones include the SKU itself
    assert any(past.sku_id == sku for past in everything)
    # poison every launch that ended on or after the launch day: nothing may change
    poisoned = [
        past if past.window_end < launch else dataclasses.replace(past, sold=past.sold * 1000 + 7)
        for past in everything
    ]
    honest = launch_demand(small_demo_store, sku, days=28, quantity=500, history=earlier)
    tempted = launch_demand(small_demo_store, sku, days=28, quantity=500, history=poisoned)
    assert honest.launches_learnt_from == tempted.launches_learnt_from == len(earlier)
    assert tempted.expected_total == honest.expected_total >= 500
    assert tempted.presence == honest.presence and tempted.dispersion == honest.dispersion
    assert [p.demand.mean for p in tempted.points] == [p.demand.mean for p in honest.points]
    # past_launches itself keeps only windows that ended before its cut-off
    cut = past_launches(small_demo_store, before=launch, days=28)
    assert [past.sku_id for past in cut] == [past.sku_id for past in earlier]


def test_without_enough_history_the_analogue_spread_stays(small_demo_store: Store) -> None:
    events = small_demo_store.read_table("events", where={"kind": "launch"}).sort_values("start_date")
    sku = str(events["event_id"].iloc[-1]).removeprefix("LAUNCH-")
    plain = launch_demand(small_demo_store, sku, days=28)
    assert plain.presence is None and plain.launches_learnt_from == 0
    assert plain.expected_total == plain.analogue_total
