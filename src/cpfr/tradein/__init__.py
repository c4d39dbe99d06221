"""Trade-in subsidies: the causal uplift of subsidy periods per leaf category."""

from cpfr.tradein.panel import UpliftPanel
from cpfr.tradein.uplift import DidFit, estimate_panel, estimate_uplift, fit_did

__all__ = ["DidFit", "UpliftPanel", "estimate_panel", "estimate_uplift", "fit_did"]
