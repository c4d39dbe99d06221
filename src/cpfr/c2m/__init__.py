"""C2M (consumer-to-manufacturer): demand gaps, and forecasts for products that exist only as a spec."""

from cpfr.c2m.gaps import GapWeights, find_gaps
from cpfr.c2m.spec_forecast import LaunchSpec, SpecForecast, read_spec, spec_forecast

__all__ = ["GapWeights", "LaunchSpec", "SpecForecast", "find_gaps", "read_spec", "spec_forecast"]
