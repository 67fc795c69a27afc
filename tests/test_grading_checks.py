"""Domain checks: right answers pass, every kind of wrong answer gets operator feedback, never the answer."""

import math

import numpy as np
import pandas as pd
import pytest

from shopsim.grading import checks, feedback


def fails(kind: str, check, *args, **kwargs) -> str:
    """Run a check that must fail with ``kind``; return its message."""
    with pytest.raises(checks.CheckFailed) as info:
        check(*args, **kwargs)
    assert info.value.kind == kind, str(info.value)
    return str(info.value)


# -- placeholders, types, NaN ------------------------------------------------------------
@pytest.mark.parametrize("value", [..., None, checks.MISSING])
@pytest.mark.parametrize("check", [checks.number, checks.rate])
def test_unanswered_placeholders_say_so(check, value):
    message = fails(checks.UNANSWERED, check, value, name="conversion")
    assert "`conversion`" in message


def test_answer_reports_names_never_defined():
    assert checks.answer({"x": 3}, "x") == 3
    message = fails(checks.UNANSWERED, checks.answer, {}, "conversion")
    assert "not defined" in message and "run the cell" in message


@pytest.mark.parametrize("value, words", [
    ("0.02", "the text"), (True, "yes/no"), ([0.02], "list"), (pd.DataFrame({"a": [1, 2]}), "DataFrame with 2 rows"),
    (pd.Series([0.02]), "take the number itself"), (np.array([0.5]), "take the number itself"),
])
def test_wrong_types_are_named(value, words):
    message = fails(checks.WRONG_TYPE, checks.rate, value, name="conversion")
    assert words in message


@pytest.mark.parametrize("value, words", [(math.nan, "NaN"), (np.float64("nan"), "NaN"), (math.inf, "infinite")])
def test_nan_and_infinity_point_at_the_division(value, words):
    message = fails(checks.WRONG_VALUE, checks.number, value, name="aov")
    assert words in message


def test_numpy_scalars_count_as_numbers():
    checks.number(np.int64(5), 5, name="orders")
    checks.rate(np.float32(0.25), 0.25, name="conversion")


# -- numbers and rates -------------------------------------------------------------------
def test_number_within_relative_tolerance():
    checks.number(101.0, 100.0, name="aov", rel=0.01)
    message = fails(checks.WRONG_VALUE, checks.number, 102.0, 100.0, name="aov", rel=0.01)
    assert "100" not in message  # the expected value is never shown


def test_number_range_whole_and_hint():
    fails(checks.WRONG_VALUE, checks.number, -5, name="aov", unit="yuan", between=(1, 1000))
    fails(checks.WRONG_TYPE, checks.number, 3.5, name="orders", whole=True)
    message = fails(checks.WRONG_VALUE, checks.number, 80, 100, name="aov", hint=feedback.definition("aov"))
    assert "paid amount" in message and "paying buyers" in message


def test_rate_given_as_percentage_gets_a_hint_not_a_flat_wrong():
    message = fails(checks.FORMAT, checks.rate, 2.3, 0.023, name="conversion")
    assert "percentage" in message and "0.023" in message  # the fixed example, not the trainee's value / 100
    message = fails(checks.FORMAT, checks.rate, 4.7, 0.047, name="conversion")
    assert "0.047" not in message
    fails(checks.FORMAT, checks.rate, 2.3, name="conversion")  # public check: sense only
    checks.rate(2.3, 0.023, name="conversion", percent="accept")


def test_rate_outside_zero_one_is_not_a_rate():
    assert "between 0 and 1" in fails(checks.WRONG_VALUE, checks.rate, -0.1, name="conversion")
    assert "between 0 and 1" in fails(checks.WRONG_VALUE, checks.rate, 250.0, name="conversion")


def test_known_mistakes_get_their_hint_and_never_the_answer():
    daily = pd.DataFrame({"pv": [300, 1900], "uv": [100, 800], "sessions": [150, 870], "orders": [12, 18],
                          "buyers": [10, 16], "units": [20, 30], "gmv": [1200.0, 1800.0],
                          "conversion_rate": [10 / 100, 16 / 800]})
    uv, buyers = 850, 25  # the two days' distinct visitors and buyers: 50 came on both days, 1 bought on both
    expected = buyers / uv
    mistakes = feedback.kpi_mistakes("conversion_rate", daily, uv=uv, buyers=buyers)
    message = fails(checks.WRONG_VALUE, checks.rate, 25 / 2200, expected, name="conversion", mistakes=mistakes)
    assert "page views" in message
    message = fails(checks.WRONG_VALUE, checks.rate, 30 / 850, expected, name="conversion", mistakes=mistakes)
    assert "buyers (people), not orders" in message
    message = fails(checks.WRONG_VALUE, checks.rate, daily["conversion_rate"].mean(), expected, name="conversion",
                    mistakes=mistakes)
    assert "totals" in message
    message = fails(checks.WRONG_VALUE, checks.rate, 26 / 900, expected, name="conversion", mistakes=mistakes)
    assert "each person once" in message
    aov = feedback.kpi_mistakes("aov", daily, uv=uv, buyers=buyers)
    message = fails(checks.WRONG_VALUE, checks.number, 3000 / 50, 3000 / 25, name="aov", mistakes=aov)
    assert "per unit" in message
    message = fails(checks.WRONG_VALUE, checks.number, 3000 / 26, 3000 / 25, name="aov", mistakes=aov)
    assert "each person once" in message
    for text in (str(expected), f"{expected:.4f}", f"{expected:.3g}"):
        assert text not in message


def test_a_period_of_several_days_needs_its_own_uv_and_buyers():
    daily = pd.DataFrame({"pv": [300, 1900], "uv": [100, 800], "sessions": [150, 870], "orders": [12, 18],
                          "buyers": [10, 16], "units": [20, 30], "gmv": [1200.0, 1800.0],
                          "conversion_rate": [0.1, 0.02]})
    for kpi in ("conversion_rate", "aov"):
        with pytest.raises(ValueError, match="2 days: give the period's uv and buyers"):
            feedback.kpi_mistakes(kpi, daily)
    assert feedback.kpi_mistakes("conversion_rate", daily.iloc[:1])["conversion counts buyers (people), not orders"] \
        == pytest.approx(0.12)


def test_a_mistake_equal_to_the_answer_is_ignored():
    # when orders == buyers, "orders / uv" is not a mistake: the right answer must pass
    daily = pd.DataFrame({"pv": [100], "uv": [50], "sessions": [60], "orders": [5], "buyers": [5], "units": [6],
                          "gmv": [500.0], "conversion_rate": [0.1]})
    checks.rate(0.1, 0.1, name="conversion", mistakes=feedback.kpi_mistakes("conversion_rate", daily))


def test_roas_mistake_and_unknown_kpi():
    daily = pd.DataFrame({"ad_spend": [100.0, 100.0], "roas": [3.0, 5.0]})
    assert feedback.kpi_mistakes("roas", daily)["ROAS is ad revenue over ad spend, not spend over revenue"] == 0.25
    with pytest.raises(KeyError, match="known"):
        feedback.kpi_mistakes("nps", daily)
    with pytest.raises(KeyError, match="known KPIs"):
        feedback.definition("nps")


def test_definitions_come_from_reports():
    from shopsim import reports

    assert feedback.definition("conversion_rate") == reports.conversion_rate.__doc__.strip().splitlines()[0]
    assert "unique visitors" in feedback.definition("conversion_rate")


# -- tables ------------------------------------------------------------------------------
@pytest.fixture
def best_days():
    return pd.DataFrame({"date": pd.to_datetime(["2026-03-02", "2026-03-05", "2026-03-07"]),
                         "gmv": [13782.0, 15000.5, 14100.0]})


def test_frame_ignores_row_order_dtype_extra_columns_and_index(best_days):
    shuffled = best_days.iloc[[2, 0, 1]].assign(uv=[1, 2, 3])
    checks.frame(shuffled, best_days, name="best_days")
    as_text = best_days.assign(date=best_days["date"].dt.strftime("%Y-%m-%d"), gmv=best_days["gmv"].astype("float32"))
    checks.frame(as_text, best_days, name="best_days", rel=1e-6)
    checks.frame(best_days.set_index("date"), best_days, name="best_days")


def test_frame_row_order_and_dtype_when_they_are_the_point(best_days):
    reversed_ = best_days.iloc[::-1]
    message = fails(checks.WRONG_VALUE, checks.frame, reversed_, best_days, name="best_days", check_row_order=True)
    assert "column" in message
    ints = best_days.assign(gmv=best_days["gmv"].round().astype("int64"))
    fails(checks.WRONG_TYPE, checks.frame, ints, best_days, name="best_days", check_dtype=True)


def test_frame_feedback_for_missing_columns_empty_and_wrong_rows(best_days):
    assert "'gmv'" in fails(checks.WRONG_TYPE, checks.frame, best_days[["date"]], best_days, name="best_days")
    assert "empty" in fails(checks.WRONG_VALUE, checks.frame, best_days.iloc[:0], best_days, name="best_days")
    assert "2 rows" in fails(checks.WRONG_VALUE, checks.frame, best_days.iloc[:2], best_days, name="best_days")
    wrong = best_days.assign(gmv=[1.0, 15000.5, 14100.0])
    message = fails(checks.WRONG_VALUE, checks.frame, wrong, best_days, name="best_days")
    assert "'gmv'" in message and "1 of 3" in message and "13782" not in message
    series = best_days.set_index("date")["gmv"]
    assert "reset_index" in fails(checks.WRONG_TYPE, checks.frame, series, best_days, name="best_days")
    fails(checks.UNANSWERED, checks.frame, ..., best_days, name="best_days")


def test_frame_known_mistake(best_days):
    worst = best_days.assign(gmv=[1.0, 2.0, 3.0])
    message = fails(checks.WRONG_VALUE, checks.frame, worst, best_days, name="best_days",
                    mistakes={"these are the quietest days, not the busiest": worst})
    assert "quietest" in message


def test_series_by_label_any_order_any_dtype():
    expected = pd.Series([3.0, 1.0, 2.0], index=["app", "pc", "mini"], name="uv")
    checks.series(expected.iloc[::-1].astype("float32").rename("x"), expected, name="by_device")
    checks.series(expected.to_frame(), expected, name="by_device")
    assert "no value" in fails(checks.WRONG_VALUE, checks.series, expected.rename({"pc": "PC"}), expected,
                               name="by_device")
    assert "1 of 3" in fails(checks.WRONG_VALUE, checks.series, expected.replace(1.0, 9.0), expected, name="by_device")
    assert "order" in fails(checks.WRONG_VALUE, checks.series, expected.iloc[::-1], expected, name="by_device",
                            check_order=True)
    checks.series(pd.Series([1.0, 2.0, 3.0]), expected, name="by_device", check_index=False)
    fails(checks.WRONG_VALUE, checks.series, pd.Series([], dtype=float), expected, name="by_device")
    fails(checks.WRONG_TYPE, checks.series, [1, 2, 3], expected, name="by_device")


def test_columns_returns_the_table_with_index_levels_as_columns():
    grouped = pd.DataFrame({"source": ["ads", "search"], "uv": [1, 2]}).set_index("source")
    assert list(checks.columns(grouped, ["source", "uv"], name="t").columns) == ["source", "uv"]


# -- multiple choice and functions ---------------------------------------------------------
@pytest.mark.parametrize("given", ["c", "C", " (c) ", "c)", "c."])
def test_choice_accepts_usual_spellings(given):
    checks.choice(given, "c", options="abc", name="cause")


def test_choice_feedback():
    assert "one of a, b, c" in fails(checks.WRONG_TYPE, checks.choice, "d", options="abc", name="cause")
    assert "in quotes" in fails(checks.WRONG_TYPE, checks.choice, 3, options="abc", name="cause")
    message = fails(checks.WRONG_VALUE, checks.choice, "a", "c", options="abc", name="cause",
                    hints={"a": "Which factor stayed flat?"})
    assert "stayed flat" in message and "'c'" not in message
    checks.choice("Conversion rate", "b", options={"a": "Bounce rate", "b": "Conversion rate"}, name="kpi")


def test_call_turns_the_trainees_exception_into_feedback():
    def weekly(daily):
        return daily["visitors"].sum()

    daily = pd.DataFrame({"uv": [1, 2]})
    message = fails(checks.ERROR, checks.call, weekly, daily, name="weekly")
    assert "KeyError" in message and "visitors" in message and "DataFrame with 2 rows" in message
    assert checks.call(lambda d: d["uv"].sum(), daily, name="weekly") == 3
    fails(checks.WRONG_TYPE, checks.call, 42, name="weekly")
    fails(checks.UNANSWERED, checks.call, ..., name="weekly")


def test_describe_is_short_for_long_text_and_unknown_objects():
    assert feedback.describe("x" * 100).endswith("...'")
    assert feedback.describe(object()) == "a object object"
    assert feedback.describe({"a": 1}) == "a dict of 1 item"
    assert feedback.format_number(3.0) == "3"


def test_none_may_mean_the_cell_failed():
    # otter hands a test None for a name the notebook never defined (its cell raised)
    assert "fix the error first" in fails(checks.UNANSWERED, checks.number, None, name="aov")
    assert "fix the error" not in fails(checks.UNANSWERED, checks.number, ..., name="aov")


def test_a_flipped_sign_is_named_and_ambiguous_mistakes_are_not_guessed():
    message = fails(checks.WRONG_VALUE, checks.number, 0.64, -0.64, name="change")
    assert "sign is the other way round" in message
    # two known mistakes that give nearly the same value: naming either could misread the answer
    mistakes = {"that uses the whole month's sales rate": 20.0, "that uses the stock at the start": 20.1,
                "divide the stock by the sales, not the other way round": 0.05}
    message = fails(checks.WRONG_VALUE, checks.number, 20.05, 25.0, name="days", rel=0.02, mistakes=mistakes,
                    hint="Days of stock = units on hand / units sold per day.")
    assert "whole month" not in message and "at the start" not in message and "units on hand" in message
    message = fails(checks.WRONG_VALUE, checks.number, 0.05, 25.0, name="days", rel=0.02, mistakes=mistakes)
    assert "other way round" in message


def test_the_sealed_key_names_the_same_mistakes_as_the_check():
    from shopsim.grading import answer_key

    mistakes = {"month rate": 20.0, "start stock": 20.1, "flipped": 0.05}
    call = checks.Recorded("number", {"name": "x", "expected": 25.0, "rel": 0.02, "unit": "", "between": None,
                                      "whole": False, "mistakes": mistakes, "hint": "general"}, True)
    spec = answer_key.seal(call, answer_key.salt_for("l", "q", 0))
    for value, words in ((20.05, "general"), (0.05, "flipped"), (-25.0, "sign is the other way round")):
        with pytest.raises(checks.CheckFailed, match=words):
            answer_key.verify({"x": value}, [spec])


@pytest.mark.parametrize("value", ["20 March", "March 20", "20/3"])
def test_a_date_without_a_year_is_refused_not_read_as_year_1(value):
    message = fails(checks.WRONG_TYPE, checks.day, value, "2026-03-20", name="drop_day")
    assert "has no year" in message and "2026-03-05" in message
    checks.day("20 March 2026", "2026-03-20", name="drop_day")


def test_a_sealed_table_accepts_the_right_answer_after_its_json_round_trip():
    """The key's JSON sorts the column kinds by name; rows must be ordered the same way at both ends."""
    import json

    from shopsim.grading import answer_key

    expected = pd.DataFrame({"date": pd.to_datetime(["2026-03-02", "2026-03-03", "2026-03-04"]),
                             "orders": [30, 10, 20], "buyers": [9, 28, 19]})
    call = checks.Recorded("frame", {"name": "sales", "expected": expected, "rel": 1e-6, "check_row_order": False,
                                     "sort_by": None, "check_dtype": False, "mistakes": None, "hint": None}, True)
    spec = json.loads(json.dumps(answer_key.seal(call, answer_key.salt_for("l", "q", 0)), sort_keys=True))
    answer = expected.assign(date=expected["date"].dt.date).iloc[::-1]
    answer_key.verify({"sales": answer}, [spec])
    with pytest.raises(checks.CheckFailed, match="column 'buyers' differs"):
        answer_key.verify({"sales": answer.assign(buyers=answer["orders"])}, [spec])
