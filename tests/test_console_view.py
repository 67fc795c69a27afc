"""The console's widgets, without a browser: set widget values and click, as a user would.

ipywidgets work without a kernel (nothing is sent anywhere), so this checks the wiring
between widgets and model; test_e2e_console.py checks the same in a real browser."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import ipywidgets as w
import pandas as pd
import pytest

from shopsim.console import Console, charts
from shopsim.operator import OperatorView


@pytest.fixture
def console(make_tiny) -> Console:
    return Console(make_tiny(timeline=[{"day": 0, "hour": 0, "kind": "review_burst", "target": "A", "value": 2,
                                        "days": 1}]), seed=2)


def tile_values(console: Console) -> list[str]:
    return [t.value for t in console.tiles]


def test_the_console_shows_every_part(console):
    assert len(console.tiles) == 7 and all("shopsim-tile" in t._dom_classes for t in console.tiles)
    assert set(console.forms) == set(OperatorView.LEVERS)
    assert console.levers.titles == ("Products", "Paid traffic", "Promotions", "Customers", "Service")
    assert sum(len(tab.children) for tab in console.levers.children) == len(OperatorView.LEVERS)
    assert (console.run_day_button.description, console.run_week_button.description) == ("Run one day", "Run a week")
    assert "Morning checklist" in console.checklist.value and "What happened" in console.feed.value
    assert console.chart.value.count("run a day to see this chart") == 3
    bundle = console._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_clicking_run_one_day_updates_the_tiles_header_feed_and_charts(console):
    before = tile_values(console)
    assert "day 1 of 5" in console.header.value
    console.run_day_button.click()
    assert tile_values(console) != before
    uv = console.model.sim.tables["daily"]["uv"].iloc[-1]
    assert f'<div class="shopsim-tile-value">{uv:,}</div>' in console.tiles[0].value
    assert "day 2 of 5" in console.header.value
    assert console.status.value.count("Ran Mon 03-02") == 1
    assert console.chart.value.count("<svg") == 4 and "run a day" not in console.chart.value
    assert not console.run_day_button.disabled
    assert console.run_week().message.startswith("Ran 7 days, 03-03 to 03-09")
    assert console.model.sim.days_run == 8 and "day 9 (5 planned)" in console.header.value


def test_a_bad_value_typed_into_a_form_shows_its_error_inline_and_changes_nothing(console):
    form = console.forms["set_price"]
    events = len(console.sim.tables["events"])
    form.inputs["price"].value = -5.0
    form.button.click()
    assert 'class="shopsim-alert"' in form.message.value
    assert "Not done: price -5.0 is out of range; allowed 0.01 to 100,000 yuan per unit. Nothing changed." \
        in form.message.value
    assert len(console.sim.tables["events"]) == events
    assert console.sim.catalog.price[0] == 60.0
    form.inputs["price"].value = 55.0
    form.button.click()
    assert 'class="shopsim-ok"' in form.message.value and "60.00 -&gt; 55.00 yuan" in form.message.value
    assert "You: price A: 60.00 -&gt; 55.00 yuan" in console.feed.value


def test_the_widgets_match_the_fields_and_follow_the_model(console):
    kinds = {"choice": w.Dropdown, "number": w.FloatText, "whole": w.IntText, "text": w.Text}
    for key, view in console.forms.items():
        for field in console.model.form(key).fields:
            widget = view.inputs[field.name]
            assert isinstance(widget, kinds[field.kind]), (key, field.name)
            assert widget.value == console.model.values[key][field.name]
    price = console.forms["set_price"]
    price.inputs["sku"].value = "B"  # picking a SKU fills in its price
    assert price.inputs["price"].value == 80.0 == console.model.values["set_price"]["price"]
    tiers = console.forms["spend_and_save"]
    tiers.inputs["tiers"].value = "99:5"
    tiers.button.click()
    assert "Done: Spend and save" in tiers.message.value


def test_the_review_choices_follow_the_reviews(console):
    reply = console.forms["reply_to_review"]
    assert reply.inputs["review_id"].options == (("no unanswered reviews", ""),)
    reply.button.click()
    assert "choose a review to answer first" in reply.message.value
    console.run_day_button.click()
    console.run_day_button.click()
    labels = [label for label, _ in reply.inputs["review_id"].options]
    assert len(labels) >= 2 and labels[0].startswith("#")
    first = reply.inputs["review_id"].value
    reply.button.click()
    assert f"review {first}" in reply.message.value
    assert first not in [v for _, v in console.model.form("reply_to_review").fields[0].options]
    assert reply.inputs["review_id"].value != first


def test_an_unexpected_failure_shows_in_the_status_line_not_as_a_traceback(console, monkeypatch, caplog):
    def broken(days):
        raise KeyError("oops")

    monkeypatch.setattr(console.model, "run", broken)
    console.run_day_button.click()  # does not raise
    assert "Something went wrong: KeyError" in console.status.value
    assert not console.run_day_button.disabled


def test_charts_are_well_formed_svg_with_round_ticks():
    dates = list(pd.date_range("2026-03-02", periods=9))
    gmv = pd.DataFrame({"date": dates, "gmv": [100.0 * i for i in range(9)],
                        "net_profit": [-50.0 + 20 * i for i in range(9)]})
    traffic = pd.DataFrame({"date": dates, "search": range(9), "paid_search": range(9)})
    conv = pd.DataFrame({"date": dates, "conversion_rate": [0.02] * 8 + [float("nan")]})
    stock = pd.DataFrame({"sku": ["A", "B"], "on_hand": [0, 50], "on_order": [100, 0], "lead_time_days": [7, 7],
                          "days_of_cover": [0.0, float("inf")], "stockout_hours": [5.0, 0.0]})
    html = charts.panel(gmv, traffic, conv, stock)
    svgs = ET.fromstring(html)  # the panel is one well-formed element
    assert len(svgs) == 4
    assert "sold out" in html and "paid search" in html and "03-02" in html
    assert charts.nice_ticks(0, 13_071) == [0, 5000, 10000, 15000]
    assert charts.nice_ticks(-50, 110) == [-50, 0, 50, 100, 150]
    assert charts.nice_ticks(0, 0) == [0, 0.5, 1.0]
    one = charts.panel(gmv.head(1), traffic.head(1), conv.head(1), stock)
    assert len(ET.fromstring(one)) == 4
