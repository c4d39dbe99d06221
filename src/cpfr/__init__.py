"""cpfr: collaborative planning, forecasting and replenishment between a platform and its brands."""
