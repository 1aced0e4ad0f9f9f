"""`nexus_labs.progress()`: every lab and exercise with its status, as an ipywidgets table."""

from __future__ import annotations

import html

from nexus_labs.config import Settings, load_settings
from nexus_labs.exercises.progress import (
    ProgressStoreCorrupt,
    ProgressStoreUnavailable,
    exercises_by_lab,
    store_for,
)
from nexus_labs.labs.catalog import LABS

STATUS_STYLE = {  # background, text: the same palette as check feedback
    "done": ("#e8f5e9", "#1b5e20"),
    "attempted": ("#fff8e1", "#8d6e00"),
    "not started": ("#eceff1", "#37474f"),
}


def dashboard_html(settings: Settings) -> str:
    """The progress table as HTML (every catalogue lab x its exercises) with totals."""
    try:
        recorded = store_for(settings).summary()
    except (ProgressStoreCorrupt, ProgressStoreUnavailable) as error:
        return f'<p style="color:#b71c1c">{html.escape(str(error))}</p>'
    exercises = exercises_by_lab()
    rows, counts = [], {"done": 0, "attempted": 0, "not started": 0}
    for lab in LABS:
        listed = exercises.get(lab.slug, [])
        if not listed:
            rows.append(f"<tr><td>{html.escape(lab.title)}</td><td colspan=4>"
                        "<em>no exercises yet</em></td></tr>")
        for exercise_id, title in listed:
            entry = recorded.get((lab.slug, exercise_id))
            status = entry.status if entry else "not started"
            counts[status] += 1
            background, ink = STATUS_STYLE[status]
            hints = entry.hints_used if entry else 0
            solution = "viewed" if entry and entry.solution_viewed else ""
            rows.append(
                f"<tr><td>{html.escape(lab.title)}</td>"
                f"<td>{html.escape(exercise_id)}: {html.escape(title)}</td>"
                f'<td style="background:{background};color:{ink}">{status}</td>'
                f"<td>{hints}</td><td>{solution}</td></tr>"
            )
    total = sum(counts.values())
    summary = (f"<p><strong>{counts['done']} of {total} exercises done</strong>, "
               f"{counts['attempted']} attempted, {counts['not started']} not started.</p>")
    header = ("<tr><th>lab</th><th>exercise</th><th>status</th><th>hints used</th>"
              "<th>solution</th></tr>")
    return (f'{summary}<table class="nexus-progress" style="border-collapse:collapse">'
            f"{header}{''.join(rows)}</table>")


def progress_dashboard(settings: Settings | None = None):
    """An ipywidgets VBox: totals, the colour-coded table and a refresh button."""
    import ipywidgets as widgets

    settings = settings or load_settings()
    table = widgets.HTML(dashboard_html(settings))
    refresh = widgets.Button(description="Refresh", icon="refresh",
                             tooltip="Read the progress store again")

    def on_refresh(_button) -> None:
        table.value = dashboard_html(settings)

    refresh.on_click(on_refresh)
    return widgets.VBox([widgets.HTML("<h3>Nexus Labs progress</h3>"), table, refresh])
