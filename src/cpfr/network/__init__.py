"""The integrated supply chain: facility location, SKU placement, hot-launch allocation, logistics cost.

Every optimisation model goes through one solver adapter (:mod:`cpfr.network.solver`, HiGHS);
instance files of ``cpfr network solve`` are dispatched by kind in :mod:`cpfr.network.instances`.
"""
