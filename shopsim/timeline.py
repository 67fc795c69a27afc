"""Scripted events from a scenario's timeline: rival moves, supply problems, review bursts,
traffic shocks and warehouse losses, applied to a running simulation at their hour.

Each event writes an ``events`` row under the actor a real operator would see it come from:
a rival's price change is a ``competitor`` event; a supply delay or a burst of bad reviews
shows up as what it does (``system`` / ``platform``), never with the instructor's note.
"""

from __future__ import annotations

from typing import Any

from shopsim.scenario import TimelineEvent


def apply(sim: Any, ev: TimelineEvent) -> None:
    """Apply one scripted event to ``sim`` now (rivals' sales so far are settled first)."""
    sim.settle_rivals()
    _HANDLERS[ev.kind](sim, ev)


def _second(sim: Any) -> int:
    return int(sim.env.now * 3600)


def _rival_price(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.rivals.offer(ev.target)
    old = sim.rivals.set_price(offer, float(ev.value))
    sim.records.event(_second(sim), "competitor", "price_change", ev.target,
                      f"{sim.catalog.shops[offer]}: {old:.2f} -> {ev.value:.2f} yuan")


def _rival_stockout(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.rivals.offer(ev.target)
    sim.rivals.sell_out(offer)
    sim.records.event(_second(sim), "competitor", "stockout", ev.target, f"{sim.catalog.shops[offer]}: sold out")
    sim.env.process(_rival_back(sim, offer, ev.days))


def _rival_back(sim: Any, offer: int, days: int):
    yield sim.env.timeout(days * 24)
    sim.settle_rivals()
    units = sim.rivals.restock(offer)
    sim.records.event(_second(sim), "competitor", "restock", sim.catalog.codes[offer],
                      f"{sim.catalog.shops[offer]}: back in stock ({units} units)")
    sim._market_dirty = True


def _rival_restock(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.rivals.offer(ev.target)
    units = sim.rivals.restock(offer, int(ev.value))
    sim.records.event(_second(sim), "competitor", "restock", ev.target,
                      f"{sim.catalog.shops[offer]}: back in stock ({units} units)")


def _supply_delay(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.catalog.own(ev.target)
    sim.inventory.delay(offer, int(ev.days), sim.env.now)
    sim.records.event(_second(sim), "system", "supply_delay", ev.target,
                      f"supplier delay: reorders take {ev.days} more days")


def _review_burst(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.catalog.own(ev.target)
    sim.reviews.burst(sim.rng("review_bursts"), offer, int(ev.value), _second(sim), float(ev.days or 2))


def _traffic_shock(sim: Any, ev: TimelineEvent) -> None:
    now = sim.env.now
    sim._shocks.append((now, now + ev.days * 24, float(ev.value)))
    sim.records.event(_second(sim), "platform", "traffic_change", "",
                      f"platform traffic x{ev.value:g} for {ev.days} days")


def _stock_loss(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.catalog.own(ev.target)
    lost = sim.inventory.lose(offer, int(ev.value), sim.env.now)
    sim.records.event(_second(sim), "system", "stock_loss", ev.target, f"{lost} units written off")


_HANDLERS = {
    "rival_price": _rival_price,
    "rival_stockout": _rival_stockout,
    "rival_restock": _rival_restock,
    "supply_delay": _supply_delay,
    "review_burst": _review_burst,
    "traffic_shock": _traffic_shock,
    "stock_loss": _stock_loss,
}
