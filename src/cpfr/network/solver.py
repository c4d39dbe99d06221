"""The one adapter to the MILP solver (HiGHS through highspy): models in, honest answers out.

Every network model builds a :class:`LinearModel` (sparse, minimised) and calls :func:`solve`.
Swapping the solver touches this file only. The answer says how it ended: ``optimal`` (within
the gap asked for), ``time_limit`` / ``node_limit`` (the best solution found, with the bound and
the gap proven so far), ``infeasible``, ``unbounded`` — never a solution presented as optimal
that was not proven so.

References
----------
Huangfu, Q., & Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
Mathematical Programming Computation, 10(1), 119-142 (HiGHS).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from cpfr.exceptions import InfeasibleError, SolverLimitError

DEFAULT_TIME_LIMIT_SECONDS = 60.0
DEFAULT_MIP_GAP = 1e-4  # relative gap at which HiGHS stops: 0.01 %


@dataclass(frozen=True)
class LinearModel:
    """A mixed-integer linear programme: min c'x + offset s.t. row bounds on A x and bounds on x.

    Attributes
    ----------
    c : numpy.ndarray
        Objective coefficients, one per variable.
    A : scipy.sparse matrix
        Constraint matrix (rows x variables).
    row_lower, row_upper : numpy.ndarray
        Row bounds (``-inf``/``inf`` for one-sided rows).
    lower, upper : numpy.ndarray
        Variable bounds.
    integer : numpy.ndarray of bool
        Which variables are integer (binaries: integer with bounds 0 and 1).
    offset : float
        Constant added to the objective.
    """

    c: np.ndarray
    A: sp.spmatrix | sp.sparray
    row_lower: np.ndarray
    row_upper: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    offset: float = 0.0

    def __post_init__(self) -> None:
        n = len(self.c)
        rows, columns = self.A.shape
        if columns != n or len(self.lower) != n or len(self.upper) != n or len(self.integer) != n:
            raise ValueError(
                f"a model of {n} variables has a {rows} x {columns} matrix or bounds of other sizes"
            )
        if len(self.row_lower) != rows or len(self.row_upper) != rows:
            raise ValueError(f"a matrix of {rows} rows has row bounds of other sizes")


@dataclass(frozen=True)
class Solution:
    """How a solve ended, and the best solution found.

    Attributes
    ----------
    status : {'optimal', 'time_limit', 'node_limit', 'infeasible', 'unbounded', 'error'}
        ``optimal`` means proven within the gap asked for.
    x : numpy.ndarray
        Variable values of the best solution (empty when there is none).
    objective : float
        Its objective value (offset included; ``inf`` when there is none).
    bound : float
        The best proven lower bound on the optimum.
    gap : float
        Relative gap ``(objective - bound) / max(|objective|, 1e-9)``, 0 when proven optimal
        exactly, ``inf`` without a solution.
    seconds : float
        Wall time of the solve.
    nodes : int
        Branch-and-bound nodes explored.
    """

    status: str
    x: np.ndarray = field(repr=False)
    objective: float
    bound: float
    gap: float
    seconds: float
    nodes: int = 0

    @property
    def has_solution(self) -> bool:
        """Whether a feasible solution was found (optimal or not)."""
        return self.x.size > 0 and math.isfinite(self.objective)


def solve(
    model: LinearModel,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT_SECONDS,
    mip_gap: float = DEFAULT_MIP_GAP,
    threads: int | None = None,
) -> Solution:
    """Solve ``model`` with HiGHS within ``time_limit`` seconds and the relative ``mip_gap``."""
    started = time.perf_counter()
    highs = _new_highs()
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    matrix = sp.csc_matrix(model.A)
    lp = highspy.HighsLp()
    lp.num_col_ = len(model.c)
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = np.asarray(model.c, dtype=float)
    lp.col_lower_ = np.asarray(model.lower, dtype=float)
    lp.col_upper_ = np.asarray(model.upper, dtype=float)
    lp.row_lower_ = np.asarray(model.row_lower, dtype=float)
    lp.row_upper_ = np.asarray(model.row_upper, dtype=float)
    lp.offset_ = float(model.offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    if np.any(model.integer):
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in model.integer
        ]
    highs.passModel(lp)
    highs.run()
    return _answer(highs, bool(np.any(model.integer)), time.perf_counter() - started)


_banner_lock = threading.Lock()
_banner_shown = False


def _new_highs() -> highspy.Highs:
    """Return a silent HiGHS instance.

    HiGHS prints its banner to the process's standard output (file descriptor 1, below Python)
    when the first instance is made, before any option can silence it; that would corrupt
    ``cpfr network solve --json``. The first construction runs with descriptor 1 on /dev/null.
    """
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            highs = highspy.Highs()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "wb") as sink:
                    os.dup2(sink.fileno(), 1)
                    highs = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _banner_shown = True
    highs.setOptionValue("output_flag", False)
    return highs


_STATUS = {
    "Optimal": "optimal",
    "Time limit reached": "time_limit",
    "Node limit reached": "node_limit",
    "Infeasible": "infeasible",
    "Primal infeasible or unbounded": "infeasible",
    "Unbounded": "unbounded",
}


def _answer(highs: highspy.Highs, mip: bool, seconds: float) -> Solution:
    status = _STATUS.get(highs.modelStatusToString(highs.getModelStatus()), "error")
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(highs.getSolution().col_value, dtype=float) if has_solution else np.zeros(0)
    objective = float(info.objective_function_value) if has_solution else math.inf
    if mip:
        bound = float(info.mip_dual_bound)
        nodes = int(info.mip_node_count)
    else:
        bound, nodes = (objective if status == "optimal" else -math.inf), 0
    if not has_solution:
        gap = math.inf
    elif status == "optimal" and not mip:
        gap = 0.0
    else:
        gap = max(0.0, (objective - bound) / max(abs(objective), 1e-9)) if math.isfinite(bound) else math.inf
    return Solution(status, x, objective, bound, gap, seconds, nodes)


def require_solution(solution: Solution, what: str) -> Solution:
    """Return ``solution`` if it has one; raise InfeasibleError or SolverLimitError saying why not."""
    if solution.status == "infeasible":
        raise InfeasibleError(f"{what}: no solution satisfies every constraint (the model is infeasible)")
    if solution.status == "unbounded":
        raise InfeasibleError(f"{what}: the model is unbounded (a cost or bound is missing)")
    if not solution.has_solution:
        raise SolverLimitError(
            f"{what}: no feasible solution found within the time limit ({solution.seconds:.1f} s)"
        )
    return solution
