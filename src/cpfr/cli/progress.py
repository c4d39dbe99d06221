"""Progress of long jobs: one line per step on stderr, with the time since the job began.

The same lines appear on a terminal and in a log file or a CI job's output (a spinner
shows only on a terminal and leaves nothing behind), and stdout stays free for results.
"""

from __future__ import annotations

from time import perf_counter

from cpfr.cli.errors import err_console


class ProgressLog:
    """A progress callback for domain code: ``log("forecast: 1,234 series in 12.0 s")``.

    Parameters
    ----------
    job : str
        What the job is, printed with every line (e.g. ``plan``).
    """

    def __init__(self, job: str) -> None:
        self.job = job
        self.started = perf_counter()

    def __call__(self, message: str) -> None:
        """Print one progress line."""
        elapsed = perf_counter() - self.started
        err_console.print(
            f"[{self.job} {elapsed:6.1f} s] {message}", markup=False, highlight=False, soft_wrap=True
        )
