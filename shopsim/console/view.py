"""The operator console as an ipywidgets app: a thin view over :class:`ConsoleModel`.

Show it in a notebook (or with ``shopsim console``, which serves it alone with Voilà)::

    from shopsim.console import Console
    Console("baseline", seed=7)

Layout, top to bottom: the header with the run buttons; yesterday's KPI tiles; the charts
beside the morning checklist, the customer-service panel and the feed; the levers in five
tabs (Products, Paid traffic, Promotions, Customers, Service), each a small form whose outcome shows under its button.
Everything the console knows or does goes through the model; this module only draws it.
"""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
from traitlets import TraitError

from shopsim.console import charts
from shopsim.console.levers import GROUPS, Field
from shopsim.console.model import ConsoleModel, Result
from shopsim.scenario import Scenario

log = logging.getLogger(__name__)

CSS = """
<style>
.shopsim-console { font-family: var(--jp-ui-font-family, sans-serif); }
.shopsim-header { font-size: 15px; font-weight: 600; }
.shopsim-tile { border: 1px solid #d0d7de; border-radius: 6px; padding: 4px 10px; min-width: 128px;
  background: #f8fafc; }
.shopsim-tile-label { font-size: 12px; color: #57606a; }
.shopsim-tile-value { font-size: 20px; font-weight: 600; line-height: 1.3; }
.shopsim-tile-change { font-size: 11px; }
.shopsim-good { color: #1a7f37; } .shopsim-bad { color: #cf222e; }
.shopsim-flat, .shopsim-neutral, .shopsim-none { color: #57606a; }
.shopsim-panel h4 { margin: 2px 0 4px 0; font-size: 13px; }
.shopsim-panel ul { margin: 0; padding-left: 16px; font-size: 12px; line-height: 1.45; }
.shopsim-feed { max-height: 230px; overflow-y: auto; }
.shopsim-alert { color: #cf222e; } .shopsim-ok { color: #1a7f37; } .shopsim-info { color: #57606a; }
.shopsim-you { color: #0969da; }
.shopsim-form { border: 1px solid #d0d7de; border-radius: 6px; padding: 4px 8px; margin: 3px; }
.shopsim-form-title { font-weight: 600; font-size: 13px; }
.shopsim-form-what { font-size: 11px; color: #57606a; }
.shopsim-message { font-size: 12px; }
.shopsim-charts { display: grid; grid-template-columns: 340px 340px; gap: 8px; }
.shopsim-svg { background: #fff; border: 1px solid #eaeef2; border-radius: 4px; }
</style>
"""
_ICON = {"ok": "✓", "alert": "!", "info": "·"}
_FIELD_STYLE = {"description_width": "105px"}


def _esc(text: Any) -> str:
    return html.escape(str(text))


class _FormView:
    """The widgets of one lever's form: a widget per field, the button and the message."""

    def __init__(self, console: Console, key: str) -> None:
        model = console.model
        form = model.form(key)
        self.key = key
        self.inputs: dict[str, w.ValueWidget] = {f.name: self._input(f, model.values[key][f.name])
                                                 for f in form.fields}
        self.button = w.Button(description=form.button, button_style="primary",
                               layout=w.Layout(width="auto", min_width="110px"))
        self.message = w.HTML(layout=w.Layout(width="auto"))
        self.message.add_class("shopsim-message")
        head = w.HTML(f'<div class="shopsim-form-title">{_esc(form.title)}</div>'
                      f'<div class="shopsim-form-what">{_esc(form.what)}</div>')
        self.box = w.VBox([head, *self.inputs.values(), w.HBox([self.button]), self.message],
                          layout=w.Layout(width="370px"))
        self.box.add_class("shopsim-form")
        for name, widget in self.inputs.items():
            widget.observe(console._guard(lambda change, n=name: console._typed(key, n, change["new"])), "value")
        self.button.on_click(console._guard(lambda _b: console._apply(key)))

    @staticmethod
    def _input(field: Field, value: Any) -> w.ValueWidget:
        kw = {"description": field.label, "style": _FIELD_STYLE, "layout": w.Layout(width="350px")}
        if field.help:
            kw["tooltip"] = field.help
        if field.kind == "choice":
            return w.Dropdown(options=list(field.options), value=value, **kw)
        if field.kind == "whole":
            return w.IntText(value=value, **kw)
        if field.kind == "number":
            return w.FloatText(value=value, **kw)
        return w.Text(value=value, placeholder=field.help, **kw)

    def sync(self, console: Console) -> None:
        """Put the model's choices and values into the widgets (without echoing them back)."""
        form = console.model.form(self.key)
        values = console.model.values[self.key]
        for f in form.fields:
            widget = self.inputs[f.name]
            if f.kind == "choice" and tuple(widget.options) != f.options:
                widget.options = list(f.options)
            if widget.value != values[f.name] or type(widget.value) is not type(values[f.name]):
                # a value typed in code that this widget cannot show (3.5 in a whole-number box) stays unshown
                with contextlib.suppress(TraitError):
                    widget.value = values[f.name]
        result = console.model.results[self.key]
        self.message.value = "" if result is None else (
            f'<span class="shopsim-{"ok" if result.ok else "alert"}">{_esc(result.message)}</span>')


class Console:
    """The operator console (docs/console.md): run the shop day by day and pull every lever.

    Parameters
    ----------
    scenario:
        A :class:`~shopsim.scenario.Scenario`, a bundled scenario name or a YAML path.
    seed:
        The simulation's seed.

    ``console.model`` is the plain-Python :class:`ConsoleModel` behind it and
    ``console.sim`` its simulation; display ``console`` (or ``console.widget``) in a notebook.
    """

    def __init__(self, scenario: Scenario | str | Path, seed: int) -> None:
        self.model = ConsoleModel(scenario, seed)
        self._syncing = False
        self._charts_key: Any = None
        self.header = w.HTML()
        self.header.add_class("shopsim-header")
        self.run_day_button = w.Button(description="Run one day", button_style="success",
                                       layout=w.Layout(width="130px"))
        self.run_week_button = w.Button(description="Run a week", button_style="success",
                                        layout=w.Layout(width="130px"))
        self.status = w.HTML()
        self.status.add_class("shopsim-status")
        self.run_day_button.on_click(self._guard(lambda _b: self._run(1)))
        self.run_week_button.on_click(self._guard(lambda _b: self._run(7)))
        self.tiles = [w.HTML() for _ in self.model.tiles()]
        for tile in self.tiles:
            tile.add_class("shopsim-tile")
        self.chart = w.HTML(layout=w.Layout(width="700px"))
        self.chart.add_class("shopsim-chart")
        self.checklist = w.HTML(layout=w.Layout(width="auto"))
        self.checklist.add_class("shopsim-panel")
        self.feed = w.HTML(layout=w.Layout(width="auto"))
        self.feed.add_class("shopsim-panel")
        self.service = w.HTML(layout=w.Layout(width="auto"))
        self.service.add_class("shopsim-panel")
        self.forms = {key: _FormView(self, key) for key in self.model.forms()}
        tabs = w.Tab(children=[w.HBox([f.box for f in self.forms.values() if self.model.form(f.key).group == g],
                                      layout=w.Layout(flex_flow="row wrap"))
                               for g in GROUPS], titles=list(GROUPS))
        self.levers = tabs
        right = w.VBox([self.checklist, self.service, self.feed], layout=w.Layout(flex="1 1 360px", min_width="320px"))
        self.widget = w.VBox([
            w.HTML(CSS),
            w.HBox([self.header], layout=w.Layout(margin="0 0 4px 0")),
            w.HBox([self.run_day_button, self.run_week_button, self.status], layout=w.Layout(align_items="center")),
            w.HBox(self.tiles, layout=w.Layout(flex_flow="row wrap", margin="6px 0")),
            w.HBox([self.chart, right], layout=w.Layout(flex_flow="row wrap")),
            w.HTML("<b>Levers</b>"),
            tabs,
        ])
        self.widget.add_class("shopsim-console")
        self.refresh()

    # -- what the buttons do ---------------------------------------------------------------
    @property
    def sim(self) -> Any:
        """The simulation the console runs."""
        return self.model.sim

    def run_day(self) -> Result:
        """Press "Run one day"; returns what the status line shows."""
        self.run_day_button.click()
        return self.model.last_run  # type: ignore[return-value]

    def run_week(self) -> Result:
        """Press "Run a week"."""
        self.run_week_button.click()
        return self.model.last_run  # type: ignore[return-value]

    def _run(self, days: int) -> None:
        for b in (self.run_day_button, self.run_week_button):
            b.disabled = True
        try:
            result = self.model.run(days)
            self.refresh()
            self.status.value = f'<span class="shopsim-{"ok" if result.ok else "alert"}">{_esc(result.message)}</span>'
        finally:
            for b in (self.run_day_button, self.run_week_button):
                b.disabled = False

    def _apply(self, key: str) -> None:
        self.model.apply(key)
        self.refresh()

    def _typed(self, key: str, name: str, value: Any) -> None:
        if self._syncing:
            return
        self.model.set(key, name, value)
        self._sync_forms([key])

    def _guard(self, handler: Callable[..., None]) -> Callable[..., None]:
        """Run a widget callback; an unexpected error shows in the status line, never as a traceback."""
        def run(*args: Any) -> None:
            try:
                handler(*args)
            except Exception as exc:
                log.exception("console: a button failed")
                self.status.value = (f'<span class="shopsim-alert">Something went wrong: '
                                     f'{_esc(type(exc).__name__)}: {_esc(exc)}</span>')
        return run

    # -- drawing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw everything from the model."""
        m = self.model
        self.header.value = _esc(m.header())
        for widget, tile in zip(self.tiles, m.tiles(), strict=True):
            widget.value = (f'<div class="shopsim-tile-label">{_esc(tile.label)}</div>'
                            f'<div class="shopsim-tile-value">{_esc(tile.text)}</div>'
                            f'<div class="shopsim-tile-change shopsim-{tile.tone}">{_esc(tile.change_text) or "&nbsp;"}'
                            "</div>")
        self.checklist.value = "<h4>Morning checklist</h4><ul>" + "".join(
            f'<li><span class="shopsim-{c.status}"><b>{_ICON[c.status]} {_esc(c.topic)}</b></span> '
            f'{_esc(c.question)} <span class="shopsim-{c.status}">{_esc(c.answer)}</span></li>'
            for c in m.checklist()) + "</ul>"
        items = m.feed()
        lines = "".join(f'<li class="shopsim-{i.tone}"><b>{_esc(i.when)}</b> {_esc(i.text)}</li>' for i in items)
        quiet = "Nothing yet: run a day." if m.sim.days_run == 0 else "Quiet: nothing happened since the last run."
        self.feed.value = ('<h4>What happened</h4><div class="shopsim-feed"><ul>'
                           + (lines or f'<li class="shopsim-info">{quiet}</li>') + "</ul></div>")
        self.service.value = _service_html(m.service_panel())
        self._draw_charts()
        self._sync_forms(self.forms)

    def _draw_charts(self) -> None:
        m = self.model
        stock = m.stock()
        key = (m.sim.days_run, tuple(stock["on_hand"]), tuple(stock["on_order"]))
        if key == self._charts_key:
            return
        self.chart.value = charts.panel(m.gmv_profit(), m.traffic_by_source(), m.conversion(), stock)
        self._charts_key = key

    def _sync_forms(self, keys: Any) -> None:
        self._syncing = True
        try:
            for key in keys:
                self.forms[key].sync(self)
        finally:
            self._syncing = False

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _service_html(panel: dict[str, Any]) -> str:
    """The service panel: yesterday's figures, open after-sales, and the queue by hour."""
    y = panel["yesterday"]

    def share(x: Any) -> str:
        return "–" if x is None else f"{x:.0%}"

    first = y.get("first_response_s")
    head = ("<h4>Customer service 客服</h4><ul>"
            f"<li>inquiries {y.get('inquiries', 0)} · 询单转化率 {share(y.get('inquiry_conversion_rate'))} · "
            f"answered in time {share(y.get('answered_share'))} · first response "
            f"{'–' if first is None else f'{first:,.0f} s'} · complaints {y.get('complaints', 0)}</li>"
            f"<li>open refunds {panel['open_refunds']} · open disputes {panel['open_disputes']}</li></ul>")
    rows = panel["by_hour"]
    busy = rows[(rows["inquiries"] > 0) | (rows["agents"] > 0)]
    cells = "".join(
        f"<tr><td>{int(r.hour):02d}</td><td>{int(r.agents)}</td><td>{int(r.inquiries)}</td>"
        f"<td>{share(None if r.inquiries == 0 else r.answered_share)}</td></tr>"
        for r in busy.itertuples())
    return (head + '<table style="font-size:11px"><tr><th>hour</th><th>agents</th><th>asked</th>'
            f"<th>in time</th></tr>{cells}</table>")
