"""Flags for domain parameters: a domain error about ``lead_time`` is said again about ``--lead-time``.

Domain code checks its values under its own names with :class:`cpfr.bounds.Bound`
and never names a flag. A command that passes a flag's value on under a domain
name wraps the call in :func:`flag_names`; a bound broken inside is reported
under the flag's name, with the same bound and the same words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from cpfr.bounds import Bound, rejection
from cpfr.exceptions import InputError, ParameterError


@contextlib.contextmanager
def flag_names(**names: str) -> Iterator[None]:
    """Re-raise a bound error about a domain parameter (a key of ``names``) naming its flag instead.

    Examples
    --------
    >>> from cpfr.inventory.replenish import check_policy
    >>> with flag_names(review_period="--review-period"):  # doctest: +IGNORE_EXCEPTION_DETAIL
    ...     check_policy(2, 0, 1.0, 9.0, 0, 1)
    Traceback (most recent call last):
    cpfr.exceptions.InputError: --review-period 0: expected a whole number >= 1 and <= 1,000
    """
    try:
        yield
    except ParameterError as error:
        if error.parameter not in names:
            raise
        raise InputError(f"{names[error.parameter]} {error.detail}") from None
    except InputError as error:
        found = rejection(error)
        if found is None or found.name not in names:
            raise
        found.bound.check(names[found.name], found.value)  # the same bound refuses the same value
        raise


def check_flags(*checks: tuple[str, Bound, object]) -> None:
    """Check each ``(flag, bound, value)`` before any work starts; the first out of bounds raises."""
    for flag, bound, value in checks:
        if value is not None:
            bound.check(flag, value)


def partition_columns(text: str) -> list[str]:
    """Parse ``--partition-by`` (``partner_id,category_id``) into column names; InputError when empty."""
    columns = [column.strip() for column in text.split(",") if column.strip()]
    if not columns:
        raise InputError("--partition-by: name at least one column, e.g. partner_id,category_id")
    return columns
