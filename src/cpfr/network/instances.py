"""Network instance files (JSON or YAML) for ``cpfr network solve``: read, dispatch by kind, check the result.

Each kind lives in its model's module, which provides ``solve_document(data, *, label,
time_limit_seconds) -> dict``: it validates the document (an :class:`~cpfr.exceptions.InputError`
naming the file and the field, exit code 2), solves it through :mod:`cpfr.network.solver` and
returns the contract's result keys. An infeasible model is an
:class:`~cpfr.exceptions.InfeasibleError` (exit code 1).
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any

from cpfr.documents import read_document
from cpfr.exceptions import InputError, SolverLimitError

MAX_INSTANCE_BYTES = 50_000_000
# kind -> module holding its solve_document
KINDS: dict[str, str] = {
    "facility_location": "cpfr.network.facility",
    "sku_placement": "cpfr.network.placement",
    "allocation": "cpfr.network.allocation",
}


def read_instance(path: Path) -> Any:
    """Read an instance from ``path`` (.json, .yaml or .yml, UTF-8) into plain data."""
    return read_document(path, max_bytes=MAX_INSTANCE_BYTES)


def solve_instance(
    data: object, *, label: str = "instance", time_limit_seconds: float = 60.0
) -> dict[str, Any]:
    """Solve one network instance by its ``kind``; return ``kind`` and the kind's result keys."""
    if not isinstance(data, dict):
        raise InputError(f"{label}: expected one object with a 'kind'")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InputError(f"{label}: kind: {kind!r} is not a network kind; expected one of {', '.join(KINDS)}")
    module = importlib.import_module(KINDS[kind])
    result = {"kind": kind, **module.solve_document(data, label=label, time_limit_seconds=time_limit_seconds)}
    _check_finite(result, label)
    return result


def _check_finite(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            _check_finite(item, f"{where}[{position}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise SolverLimitError(f"{where}: the solver gave no finite value")
