"""Every forecasting model by name: the one place the orchestrator and the command line look models up.

Each adapter module owns its models (:mod:`cpfr.forecast.stats_models`,
:mod:`cpfr.forecast.pooled`, :mod:`cpfr.forecast.ml_models`); this module
only gathers them, so adding a model is one entry in its adapter.
"""

from __future__ import annotations

from cpfr.exceptions import InputError
from cpfr.forecast.base import ForecastModel
from cpfr.forecast.direct import PanelBoosted
from cpfr.forecast.ml_models import ML_MODELS
from cpfr.forecast.pooled import POOLED_MODELS
from cpfr.forecast.stats_models import STATS_MODELS

MODELS: dict[str, ForecastModel] = {
    **STATS_MODELS,
    **POOLED_MODELS,
    **ML_MODELS,
    "panel_boosted": PanelBoosted(),
}
"""The registry: cpfr name -> model object."""

GLOBAL_MODELS: frozenset[str] = frozenset(ML_MODELS)
"""Models fitted across all series at once (they need enough rows, not enough series length)."""


def get_model(name: str) -> ForecastModel:
    """Return the model registered as ``name`` (InputError naming the known ones otherwise)."""
    try:
        return MODELS[name]
    except KeyError:
        raise InputError(f"unknown model {name!r}; expected 'auto' or some of {', '.join(MODELS)}") from None
