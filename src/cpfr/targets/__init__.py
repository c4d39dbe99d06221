"""Alliance targets: progress to date, and (later) decomposition and attainment."""

from cpfr.targets.progress import TargetProgress, target_progress

__all__ = ["TargetProgress", "target_progress"]
