"""The console's model, driven as a user drives the console: type into forms, press buttons.

No widgets and no browser here (see test_console_view.py and test_e2e_console.py)."""

from __future__ import annotations

import inspect
import math

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import shopsim
from shopsim.console import ConsoleModel, Result
from shopsim.console import levers as levers_mod
from shopsim.console.model import _tile
from shopsim.errors import ShopsimError
from shopsim.operator import OperatorView

FESTIVAL = {"name": "spring", "main_day": "2026-03-05", "presale_days": 2, "min_discount": 0.1}
# day 1: a rival cuts its price, three bad reviews arrive (published the next morning), B is written off
TIMELINE = [{"day": 1, "hour": 0, "kind": "rival_price", "target": "R", "value": 55},
            {"day": 1, "hour": 0, "kind": "review_burst", "target": "A", "value": 3, "days": 1},
            {"day": 1, "hour": 9, "kind": "stock_loss", "target": "B", "value": 5000}]


@pytest.fixture(scope="module")
def eventful(make_tiny) -> shopsim.Scenario:
    """The tiny market with a festival and a timeline of trouble (see TIMELINE)."""
    return make_tiny(festivals=[FESTIVAL], timeline=TIMELINE, days=10)


@pytest.fixture
def model(eventful) -> ConsoleModel:
    return ConsoleModel(eventful, seed=1)


def texts(items) -> str:
    return "\n".join(i.text for i in items)


def check(model: ConsoleModel, topic: str):
    return next(c for c in model.checklist() if c.topic.startswith(topic))


# -- tiles -------------------------------------------------------------------------------------
def test_before_the_first_day_nothing_is_shown_and_the_checklist_says_so(model):
    assert [t.text for t in model.tiles()] == ["–"] * 7
    assert {t.tone for t in model.tiles()} == {"none"}
    assert check(model, "Profit").answer == "No day has run yet."
    assert model.feed() == []
    assert "morning of Mon 2026-03-02, day 1 of 10" in model.header()


def test_run_one_day_shows_yesterdays_kpis_from_the_daily_report(model):
    result = model.run_day()
    assert result.ok and result.message.startswith("Ran Mon 03-02: GMV ¥")
    daily = model.sim.tables["daily"].iloc[-1]
    tiles = {t.key: t for t in model.tiles()}
    assert list(tiles) == ["uv", "conversion_rate", "aov", "gmv", "ad_spend", "roas", "net_profit"]
    for key in ("uv", "conversion_rate", "aov", "gmv", "ad_spend", "net_profit"):
        assert tiles[key].value == pytest.approx(float(daily[key]))
    assert tiles["uv"].text == f"{daily['uv']:,}"
    assert tiles["conversion_rate"].text == f"{daily['conversion_rate']:.2%}"
    assert tiles["roas"].text == "–"  # no ad spend: ROAS is undefined, not 0
    assert all(t.change is None for t in tiles.values())  # nothing to compare with yet
    assert "day 2 of 10" in model.header()


def test_the_second_day_shows_the_change_against_the_first(model):
    model.run(2)
    d = model.daily()
    tiles = {t.key: t for t in model.tiles()}
    assert tiles["uv"].change == pytest.approx(d["uv"].iloc[-1] / d["uv"].iloc[-2] - 1)
    assert tiles["conversion_rate"].change == pytest.approx(d["conversion_rate"].diff().iloc[-1])
    assert tiles["net_profit"].change == pytest.approx(d["net_profit"].diff().iloc[-1])
    assert tiles["uv"].change_text.endswith("vs day before")
    assert tiles["conversion_rate"].change_text.split()[1] == "pt"


@pytest.mark.parametrize(("how", "change", "better", "now", "before", "text", "change_text", "tone"), [
    ("count", "relative", 1, 1100, 1000, "1,100", "+10.0% vs day before", "good"),
    ("yuan", "relative", 1, 900, 1000, "¥900", "-10.0% vs day before", "bad"),
    ("yuan", "relative", 0, 300, 200, "¥300", "+50.0% vs day before", "neutral"),
    ("yuan", "relative", 0, 300, 0, "¥300", "new", "neutral"),
    ("yuan", "relative", 1, 0, 0, "¥0", "no change", "neutral"),
    ("percent", "points", 1, 0.0231, 0.0200, "2.31%", "+0.31 pt vs day before", "good"),
    ("ratio", "difference", 1, 2.5, 3.0, "2.50", "-0.50 vs day before", "bad"),
    ("ratio", "difference", 1, math.nan, 3.0, "–", "", "none"),
    ("yuan", "yuan", 1, -120, 80, "-¥120", "-¥200 vs day before", "bad"),
    ("yuan", "yuan", 1, 80, 80, "¥80", "+¥0 vs day before", "flat"),
])
def test_a_tile_reads_like_an_operator_says_it(how, change, better, now, before, text, change_text, tone):
    tile = _tile("k", "K", how, change, better, now, before)
    assert (tile.text, tile.change_text, tile.tone) == (text, change_text, tone)


def test_run_a_week_runs_seven_days(model):
    result = model.run_week()
    assert result.ok and result.message.startswith("Ran 7 days, 03-02 to 03-08: GMV ¥")
    assert model.sim.days_run == 7 and len(model.daily()) == 7


# -- the levers --------------------------------------------------------------------------------
def test_every_lever_of_the_design_has_a_form_whose_fields_are_its_arguments(model):
    forms = model.forms()
    assert set(forms) == set(OperatorView.LEVERS)
    assert {f.group for f in forms.values()} == set(levers_mod.GROUPS)
    for key, form in forms.items():
        params = inspect.signature(getattr(model.sim, key)).parameters
        assert {f.name for f in form.fields} <= set(params), key
        required = {n for n, p in params.items() if p.default is inspect.Parameter.empty}
        assert required <= {f.name for f in form.fields}, key
        assert set(model.values[key]) == {f.name for f in form.fields}, key
        for f in form.fields:
            if f.kind == "choice":
                assert f.options and model.values[key][f.name] in [v for _, v in f.options], (key, f.name)


@pytest.mark.parametrize("lever", OperatorView.LEVERS)
def test_every_form_works_with_its_starting_values(eventful, lever):
    model = ConsoleModel(eventful, seed=1)
    model.run(3)  # reviews published, the festival ahead
    events = len(model.sim.tables["events"])
    result = model.apply(lever)
    assert result.ok, result.message
    assert result.message.startswith("Done: ")
    assert model.results[lever] == result
    new = model.sim.tables["events"].iloc[events:]
    assert list(new["actor"]) == ["operator"] and list(new["kind"]) == [lever]
    assert model.feed()[0].tone == "you" and model.feed()[0].text.startswith("You: ")
    assert model.run_day().ok


BAD = [  # lever, {field: value}, words the message must contain
    ("set_price", {"price": -5.0}, "price -5.0 is out of range; allowed 0.01 to 100,000 yuan per unit"),
    ("set_price", {"price": math.nan}, "price must be a finite number"),
    ("set_price", {"price": None}, "price must be a number"),
    ("set_price", {"price": "cheap"}, "price must be a number"),
    ("discount", {"share_off": 1.5}, "share_off 1.5 is out of range"),
    ("discount", {"days": 0}, "days 0 is out of range"),
    ("reorder", {"qty": 0}, "qty 0 is out of range; allowed 1 to 1,000,000 units"),
    ("reorder", {"qty": 2.5}, "qty must be a whole number"),
    ("set_keyword_bid", {"bid": 150.0}, "bid 150.0 is out of range"),
    ("set_keyword_bid", {"keyword": "nice tee", "sku": "A"}, "A does not match the keyword 'nice tee'"),
    ("set_ad_budget", {"daily_budget": -1.0}, "daily_budget -1.0 is out of range"),
    ("set_ads_active", {"active": "maybe"}, "active must be True or False"),
    ("set_display", {"cpm_bid": -3.0}, "cpm_bid -3.0 is out of range"),
    ("set_affiliate_commission", {"rate": 0.9}, "rate 0.9 is out of range"),
    ("issue_coupon", {"amount": 120.0, "threshold": 99.0}, "a coupon of 120 yuan must be smaller than its threshold"),
    ("spend_and_save", {"tiers": "299:40, 199:20"}, "rising thresholds"),
    ("spend_and_save", {"tiers": "199-20"}, "cannot read the tier '199-20'"),
    ("spend_and_save", {"tiers": ""}, "write the tiers as threshold:amount pairs"),
    ("flash_sale", {"price": 500.0}, "a flash-sale price must be below the list price of A (60.00 yuan)"),
    ("set_free_shipping_threshold", {"threshold": -10.0}, "threshold -10.0 is out of range"),
    ("enrol_festival", {"discount_share": 0.05}, "discount_share 0.05 is out of range; allowed 0.1 to 0.9"),
    ("send_crm", {"coupon_amount": 50.0, "coupon_threshold": 30.0}, "must be smaller than its threshold"),
]


@pytest.mark.parametrize(("lever", "typed", "words"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_bad_value_is_a_plain_message_and_the_simulation_is_untouched(eventful, lever, typed, words):
    model, twin = ConsoleModel(eventful, seed=1), ConsoleModel(eventful, seed=1)
    model.run(2)
    twin.run(2)
    for field, value in typed.items():
        model.set(lever, field, value)
    result = model.apply(lever)
    assert not result.ok
    assert words in result.message
    assert result.message.startswith("Not done: ") and result.message.endswith("Nothing changed.")
    assert "Traceback" not in result.message and "Error" not in result.message
    assert model.results[lever] == result
    for m in (model, twin):
        m.run_day()
    for table in ("daily", "events", "orders", "inventory", "pnl"):
        assert_frame_equal(model.sim.tables[table], twin.sim.tables[table])


def test_repeating_listing_work_under_way_is_refused_in_plain_words(model):
    assert model.apply("improve_listing").ok
    again = model.apply("improve_listing")
    assert not again.ok and "title work on A is already under way" in again.message


def test_replies_answer_the_open_reviews_bad_ones_first(model):
    no_review = model.apply("reply_to_review")
    assert not no_review.ok and "there are no unanswered reviews" in no_review.message
    model.run(3)
    options = model.form("reply_to_review").fields[0].options
    reviews = model.sim.tables["reviews"]
    bad = reviews[reviews["rating"] <= 2]["review_id"].tolist()
    assert [v for _, v in options[:len(bad)]] == sorted(bad, reverse=True)
    assert options[0][0].startswith(f"#{bad[-1]} A ")
    assert "3 unanswered" in check(model, "Reviews").answer
    for _ in bad:
        assert model.apply("reply_to_review").ok  # the choice falls back to the next open review
    assert check(model, "Reviews").status == "ok"
    assert not set(bad) & {v for _, v in model.form("reply_to_review").fields[0].options}


def test_forms_follow_the_chosen_sku_and_festival(model):
    model.set("set_price", "sku", "B")
    assert model.values["set_price"]["price"] == 80.0
    model.set("flash_sale", "sku", "B")
    assert model.values["flash_sale"]["price"] == 64.0
    assert model.values["enrol_festival"] == {"name": "spring", "discount_share": 0.1}
    with pytest.raises(KeyError, match="the set_price form has no field 'colour'"):
        model.set("set_price", "colour", "red")
    with pytest.raises(KeyError, match="no lever 'set_mood'"):
        model.apply("set_mood")


def test_choices_are_what_the_lever_accepts(model):
    model.set("discount", "start_day", 2)
    assert model.apply("discount").ok
    assert "from 2026-03-04 00:00" in model.results["discount"].message
    model.set("flash_sale", "start_hour", 20)
    assert model.apply("flash_sale").ok
    assert "2026-03-03 20:00 for 4 h" in model.results["flash_sale"].message
    model.set("set_keyword_bid", "keyword", "nice tee")
    assert model.apply("set_keyword_bid").ok and "on B" in model.results["set_keyword_bid"].message


def test_spend_and_save_tiers_are_read_from_text():
    assert levers_mod.parse_tiers("199:20, 299:40") == [(199.0, 20.0), (299.0, 40.0)]
    assert levers_mod.parse_tiers("99：10，199：30") == [(99.0, 10.0), (199.0, 30.0)]  # typed with a Chinese IME


# -- feed and checklist ------------------------------------------------------------------------
def test_the_feed_and_checklist_tell_what_happened(model):
    model.set("set_keyword_bid", "bid", 3.0)
    model.apply("set_keyword_bid")
    model.set("set_ad_budget", "daily_budget", 30.0)
    model.apply("set_ad_budget")
    model.run_day()
    feed = model.feed()
    assert feed[0].tone == "alert" and feed[0].text.startswith("Paid search budget of 30 yuan ran out at ")
    assert feed[0].text.endswith(f"{feed[0].ts:%H:%M}")
    assert [i.kind for i in feed[1:]] == ["set_ad_budget", "set_keyword_bid"]
    assert check(model, "Paid search").status == "alert"
    assert check(model, "Rivals").answer == "No moves seen."
    fest = check(model, "Activities")
    assert fest.status == "alert" and "spring main day 03-05 (in 2 days); not enrolled" in fest.answer

    model.run_day()  # day 1: the timeline's trouble, bad reviews included (in the hours they appear)
    text = texts(model.feed())
    assert text.count("New negative review (差评) of A") == 3
    assert check(model, "Reviews").status == "alert"
    assert "Rival: Rival cut R 65 -> 55 yuan" in text
    assert "Stock of B written off" in text
    assert "Festival: spring: pre-sale (预售) begins" in text
    assert "set_keyword_bid" not in {i.kind for i in model.feed()}  # only since the last run began
    assert check(model, "Rivals").status == "alert" and "Rival cut R 65 -> 55 yuan" in check(model, "Rivals").answer
    stock = check(model, "Stock")
    # sold out for most of the day (returns may put the odd unit back on the shelf in the evening)
    assert stock.status == "alert" and "Sold out: B (" in stock.answer

    model.run_day()  # day 2
    assert "New negative review (差评) of A" not in texts(model.feed())
    assert check(model, "Rivals").status == "ok"
    assert model.apply("enrol_festival").ok
    assert check(model, "Activities").answer.startswith("Enrolled in spring")


def test_a_sku_that_sells_out_shows_in_the_feed_and_the_stock_check(make_tiny):
    model = ConsoleModel(make_tiny(skus={"A": {"initial_stock": 3}}), seed=1)
    model.run_day()
    out = [i for i in model.feed() if i.kind == "stockout"]
    assert out and out[0].text == f"A sold out (断货) at {out[0].ts:%H:%M}" and out[0].tone == "alert"
    answer = check(model, "Stock").answer
    assert answer.startswith("Sold out: A (") and "Reorder" in answer
    model.set("reorder", "qty", 300)
    assert model.apply("reorder").ok
    assert model.stock().set_index("sku").loc["A", "on_order"] == 300


def test_a_shop_diagnosis_month_raises_its_three_problems_as_they_happen():
    model = ConsoleModel("shop_diagnosis", seed=3)
    model.run(7)
    model.run_day()
    assert "Rival: North Thread cut NT-CHINO 189 -> 139 yuan" in texts(model.feed())
    model.run(6)
    assert "New negative review (差评) of PANT-SLIM" in texts(model.feed())
    assert "PANT-SLIM" in check(model, "Reviews").answer
    model.run(6)
    assert "Stock of TEE-CLASSIC written off" in texts(model.feed())
    assert "TEE-CLASSIC" in check(model, "Stock").answer


# -- charts' data ------------------------------------------------------------------------------
def test_chart_data_agrees_with_the_tables(model):
    assert model.gmv_profit().empty and model.traffic_by_source().empty
    model.run(2)
    model.run_week()
    daily = model.sim.tables["daily"]
    assert_frame_equal(model.gmv_profit(), daily[["date", "gmv", "net_profit"]])
    assert_frame_equal(model.conversion(), daily[["date", "conversion_rate"]])
    traffic = model.traffic_by_source()
    assert list(traffic["date"]) == list(daily["date"])
    assert (traffic.drop(columns="date").sum(axis=1) == daily["sessions"]).all()
    sessions = model.sim.tables["sessions"]
    assert traffic["search"].sum() == (sessions["source"] == "search").sum()
    stock = model.stock()
    assert dict(zip(stock["sku"], stock["on_hand"], strict=True)) == model.view.stock()
    inv = model.sim.tables["inventory"]
    sold = inv[inv["date"] > inv["date"].max() - pd.Timedelta(days=7)].groupby("sku", observed=True)["sold"].mean()
    a = stock.set_index("sku").loc["A"]
    assert a["days_of_cover"] == pytest.approx(a["on_hand"] / sold["A"])


def test_the_same_seed_and_clicks_give_the_same_console(eventful):
    def session() -> tuple:
        m = ConsoleModel(eventful, seed=4)
        m.set("set_price", "price", 55.0)
        m.apply("set_price")
        m.run(3)
        m.apply("reply_to_review")
        m.run_day()
        return m.tiles(), [(i.when, i.text) for i in m.feed()], m.checklist()

    assert session() == session()


# -- failures never escape ---------------------------------------------------------------------
def test_a_run_that_fails_is_a_message_not_an_exception(model, monkeypatch, caplog):
    def refuse(days):
        raise ShopsimError("this simulation stopped on day 0 because of a test")

    monkeypatch.setattr(model.sim, "run", refuse)
    result = model.run_day()
    assert result == Result(False, "Not run: this simulation stopped on day 0 because of a test.")

    def crash(days):
        raise RuntimeError("boom")

    monkeypatch.setattr(model.sim, "run", crash)
    assert model.run_week() == Result(False, "The simulation stopped: RuntimeError: boom.")
    assert "run failed" in caplog.text


def test_a_lever_that_crashes_is_a_message_not_an_exception(model, monkeypatch, caplog):
    monkeypatch.setattr(model.sim, "set_price", lambda **kw: 1 / 0)
    result = model.apply("set_price")
    assert not result.ok and "the simulator failed (ZeroDivisionError" in result.message
    assert "set_price failed" in caplog.text


def test_the_inherited_campaign_shows_in_the_paid_search_check():
    model = ConsoleModel("baseline", seed=1)
    answer = check(model, "Paid search").answer
    assert "Running: " in answer and "cotton t-shirt 2.10 (质量分 " in answer and "budget" in answer
    assert "TEE-CLASSIC 10%" in answer


def test_the_service_panel_shows_the_queue_by_hour_and_open_after_sales():
    m = ConsoleModel("baseline", seed=1)
    m.run_day()
    panel = m.service_panel()
    by_hour = panel["by_hour"]
    assert list(by_hour["hour"]) == list(range(24)) and list(by_hour["agents"]) == panel["rota"]
    assert by_hour["inquiries"].sum() == panel["yesterday"]["inquiries"] > 0
    night = by_hour[by_hour["agents"] == 0]
    assert (night["answered_share"].fillna(0) == 0).all(), "nobody on duty: nobody answered in time"
    assert panel["open_refunds"] > 0
    m.set("set_service", "agents_by_hour", "0-23:2")
    assert m.apply("set_service").ok
    assert m.service_panel()["rota"] == [2] * 24
    m.set("set_service", "agents_by_hour", "9-17:1.5")
    result = m.apply("set_service")
    assert not result.ok and "whole number" in result.message


def test_the_console_records_its_actions_as_a_plan_that_replays_the_same_month(tmp_path):
    import json

    from shopsim import plans

    m = ConsoleModel("baseline", seed=3)
    m.set("set_price", "sku", "TEE-CLASSIC")
    m.set("set_price", "price", 65)
    m.apply("set_price")
    m.set("reorder", "qty", 0)
    assert not m.apply("reorder").ok  # a refused action is not recorded
    m.run(2)
    m.set("spend_and_save", "tiers", "199:20, 299:40")
    m.apply("spend_and_save")
    m.run(1)
    assert m.plan() == [{"day": 0, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 65},
                        {"day": 2, "lever": "spend_and_save", "tiers": [[199.0, 20.0], [299.0, 40.0]], "days": 7}]
    path = m.save_plan(tmp_path / "month.json")
    assert json.loads(path.read_text(encoding="utf-8")) == m.plan()
    again = shopsim.simulate("baseline", days=3, seed=3, policy=plans.policy(plans.check(plans.load(path), 3)))
    for table in ("daily", "orders", "order_items", "events", "pnl"):
        pd.testing.assert_frame_equal(again.tables[table].reset_index(drop=True),
                                      m.sim.tables[table].reset_index(drop=True))
