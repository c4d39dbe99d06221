"""Whole-number shares of a whole total: the largest-remainder method, used wherever units or yuan are split.

Hamilton's method (Balinski & Young 2001, *Fair Representation*, ch. 2): every part gets the
floor of its exact share, and the units left over go to the largest remainders. The parts
sum to the total exactly and no part is more than one unit from its exact share.
"""

from __future__ import annotations

import numpy as np


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split a whole ``total`` into whole parts proportional to ``weights`` (largest remainder).

    Equal weights share the total when every weight is zero; ties go to the earlier part.
    """
    weights = np.asarray(weights, dtype=float)
    if total == 0 or len(weights) == 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    share = total * weights / weights.sum()
    parts = np.floor(share).astype(np.int64)
    left = int(total - parts.sum())
    parts[np.argsort(parts - share, kind="stable")[:left]] += 1
    return parts
