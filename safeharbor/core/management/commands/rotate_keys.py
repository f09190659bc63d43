"""``manage.py rotate_keys``: re-encrypt every encrypted value with the current data key.

The procedure (new key first, old keys kept until this reports 0 values) is in docs/deploy.md,
"Rotating the data key". Values already under the current key are left alone, so the command can
be run again safely. All of it happens in one transaction, with the rows of each batch locked, so
it never leaves a half-rotated table nor overwrites a concurrent change with a stale value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models import ExpressionWrapper, F, TextField

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core.crypto import DecryptionError, keyring
from safeharbor.core.fields import encrypted_fields


@dataclass
class Tally:
    rows: int = 0
    rows_changed: int = 0
    values_changed: int = 0


def _models_with_encrypted_fields() -> list[tuple[type[models.Model], list[Any]]]:
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue  # a proxy shares its concrete model's table; unmanaged tables are not ours
        fields = encrypted_fields(model)
        if fields:
            found.append((model, fields))
    return sorted(found, key=lambda item: item[0]._meta.label)


def _raw(field: Any) -> ExpressionWrapper:
    """The column as stored (the ciphertext), without the field's decryption."""
    return ExpressionWrapper(F(field.attname), output_field=TextField())


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first key in SAFEHARBOR_DATA_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows read and written per query (default 500).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        current = keyring().current_id
        totals = Tally()
        with transaction.atomic():
            for model, fields in _models_with_encrypted_fields():
                tally = self._rotate_model(model, fields, current, batch_size)
                self.stdout.write(
                    f"{model._meta.label}: {tally.rows} rows, {tally.rows_changed} re-encrypted "
                    f"({tally.values_changed} values were under an older key; "
                    f"fields: {', '.join(f.name for f in fields)})"
                )
                totals.rows += tally.rows
                totals.rows_changed += tally.rows_changed
                totals.values_changed += tally.values_changed
            record(
                actor=None,
                actor_label="manage.py rotate_keys",
                action=AuditAction.KEY_ROTATION,
                object_type="core.datakey",
                object_id=current,
                reason=(
                    f"re-encrypted {totals.values_changed} values in {totals.rows_changed} of "
                    f"{totals.rows} rows with key {current}"
                ),
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {totals.values_changed} values in {totals.rows_changed} of {totals.rows} "
                f"rows re-encrypted with key {current!r}."
            )
        )

    def _rotate_model(
        self,
        model: type[models.Model],
        fields: list[Any],
        current: str,
        batch_size: int,
    ) -> Tally:
        tally = Tally()
        pk_name = model._meta.pk.attname
        raw_names = {field.attname: f"_raw_{field.attname}" for field in fields}
        current_prefix = f"v1.{current}."
        last_pk: Any = None
        while True:
            queryset = model._base_manager.order_by(pk_name)
            if last_pk is not None:
                queryset = queryset.filter(**{f"{pk_name}__gt": last_pk})
            rows = list(
                queryset.select_for_update()
                .annotate(**{raw_names[f.attname]: _raw(f) for f in fields})
                .values(pk_name, *raw_names.values())[:batch_size]
            )
            if not rows:
                return tally
            changed: list[models.Model] = []
            for row in rows:
                stale = [
                    field
                    for field in fields
                    if row[raw_names[field.attname]]
                    and not row[raw_names[field.attname]].startswith(current_prefix)
                ]
                if stale:
                    instance = model(**{pk_name: row[pk_name]})
                    for field in fields:
                        plain = self._plain(model, field, row[raw_names[field.attname]])
                        setattr(instance, field.attname, plain)
                    changed.append(instance)
                    tally.values_changed += len(stale)
            if changed:
                # bulk_update writes through the fields, which encrypt with the current key.
                model._base_manager.bulk_update(
                    changed, [f.name for f in fields], batch_size=batch_size
                )
            tally.rows += len(rows)
            tally.rows_changed += len(changed)
            last_pk = rows[-1][pk_name]

    def _plain(self, model: type[models.Model], field: Any, stored: Any) -> Any:
        try:
            return field.from_db_value(stored, None, connection)
        except DecryptionError as exc:
            raise CommandError(
                f"{model._meta.label}.{field.name} holds a value that does not decrypt: {exc} "
                "Add the missing key to SAFEHARBOR_DATA_KEYS and run the command again; "
                "nothing was changed."
            ) from exc
