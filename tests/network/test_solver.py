"""The MILP adapter: optimal answers, infeasibility, time limits and gaps reported as they are."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cpfr.exceptions import InfeasibleError, SolverLimitError
from cpfr.network.solver import LinearModel, Solution, require_solution, solve


def _knapsack(values: list[float], weights: list[float], capacity: float) -> LinearModel:
    n = len(values)
    return LinearModel(
        c=-np.asarray(values, dtype=float),
        A=sp.csr_matrix([weights]),
        row_lower=np.array([-np.inf]),
        row_upper=np.array([capacity]),
        lower=np.zeros(n),
        upper=np.ones(n),
        integer=np.ones(n, dtype=bool),
    )


def test_a_knapsack_is_solved_to_its_enumerated_optimum() -> None:
    values, weights = [5.0, 4.0, 3.0, 7.0], [2.0, 3.0, 1.0, 4.0]
    best = max(
        sum(v for v, pick in zip(values, picks, strict=True) if pick)
        for picks in np.ndindex(2, 2, 2, 2)
        if sum(w for w, pick in zip(weights, picks, strict=True) if pick) <= 6
    )
    answer = solve(_knapsack(values, weights, 6.0))
    assert answer.status == "optimal" and answer.gap <= 1e-9
    assert answer.objective == pytest.approx(-best)
    assert np.allclose(answer.x, np.round(answer.x))


def test_an_infeasible_model_says_so() -> None:
    model = LinearModel(
        c=np.array([1.0]),
        A=sp.csr_matrix([[1.0]]),
        row_lower=np.array([2.0]),
        row_upper=np.array([np.inf]),
        lower=np.zeros(1),
        upper=np.ones(1),
        integer=np.zeros(1, dtype=bool),
    )
    answer = solve(model)
    assert answer.status == "infeasible" and not answer.has_solution
    with pytest.raises(InfeasibleError, match="infeasible"):
        require_solution(answer, "toy")


def test_no_solution_within_the_limit_is_a_solver_limit_not_an_answer() -> None:
    empty = Solution("time_limit", np.zeros(0), float("inf"), float("-inf"), float("inf"), 1.0)
    with pytest.raises(SolverLimitError, match="time limit"):
        require_solution(empty, "toy")


def test_a_hard_model_stopped_by_the_time_limit_reports_its_gap() -> None:
    rng = np.random.default_rng(7)
    n = 400  # a correlated knapsack with many items: not closed in a hundredth of a second
    weights = rng.integers(100, 1000, n).astype(float)
    answer = solve(_knapsack(list(weights + 100), list(weights), weights.sum() / 2), time_limit=0.01)
    assert answer.status in ("time_limit", "optimal")
    if answer.status == "time_limit" and answer.has_solution:
        assert answer.bound <= answer.objective + 1e-6 and answer.gap >= 0
    assert answer.seconds < 5


def test_json_output_is_not_corrupted_by_the_solver_banner(capfd: pytest.CaptureFixture[str]) -> None:
    solve(_knapsack([1.0], [1.0], 1.0))
    assert "HiGHS" not in capfd.readouterr().out
