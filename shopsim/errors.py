"""The errors shopsim raises on bad input.

Every error a user can cause is one of these, with a message that says what was wrong and
what is allowed. Nothing is applied when one is raised. Values a user gave are echoed
shortened (:func:`shown`) and a message never grows past a couple of kilobytes, however
large or hostile the input.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Longest echo of a value a user gave, in characters.
SHOWN_CHARS = 40
#: Longest single problem line, in characters (anything longer is cut with "...").
PROBLEM_CHARS = 300
#: Longest lever error message, in characters.
ACTION_CHARS = 1000
#: A message lists problems until it reaches this many characters, then counts the rest.
MESSAGE_CHARS = 1500


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, for echoing what a user gave in a message."""
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not replace the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cut(text: str, limit: int = PROBLEM_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ShopsimError(Exception):
    """Base class of every error shopsim raises on purpose."""


class ScenarioError(ShopsimError, ValueError):
    """A scenario file or dictionary is not valid.

    Parameters
    ----------
    problems:
        One line per problem, each ``field.path: what is wrong; what is allowed``. Repeated
        problems are reported once; each is cut to ``PROBLEM_CHARS`` characters.
    source:
        Where the scenario came from (a file name or a preset name), for the message.
    sources:
        Where each problem came from, when it is not ``source`` (a parent file the scenario
        extends, or ``--set`` for an override); one per problem, ``None`` meaning ``source``.
    """

    def __init__(self, problems: Iterable[str], source: str = "scenario",
                 sources: Iterable[str | None] | None = None) -> None:
        items = list(problems)
        origins = list(sources) if sources is not None else [None] * len(items)
        seen: set[tuple[str, str]] = set()
        self.problems: list[str] = []
        self.sources: list[str] = []
        for problem, origin in zip(items, origins + [None] * (len(items) - len(origins)), strict=False):
            key = (origin or source, _cut(str(problem)))
            if key not in seen:
                seen.add(key)
                self.sources.append(key[0])
                self.problems.append(key[1])
        self.source = source
        count = len(self.problems)
        head = f"{source}: {count} problem{'s' if count != 1 else ''}"
        lines = [p if s == source else f"{s}: {p}" for s, p in self.lines()]
        super().__init__(head + "\n" + "\n".join(f"  {line}" for line in lines))

    def lines(self) -> list[tuple[str, str]]:
        """``(source, problem)`` pairs to show, cut after about ``MESSAGE_CHARS`` characters with a count
        of the problems left out (so a message stays short however many problems there are)."""
        out: list[tuple[str, str]] = []
        size = 0
        for where, problem in zip(self.sources, self.problems, strict=True):
            size += len(where) + len(problem) + 4
            if out and size > MESSAGE_CHARS:
                left = len(self.problems) - len(out)
                out.append((self.source, f"... and {left} more problem{'s' if left != 1 else ''} "
                                         "(fix these first)"))
                break
            out.append((where, problem))
        return out


class ActionError(ShopsimError, ValueError):
    """An operator action (a lever) was called with a value it cannot take.

    The simulation is left exactly as it was before the call. The message is cut to
    ``ACTION_CHARS`` characters.
    """

    def __init__(self, message: str) -> None:
        super().__init__(_cut(str(message), ACTION_CHARS))
