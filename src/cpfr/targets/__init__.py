"""Alliance targets: decomposition, tracking, attainment probability, price-band rankings, the summary."""

from cpfr.targets.attainment import Attainment, target_attainment
from cpfr.targets.decompose import Override, TargetPlan, decompose_target
from cpfr.targets.panel import SalesBook, SalesPanel
from cpfr.targets.progress import TargetProgress, target_progress
from cpfr.targets.rankings import BandRankings, price_band_rankings
from cpfr.targets.record import TargetRecord
from cpfr.targets.scope import TargetScope, read_scope
from cpfr.targets.summary import BREAKDOWNS, AllianceSummary, alliance_summary
from cpfr.targets.tracking import TargetTracking, track_target
from cpfr.targets.uplift import SubsidyUplift

__all__ = [
    "BREAKDOWNS",
    "AllianceSummary",
    "Attainment",
    "BandRankings",
    "Override",
    "SalesBook",
    "SalesPanel",
    "SubsidyUplift",
    "TargetPlan",
    "TargetProgress",
    "TargetRecord",
    "TargetScope",
    "TargetTracking",
    "alliance_summary",
    "decompose_target",
    "price_band_rankings",
    "read_scope",
    "target_attainment",
    "target_progress",
    "track_target",
]
