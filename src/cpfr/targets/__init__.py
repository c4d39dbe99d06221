"""Alliance targets: progress to date, the alliance summary, and (later) attainment forecasts."""

from cpfr.targets.progress import TargetProgress, target_progress
from cpfr.targets.summary import BREAKDOWNS, AllianceSummary, alliance_summary

__all__ = ["BREAKDOWNS", "AllianceSummary", "TargetProgress", "alliance_summary", "target_progress"]
