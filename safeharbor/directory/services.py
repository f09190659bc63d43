"""Every write to the directory: validated, atomic and audited.

Directory data is public (never youth data): the audit events carry no youth id and no
category. Imports run from the command line have no actor; the event names the command.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core import clock

from . import exporter, importer, index
from .models import Capacity, Service
from .selectors import can_edit_service

EDITABLE_FIELDS = (
    "name",
    "alternate_name",
    "description",
    "status",
    "url",
    "email",
    "eligibility_description",
    "minimum_age",
    "maximum_age",
    "application_process",
    "fees_description",
    "interpretation_services",
    "wait_time",
    "alert",
)


def directory_import(
    *,
    actor: Any,
    json_sources: Iterable[tuple[importer.Source, str | None]] = (),
    package: dict[str, importer.Source] | None = None,
    lenient: bool = False,
    dry_run: bool = False,
    progress: importer.Progress | None = None,
    actor_label: str = "",
) -> importer.ImportReport:
    """Import HSDS files all-or-nothing (see ``importer``); the audit event is written in the
    import's own transaction."""

    def audit(report: importer.ImportReport) -> None:
        record(
            actor=actor,
            actor_label=actor_label,
            action=AuditAction.CREATE,
            object_type="directory.import",
            reason=report.summary(),
        )

    return importer.run(
        json_sources=json_sources,
        package=package,
        lenient=lenient,
        dry_run=dry_run,
        progress=progress,
        before_commit=audit,
    )


@transaction.atomic
def directory_export_json(
    *, actor: Any, actor_label: str = "", progress: importer.Progress | None = None
) -> dict[str, Any]:
    document = exporter.export_json(progress)
    record(
        actor=actor,
        actor_label=actor_label,
        action=AuditAction.EXPORT,
        object_type="directory.export",
        reason=f"HSDS JSON, {document['total_items']} services",
    )
    return document


@transaction.atomic
def directory_export_datapackage(
    *, actor: Any, actor_label: str = "", progress: importer.Progress | None = None
) -> dict[str, bytes]:
    files = exporter.export_datapackage(progress)
    record(
        actor=actor,
        actor_label=actor_label,
        action=AuditAction.EXPORT,
        object_type="directory.export",
        reason=f"HSDS tabular datapackage, {len(files)} files",
    )
    return files


@transaction.atomic
def service_update(*, actor: Any, service: Service, **changes: Any) -> Service:
    """An organisation's administrator corrects their service; it counts as verified now."""
    if not can_edit_service(actor, service):
        raise PermissionDenied
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(service, name, value.strip() if isinstance(value, str) else value)
    service.last_modified = clock.now()
    service.full_clean(exclude=["organization", "program"])
    service.save(update_fields=[*changes, "last_modified", "updated_at"])
    index.rebuild([service.pk])  # words, status, ages and last_modified are searched
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="directory.service",
        object_id=service.pk,
        reason="changed: " + ", ".join(sorted(changes)),
    )
    return service


@transaction.atomic
def capacity_update(
    *,
    actor: Any,
    service: Service,
    available: int,
    maximum: int | None,
    unit: str,
) -> Capacity:
    """Record how much of the service is free now."""
    if not can_edit_service(actor, service):
        raise PermissionDenied
    if available < 0 or (maximum is not None and maximum < 0):
        raise ValidationError({"available": _("Numbers cannot be negative.")})
    now = clock.now()
    capacity = Capacity.objects.filter(service=service).first() or Capacity(
        id=uuid.uuid4(), service=service
    )
    capacity.available, capacity.maximum = available, maximum
    capacity.unit, capacity.updated = unit.strip(), now
    capacity.full_clean()
    capacity.save()
    service.last_modified = now
    service.save(update_fields=["last_modified", "updated_at"])
    index.rebuild([service.pk])
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="directory.capacity",
        object_id=service.pk,
        reason=f"available {available} of {maximum if maximum is not None else '?'} {unit}",
    )
    return capacity
