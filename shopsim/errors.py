"""The errors shopsim raises on bad input.

Every error a user can cause is one of these, with a message that says what was wrong and
what is allowed. Nothing is applied when one is raised.
"""

from __future__ import annotations


class ShopsimError(Exception):
    """Base class of every error shopsim raises on purpose."""


class ScenarioError(ShopsimError, ValueError):
    """A scenario file or dictionary is not valid.

    Parameters
    ----------
    problems:
        One line per problem, each ``field.path: what is wrong; what is allowed``.
    source:
        Where the scenario came from (a file name or a preset name), for the message.
    """

    def __init__(self, problems: list[str], source: str = "scenario") -> None:
        self.problems = list(problems)
        self.source = source
        count = len(self.problems)
        head = f"{source}: {count} problem{'s' if count != 1 else ''}"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in self.problems))


class ActionError(ShopsimError, ValueError):
    """An operator action (a lever) was called with a value it cannot take.

    The simulation is left exactly as it was before the call.
    """
