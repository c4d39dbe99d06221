"""The CPFR cycle with each partner: arrangement, partner forecasts, exceptions, consensus, KPIs."""

from cpfr.collab.arrangement import Arrangement, Thresholds, arrangement_for, arrangements
from cpfr.collab.compare import (
    PartnerRecord,
    PlatformForecast,
    partner_accuracy,
    partner_record,
    platform_forecast,
    weekly_actuals,
)
from cpfr.collab.consensus import consensus_forecast, order_forecast, record_override
from cpfr.collab.cycle import CycleResult, run_cycle
from cpfr.collab.exceptions import find_exceptions
from cpfr.collab.kpis import partner_kpis
from cpfr.collab.partner_view import for_partner
from cpfr.collab.submit import Submission, submit_partner_forecast

__all__ = [
    "Arrangement",
    "CycleResult",
    "PartnerRecord",
    "PlatformForecast",
    "Submission",
    "Thresholds",
    "arrangement_for",
    "arrangements",
    "consensus_forecast",
    "find_exceptions",
    "for_partner",
    "order_forecast",
    "partner_accuracy",
    "partner_kpis",
    "partner_record",
    "platform_forecast",
    "record_override",
    "run_cycle",
    "submit_partner_forecast",
    "weekly_actuals",
]
