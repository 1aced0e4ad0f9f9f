"""The N+1 page of lab 03: "orders with their customer and items", loaded three ways.

A strategy is a tuple of SQLAlchemy loader options. Every measurement opens a fresh Session,
so no run profits from objects an earlier run left in the identity map.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from nexus_labs.labs.query_optimization import Order

STRATEGIES: dict[str, tuple] = {
    "lazy": (),
    "selectin": (selectinload(Order.customer), selectinload(Order.items)),
    "joined": (joinedload(Order.customer), joinedload(Order.items)),
}


def page_query(limit: int, *options) -> sa.Select:
    """The first `limit` orders by id, with the given loader options."""
    return sa.select(Order).options(*options).order_by(Order.order_id).limit(limit)


def load_orders(session: Session, limit: int, strategy: str = "lazy") -> list[Order]:
    """The page's orders loaded with one of STRATEGIES."""
    result = session.scalars(page_query(limit, *STRATEGIES[strategy]))
    # joinedload of a collection repeats each order once per item: unique() folds them.
    return list(result.unique()) if strategy == "joined" else list(result)


def render_page(orders: list[Order]) -> list[tuple[int, str, int, int]]:
    """What the endpoint shows per order: id, customer name, item count, total. Touching
    `order.customer` and `order.items` is what triggers lazy loads."""
    return [
        (
            order.order_id,
            order.customer.name,
            len(order.items),
            sum(item.quantity * item.unit_price_cents for item in order.items),
        )
        for order in orders
    ]


@dataclass
class StatementLog:
    """Statements and how many bound parameters each carried (an IN list of 500 ids = 500)."""

    statements: list[str] = field(default_factory=list)
    parameter_counts: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def capture_statements(engine: sa.Engine) -> Iterator[StatementLog]:
    """Like backends.sql.count_queries, but also keeps each statement's parameter count."""
    log = StatementLog()

    def record(conn, cursor, statement, parameters, context, executemany):
        log.statements.append(statement)
        log.parameter_counts.append(len(parameters) if parameters else 0)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@dataclass(frozen=True)
class PageRun:
    """One rendering of the page: strategy, parents, statements sent, wall time, result."""

    strategy: str
    parents: int
    queries: int
    seconds: float
    rows: tuple = ()


def measure_page(engine: sa.Engine, parents: int, strategy: str) -> PageRun:
    """Load and render the page in a fresh Session, counting statements and timing it."""
    with Session(engine) as session, capture_statements(engine) as log:
        start = time.perf_counter()
        rows = render_page(load_orders(session, parents, strategy))
        seconds = time.perf_counter() - start
    return PageRun(strategy, parents, log.count, seconds, tuple(rows))


def sweep(engine: sa.Engine, sizes=(10, 150, 600, 1200), strategies=tuple(STRATEGIES)):
    """Queries and time for each strategy as the page grows, as a pandas DataFrame."""
    import pandas as pd

    runs = [measure_page(engine, n, s) for n in sizes for s in strategies]
    return pd.DataFrame(
        {
            "strategy": [r.strategy for r in runs],
            "parents": [r.parents for r in runs],
            "queries": [r.queries for r in runs],
            "ms": [r.seconds * 1e3 for r in runs],
        }
    )


def plot_sweep(frame, engine_name: str = ""):
    """Two panels: statements sent (log scale) and wall time, against the number of parents."""
    import matplotlib.pyplot as plt

    figure, (queries_ax, time_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    for strategy, runs in frame.groupby("strategy", sort=False):
        queries_ax.plot(runs["parents"], runs["queries"], marker="o", label=strategy)
        time_ax.plot(runs["parents"], runs["ms"], marker="o", label=strategy)
    queries_ax.set(xlabel="orders on the page", ylabel="statements sent", yscale="log",
                   title="Queries per page")
    time_ax.set(xlabel="orders on the page", ylabel="ms", title=f"Time per page {engine_name}")
    queries_ax.legend()
    figure.tight_layout()
    return figure


def page_widget(engine: sa.Engine, engine_name: str = "", maximum: int = 1500, initial=None):
    """A slider for the number of orders; each change re-measures the three strategies from 10
    orders up to the chosen size and redraws both panels. `initial`: a sweep() frame to show
    before the first change (saves measuring twice)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    slider = widgets.IntSlider(value=400, min=10, max=maximum, step=10,
                               description="orders", continuous_update=False)
    output = widgets.Output()

    def redraw(change=None, frame=None) -> None:
        chosen = slider.value
        if frame is None:
            frame = sweep(engine, sorted({10, max(10, chosen // 4), max(10, chosen // 2),
                                          chosen}))
        output.clear_output(wait=True)
        with output:
            last = frame[frame["parents"] == chosen].set_index("strategy")
            for strategy in last.index:
                queries, ms = int(last.at[strategy, "queries"]), last.at[strategy, "ms"]
                print(f"{strategy:>8}: {queries:5d} queries, {ms:8.1f} ms")
            display(plot_sweep(frame, engine_name))
            plt.close("all")

    if initial is not None:
        slider.value = int(initial["parents"].max())
    slider.observe(redraw, names="value")
    redraw(frame=initial)
    return widgets.VBox([slider, output])
