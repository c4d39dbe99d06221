"""Demand forecasting: models, probabilistic forecasts, reconciliation, backtests and metrics."""
