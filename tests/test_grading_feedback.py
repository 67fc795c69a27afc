"""Feedback that teaches: value checks in the notebook from a sealed key, form worth 0, all wrong scores 0."""

import ast
import copy
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from course_lessons import every_lesson, lesson_built

import shopsim.datasets
from shopsim.grading import answer_key, build, checks, questions, reference
from shopsim.grading.batch import grade_batch
from shopsim.grading.gradebook import Gradebook
from shopsim.grading.lesson_progress import Grader

REPO = Path(__file__).resolve().parents[1]
LESSONS = REPO / "course" / "lessons"
SOURCE = REPO / "course" / "source"
NAMES = sorted(p.stem for p in SOURCE.glob("*.ipynb"))


def _exam(lesson: str) -> bool:
    """Whether a lesson is in exam mode (its copy checks form only; values when graded)."""
    nb = json.loads((SOURCE / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    return "mode: exam" in "".join(nb["cells"][0]["source"])


def _check(lesson: str, question: str, env: dict):
    return Grader(LESSONS / f"{lesson}.ipynb").check(question, env)


def _baseline():
    return shopsim.datasets.load("baseline_month")


def _hero_inventory():
    inv = _baseline()["inventory"].sort_values("date")
    return inv[inv["sku"] == "TEE-CLASSIC"]


def _daily_cr():
    daily = shopsim.datasets.load("daily_report_month")["daily"].set_index("date")
    day = (daily["gmv"] / daily["gmv"].shift(7) - 1).idxmin()
    return daily["conversion_rate"], day


def _hero_funnel():
    s = _baseline()["sessions"]
    hero = s[s["landing_sku"] == "TEE-CLASSIC"]
    return hero["added_to_cart"].sum(), hero["ordered"].sum()


def _paid_traffic_pnl():
    return reference.tables("paid_traffic", days=30, seed=4)["pnl"].sum(numeric_only=True)


def _margin_after_ads():
    return _paid_traffic_pnl()["contribution"] / _paid_traffic_pnl()["revenue"]


def _margin_before_ads():
    p = _paid_traffic_pnl()
    costs = p[["ad_spend_search", "ad_spend_display", "affiliate_commission", "affiliate_service_fee"]].sum()
    return (p["contribution"] + costs) / p["revenue"]


def _hero_share(column):
    data = shopsim.datasets.load("shop_diagnosis")
    lines = data["order_items"].merge(data["orders"][["order_id", "ts"]], on="order_id")
    lines = lines[lines["ts"].dt.tz_localize(None).dt.normalize() <= "2026-04-14"]
    lines = lines.assign(revenue=lines["qty"] * lines["unit_paid_price"])
    return lines.loc[lines["sku"] == "TEE-CLASSIC", column].sum() / lines[column].sum()


def _hero_demand():
    from shopsim.grading import reference

    inv = reference.tables("stockout_crisis", days=30, seed=1)["inventory"]
    week = inv[inv["sku"] == "TEE-CLASSIC"].sort_values("date")["sold"].iloc[:7]
    return week.mean(), week.std()


def _click_ratio() -> float:
    t = reference.tables("new_product_launch", days=30, seed=9)
    s, r = t["sessions"], t["rankings"]
    s = s[(s["source"] == "search") & (s["keyword"] == "henley shirt") & (s["landing_sku"] == "TEE-WAFFLE")]
    visits = s.groupby(s["ts"].dt.tz_localize(None).dt.normalize().rename("date")).size().rename("v")
    pos = r[(r["keyword"] == "henley shirt") & (r["sku"] == "TEE-WAFFLE")].set_index("date")
    per = pos[["organic_position"]].join(visits).groupby("organic_position")["v"].mean()
    return float(per[1] / per[2])


def _chino_gap() -> float:
    inv = reference.tables("rival_moves", days=30, seed=7)["inventory"]
    return float(inv.loc[inv["sku"] == "PANT-CHINO", "sold"].sum()) - 820


def _returning_gmv_share() -> float:
    t = reference.tables("customer_base", days=30, seed=7)
    o = t["orders"].merge(t["sessions"][["session_id", "is_new_customer"]], on="session_id")
    return o.loc[~o["is_new_customer"], "paid_amount"].sum() / o["paid_amount"].sum()


def _main_day_orders():
    orders = reference.tables("festival_plan", days=52, seed=3)["orders"]
    return orders[orders["ts"].dt.tz_localize(None).dt.normalize() == pd.Timestamp("2026-11-11")]


# lesson -> (question, right answers, a wrong answer of the right form, words the feedback must use)
CASES = {
    "00-operator-role": lambda: ("days_of_stock",
                                 {"days_of_stock": _hero_inventory()["on_hand_end"].iloc[-1]
                                  / _hero_inventory()["sold"].tail(7).mean()},
                                 {"days_of_stock": _hero_inventory()["on_hand_end"].iloc[-1]
                                  / _hero_inventory()["sold"].tail(7).sum()},
                                 "units on hand / units sold per day"),
    "01-daily-report": lambda: ("conversion_change",
                                {"conversion_change": _daily_cr()[0][_daily_cr()[1]]
                                 / _daily_cr()[0][_daily_cr()[1] - pd.Timedelta(days=7)] - 1},
                                {"conversion_change": _daily_cr()[0][_daily_cr()[1]]
                                 - _daily_cr()[0][_daily_cr()[1] - pd.Timedelta(days=7)]},
                                "percentage points"),
    "02-traffic-funnel": lambda: ("hero_abandonment",
                                  {"hero_abandonment": 1 - _hero_funnel()[1] / _hero_funnel()[0]},
                                  {"hero_abandonment": _hero_funnel()[1] / _hero_funnel()[0]},
                                  "the share of carts that were paid"),
    "03-shop-diagnosis": lambda: ("hero_share", {"hero_share": _hero_share("revenue")},
                                  {"hero_share": _hero_share("qty")}, "share of the units sold"),
    "04-products-prices-stock": lambda: ("reorder_point",
                                         {"reorder_point": _hero_demand()[0] * 16 + 1.65 * _hero_demand()[1] * 4},
                                         {"reorder_point": _hero_demand()[0] * 7 + 1.65 * _hero_demand()[1] * 7 ** 0.5},
                                         "16 days"),
    "05-search-and-listings": lambda: ("click_ratio", {"click_ratio": _click_ratio()},
                                       {"click_ratio": 1 / _click_ratio()}, "second place over first place"),
    "06-paid-traffic": lambda: ("break_even_roas", {"break_even_roas": 1 / _margin_before_ads()},
                                {"break_even_roas": 1 / _margin_after_ads()},
                                "already after the ad costs"),
    "07-promotions": lambda: ("break_even_lift", {"break_even_lift": (59 - 22) / (0.8 * 59 - 22) - 1},
                              {"break_even_lift": 1 / 0.8 - 1}, "keeps the revenue"),
    "08-competitors": lambda: ("review", {"review_gap": _chino_gap(), "review_cause": "b"},
                               {"review_gap": -_chino_gap(), "review_cause": "b"}, "goal minus result"),
    "10-customers-and-service": lambda: ("returning_gmv_share", {"returning_gmv_share": _returning_gmv_share()},
                                         {"returning_gmv_share": 1 - _returning_gmv_share()}, "new buyers' share"),
    "09-festival-campaign": lambda: ("midnight_share",
                                     {"midnight_share": (_main_day_orders()["ts"].dt.hour < 2).mean()},
                                     {"midnight_share": (_main_day_orders()["ts"].dt.hour < 1).mean()},
                                     "first hour (00:00-00:59) only"),
}


@pytest.mark.parametrize("lesson", NAMES)
def test_a_wrong_answer_gets_value_feedback_in_the_notebook(lesson):
    if _exam(lesson):
        pytest.skip("an exam copy checks the form only; values are checked when graded")
    question, right, wrong, words = CASES[lesson]()
    checked = _check(lesson, question, wrong)
    assert not checked.result.passed and checked.result.status == "needs work"
    assert words in repr(checked) and f"Exercise `{question}`" in repr(checked)
    assert "Error at line" not in repr(checked)
    good = _check(lesson, question, right)
    assert good.result.passed and good.result.points == good.result.possible > 0, repr(good)


def test_choices_get_the_hint_of_the_option_chosen():
    checked = _check("00-operator-role", "responsible", {"responsible": "c"})
    assert "customer service" in repr(checked) and checked.result.points == 0
    rows = {"sessions": "a", "orders": "b", "order_items": "d", "inventory": "e", "market": "f"}
    checked = _check("00-operator-role", "rows", {"rows": rows})
    assert 'rows["orders"]' in repr(checked) and "several orders" in repr(checked)


def test_a_form_problem_is_said_once_and_gates_the_value():
    checked = _check("03-shop-diagnosis", "hero_share", {"hero_share": 7.46})
    text = repr(checked)
    assert "looks like a percentage" in text and "cannot be a rate" not in text
    assert [c.kind for c in checked.result.cases] == ["format", questions.GATED]


def test_unanswered_and_exam_mode(tmp_path):
    checked = _check("01-daily-report", "drop_day", {"drop_day": ...})
    assert checked.result.status == "not answered"
    nb = json.loads((LESSONS / "01-daily-report.ipynb").read_text(encoding="utf-8"))
    nb["metadata"]["shopsim"]["mode"] = "exam"
    for q, src in nb["metadata"]["otter"]["tests"].items():
        nb["metadata"]["otter"]["tests"][q] = src.split(f"@test_case(name={questions.VALUE_CASE!r}")[0]
    path = tmp_path / "exam.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    exam = Grader(path).check("drop_day", {"drop_day": "2026-03-10"})
    assert exam.result.passed and "checked when your instructor grades" in repr(exam)


@pytest.fixture(scope="module")
def revealed() -> dict[str, dict]:
    out = {}
    for name, lesson in every_lesson().items():
        master = SOURCE / f"{name}.ipynb"
        nb = json.loads(master.read_text(encoding="utf-8"))
        out[name] = build.run_master(master, nb, lesson.tests, lesson.files, reveal=True)["expected"]
    return out


def _spellings(value) -> set[str]:
    if isinstance(value, str):
        return {value} if len(value) >= 6 else set()
    x = float(value)
    if x == int(x) and abs(x) < 1000:
        return set()  # small whole numbers (a day, an hour) are everywhere in a lesson's text
    out = {repr(x), f"{x:.6g}", f"{x:.4g}", f"{x:.3f}", f"{x:.2f}"}
    return {s for s in out if len(s.replace("-", "").replace(".", "").lstrip("0")) >= 3}


@pytest.mark.parametrize("lesson", NAMES)
def test_the_expected_values_are_not_in_the_student_copy(lesson, revealed):
    nb = json.loads((LESSONS / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    # text options are shown to the trainee on purpose (the answer is one of them), and a lesson's
    # text names its tables and SKUs: texts are looked for in the question's own key, numbers everywhere
    keys = {q: [spec for m in re.findall(r"answer_key\.verify\(env, (.*)\)\n", src)
                for spec in json.loads(ast.literal_eval(m))]
            for q, src in nb["metadata"]["otter"]["tests"].items()}
    assert all(keys.values()) or (_exam(lesson) and not any(keys.values()))
    all_text = json.dumps(nb, ensure_ascii=False)
    found = []
    for question, values in revealed[lesson].items():
        if not values:  # a decision's outcome depends on the trainee's plan: its key holds no expected value
            assert _exam(lesson) or {spec["kind"] for spec in keys[question]} == {"decision"}, question
            continue
        own_key = json.dumps([{k: v for k, v in spec.items() if k != "options"} for spec in keys[question]],
                             ensure_ascii=False)
        for value in values:
            for spelled in _spellings(value):
                where = own_key if isinstance(value, str) else all_text
                if re.search(rf"(?<![0-9A-Za-z-]){re.escape(spelled)}(?![0-9A-Za-z-])", where):
                    found.append((question, spelled))
    assert not found, found


# An all-wrong submission: every answer of the right form, every value wrong.
ALL_WRONG = {
    "00-operator-role": {
        "responsible": 'responsible = "c"',
        "rows": "rows = {}\n" + "\n".join(f'rows["{t}"] = "b"' for t in
                                          ["sessions", "orders", "order_items", "inventory", "market"]),
        "where": "where = {}\n" + "\n".join(f'where["{c}"] = "daily"' for c in
                                            ["keywords", "sources", "profit", "stock"]),
        "peak": 'peak = "a"',
        "days_of_stock": 'inventory = data["inventory"]\nhero = inventory[inventory["sku"] == "TEE-CLASSIC"]\n'
                         'days_of_stock = hero["on_hand_end"].iloc[-1] / hero["sold"].tail(7).sum()',
    },
    "01-daily-report": {
        "sales": 'orders["date"] = orders["ts"].dt.date\nsales = orders.groupby("date").agg(orders=("order_id", '
                 '"count"), buyers=("customer_id", "nunique"), gmv=("paid_amount", "max")).reset_index()',
        "report": 'report = traffic.merge(sales, on="date")\nreport["conversion_rate"] = report["buyers"] / '
                  'report["uv"]\nreport["aov"] = report["gmv"] / report["orders"]\nreport["bounce_rate"] = '
                  'report["bounced"] / report["sessions"]',
        "drop_day": 'drop_day = "2026-03-10"',
        "conversion_change": "conversion_change = 0.5",
        "driver": 'driver = "d"',
        "echo": 'echo = "a"',
        "tomorrow": 'tomorrow = "a"',
    },
    "02-traffic-funnel": {
        "hero_abandonment": "hero_abandonment = 0.5",
        "device_funnel": 'import pandas as pd\ndevice_funnel = pd.DataFrame({"device": ["app"], "sessions": [1], '
                         '"carts": [1], "orders": [1], "add_to_cart_rate": [0.5], "cart_abandonment_rate": [0.5]})',
        "peak_hour": "peak_hour = 4",
        "weakest_keyword": 'weakest_keyword = sessions["keyword"].cat.categories[0]',
        "pc_uv_value": "pc_uv_value = 1.5",
        "followers_matter": 'followers_matter = "a"',
        "search_leak": 'search_leak = "a"',
        "work_on": 'work_on = "a"',
    },
    "03-shop-diagnosis": {
        "sku_revenue": 'import pandas as pd\nsku_revenue = pd.DataFrame({"date": ["2026-04-01"], "sku": ["X"], '
                       '"revenue": [1.0]})',
        "hero_share": "hero_share = 0.01",
        "stockout_day": "stockout_day = 2",
        "rival_sku": 'rival_sku = sorted(market["sku"].astype(str).unique())[0]\nrival_day = 2',
        "negative_reviews": 'import pandas as pd\nnegative_reviews = pd.DataFrame({"date": ["2026-04-01"], '
                            '"sku": ["X"], "negative_reviews": [1]})',
        "review_sku": 'review_sku = "TEE-POLO"\nreview_day = 2',
        "chinos_reading": 'chinos_reading = "a"',
        "stockout_cause": 'stockout_cause = "a"',
        "sku_profit": 'sku_profit = products.assign(write_offs=0.0, profit=products["revenue"])',
        "loss_reason": 'loss_reason = "d"',
        "actions": 'actions = ["d", "e", "f"]',
    },
    "04-products-prices-stock": {
        "sku_pnl": 'import pandas as pd\nsku_pnl = pd.DataFrame({"sku": ["TEE-CLASSIC"], "units": [1], '
                   '"revenue": [1.0], "contribution": [1.0]})',
        "elasticity": "elasticity = 3.0",
        "reorder_point": "reorder_point = 700",
        "crisis_plan": "crisis_plan = []",
        "summer_plan": 'summer_plan = [{"day": 0, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 49}]',
        "clearance": 'clearance = "a"',
        "review_gap": 'review_gap = 5000\nreview_cause = "b"',
    },
    "05-search-and-listings": {
        "top_day": "top_day = 2",
        "click_ratio": "click_ratio = 1.0",
        "trial_reading": 'trial_reading = "a"',
        "extra_visits": "extra_visits = 0\nwork_return = 0.0",
        "launch_plan": "launch_plan = []",
        "short_plan": 'short_plan = [{"day": 0, "lever": "set_price", "sku": "TEE-WAFFLE", "price": 59}]',
        "gap": 'gap = 0\nmain_cause = "a"',
    },
    "06-paid-traffic": {
        "keyword_report": 'import pandas as pd\nkeyword_report = pd.DataFrame({"keyword": ["chinos"], '
                          '"impressions": [1], "clicks": [1], "spend": [1.0], "orders": [1], "revenue": [1.0], '
                          '"ctr": [1.0], "cpc": [1.0], "cvr": [1.0], "roas": [1.0]})',
        "break_even_roas": "break_even_roas = 1.2",
        "worst_keyword": 'worst_keyword = "chinos"\nwinner = "cotton t-shirt"',
        "profit_change": "profit_change = -5000\norders_change = 700",
        "budget_hours": 'budget_hours = "a"',
        # bids raised everywhere: more orders, and far less profit than doing nothing
        "fix_plan": 'fix_plan = [{"day": 0, "lever": "set_keyword_bid", "keyword": k, "bid": 5} for k in '
                    '["cotton t-shirt", "mens casual wear", "oversized tee", "joggers", "cargo pants", '
                    '"linen shirt", "slim jeans", "oxford shirt", "polo shirt", "chinos"]]',
        # ads off: profitable, but short of the 5,600 orders the exercise asks for
        "orders_plan": 'orders_plan = [{"day": 0, "lever": "set_ads_active", "active": False}]',
        "review_gap": 'review_gap = 51000\nreview_cause = "a"',
    },
    "07-promotions": {
        "break_even_lift": "break_even_lift = 0.25",
        "share_at_199": "share_at_199 = 0.5",
        "week_refund_rate": "week_refund_rate = 0.5",
        "store_plan": "store_plan = []\nstore_extra_gmv = 1.0\nstore_extra_profit = 1.0",
        "review_gap": 'review_gap = 1.0\nreview_cause = "a"',
        "promo_plan": 'promo_plan = [{"day": 10, "lever": "discount", "sku": "TEE-CLASSIC", "share_off": 0.2, '
                      '"days": 7}]',
        "push_plan": 'push_plan = [{"day": 10, "lever": "discount", "sku": s.sku, "share_off": 0.5, "days": 7}\n'
                     '             for s in shopsim.load_scenario("baseline").skus]',
    },
    "08-competitors": {
        "cut_day": 'cut_day = "2026-03-07"\ncut_share = 1 - 135 / 189',
        "move_log": 'import pandas as pd\nmove_log = pd.DataFrame({"date": ["2026-03-03"], "shop": ["Urban Basics"], '
                    '"sku": ["UB-TEE"], "price_before": [59.0], "price": [53.1], "change": [-0.1]})',
        "gain_calm": "gain_calm = gain_with_answers\nwar_take_back = 0.19",
        "match_gain": 'match_gain = 60000.0\nmatch_stockout_day = "2026-03-02"',
        # a price rise against the cut: about what doing nothing earns, or less
        "chino_plan": 'chino_plan = [{"day": 6, "lever": "set_price", "sku": "PANT-CHINO", "price": 179}]',
        # a price war against the rival's push, the jeans cut to 119 yuan: less than doing nothing (bidding up
        # the keyword now earns about a quarter of the reference's gain, so it is no longer all wrong)
        "jeans_plan": 'jeans_plan = [{"day": 15, "lever": "set_price", "sku": "PANT-SLIM", "price": 119}]',
        "review_gap": 'review_gap = 195\nreview_cause = "a"',
    },
    "10-customers-and-service": {
        "returning_gmv_share": "returning_gmv_share = 0.5",
        "repeat_rate": "repeat_rate = 0.2",
        "coupon_plan": 'coupon_plan = [{"day": 3, "lever": "send_crm", "segment": "past_buyers", '
                       '"coupon_amount": 20}]\ncoupon_extra_orders = 1000\ncoupon_extra_profit = -5000.0',
        "evening_conversion": "evening_conversion = 0.5",
        "strict_refunds": 'strict_refunds = "a"',
        # a coupon to every segment: plenty of orders, and the followers' messages lose more than the rest earn
        "crm_plan": 'crm_plan = [{"day": 3, "lever": "send_crm", "segment": s, "coupon_amount": 20}\n'
                    '            for s in ("past_buyers", "lapsed_buyers", "followers")]',
        # the evening peak staffed to the hilt and nobody at night: far over the wage budget
        "rota_plan": 'rota_plan = [{"day": 0, "lever": "set_service", "agents_by_hour": [0] * 9 + [3] * 9 + [5] * 5 '
                     '+ [0]}]',
        "review_gap": 'review_gap = 0.1\nreview_cause = "a"',
    },
    "09-festival-campaign": {
        "midnight_share": "midnight_share = 0.9",
        "wave_ratio": "wave_ratio = 0.5",
        "hero_demand": "hero_demand = 4200",
        "no_enrol_plan": "no_enrol_plan = PLAN\nenrol_extra_gmv = 1.0\nenrol_extra_profit = 1.0",
        "review_gap": 'review_gap = 1.0\nreview_cause = "d"',
        # the venue at 30 % off and no stock: deeper discounts on a shop that sells out anyway
        "festival_plan": 'festival_plan = [{"day": 0, "lever": "enrol_festival", "name": "double11", '
                         '"discount_share": 0.3}]',
        # nobody on duty: the wages saved do not pay for the orders lost
        "rota_plan": 'rota_plan = [{"day": 0, "lever": "set_service", "agents_by_hour": [0] * 24}]',
    },
    "11-capstone": {
        "month_report": 'import pandas as pd\nmonth_report = pd.Series({"gmv": 1.0, "uv": 1.0, "buyers": 1.0, '
                        '"conversion_rate": 0.5, "aov": 1.0, "refund_amount": 1.0, "ad_spend": 1.0, '
                        '"net_profit": 1.0})',
        "chino_out_day": 'chino_out_day = "2026-04-10"',
        "first_cut": 'first_cut = "NT-CHINO"\ncut_share = 0.5',
        "sale_plan": 'sale_plan = [{"day": 0, "lever": "enrol_festival", "name": "spring_sale", '
                     '"discount_share": 0.1}]\nsale_extra_gmv = 1.0\nsale_extra_profit = 1.0',
        # a cheaper chino sells out sooner at a thinner margin
        "chino_plan": 'chino_plan = [{"day": 0, "lever": "set_price", "sku": "PANT-CHINO", "price": 99}]',
        # every keyword bid up to 5 yuan a click: a month worse than doing nothing
        "capstone_policy": 'def policy(view):\n    if view.day == 0:\n        for word in view.keywords():\n'
                           '            view.set_keyword_bid(word, 5.0)\n\n\n'
                           'capstone_policy = capstone.policy_source(policy)',
        "review_result": 'review_result = 1.0\nreview_gap = 12345.0\n'
                         'review_causes = "The ads cost too much money this month."\n'
                         'review_next = "Spend less on ads and reorder the chinos earlier."',
    },
}


def _all_wrong(lesson: str) -> dict:
    nb = json.loads((LESSONS / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
            first = cell["source"].split(" = ", 1)[0].split("\n")[-1].split("[")[0]
            first = "sales" if cell["source"].startswith('orders["date"]') else first
            first = "days_of_stock" if cell["source"].startswith("inventory = ") else first
            cell["source"] = ALL_WRONG[lesson][first]
    return nb


def _graded(lesson: str, tmp_path: Path) -> dict[str, Any]:
    """How the cohort grader grades the right and the all-wrong submission of ``lesson`` (hidden checks,
    sandbox), by kind: both in one batch, as a cohort's are (one build, the reference runs shared)."""
    paths = {}
    for kind, nb in (("right", _all_right(lesson)), ("wrong", _all_wrong(lesson))):
        paths[kind] = tmp_path / f"{kind}-{lesson}.ipynb"  # graded as the trainees "right" and "wrong"
        paths[kind].write_text(json.dumps(nb), encoding="utf-8")
    outcomes = grade_batch(lesson_built(lesson), list(paths.values()), Gradebook(tmp_path / "g.db"), jobs=2,
                           timeout=300)
    for kind, outcome in zip(paths, outcomes, strict=True):
        assert outcome.status == "graded", (kind, outcome.reason)
    return dict(zip(paths, outcomes, strict=True))


@pytest.mark.parametrize("lesson", NAMES)
def test_a_right_submission_scores_full_marks_and_an_all_wrong_one_0(lesson, tmp_path):
    graded = _graded(lesson, tmp_path)
    wrong, right = graded["wrong"], graded["right"]
    assert wrong.max_points > 0 and wrong.points == 0, [(g.question, g.points, g.feedback) for g in wrong.grades]
    form_failures = [g.question for g in wrong.grades if "should be" in g.feedback]
    assert not form_failures, form_failures  # every answer had the right form: only values were wrong
    assert right.points == right.max_points > 0, [(g.question, g.points, g.feedback) for g in right.grades
                                                  if g.points < g.max_points]


def _all_right(lesson: str) -> dict:
    """The student copy with the master's solutions in its answer cells (solution markers dropped)."""
    master = json.loads((SOURCE / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    solutions = []
    for cell in master["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and ("# SOLUTION" in src or "# BEGIN SOLUTION" in src):
            lines = [re.sub(r"\s*# SOLUTION( NO PROMPT)?\s*$", "", line) for line in src.split("\n")
                     if not re.match(r"\s*# (BEGIN|END) SOLUTION", line)]
            solutions.append("\n".join(lines))
    nb = json.loads((LESSONS / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    answers = [c for c in nb["cells"] if "otter_answer_cell" in c.get("metadata", {}).get("tags", [])]
    assert len(answers) == len(solutions), f"{lesson}: {len(answers)} answer cells, {len(solutions)} solutions"
    for cell, solution in zip(answers, solutions, strict=True):
        cell["source"] = solution
    return nb


def test_sealed_numbers_accept_within_the_tolerance_and_never_far_beyond():
    spec = answer_key.seal(checks.Recorded("number", {"name": "x", "expected": 100.0, "rel": 0.01, "unit": "",
                                                      "between": None, "whole": False, "mistakes": None,
                                                      "hint": None}, True), answer_key.salt_for("l", "q", 0))
    for x in (99.01, 99.5, 100.0, 100.4, 100.99):
        answer_key.verify({"x": x}, [spec])
    for x in (97.9, 102.1, -100.0, 0.0):
        with pytest.raises(checks.CheckFailed, match="not right yet"):
            answer_key.verify({"x": x}, [spec])
    assert "100" not in json.dumps(spec)


def test_a_sealed_table_is_checked_with_its_columns_in_their_own_order_after_the_keys_json():
    # the key's JSON stores column kinds with sorted keys; rows must still be sorted as when sealed
    expected = pd.DataFrame({"sku": ["A", "B", "C"], "contribution": [3.0, 1.0, 2.0]})
    call = checks.Recorded("frame", {"name": "t", "expected": expected, "rel": 1e-3, "check_row_order": False,
                                     "check_dtype": False, "sort_by": None, "mistakes": None, "hint": None}, True)
    key = json.dumps([answer_key.seal(call, answer_key.salt_for("l", "q", 0))], sort_keys=True)
    answer_key.verify({"t": expected.iloc[::-1]}, key)
    with pytest.raises(checks.CheckFailed, match="column 'contribution' differs"):
        answer_key.verify({"t": expected.assign(contribution=[3.0, 2.0, 1.0])}, key)
