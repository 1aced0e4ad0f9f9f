"""Entity-relationship diagrams drawn from live SQLAlchemy MetaData, never by hand.

Cardinalities come from the constraints the database will enforce, the way a reader of the
schema would derive them:

- every foreign key is a relationship from the referenced (parent) table to the child table;
- the child side is "zero or one" when the FK columns are unique (they contain the primary key
  or a UNIQUE constraint/index), so the relationship is one-to-one; otherwise "zero or many";
- the parent side is "exactly one" when every FK column is NOT NULL, else "zero or one".

The diagram is Mermaid `erDiagram` text in crow's-foot notation; displayed in JupyterLab 4 it
renders as a diagram (a ```mermaid block in Markdown output).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class Link:
    """One foreign key seen as a relationship between two entities."""

    parent: str  # the referenced table
    child: str  # the table holding the foreign key
    columns: tuple[str, ...]  # the FK columns in the child
    one_to_one: bool  # the FK columns are unique in the child
    mandatory: bool  # every child row must have a parent (FK columns NOT NULL)

    @property
    def cardinality(self) -> str:
        return "one-to-one" if self.one_to_one else "one-to-many"

    @property
    def mermaid(self) -> str:
        # Mermaid crow's feet: left marker for the parent, right marker for the child.
        parent_end = "||" if self.mandatory else "|o"
        child_end = "o|" if self.one_to_one else "o{"
        label = ", ".join(self.columns)
        return f'    {self.parent} {parent_end}--{child_end} {self.child} : "{label}"'


def unique_column_sets(table: sa.Table) -> list[frozenset[str]]:
    """Every column set the database keeps unique in `table`: PK, UNIQUE, unique indexes."""
    sets = []
    if table.primary_key.columns:
        sets.append(frozenset(column.name for column in table.primary_key.columns))
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and constraint.columns:
            sets.append(frozenset(column.name for column in constraint.columns))
    for index in table.indexes:
        if index.unique:
            sets.append(frozenset(column.name for column in index.columns))
    sets.extend(frozenset([column.name]) for column in table.columns if column.unique)
    return sets


def is_unique(table: sa.Table, columns: Iterable[str]) -> bool:
    """True when no two rows of `table` can share these column values (a key is inside them)."""
    wanted = frozenset(columns)
    return any(key <= wanted for key in unique_column_sets(table))


def links(metadata: sa.MetaData) -> list[Link]:
    """The relationships a MetaData's foreign keys define, sorted by child and columns."""
    found = []
    for table in metadata.sorted_tables:
        for constraint in table.foreign_key_constraints:
            columns = tuple(column.name for column in constraint.columns)
            found.append(
                Link(
                    parent=constraint.referred_table.name,
                    child=table.name,
                    columns=columns,
                    one_to_one=is_unique(table, columns),
                    mandatory=all(not column.nullable for column in constraint.columns),
                )
            )
    return sorted(found, key=lambda link: (link.child, link.columns))


def _attribute(table: sa.Table, column: sa.Column) -> str:
    type_name = type(column.type).__name__.lower()
    keys = []
    if column.primary_key:
        keys.append("PK")
    if column.foreign_keys:
        keys.append("FK")
    if not column.primary_key and is_unique(table, [column.name]):
        keys.append("UK")
    return f"        {type_name} {column.name} {','.join(keys)}".rstrip()


def mermaid_erd(metadata: sa.MetaData) -> str:
    """The Mermaid `erDiagram` of every table and foreign key in `metadata`."""
    lines = ["erDiagram"]
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        lines.append(f"    {table.name} {{")
        lines.extend(_attribute(table, column) for column in table.columns)
        lines.append("    }")
    lines.extend(link.mermaid for link in links(metadata))
    return "\n".join(lines)


@dataclass(frozen=True, repr=False)
class ERD:
    """A diagram of one MetaData at the moment it was drawn; shows itself in JupyterLab."""

    text: str
    links: tuple[Link, ...]
    tables: tuple[str, ...]

    def link(self, parent: str, child: str) -> Link:
        """The relationship from `parent` to `child` (KeyError when there is none)."""
        for candidate in self.links:
            if (candidate.parent, candidate.child) == (parent, child):
                return candidate
        raise KeyError(f"no foreign key from {child} to {parent} in this diagram")

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.text}\n```"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:  # the plain-text fallback outside JupyterLab
        return f"ERD of {len(self.tables)} tables, {len(self.links)} relationships:\n{self.text}"


def draw_erd(metadata: sa.MetaData) -> ERD:
    """Read `metadata` now and return its diagram (draw again after the model changes)."""
    return ERD(
        text=mermaid_erd(metadata),
        links=tuple(links(metadata)),
        tables=tuple(sorted(metadata.tables)),
    )
