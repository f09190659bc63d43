"""Model instances from a hand-written statement, for the few reads that every request makes
(its session, its user, their second factor).

Building an ORM query costs more CPU than running it on a small table: the sign-in reads
compiled three querysets per request, about half of the CPU of a coding request. A
``RowReader`` lists a model's columns once and turns a fetched row back into an instance with
the same database converters the ORM applies (SQLite's dates and booleans, encrypted fields),
so the instance is the one the ORM would have made."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


class RowReader(Generic[M]):
    """All concrete columns of ``model``, qualified by ``alias`` for use in a SELECT."""

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.columns = ", ".join(f'{alias}."{field.column}"' for field in self.fields)
        self.width = len(self.fields)

    def build(self, values: Sequence[Any], using: str) -> M:
        """The instance for ``values`` (this reader's columns, in order), as the ORM builds it."""
        converted = list(values)
        for index, (converters, expression) in enumerate(_converters_for(self.model, using)):
            for converter in converters:
                converted[index] = converter(converted[index], expression, connections[using])
        return self.model.from_db(using, self.attnames, converted)


@cache
def _converters_for(model: type[Model], using: str) -> list[tuple[list[Converter], Any]]:
    connection = connections[using]
    out = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        out.append(
            (
                connection.ops.get_db_converters(column) + field.get_db_converters(connection),  # type: ignore[attr-defined]
                column,
            )
        )
    return out


def fetch_all(sql: str, params: Sequence[Any], using: str) -> list[tuple[Any, ...]]:
    """The rows of a hand-written statement (values always as parameters)."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def fetch_one(sql: str, params: Sequence[Any], using: str) -> tuple[Any, ...] | None:
    rows = fetch_all(sql, params, using)
    return rows[0] if rows else None
