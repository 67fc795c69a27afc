"""Reference operator policies: functions called each simulated morning with an OperatorView.

A policy is any callable ``f(view)``; see :class:`shopsim.operator.OperatorView` for what it
can read and do. These are the yardsticks a trainee's capstone policy is compared with.
"""

from __future__ import annotations

from shopsim.operator import OperatorView


def do_nothing(view: OperatorView) -> None:
    """Leave the shop exactly as it is: no price changes, no reorders, no replies."""
    return None
