"""Models of a launch's log units from its features, and their stack chosen out of fold.

Three small models, each a different reading of the same earlier launches:

- :class:`ShrunkLogLinear` — log(1 + units) linear in the standardised numeric features, with
  category, partner and attribute-value effects shrunk towards zero by ridge penalties. A
  ridge penalty on group dummies is the posterior mode of a Gaussian random effect, i.e. an
  empirical-Bayes shrinkage of each category's mean towards the pooled one by n / (n + lambda)
  (Hoerl & Kennard 1970; Efron & Morris 1975), so a category with two launches borrows from the
  rest while one with twenty keeps its own level.
- :class:`SimilarLaunches` — analogues in feature space: the mean log units of earlier launches
  weighted by category, price distance, channel match and recency, each moved to the new
  price with the log-linear model's price slope (Goodwin et al. 2013).
- :class:`CategoryMean` — the category's mean log units shrunk towards all launches' mean.

:class:`StackedLaunchModel` predicts every launch from models fitted on the launches finished
before it (forward chaining), picks the convex weights of the three with the least out-of-fold
mean absolute log error (stacking, Wolpert 1992; Breiman 1996) and keeps those out-of-fold
errors as the spread of its forecasts.

References
----------
Hoerl & Kennard (1970), "Ridge regression: biased estimation for nonorthogonal problems",
Technometrics 12(1).
Efron & Morris (1975), "Data analysis using Stein's estimator and its generalizations",
JASA 70(350).
Goodwin, Dyussekeneva & Meeran (2013), "The use of analogies in forecasting the annual sales of new
electronics products", IMA Journal of Management Mathematics 24(4).
Wolpert (1992), "Stacked generalization", Neural Networks 5(2).
Breiman (1996), "Stacked regressions", Machine Learning 24(1).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from cpfr.c2m.launch_features import CHANNEL_KINDS, NUMERIC_FEATURES
from cpfr.exceptions import NotFittedError

NUMERIC_PENALTY = 3.0
"""Ridge penalty of each standardised numeric feature (about three launches' worth of evidence)."""
GROUP_PENALTY = 5.0
"""Ridge penalty of each category, partner or attribute effect: a group's mean moves n / (n + 5) of
the way from the pooled mean to its own (5 chosen on the demo's launches before their last year)."""
MIN_ATTRIBUTE_LAUNCHES = 3
"""An attribute value becomes a feature when at least this many training launches have it."""
PRICE_BANDWIDTH = 0.4
"""Log-price distance at which an analogue's weight falls by e (about +-50 % in price)."""
OTHER_CATEGORY_WEIGHT = 0.1
"""Weight of a launch of another category relative to one of the same category."""
OTHER_CHANNELS_WEIGHT = 0.5
"""Weight of a launch sold through other kinds of channel."""
RECENCY_YEARS = 2.0
"""Years over which an analogue's weight falls by e."""
MIN_OUT_OF_FOLD = 8
"""Fewest earlier launches a launch needs to be predicted out of fold."""
WEIGHT_STEP = 0.1
"""Grid step of the stacking weights (they sum to one)."""


class ShrunkLogLinear:
    """Ridge regression of log units on numeric features and shrunk group effects.

    Attributes
    ----------
    coefficients_ : numpy.ndarray
        Intercept, numeric slopes (per standard deviation), then group effects.
    price_slope_ : float
        d log(units) / d rel_price.
    """

    def fit(self, history: pd.DataFrame) -> ShrunkLogLinear:
        """Fit on ``history`` (features and ``target``); returns self."""
        numeric = history[list(NUMERIC_FEATURES)].to_numpy(dtype=float)
        self.centre_ = numeric.mean(axis=0)
        self.scale_ = numeric.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        self.categories_ = sorted(history["category"].unique())
        self.partners_ = sorted(history["partner"].unique())
        counts = pd.Series([value for values in history["attributes"] for value in values]).value_counts()
        self.attributes_ = sorted(counts[counts >= MIN_ATTRIBUTE_LAUNCHES].index.astype(str))
        matrix = self._matrix(history)
        penalty = np.r_[
            0.0,
            np.full(len(NUMERIC_FEATURES), NUMERIC_PENALTY),
            np.full(matrix.shape[1] - 1 - len(NUMERIC_FEATURES), GROUP_PENALTY),
        ]
        target = history["target"].to_numpy(dtype=float)
        self.coefficients_ = np.linalg.solve(matrix.T @ matrix + np.diag(penalty), matrix.T @ target)
        self.price_slope_ = float(self.coefficients_[1] / self.scale_[0])
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """Log(1 + units) of ``rows``."""
        if not hasattr(self, "coefficients_"):
            raise NotFittedError("ShrunkLogLinear: call fit before predict")
        return np.asarray(self._matrix(rows) @ self.coefficients_, dtype=float)

    def _matrix(self, rows: pd.DataFrame) -> np.ndarray:
        numeric = (rows[list(NUMERIC_FEATURES)].to_numpy(dtype=float) - self.centre_) / self.scale_
        parts = [np.ones((len(rows), 1)), numeric]
        for column, levels in (("category", self.categories_), ("partner", self.partners_)):
            parts.append(np.column_stack([(rows[column] == level).to_numpy(dtype=float) for level in levels]))
        if self.attributes_:
            parts.append(
                np.array(
                    [[float(value in values) for value in self.attributes_] for values in rows["attributes"]]
                )
            )
        return np.hstack(parts)


class SimilarLaunches:
    """Weighted mean of earlier launches' log units, each moved to the new launch's price.

    Parameters
    ----------
    price_slope : float
        d log(units) / d rel_price used to move an analogue to the new price.
    """

    def __init__(self, *, price_slope: float = 0.0) -> None:
        self.price_slope = price_slope

    def fit(self, history: pd.DataFrame) -> SimilarLaunches:
        """Keep the launches to draw analogues from; returns self."""
        self.history_ = history
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """Log(1 + units) of ``rows``."""
        if not hasattr(self, "history_"):
            raise NotFittedError("SimilarLaunches: call fit before predict")
        history = self.history_
        kinds = [f"kind_{kind}" for kind in CHANNEL_KINDS]
        price = history["rel_price"].to_numpy(dtype=float)
        target = history["target"].to_numpy(dtype=float)
        predictions = []
        for row in rows.to_dict("records"):
            same_channels = (
                history[kinds].to_numpy(dtype=float) == np.array([row[kind] for kind in kinds])
            ).all(axis=1)
            age_years = (
                pd.Timestamp(row["launch_date"]) - history["launch_date"]
            ).dt.days.to_numpy() / 365.25
            weight = (
                np.exp(-np.abs(price - row["rel_price"]) / PRICE_BANDWIDTH)
                * np.where(history["category"].to_numpy() == row["category"], 1.0, OTHER_CATEGORY_WEIGHT)
                * np.where(same_channels, 1.0, OTHER_CHANNELS_WEIGHT)
                * np.exp(-np.maximum(age_years, 0.0) / RECENCY_YEARS)
            )
            moved = target + self.price_slope * (row["rel_price"] - price)
            predictions.append(float(np.sum(weight * moved) / np.sum(weight)))
        return np.asarray(predictions)


class CategoryMean:
    """The category's mean log units, shrunk towards all launches' mean by n / (n + ``GROUP_PENALTY``)."""

    def fit(self, history: pd.DataFrame) -> CategoryMean:
        """Keep each category's sum and count of log units; returns self."""
        self.pooled_ = float(history["target"].mean())
        grouped = history.groupby("category")["target"]
        self.sums_, self.counts_ = grouped.sum().to_dict(), grouped.count().to_dict()
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """Log(1 + units) of ``rows``."""
        if not hasattr(self, "pooled_"):
            raise NotFittedError("CategoryMean: call fit before predict")
        return np.array(
            [
                (self.sums_.get(category, 0.0) + GROUP_PENALTY * self.pooled_)
                / (self.counts_.get(category, 0) + GROUP_PENALTY)
                for category in rows["category"]
            ]
        )


MODEL_NAMES = ("log-linear", "similar launches", "category mean")


def _fitted(history: pd.DataFrame) -> list[ShrunkLogLinear | SimilarLaunches | CategoryMean]:
    linear = ShrunkLogLinear().fit(history)
    return [
        linear,
        SimilarLaunches(price_slope=linear.price_slope_).fit(history),
        CategoryMean().fit(history),
    ]


class StackedLaunchModel:
    """Convex stack of the three launch models, weights and residuals out of fold.

    Parameters
    ----------
    horizon_days : int
        A launch is in the training set of another when its window ended before that one launched.

    Attributes
    ----------
    weights_ : numpy.ndarray
        Weight of each of ``MODEL_NAMES``.
    residuals_ : numpy.ndarray
        Out-of-fold log errors of the stack (in-sample errors of the category mean when too few
        launches can be held out).
    """

    def __init__(self, *, horizon_days: int) -> None:
        self.horizon_days = horizon_days

    def fit(self, history: pd.DataFrame) -> StackedLaunchModel:
        """Fit on ``history`` sorted by launch day; returns self."""
        target = history["target"].to_numpy(dtype=float)
        finished = history["launch_date"] + pd.Timedelta(days=self.horizon_days)
        out_of_fold, held = [], []
        for position, day in enumerate(history["launch_date"]):
            earlier = history[(finished <= day).to_numpy()]
            if len(earlier) < MIN_OUT_OF_FOLD:
                continue
            row = history.iloc[[position]]
            out_of_fold.append([float(model.predict(row)[0]) for model in _fitted(earlier)])
            held.append(position)
        self.models_ = _fitted(history)
        if len(held) < MIN_OUT_OF_FOLD:
            # too few launches to hold out: the category mean, its in-sample errors as the spread
            self.weights_ = np.array([0.0, 0.0, 1.0])
            self.residuals_ = target - self.models_[2].predict(history)
            return self
        predictions = np.array(out_of_fold)
        actual = target[held]
        steps = round(1 / WEIGHT_STEP)
        grid = [
            np.array([first, second, steps - first - second]) / steps
            for first, second in itertools.product(range(steps + 1), repeat=2)
            if first + second <= steps
        ]
        self.weights_ = min(grid, key=lambda weights: float(np.mean(np.abs(actual - predictions @ weights))))
        self.residuals_ = actual - predictions @ self.weights_
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """Log(1 + units) of ``rows``."""
        if not hasattr(self, "models_"):
            raise NotFittedError("StackedLaunchModel: call fit before predict")
        return np.column_stack([model.predict(rows) for model in self.models_]) @ self.weights_
