"""The catalogue of labs, in learning order. One entry per notebook in notebooks/."""

from __future__ import annotations

from dataclasses import dataclass


class UnknownLab(KeyError):
    """No lab by that name; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the whole sentence
        return str(self.args[0])

    def _render_traceback_(self) -> list[str]:  # IPython: the sentence, not a stack
        return [f"UnknownLab: {self}"]


@dataclass(frozen=True)
class LabInfo:
    slug: str  # used for the SQL schema/file, the Redis prefix, progress and `nexus-labs reset`
    notebook: str  # file name in notebooks/
    title: str
    minutes: int
    backends: tuple[str, ...] = ("sql",)  # what open_lab connects: "sql", "redis"
    run_all_seconds: float = 10.0  # median Run All target on a 2-core machine (benchmarks/)


LABS: tuple[LabInfo, ...] = (
    LabInfo("welcome", "00_welcome.ipynb", "Welcome: how the labs work", 10, ("sql", "redis")),
    LabInfo("normalization", "01_normalization.ipynb", "Normalization vs denormalization", 45),
    LabInfo("relationships", "02_relationships.ipynb", "ERD modeling and relationships", 45),
    LabInfo("query_optimization", "03_query_optimization.ipynb",
            "Query optimization: N+1, indexes, pagination", 60, run_all_seconds=20.0),
    LabInfo("caching", "04_caching.ipynb", "Caching with Redis", 60, ("sql", "redis")),
    LabInfo("async_io", "05_async_io.ipynb", "Asynchronous I/O", 60, ("sql", "redis"),
            run_all_seconds=15.0),
)


def find_lab(name: str) -> LabInfo:
    """A lab by slug, notebook file name or number ("caching", "04_caching.ipynb", "4")."""
    wanted = name.strip().lower().removesuffix(".ipynb")
    for lab in LABS:
        number = lab.notebook.split("_", 1)[0]
        if wanted in (lab.slug, lab.notebook.removesuffix(".ipynb"), number, number.lstrip("0")):
            return lab
    known = ", ".join(lab.slug for lab in LABS)
    raise UnknownLab(f"No lab called {name!r}. Known labs: {known}.")


def installed_labs() -> tuple[LabInfo, ...]:
    """The labs whose notebook ships in this version (later issues add the rest)."""
    from nexus_labs.resources import notebooks_dir

    folder = notebooks_dir()
    return tuple(lab for lab in LABS if (folder / lab.notebook).exists())
