"""The append-only, hash-chained audit trail."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import AuditAction


class AuditEvent(models.Model):
    """One read, write or security event. Never updated or deleted (database triggers refuse it).

    ``hash`` is SHA-256 over this event's fields and ``prev_hash``, so altering or removing any
    event breaks the chain from that point (``manage.py audit_verify``).
    """

    seq = models.BigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # the trail outlives anything it mentions
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    youth_id = models.UUIDField(_("youth"), null=True, blank=True)
    category = models.CharField(_("data category"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["youth_id", "-at"], name="audit_youth_at_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at_idx"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class AuditEventYouth(models.Model):
    """A youth whose name a list event showed: one row per name, one event per page.

    The event's ``object_id`` is a digest of its youth ids (``audit.listing``), so the hash chain
    covers these rows too: ``audit_verify`` recomputes the digest from them. Append-only, like
    the events (database triggers refuse update and delete).
    """

    pk = models.CompositePrimaryKey("event_id", "youth_id")
    event = models.ForeignKey(
        AuditEvent,
        on_delete=models.PROTECT,
        to_field="seq",
        db_column="event_seq",
        db_index=False,  # the primary key leads with it
        related_name="youth_links",
    )
    youth_id = models.UUIDField(_("youth"))

    class Meta:
        indexes = [models.Index(fields=["youth_id", "event"], name="audit_link_youth_idx")]
        verbose_name = _("youth named by an audit event")
        verbose_name_plural = _("youth named by audit events")

    def __str__(self) -> str:
        return f"#{self.event_id} {self.youth_id}"


class AuditChainHead(models.Model):
    """The single row holding the last event's hash; locked by every writer of the trail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_head")]

    def __str__(self) -> str:
        return f"head #{self.seq}"
