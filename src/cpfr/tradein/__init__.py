"""Trade-in subsidies: causal uplift, cannibalisation and pull-forward per leaf category."""

from cpfr.tradein.fe_poisson import PoissonFit, fit_poisson_fe
from cpfr.tradein.panel import UpliftPanel
from cpfr.tradein.uplift import estimate_panel, estimate_uplift

__all__ = ["PoissonFit", "UpliftPanel", "estimate_panel", "estimate_uplift", "fit_poisson_fe"]
