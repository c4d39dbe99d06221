"""Choose and weight models from their backtest forecasts: a leaderboard and a greedy ensemble.

Each candidate model's rolling-origin forecasts are scored by the M5 accuracy
measure, the weighted root mean squared scaled error (WRMSSE): per series,
RMSE over the backtest divided by the root mean squared one-step change of
the history, weighted by the series' units over the last season. The
ensemble is built by forward selection *with replacement* (Caruana et al.
2004): starting from the best single model, the model whose addition most
lowers the WRMSSE of the average is added, ``_ROUNDS`` times; a model's
weight is the share of rounds it was picked. Picking with replacement gives
weights on a grid of ``1 / _ROUNDS`` and rarely overfits a few backtest
windows the way freely optimised weights do; combining forecasts is the most
reliable single gain in forecasting practice.

References
----------
Caruana, Niculescu-Mizil, Crew & Ksikes (2004), "Ensemble selection from libraries of models", ICML;
Makridakis, Spiliotis & Assimakopoulos (2020), "The M4 Competition: 100,000 time series and 61
forecasting methods", IJF 36(1) (combinations);
Makridakis, Spiliotis & Assimakopoulos (2022), "M5 accuracy competition: Results, findings, and
conclusions", IJF 38(4) (WRMSSE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

_ROUNDS = 20  # weights on a grid of 5 %
_MIN_GAIN = 1e-4  # a round that improves the score by less than this (relative) ends the selection


@dataclass(frozen=True)
class Candidate:
    """A single model or a weighted ensemble of models, with its backtest WRMSSE.

    Attributes
    ----------
    models : tuple of str
        The models combined, by decreasing weight.
    weights : tuple of float
        Their weights (sum 1).
    score : float
        Backtest WRMSSE.
    """

    models: tuple[str, ...]
    weights: tuple[float, ...]
    score: float

    @property
    def name(self) -> str:
        """Name it: the model, 'mean(a, b)' for equal weights, 'ensemble(a 0.6, b 0.4)' otherwise."""
        if len(self.models) == 1:
            return self.models[0]
        if np.allclose(self.weights, self.weights[0]):
            return f"mean({', '.join(self.models)})"
        parts = ", ".join(
            f"{model} {weight:.2f}" for model, weight in zip(self.models, self.weights, strict=True)
        )
        return f"ensemble({parts})"

    def combine(self, forecasts: pd.DataFrame) -> np.ndarray:
        """Return the weighted mean of this candidate's model columns of ``forecasts``."""
        values = forecasts[list(self.models)].to_numpy(dtype=float)
        return values @ np.asarray(self.weights)


class WrmsseScorer:
    """Scores forecast columns of one backtest frame by WRMSSE, quickly (integer-coded series).

    Parameters
    ----------
    backtest : pandas.DataFrame
        ``unique_id, y`` and forecast columns, one row per series, window and step.
    scales : pandas.DataFrame
        ``sq_scale`` (mean squared one-step change) and ``weight`` by ``unique_id``.
    """

    def __init__(self, backtest: pd.DataFrame, scales: pd.DataFrame) -> None:
        codes, uniques = pd.factorize(backtest["unique_id"])
        stats = scales.reindex(uniques)
        valid = ((stats["sq_scale"] > 0) & stats["sq_scale"].notna()).to_numpy()
        if not valid.any():  # only constant series: rank by plain RMSE
            stats = stats.assign(sq_scale=1.0)
            valid = np.ones(len(uniques), dtype=bool)
        weight = np.where(valid, stats["weight"].fillna(0.0).to_numpy(dtype=float), 0.0)
        total = weight.sum()
        self._weight = weight / total if total > 0 else valid / valid.sum()
        self._sq_scale = np.where(valid, stats["sq_scale"].to_numpy(dtype=float), 1.0)
        self._codes = codes
        self._counts = np.bincount(codes, minlength=len(uniques)).astype(float)
        self._actual = backtest["y"].to_numpy(dtype=float)

    def score(self, forecast: np.ndarray) -> float:
        """Return the WRMSSE of one forecast vector aligned with the backtest rows."""
        squared = (self._actual - forecast) ** 2
        mse = np.bincount(self._codes, weights=squared, minlength=len(self._counts)) / np.maximum(
            self._counts, 1.0
        )
        return float((self._weight * np.sqrt(mse / self._sq_scale)).sum())


def leaderboard(
    backtest: pd.DataFrame, models: Sequence[str], scales: pd.DataFrame, *, rounds: int = _ROUNDS
) -> list[Candidate]:
    """Score every model and the greedy ensemble of them; return the candidates, best first."""
    scorer = WrmsseScorer(backtest, scales)
    forecasts = {name: backtest[name].to_numpy(dtype=float) for name in models}
    singles = [Candidate((name,), (1.0,), scorer.score(forecasts[name])) for name in models]
    singles.sort(key=lambda candidate: candidate.score)
    board = list(singles)
    if len(singles) > 1:
        ensemble = greedy_ensemble(forecasts, scorer, start=singles[0].models[0], rounds=rounds)
        if len(ensemble.models) > 1:
            board.append(ensemble)
    return sorted(board, key=lambda candidate: (candidate.score, -len(candidate.models)))


def greedy_ensemble(
    forecasts: dict[str, np.ndarray], scorer: WrmsseScorer, *, start: str, rounds: int = _ROUNDS
) -> Candidate:
    """Forward selection with replacement (Caruana et al. 2004), from the single model ``start``."""
    names = list(forecasts)
    counts = dict.fromkeys(names, 0)
    counts[start] = 1
    total = forecasts[start].copy()
    best = scorer.score(total)
    for size in range(2, rounds + 1):
        trials = {name: scorer.score((total + forecasts[name]) / size) for name in names}
        pick = min(trials, key=lambda name: (trials[name], names.index(name)))
        if trials[pick] > best * (1 - _MIN_GAIN):
            break
        counts[pick] += 1
        total += forecasts[pick]
        best = trials[pick]
    picked = sorted(
        (name for name in names if counts[name]), key=lambda name: (-counts[name], names.index(name))
    )
    used = sum(counts.values())
    return Candidate(tuple(picked), tuple(counts[name] / used for name in picked), best)
