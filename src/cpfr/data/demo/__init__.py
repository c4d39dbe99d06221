"""A deterministic, realistic synthetic CPFR alliance to try cpfr on.

A JD.com-like platform and five brand partners (Xiaomi, Lenovo, Midea,
JOMOO, BYD): reference data, three years of daily sales censored by stock,
inventory, orders, promotions and alliance targets, plus the true demand and
parameters behind them, all from one seed::

    from cpfr.data.demo import DemoConfig, generate_scenario, write_scenario

    scenario = generate_scenario(DemoConfig(seed=7))
    write_scenario(scenario, Path("demo_data"))
"""

from __future__ import annotations

from cpfr.data.demo.scenario import DemoConfig, DemoScenario, generate_scenario, write_scenario

__all__ = ["DemoConfig", "DemoScenario", "generate_scenario", "write_scenario"]
