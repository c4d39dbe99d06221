"""The demo's consumer signal: searches follow true demand, and the planted unmet demand is in the truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cpfr.data.demo import DemoConfig, DemoScenario, generate_scenario
from cpfr.data.demo.searches import N_UNMET_CELLS

CELL = ["category_id", "attribute", "value", "price_band"]


@pytest.fixture(scope="module")
def scenario() -> DemoScenario:
    return generate_scenario(DemoConfig.small(seed=3))


def test_the_truth_names_the_planted_cells(scenario: DemoScenario) -> None:
    cells = scenario.truth["c2m_unmet_cells"]
    assert N_UNMET_CELLS[0] <= len(cells) <= N_UNMET_CELLS[1]
    assert len({cell["category_id"] for cell in cells}) == len(cells)  # one per category
    searches = scenario.tables["searches"]
    for cell in cells:
        assert cell["city_tier"] in (None, 3, 4, 5) and 1 <= cell["intensity"] <= 3
        assert cell["n_skus_offered"] <= 1 and cell["growth_per_year"] >= 0
        rows = searches[(searches[CELL] == [cell[key] for key in CELL]).all(axis=1)]
        assert len(rows) > 0, cell
    json.dumps(cells)  # it goes to parameters.json as it is


def test_planted_cells_draw_more_searches_than_most_cells(scenario: DemoScenario) -> None:
    searches = scenario.tables["searches"]
    recent = searches[searches["week"] >= searches["week"].max() - pd.Timedelta(weeks=12)]
    for cell in scenario.truth["c2m_unmet_cells"]:
        tier = cell["city_tier"] or 3
        same = recent[
            (recent["category_id"] == cell["category_id"])
            & (recent["attribute"] == cell["attribute"])
            & (recent["city_tier"] == tier)
        ]
        per_cell = same.groupby(["value", "price_band"])["searches"].sum()
        # At least an average cell's searches on top of its own: above the median cell.
        assert per_cell.loc[(cell["value"], cell["price_band"])] > per_cell.median(), cell


def test_views_follow_searches_and_are_scarce_where_nothing_is_on_sale(scenario: DemoScenario) -> None:
    searches = scenario.tables["searches"]
    assert (searches["searches"] >= 0).all() and (searches["views"] >= 0).all()
    assert searches["week"].dt.dayofweek.eq(0).all()
    assert set(searches["city_tier"]) == {1, 2, 3, 4, 5}
    ratio = searches["views"].sum() / searches["searches"].sum()
    assert 0.05 < ratio < 0.45
