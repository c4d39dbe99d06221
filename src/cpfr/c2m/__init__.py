"""C2M (consumer-to-manufacturer): forecasts for products that exist only as a specification."""

from cpfr.c2m.spec_forecast import LaunchSpec, SpecForecast, read_spec, spec_forecast

__all__ = ["LaunchSpec", "SpecForecast", "read_spec", "spec_forecast"]
