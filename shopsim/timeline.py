"""Scripted events from a scenario's timeline: rival moves, supply problems, review bursts,
traffic shocks and warehouse losses, applied to a running simulation at their hour.

Each event writes an ``events`` row under the actor a real operator would see it come from:
a rival's price change is a ``competitor`` event; a supply delay or a burst of bad reviews
shows up as what it does (``system`` / ``platform``), never with the instructor's note.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shopsim.competitors import yuan
from shopsim.scenario import TimelineEvent


def apply(sim: Any, ev: TimelineEvent) -> None:
    """Apply one scripted event to ``sim`` now (rivals' sales so far are settled first)."""
    sim.settle_rivals()
    _HANDLERS[ev.kind](sim, ev)


def _second(sim: Any) -> int:
    return int(sim.env.now * 3600)


def _rival_price(sim: Any, ev: TimelineEvent) -> None:
    rivals = sim.rivals
    rivals.set_regular_price(sim, rivals.offer(ev.target) - rivals.first, float(ev.value))


def _rival_stockout(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.rivals.offer(ev.target)
    sim.rivals.sell_out(offer)
    sim.records.event(_second(sim), "competitor", "stockout", ev.target, f"{sim.catalog.shops[offer]}: sold out")
    sim.env.process(_rival_back(sim, offer, ev.days))


def _rival_back(sim: Any, offer: int, days: int) -> Iterator[Any]:
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


def _rival_flash_sale(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.rivals.offer(ev.target)
    old = sim.rivals.flash_sale(offer - sim.rivals.first, float(ev.value), sim.env.now + ev.hours)
    sim.records.event(_second(sim), "competitor", "flash_sale", ev.target,
                      f"{sim.catalog.shops[offer]} flash sale on {ev.target}: {yuan(old)} -> {yuan(ev.value)} yuan "
                      f"for {ev.hours} h")
    sim.env.process(_flash_sale_end(sim, offer, float(ev.hours)))


def _flash_sale_end(sim: Any, offer: int, hours: float) -> Iterator[Any]:
    yield sim.env.timeout(hours)
    sim.settle_rivals()
    ended = sim.rivals.end_flash_sale(offer - sim.rivals.first, sim.env.now)
    if ended is not None:
        sim.records.event(_second(sim), "competitor", "flash_sale_end", sim.catalog.codes[offer],
                          f"{sim.catalog.shops[offer]} flash sale on {sim.catalog.codes[offer]} over: "
                          f"{yuan(ended[0])} -> {yuan(ended[1])} yuan")
        sim._market_dirty = True


def _rival_new_listing(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.rivals.offer(ev.target)
    sim.rivals.list_offer(sim, offer - sim.rivals.first)
    sim.records.event(_second(sim), "competitor", "new_listing", ev.target,
                      f"{sim.catalog.shops[offer]} listed {ev.target} ({sim.catalog.names[offer]}) at "
                      f"{yuan(sim.catalog.price[offer])} yuan")


def _rival_affiliate_push(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.rivals.offer(ev.target)
    factor = float(ev.value)
    sim.rivals.affiliate_push(offer - sim.rivals.first, factor, on=True)
    sim.records.event(_second(sim), "competitor", "affiliate_push", ev.target,
                      f"{sim.catalog.shops[offer]} promotes {ev.target} through affiliates (淘宝客) "
                      f"for {ev.days} days")
    sim.env.process(_later(sim, ev.days * 24, lambda: sim.rivals.affiliate_push(offer - sim.rivals.first,
                                                                                 factor, on=False)))


def _rival_ad_surge(sim: Any, ev: TimelineEvent) -> None:
    r = sim.rivals.shop_index(ev.target)
    factor = float(ev.value)
    sim.rivals.ad_surge(sim, r, factor, on=True)
    words = ", ".join(f"'{sim.scenario.keywords[k].keyword}'" for k in sim.rivals.bids[r])
    more = "harder" if factor >= 1 else "less"
    sim.records.event(_second(sim), "competitor", "ad_surge", ev.target,
                      f"{ev.target} advertises {more} on {words} for {ev.days} days")
    sim.env.process(_later(sim, ev.days * 24, lambda: sim.rivals.ad_surge(sim, r, factor, on=False)))


def _later(sim: Any, hours: float, undo: Any) -> Iterator[Any]:
    """End a move after ``hours``: settle the rivals' sales so far, undo it, regroup the market."""
    yield sim.env.timeout(hours)
    sim.settle_rivals()
    undo()
    sim._market_dirty = True


def _supply_delay(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.catalog.own(ev.target)
    sim.inventory.delay(offer, int(ev.days), sim.env.now)
    sim.records.event(_second(sim), "system", "supply_delay", ev.target,
                      f"supplier delay: reorders take {ev.days} more days")


def _review_burst(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.catalog.own(ev.target)
    span = ev.hours / 24 if ev.hours else float(ev.days or 2)  # days over which the reviews arrive
    sim.reviews.burst(sim.rng("review_bursts"), offer, int(ev.value), _second(sim), span)


def _traffic_shock(sim: Any, ev: TimelineEvent) -> None:
    now = sim.env.now
    sim._shocks.append((now, now + ev.days * 24, float(ev.value)))
    sim.records.event(_second(sim), "platform", "traffic_change", "",
                      f"platform traffic x{ev.value:g} for {ev.days} days")


def _stock_loss(sim: Any, ev: TimelineEvent) -> None:
    offer = sim.catalog.own(ev.target)
    lost = sim.inventory.lose(offer, int(ev.value), sim.env.now)
    sim.records.cost(sim.current_day, "write_offs", lost * float(sim.catalog.cost[offer]))
    sim.records.event(_second(sim), "system", "stock_loss", ev.target, f"{lost} units written off")


_HANDLERS = {
    "rival_price": _rival_price,
    "rival_stockout": _rival_stockout,
    "rival_restock": _rival_restock,
    "supply_delay": _supply_delay,
    "review_burst": _review_burst,
    "traffic_shock": _traffic_shock,
    "stock_loss": _stock_loss,
    "rival_flash_sale": _rival_flash_sale,
    "rival_new_listing": _rival_new_listing,
    "rival_affiliate_push": _rival_affiliate_push,
    "rival_ad_surge": _rival_ad_surge,
}
