"""Functional dependencies: discover them in data, reason about them, test decompositions.

`X -> A` holds in a table when rows that agree on X also agree on A, i.e.
``df.groupby(X)[A].nunique() <= 1`` for every group. Discovery counts distinct value
combinations instead of grouping once per candidate (the TANE idea): X -> A holds iff X and
X ∪ {A} have the same number of distinct rows. That turns ~2,000 groupbys into a few hundred
`numpy.unique` calls over integer codes.

Everything else is textbook (Codd 1970/1972; Ullman & Widom): attribute closure, candidate keys,
normal-form diagnosis, the chase test for lossless joins, and dependency preservation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd


@dataclass(frozen=True, order=True)
class FD:
    """A functional dependency `lhs -> rhs` (a set of columns determines one column)."""

    lhs: frozenset[str]
    rhs: str

    @classmethod
    def of(cls, lhs: str | Iterable[str], rhs: str) -> FD:
        return cls(frozenset([lhs] if isinstance(lhs, str) else lhs), rhs)

    def __str__(self) -> str:
        left = ", ".join(sorted(self.lhs)) if self.lhs else "∅"
        return f"{left} -> {self.rhs}"

    def __repr__(self) -> str:
        return f"FD({self})"


def _codes(df: pd.DataFrame) -> dict[str, np.ndarray]:
    # NaN is a value like any other for dependency purposes, so factorize keeps it as a code.
    return {col: pd.factorize(df[col], use_na_sentinel=False)[0].astype(np.int64)
            for col in df.columns}


class _Partitions:
    """Row -> group codes for column sets, each built from a cached smaller set plus one column."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.codes = _codes(df)
        self.n_rows = len(df)
        self.cache: dict[frozenset[str], tuple[np.ndarray, int]] = {
            frozenset([col]): (codes, int(codes.max()) + 1 if len(codes) else 0)
            for col, codes in self.codes.items()
        }

    def groups(self, cols: frozenset[str]) -> tuple[np.ndarray, int]:
        if not cols:
            return np.zeros(self.n_rows, dtype=np.int64), 1 if self.n_rows else 0
        if cols not in self.cache:
            last = max(cols)
            parent, _ = self.groups(cols - {last})
            column = self.codes[last]
            # Dense codes after each step keep the mixed radix far from int64 overflow.
            combined = parent * (int(column.max()) + 1) + column
            codes, uniques = pd.factorize(combined)
            self.cache[cols] = (codes.astype(np.int64), len(uniques))
        return self.cache[cols]

    def distinct(self, cols: frozenset[str]) -> int:
        return self.groups(cols)[1]


def holds(df: pd.DataFrame, lhs: Iterable[str], rhs: str) -> bool:
    """True when `lhs -> rhs` holds in `df` (the plain groupby definition)."""
    lhs = sorted(set(lhs))
    if not lhs:
        return df[rhs].nunique(dropna=False) <= 1
    counts = df.groupby(lhs, dropna=False)[rhs].nunique(dropna=False)
    return bool((counts <= 1).all())


def discover_fds(df: pd.DataFrame, max_lhs: int = 2) -> list[FD]:
    """All minimal, non-trivial FDs with at most `max_lhs` columns on the left that hold in `df`.

    Minimal: no proper subset of the left side determines the right side. These are *candidate*
    FDs: the data is a sample, so a designer still decides which are business rules and which
    are accidents of this data (two customers might share a name next year).
    """
    columns = list(df.columns)
    distinct = _Partitions(df).distinct

    found: list[FD] = []
    determined: dict[str, list[frozenset[str]]] = {col: [] for col in columns}
    for size in range(max_lhs + 1):
        for lhs in combinations(columns, size):
            lhs_set = frozenset(lhs)
            for rhs in columns:
                if rhs in lhs_set:
                    continue
                if any(smaller <= lhs_set for smaller in determined[rhs]):
                    continue  # a subset already determines rhs: not minimal
                if distinct(lhs_set) == distinct(lhs_set | {rhs}):
                    determined[rhs].append(lhs_set)
                    found.append(FD(lhs_set, rhs))
    return found


def fds_table(fds: Sequence[FD]) -> pd.DataFrame:
    """FDs grouped by left side, one row each: `determinant -> dependents`."""
    grouped: dict[frozenset[str], list[str]] = {}
    for fd in fds:
        grouped.setdefault(fd.lhs, []).append(fd.rhs)
    rows = [
        {"determinant (X)": ", ".join(sorted(lhs)) or "∅", "size": len(lhs),
         "determines (X -> A)": ", ".join(sorted(rhs))}
        for lhs, rhs in grouped.items()
    ]
    frame = pd.DataFrame(rows, columns=["determinant (X)", "size", "determines (X -> A)"])
    return frame.sort_values(["size", "determinant (X)"], ignore_index=True)


def closure(attrs: Iterable[str], fds: Iterable[FD]) -> frozenset[str]:
    """X+: every attribute X determines under `fds` (repeat until nothing new fires)."""
    result = set(attrs)
    fds = list(fds)
    changed = True
    while changed:
        changed = False
        for fd in fds:
            if fd.rhs not in result and fd.lhs <= result:
                result.add(fd.rhs)
                changed = True
    return frozenset(result)


def is_superkey(attrs: Iterable[str], schema: Iterable[str], fds: Iterable[FD]) -> bool:
    """X is a superkey of `schema` when its closure covers every column."""
    return set(schema) <= closure(attrs, fds)


def candidate_keys(schema: Iterable[str], fds: Iterable[FD]) -> list[frozenset[str]]:
    """Minimal superkeys, smallest first.

    Columns that appear on no right side are in every key, so the search starts from them and
    only adds columns that some FD determines.
    """
    schema = frozenset(schema)
    fds = [fd for fd in fds if fd.rhs in schema and fd.lhs <= schema]
    core = schema - {fd.rhs for fd in fds}
    if is_superkey(core, schema, fds):
        return [core]
    optional = sorted(schema - core)
    keys: list[frozenset[str]] = []
    for size in range(1, len(optional) + 1):
        for extra in combinations(optional, size):
            candidate = core | frozenset(extra)
            if any(key <= candidate for key in keys):
                continue
            if is_superkey(candidate, schema, fds):
                keys.append(candidate)
    return sorted(keys, key=lambda key: (len(key), sorted(key)))


def project(fds: Iterable[FD], part: Iterable[str], max_lhs: int | None = None) -> list[FD]:
    """The FDs that hold on `part` (a subset of the columns), as minimal FDs.

    Exponential in the size of `part`, fine for the handful of columns a table has.
    """
    part = sorted(set(part))
    fds = list(fds)
    limit = len(part) if max_lhs is None else max_lhs
    found: list[FD] = []
    for size in range(limit + 1):
        for lhs in combinations(part, size):
            lhs_set = frozenset(lhs)
            for rhs in sorted(closure(lhs_set, fds) & set(part) - lhs_set):
                if not any(fd.rhs == rhs and fd.lhs <= lhs_set for fd in found):
                    found.append(FD(lhs_set, rhs))
    return found


@dataclass(frozen=True)
class Diagnosis:
    """The highest normal form a table reaches and the FD that stops it going higher."""

    normal_form: str  # "1NF", "2NF", "3NF" or "BCNF"
    keys: tuple[frozenset[str], ...]
    violation: FD | None = None
    reason: str = ""

    def __str__(self) -> str:
        return self.normal_form + (f": {self.reason}" if self.reason else "")


def _fds_on(schema: frozenset[str], fds: Iterable[FD]) -> list[FD]:
    fds = list(fds)
    if all(fd.lhs | {fd.rhs} <= schema for fd in fds):
        return fds  # already a cover of the FDs on schema: no projection needed
    return project(fds, schema)


def diagnose(schema: Iterable[str], fds: Iterable[FD]) -> Diagnosis:
    """Which normal form `schema` is in under `fds`, assuming atomic values (1NF).

    2NF: no non-key column depends on part of a candidate key. 3NF: for every FD X -> A,
    X is a superkey or A is part of some key. BCNF: for every FD X -> A, X is a superkey.
    """
    order = {col: i for i, col in enumerate(dict.fromkeys(schema))}  # report in schema order
    schema = frozenset(order)
    local = _fds_on(schema, fds)
    keys = tuple(candidate_keys(schema, local))
    prime = frozenset().union(*keys)
    for key in keys:  # 2NF, tested on the closure of every proper part of every key
        for size in range(1, len(key)):
            for part in combinations(sorted(key, key=order.get), size):
                partial = sorted((closure(part, local) & schema) - prime - set(part),
                                 key=order.get)
                if partial:
                    fd = FD.of(part, partial[0])
                    return Diagnosis("1NF", keys, fd, (
                        f"{fd.rhs} depends on {', '.join(part)}, only part of the key "
                        f"({', '.join(sorted(key, key=order.get))}): partial dependency"))
    nontrivial = sorted(
        (fd for fd in local if fd.rhs not in fd.lhs and not is_superkey(fd.lhs, schema, local)),
        key=lambda fd: (len(fd.lhs), sorted(map(order.get, fd.lhs)), order[fd.rhs]))
    for fd in nontrivial:
        if fd.rhs not in prime:
            return Diagnosis("2NF", keys, fd, (
                f"{fd.rhs} depends on {', '.join(sorted(fd.lhs))}, which is not a key: "
                "transitive dependency"))
    if nontrivial:
        fd = nontrivial[0]
        return Diagnosis("3NF", keys, fd, (
            f"{', '.join(sorted(fd.lhs))} determines {fd.rhs} but is not a superkey"))
    return Diagnosis("BCNF", keys)


def is_lossless(schema: Iterable[str], parts: Sequence[Iterable[str]], fds: Iterable[FD]) -> bool:
    """The chase test: joining the projections onto `parts` gives back exactly the original rows
    for EVERY table that satisfies `fds` (not just the one you happen to have)."""
    columns = sorted(set(schema))
    fds = list(fds)
    # One tableau row per part: the distinguished symbol 'a' where the part has the column.
    rows = [{col: ("a", col) if col in set(part) else ("b", i, col) for col in columns}
            for i, part in enumerate(parts)]
    changed = True
    while changed:
        changed = False
        for fd in fds:
            if fd.rhs not in columns or not fd.lhs <= set(columns):
                continue
            lhs = sorted(fd.lhs)
            groups: dict[tuple, list[dict]] = {}
            for row in rows:
                groups.setdefault(tuple(row[c] for c in lhs), []).append(row)
            for group in groups.values():
                symbols = {row[fd.rhs] for row in group}
                if len(symbols) > 1:
                    # Equate to the distinguished symbol if one is there, else any one of them.
                    target = ("a", fd.rhs) if ("a", fd.rhs) in symbols else min(symbols)
                    for row in rows:
                        if row[fd.rhs] in symbols and row[fd.rhs] != target:
                            row[fd.rhs] = target
                            changed = True
    return any(all(row[c] == ("a", c) for c in columns) for row in rows)


def lost_dependencies(parts: Sequence[Iterable[str]], fds: Iterable[FD]) -> list[FD]:
    """The FDs that no longer follow from the FDs enforceable inside single parts.

    Uses the polynomial test: grow Z from X by Z ∪= ((Z ∩ Ri)+ ∩ Ri) over each part Ri; the FD
    X -> A is preserved iff A ends in Z.
    """
    fds = list(fds)
    parts = [frozenset(part) for part in parts]
    lost = []
    for fd in fds:
        reached = set(fd.lhs)
        changed = True
        while changed:
            changed = False
            for part in parts:
                gained = (closure(reached & part, fds) & part) - reached
                if gained:
                    reached |= gained
                    changed = True
        if fd.rhs not in reached:
            lost.append(fd)
    return lost


def is_dependency_preserving(parts: Sequence[Iterable[str]], fds: Iterable[FD]) -> bool:
    """True when every FD can be checked inside one part (no join needed to enforce it)."""
    return not lost_dependencies(parts, fds)


def multi_valued_columns(df: pd.DataFrame, separator: str = ",") -> list[str]:
    """Text columns holding lists in a cell (a 1NF violation), e.g. ``"eco, gift, sale"``."""
    found = []
    for col in df.columns:
        values = df[col].dropna()
        if values.map(lambda v: isinstance(v, str) and separator in v).any():
            found.append(col)
    return found
