"""Ensemble selection: complementary models share the weight, a useless one gets none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpfr.forecast.ensemble import Candidate, WrmsseScorer, leaderboard


def _backtest(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.repeat([f"s{n}" for n in range(40)], 20)
    truth = rng.normal(100, 10, len(ids))
    frame = pd.DataFrame(
        {
            "unique_id": ids,
            "y": truth,
            # Two unbiased forecasts with independent errors: their mean halves the error variance.
            "left": truth + rng.normal(0, 5, len(ids)),
            "right": truth + rng.normal(0, 5, len(ids)),
            "flat": np.full(len(ids), 80.0),
        }
    )
    scales = pd.DataFrame({"sq_scale": 4.0, "weight": 1.0}, index=[f"s{n}" for n in range(40)])
    return frame, scales


def test_independent_errors_are_averaged_and_a_biased_model_left_out() -> None:
    frame, scales = _backtest()
    board = leaderboard(frame, ["left", "right", "flat"], scales)
    best = board[0]
    assert set(best.models) == {"left", "right"}
    assert best.weights == pytest.approx((0.5, 0.5), abs=0.1)
    singles = {c.models[0]: c.score for c in board if len(c.models) == 1}
    assert best.score < 0.8 * min(singles["left"], singles["right"])


def test_scorer_matches_the_wrmsse_formula() -> None:
    frame, scales = _backtest(1)
    scorer = WrmsseScorer(frame, scales)
    per_series = ((frame["y"] - frame["left"]) ** 2).groupby(frame["unique_id"]).mean()
    expected = float(np.sqrt(per_series / 4.0).mean())  # equal weights
    assert scorer.score(frame["left"].to_numpy()) == pytest.approx(expected)


def test_candidate_names_and_combination() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 6.0]})
    assert Candidate(("a",), (1.0,), 0.5).name == "a"
    assert Candidate(("a", "b"), (0.5, 0.5), 0.5).name == "mean(a, b)"
    weighted = Candidate(("a", "b"), (0.75, 0.25), 0.5)
    assert weighted.name == "ensemble(a 0.75, b 0.25)"
    np.testing.assert_allclose(weighted.combine(frame), [1.5, 3.0])
