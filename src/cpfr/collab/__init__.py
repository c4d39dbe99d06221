"""The CPFR cycle with each partner: arrangement, partner forecasts, exceptions, consensus, KPIs."""
