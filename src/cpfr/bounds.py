"""The documented range of a number cpfr accepts, stated once for the check and for the message.

A :class:`Bound` is a small value object: the code that checks a value and
the message that rejects it read the same minimum, maximum and reason, so the
two cannot drift apart. Domain code checks a value under its own name
(``lead_time``); the command line checks the same value with the same bound
under the flag's name (``--lead-time``), so a domain error never names a flag.

A value below the minimum, not a number, or not finite is bad input
(:class:`~cpfr.exceptions.InputError`); a value above the maximum asks for
more than cpfr is built to do (:class:`~cpfr.exceptions.LimitError`), and the
message says why the maximum is where it is. The error carries a
:class:`Rejection` (:func:`rejection`), so that a caller who knows the value
under another name (the command line, its flag) can say it again in its words.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass

from cpfr.exceptions import InputError, LimitError

_SHOWN = 60  # characters of a rejected value repeated in a message


@dataclass(frozen=True)
class Bound:
    """A range of finite numbers: ``minimum`` (inclusive unless ``exclusive_minimum``) to ``maximum``.

    Parameters
    ----------
    minimum : float
        The smallest value allowed (or the value every one must exceed, with ``exclusive_minimum``).
    maximum : float
        The largest value allowed, inclusive.
    whole : bool
        Only whole numbers (``2.0`` counts as 2; ``2.5`` does not).
    exclusive_minimum : bool
        The minimum itself is not allowed: values must be strictly greater.
    reason : str
        Why the maximum is where it is, added to the message of a value above it.

    Examples
    --------
    >>> LEAD_TIME = Bound(0, 1000, whole=True, reason="periods")
    >>> LEAD_TIME.check("lead_time", 3)
    3
    >>> LEAD_TIME.expected
    'a whole number >= 0 and <= 1,000'
    """

    minimum: float
    maximum: float
    whole: bool = False
    exclusive_minimum: bool = False
    reason: str = ""

    @property
    def expected(self) -> str:
        """Say in words what the bound accepts: 'a finite number > 0 and <= 1e9'."""
        kind = "a whole number" if self.whole else "a finite number"
        low = ">" if self.exclusive_minimum else ">="
        return f"{kind} {low} {number_text(self.minimum)} and <= {number_text(self.maximum)}"

    def problem(self, value: object) -> str | None:
        """Return what is wrong with ``value`` ('expected ...'), or None when it is within the bound."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected {self.expected}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected {self.expected}"
        if self.whole and isinstance(value, float) and not value.is_integer():
            return f"expected {self.expected}"
        if value < self.minimum or (self.exclusive_minimum and value == self.minimum):
            return f"expected {self.expected}"
        if value > self.maximum:
            return f"expected {self.expected}{f' ({self.reason})' if self.reason else ''}"
        return None

    def check(self, name: str, value: object) -> float:
        """Return ``value`` (an int for a whole bound) if it is within the bound, else raise naming ``name``.

        Raises
        ------
        LimitError
            A number above the maximum.
        InputError
            Not a finite number, not whole where it must be, or below the minimum.
        """
        found = self.problem(value)
        if found is not None:
            above = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and not (isinstance(value, float) and not math.isfinite(value))
                and value > self.maximum
            )
            error = (LimitError if above else InputError)(f"{name} {shown(value)}: {found}")
            # Which value broke which bound, for a caller that names the value differently.
            setattr(error, _REJECTION, Rejection(name, value, self))
            raise error
        assert isinstance(value, int | float)
        return int(value) if self.whole else float(value)


_REJECTION = "_cpfr_rejection"


@dataclass(frozen=True)
class Rejection:
    """A value that :meth:`Bound.check` refused: its ``name``, the ``value`` and the ``bound``."""

    name: str
    value: object
    bound: Bound


def rejection(error: BaseException) -> Rejection | None:
    """Return the :class:`Rejection` behind an error raised by :meth:`Bound.check`, else None."""
    found = getattr(error, _REJECTION, None)
    return found if isinstance(found, Rejection) else None


def number_text(value: float) -> str:
    """Write a bound's number for people: 1,000 and 0.5 as such, 1e9 and 1e-6 in short exponent form.

    Examples
    --------
    >>> [number_text(value) for value in (1000, 0.5, 1e9, 1e-6, -1e9, 2**63 - 1)]
    ['1,000', '0.5', '1e9', '1e-6', '-1e9', '9,223,372,036,854,775,807']
    """
    if float(value).is_integer():
        whole = int(value)
        digits = str(abs(whole)).rstrip("0")
        if abs(whole) >= 10**6 and len(digits) == 1:  # a round power of ten reads best as 1e9
            return f"{'-' if whole < 0 else ''}{digits}e{len(str(abs(whole))) - 1}"
        return f"{whole:,}"
    mantissa, _, exponent = f"{value:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def shown(value: object) -> str:
    """Repeat a rejected value in a message, cut to a readable length."""
    if isinstance(value, int) and abs(value) >= 10**30:  # repr of a huge integer is a wall of digits
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = _SHORT.repr(value)  # never the repr of a whole nested list (YAML aliases make billions)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 3, 4, 4, 4
_SHORT.maxstring, _SHORT.maxother = _SHOWN, _SHOWN
