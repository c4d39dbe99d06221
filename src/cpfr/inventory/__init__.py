"""Inventory optimisation and replenishment: single- and multi-echelon policies, orders, simulation."""
