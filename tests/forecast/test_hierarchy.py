"""Sparse hierarchies and reconciliation, with golden comparisons against hierarchicalforecast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpfr.exceptions import InputError, SchemaError
from cpfr.forecast.hierarchy import Hierarchy
from cpfr.forecast.reconcile import METHODS, reconcile, shrunk_covariance

SPEC = [[], ["partner"], ["partner", "category"]]
HORIZON = 8
PERIODS = 40


def tiny_frame() -> pd.DataFrame:
    """2 partners x 2 categories x 2 SKUs, rows deliberately unsorted."""
    return pd.DataFrame(
        {
            "unique_id": ["sku8", "sku7", "sku6", "sku5", "sku4", "sku3", "sku2", "sku1"],
            "partner": ["XIAOMI"] * 4 + ["APPLE"] * 4,
            "category": ["PHONE", "PHONE", "AUDIO", "AUDIO"] * 2,
            "region": ["N", "S"] * 4,
        }
    )


@pytest.fixture(scope="module")
def problem() -> dict:
    """12 bottom series under 2 partners x 3 categories, base forecasts and correlated residuals."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "unique_id": [f"s{number:02d}" for number in range(12)],
            "partner": np.repeat(["A", "B"], 6),
            "category": np.tile(np.repeat(["X", "Y", "Z"], 2), 2),
        }
    )
    hierarchy = Hierarchy.from_frame(frame, SPEC)
    n_nodes = len(hierarchy.ids)
    dates = pd.date_range("2025-01-06", periods=HORIZON, freq="W-MON")
    history = pd.date_range("2024-01-01", periods=PERIODS, freq="W-MON")
    mean = rng.uniform(-5, 60, n_nodes * HORIZON)
    spread = rng.uniform(1, 10, n_nodes * HORIZON)
    base = pd.DataFrame(
        {
            "unique_id": np.repeat(hierarchy.ids, HORIZON),
            "ds": np.tile(dates, n_nodes),
            "mean": mean,
            "q0.1": mean - 1.28 * spread,
            "q0.5": mean,
            "q0.9": mean + 1.28 * spread,
        }
    ).sample(frac=1.0, random_state=1)
    mixing = np.eye(n_nodes) + 0.3 * rng.normal(size=(n_nodes, n_nodes))
    residual_matrix = rng.normal(size=(PERIODS, n_nodes)) @ mixing * rng.uniform(1, 5, n_nodes)
    residuals = pd.DataFrame(
        {
            "unique_id": np.repeat(hierarchy.ids, PERIODS),
            "ds": np.tile(history, n_nodes),
            "residual": residual_matrix.T.ravel(),
        }
    )
    return {"hierarchy": hierarchy, "base": base, "residuals": residuals, "residual_matrix": residual_matrix}


def assert_coherent(result: pd.DataFrame, hierarchy: Hierarchy, column: str = "mean") -> None:
    """Every aggregate equals the sum of its bottom series on every date, to 1e-6."""
    bottom = result[result["unique_id"].isin(hierarchy.bottom_ids)]
    summed = hierarchy.aggregate(bottom, [column]).set_index(["unique_id", "ds"])[column]
    given = result.set_index(["unique_id", "ds"])[column].reindex(summed.index)
    np.testing.assert_allclose(given.to_numpy(), summed.to_numpy(), atol=1e-6, rtol=0)


def test_summing_matrix_of_tiny_hierarchy_equals_hand_written() -> None:
    hierarchy = Hierarchy.from_frame(tiny_frame(), SPEC)
    assert list(hierarchy.ids) == [
        "total",
        "partner=APPLE",
        "partner=XIAOMI",
        "partner=APPLE/category=AUDIO",
        "partner=APPLE/category=PHONE",
        "partner=XIAOMI/category=AUDIO",
        "partner=XIAOMI/category=PHONE",
        *[f"sku{number}" for number in range(1, 9)],
    ]
    expected = np.vstack(
        [
            [1, 1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 1, 1, 1],
            [1, 1, 0, 0, 0, 0, 0, 0],
            [0, 0, 1, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 1, 1],
            np.eye(8, dtype=int),
        ]
    )
    np.testing.assert_array_equal(hierarchy.summing.toarray(), expected)
    assert hierarchy.summing.format == "csr"
    assert list(hierarchy.levels) == ["total", "partner", "partner/category", "bottom"]
    assert list(hierarchy.levels["partner"]) == ["partner=APPLE", "partner=XIAOMI"]
    assert hierarchy.n_aggregates == 7 and hierarchy.n_bottom == 8


def test_grouped_structure_crosses_category_and_region() -> None:
    hierarchy = Hierarchy.from_frame(tiny_frame(), [["category"], ["region"], ["category", "region"]])
    assert list(hierarchy.levels["category/region"]) == [
        "category=AUDIO/region=N",
        "category=AUDIO/region=S",
        "category=PHONE/region=N",
        "category=PHONE/region=S",
    ]
    dense = hierarchy.summing.toarray()
    rows = {node: dense[index] for index, node in enumerate(hierarchy.ids)}
    # sku1..sku8 sorted; regions alternate N,S from sku8 down, so sku1 is S.
    np.testing.assert_array_equal(rows["region=S"], [1, 0, 1, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(rows["category=PHONE/region=N"], [0, 0, 0, 1, 0, 0, 0, 1])
    # Each bottom series sits once in each of the three crossed levels and once in itself.
    np.testing.assert_array_equal(dense.sum(axis=0), [4] * 8)


def test_from_frame_rejects_bad_input() -> None:
    frame = tiny_frame()
    with pytest.raises(SchemaError, match="brand"):
        Hierarchy.from_frame(frame, [["brand"]])
    with pytest.raises(InputError, match="sku1"):
        Hierarchy.from_frame(pd.concat([frame, frame.tail(1)]), SPEC)
    with pytest.raises(InputError, match="twice"):
        Hierarchy.from_frame(frame, [["partner"], ["partner"]])


def test_aggregate_sums_every_level() -> None:
    hierarchy = Hierarchy.from_frame(tiny_frame(), SPEC)
    dates = pd.to_datetime(["2025-01-01", "2025-01-02"])
    # sku<k> sells k on day one and 10k on day two.
    sales = pd.DataFrame(
        {
            "unique_id": np.repeat([f"sku{k}" for k in range(1, 9)], 2),
            "ds": np.tile(dates, 8),
            "y": np.ravel([[k, 10 * k] for k in range(1, 9)]),
        }
    )
    totals = hierarchy.aggregate(sales, ["y"]).set_index(["unique_id", "ds"])["y"]
    assert len(totals) == 15 * 2
    assert totals[("total", dates[0])] == 36 and totals[("total", dates[1])] == 360
    assert totals[("partner=APPLE", dates[0])] == 1 + 2 + 3 + 4
    assert totals[("partner=XIAOMI", dates[1])] == 10 * (5 + 6 + 7 + 8)
    assert totals[("partner=APPLE/category=PHONE", dates[0])] == 3 + 4
    assert totals[("partner=XIAOMI/category=AUDIO", dates[1])] == 10 * (5 + 6)
    assert totals[("sku3", dates[1])] == 30


def test_shrunk_covariance_matches_hierarchicalforecast(problem: dict) -> None:
    from hierarchicalforecast.utils import _shrunk_covariance_schaferstrimmer_no_nans

    residual_matrix = problem["residual_matrix"]
    expected = _shrunk_covariance_schaferstrimmer_no_nans(residual_matrix.T.copy(), 2e-8)
    covariance = shrunk_covariance(residual_matrix)
    assert 0 < covariance.shrinkage < 1
    np.testing.assert_allclose(covariance.dense(), expected, atol=1e-9, rtol=0)


@pytest.fixture(scope="module")
def hierarchicalforecast_means(problem: dict) -> pd.DataFrame:
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import BottomUp, MinTrace

    hierarchy: Hierarchy = problem["hierarchy"]
    summing = pd.DataFrame(hierarchy.summing.toarray(), columns=hierarchy.bottom_ids)
    summing.insert(0, "unique_id", hierarchy.ids)
    actuals = np.random.default_rng(3).uniform(0, 50, len(problem["residuals"]))
    insample = problem["residuals"].assign(y=actuals, model=actuals - problem["residuals"]["residual"])
    reconciled = HierarchicalReconciliation(
        reconcilers=[BottomUp(), *(MinTrace(method=method) for method in METHODS[1:])]
    ).reconcile(
        Y_hat_df=problem["base"][["unique_id", "ds", "mean"]].rename(columns={"mean": "model"}),
        Y_df=insample[["unique_id", "ds", "y", "model"]],
        S_df=summing,
        tags=hierarchy.tags,
    )
    names = {"model/BottomUp": "bottom_up"} | {f"model/MinTrace_method-{m}": m for m in METHODS[1:]}
    return reconciled.rename(columns=names).set_index(["unique_id", "ds"])


@pytest.mark.parametrize("method", METHODS)
def test_means_equal_hierarchicalforecast(
    problem: dict, hierarchicalforecast_means: pd.DataFrame, method
) -> None:
    result = reconcile(problem["base"], problem["hierarchy"], method=method, residuals=problem["residuals"])
    mine = result.set_index(["unique_id", "ds"])["mean"]
    theirs = hierarchicalforecast_means[method].reindex(mine.index)
    assert theirs.notna().all()
    np.testing.assert_allclose(mine.to_numpy(), theirs.to_numpy(), atol=1e-6, rtol=0)


@pytest.mark.filterwarnings("ignore::Warning")  # the solver library's performance hints
@pytest.mark.parametrize("method", ["ols", "wls_struct", "wls_var", "mint_shrink"])
def test_nonnegative_means_equal_hierarchicalforecast_qp(problem: dict, method: str) -> None:
    """The exact non-negative MinTrace equals hierarchicalforecast's (clarabel QP) solution.

    hierarchicalforecast first sets negative base forecasts to zero, so both get
    non-negative base forecasts, several of them zero: the unconstrained
    solution still goes negative there.
    """
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import MinTrace

    hierarchy: Hierarchy = problem["hierarchy"]
    base = problem["base"].assign(mean=problem["base"]["mean"].clip(lower=0.0))
    summing = pd.DataFrame(hierarchy.summing.toarray(), columns=hierarchy.bottom_ids)
    summing.insert(0, "unique_id", hierarchy.ids)
    actuals = np.random.default_rng(3).uniform(0, 50, len(problem["residuals"]))
    insample = problem["residuals"].assign(y=actuals, model=actuals - problem["residuals"]["residual"])
    theirs = HierarchicalReconciliation(reconcilers=[MinTrace(method=method, nonnegative=True)]).reconcile(
        Y_hat_df=base[["unique_id", "ds", "mean"]].rename(columns={"mean": "model"}),
        Y_df=insample[["unique_id", "ds", "y", "model"]],
        S_df=summing,
        tags=hierarchy.tags,
    )
    theirs = theirs.set_index(["unique_id", "ds"])[f"model/MinTrace_method-{method}_nonnegative-True"]
    unconstrained = reconcile(base, hierarchy, method=method, residuals=problem["residuals"])
    assert (unconstrained["mean"] < -1e-6).any()  # the constraint binds
    mine = reconcile(
        base, hierarchy, method=method, residuals=problem["residuals"], nonnegative=True
    ).set_index(["unique_id", "ds"])["mean"]
    # clarabel's interior point stops ~1e-3 short of the bound (see the exact test below).
    np.testing.assert_allclose(mine.to_numpy(), theirs.reindex(mine.index).to_numpy(), atol=2e-3, rtol=1e-5)


@pytest.mark.parametrize("method", ["ols", "wls_struct", "wls_var", "mint_shrink"])
def test_nonnegative_bottom_equals_an_exact_active_set_solution(problem: dict, method: str) -> None:
    """Against bounded-variable least squares on the whitened problem min ||L^-1 (y - S b)||, b >= 0."""
    import scipy.linalg
    from scipy.optimize import lsq_linear

    from cpfr.forecast.reconcile import (
        _residual_matrix,
        error_covariance,
        nonnegative_bottom,
        reconcile_bottom,
    )

    hierarchy: Hierarchy = problem["hierarchy"]
    base = problem["base"]
    series, (dates, codes) = hierarchy.locate(base, hierarchy.ids)
    means = np.empty((len(hierarchy.ids), len(dates)))
    means[series, codes] = base["mean"].to_numpy()
    covariance = error_covariance(method, hierarchy, _residual_matrix(problem["residuals"], hierarchy))
    unconstrained = reconcile_bottom(hierarchy, means, covariance)
    assert (unconstrained < 0).any()
    mine = nonnegative_bottom(hierarchy, means, covariance, unconstrained)
    lower = scipy.linalg.cholesky(covariance.dense(), lower=True)
    design = scipy.linalg.solve_triangular(lower, hierarchy.summing.toarray(), lower=True)
    for column in range(means.shape[1]):
        target = scipy.linalg.solve_triangular(lower, means[:, column], lower=True)
        exact = lsq_linear(design, target, bounds=(0, np.inf), method="bvls", tol=1e-14).x
        np.testing.assert_allclose(mine[:, column], exact, atol=1e-5 * np.abs(means).max())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("nonnegative", [False, True])
def test_every_method_is_coherent_and_quantiles_monotone(problem: dict, method, nonnegative: bool) -> None:
    base = problem["base"]
    result = reconcile(
        base, problem["hierarchy"], method=method, residuals=problem["residuals"], nonnegative=nonnegative
    )
    assert list(result.columns) == list(base.columns)
    assert result.index.equals(base.index)
    pd.testing.assert_frame_equal(result[["unique_id", "ds"]], base[["unique_id", "ds"]])
    assert_coherent(result, problem["hierarchy"])
    quantiles = result[["q0.1", "q0.5", "q0.9"]].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all()
    if nonnegative:
        assert (result[["mean", "q0.1", "q0.5", "q0.9"]].to_numpy() >= 0).all()
        assert (base["mean"] < 0).any()


def test_quantiles_shift_with_the_mean(problem: dict) -> None:
    base = problem["base"]
    result = reconcile(base, problem["hierarchy"], method="ols")
    shift = result["mean"] - base["mean"]
    # Base quantiles are ordered here, so the mean shift is the whole change.
    np.testing.assert_allclose(result["q0.9"] - base["q0.9"], shift, atol=1e-9)
    np.testing.assert_allclose(result["q0.5"], result["mean"], atol=1e-9)


def test_bottom_up_keeps_bottom_means(problem: dict) -> None:
    hierarchy: Hierarchy = problem["hierarchy"]
    base = problem["base"]
    result = reconcile(base, hierarchy, method="bottom_up", value_cols=["mean"])
    bottom = base["unique_id"].isin(hierarchy.bottom_ids)
    np.testing.assert_array_equal(result.loc[bottom, "mean"], base.loc[bottom, "mean"])
    np.testing.assert_array_equal(result["q0.9"], base["q0.9"])


def test_crossing_quantiles_are_sorted(problem: dict) -> None:
    base = problem["base"].copy()
    base["q0.1"], base["q0.9"] = base["q0.9"].to_numpy(), base["q0.1"].to_numpy()
    result = reconcile(base, problem["hierarchy"], method="wls_struct")
    assert (result["q0.1"] <= result["q0.5"]).all() and (result["q0.5"] <= result["q0.9"]).all()


def test_grouped_structure_reconciles_coherently() -> None:
    rng = np.random.default_rng(0)
    hierarchy = Hierarchy.from_frame(tiny_frame(), [[], ["category"], ["region"], ["category", "region"]])
    n_nodes = len(hierarchy.ids)
    base = pd.DataFrame(
        {
            "unique_id": np.repeat(hierarchy.ids, 3),
            "ds": np.tile([1, 2, 3], n_nodes),
            "mean": rng.uniform(0, 9, 3 * n_nodes),
        }
    )
    residuals = pd.DataFrame(
        {
            "unique_id": np.repeat(hierarchy.ids, 20),
            "ds": np.tile(np.arange(20), n_nodes),
            "residual": rng.normal(size=20 * n_nodes),
        }
    )
    for method in METHODS:
        assert_coherent(reconcile(base, hierarchy, method=method, residuals=residuals), hierarchy)


def test_reconcile_rejects_incomplete_input(problem: dict) -> None:
    hierarchy = problem["hierarchy"]
    with pytest.raises(InputError, match="no forecast for node"):
        reconcile(problem["base"].iloc[1:], hierarchy, method="ols")
    with pytest.raises(InputError, match="needs residuals"):
        reconcile(problem["base"], hierarchy, method="mint_shrink")
    with pytest.raises(InputError, match="not one of"):
        reconcile(problem["base"], hierarchy, method="top_down")  # type: ignore[arg-type]
    gappy = problem["residuals"].iloc[1:]
    with pytest.raises(InputError, match="missing on some dates"):
        reconcile(problem["base"], hierarchy, method="mint_shrink", residuals=gappy)


def test_projection_equals_dense_gls_on_grouped_structure() -> None:
    """Eq. (2) of cpfr.forecast.reconcile equals S (S' W^-1 S)^-1 S' W^-1 y, eq. (1), for a crossed structure."""
    rng = np.random.default_rng(5)
    hierarchy = Hierarchy.from_frame(tiny_frame(), [[], ["category"], ["region"], ["category", "region"]])
    n_nodes = len(hierarchy.ids)
    base = pd.DataFrame({"unique_id": hierarchy.ids, "ds": 1, "mean": rng.uniform(0, 9, n_nodes)})
    residual_matrix = rng.normal(size=(30, n_nodes))
    residuals = pd.DataFrame(
        {
            "unique_id": np.repeat(hierarchy.ids, 30),
            "ds": np.tile(np.arange(30), n_nodes),
            "residual": residual_matrix.T.ravel(),
        }
    )
    covariance = shrunk_covariance(residual_matrix).dense()
    summing = hierarchy.summing.toarray()
    precision = np.linalg.inv(covariance)
    expected = summing @ np.linalg.solve(
        summing.T @ precision @ summing, summing.T @ precision @ base["mean"].to_numpy()
    )
    result = reconcile(base, hierarchy, method="mint_shrink", residuals=residuals)
    np.testing.assert_allclose(result["mean"].to_numpy(), expected, atol=1e-8)
