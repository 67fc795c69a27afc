"""Same seed, same tables, across code changes: fingerprints of a few bundled runs, pinned.

The other reproducibility tests compare two runs of the same code; these compare today's code
with the tables an earlier commit produced, so an optimisation that reorders a random draw or
moves a float's last bit fails here. The pins were recorded by running the code (never written
by hand). A change that moves same-seed results on purpose (a new mechanism, a recalibration)
re-records them: ``python tests/test_pinned_results.py`` prints the current fingerprints in the
form of ``PINNED`` below; paste them and say in the commit message why the numbers moved.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

import shopsim

#: Tables whose fingerprints are pinned (the session and order rows, the order lines, and the
#: day-level reports computed from them).
PINNED_TABLES = ("sessions", "orders", "order_items", "daily", "pnl")

#: (scenario, days, seed) -> table -> fingerprint.
PINNED: dict[tuple[str, int, int], dict[str, str]] = {
    ("baseline", 30, 1): {"sessions": "f257fbe40fb58295", "orders": "ffffebf016c82c33",
                          "order_items": "7e12d05cef506e57", "daily": "b07f66704f2c5c70", "pnl": "aa3e6b8e1c539570"},
    ("baseline", 30, 7): {"sessions": "1ee6206f40038fe1", "orders": "694668ee74752236",
                          "order_items": "2854a761e1f2b2f0", "daily": "4a79e2adbfb44379", "pnl": "ece09d55894aa547"},
    ("festival_double11", 45, 1): {"sessions": "876cc9fb74aefd49", "orders": "90a8a00327e2cb27",
                                   "order_items": "0bc30a8a3c39225f", "daily": "9eed320e4b18de75",
                                   "pnl": "274a7e0f2afcf8b0"},
    ("festival_double11", 45, 7): {"sessions": "0fe8381e8a092f36", "orders": "d267418b702b6c97",
                                   "order_items": "1bf9aa446bdbc528", "daily": "33ae90be6b03e56d",
                                   "pnl": "337a052760ec985b"},
}


def fingerprint(table: pd.DataFrame) -> str:
    """A table's columns, dtypes and every value (index included), hashed: equal only when the
    tables are identical to the last bit."""
    h = hashlib.sha256()
    h.update(repr(list(table.columns)).encode())
    h.update(repr([str(t) for t in table.dtypes]).encode())
    h.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]


def fingerprints(scenario: str, days: int, seed: int) -> dict[str, str]:
    """The pinned tables' fingerprints of one run."""
    sim = shopsim.simulate(scenario, days, seed=seed)
    return {name: fingerprint(sim.tables[name]) for name in PINNED_TABLES}


@pytest.mark.parametrize("run", list(PINNED), ids=lambda r: f"{r[0]}-{r[1]}d-seed{r[2]}")
def test_same_seed_gives_the_pinned_tables(run):
    got = fingerprints(*run)
    moved = [name for name in PINNED_TABLES if got[name] != PINNED[run][name]]
    assert not moved, (f"{run}: tables {moved} are no longer those the pinned code produced "
                       "(see this module's docstring)")


def test_a_changed_table_changes_its_fingerprint():
    sim = shopsim.simulate("baseline", 2, seed=1)
    daily = sim.tables["daily"]
    nudged = daily.copy()
    nudged.loc[nudged.index[-1], "gmv"] = float(nudged["gmv"].iloc[-1]) + 0.01
    assert fingerprint(daily) == fingerprint(daily.copy())
    assert fingerprint(nudged) != fingerprint(daily)


if __name__ == "__main__":
    for key in PINNED:
        print(f"    {key!r}: {fingerprints(*key)!r},")
