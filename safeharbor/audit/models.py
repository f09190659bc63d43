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
            # The list events by the list they showed, for "who accessed this record".
            models.Index(
                fields=["object_id", "-at", "-seq"],
                name="audit_list_shown_idx",
                condition=models.Q(action=AuditAction.LIST),
            ),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class AuditListedYouth(models.Model):
    """A youth named by a list that audit events showed: a list is stored once, however often
    it is shown, and every list event names it by its digest (``object_id``, ``audit.listing``).

    The digest is SHA-256 over the list's youth ids, so a list's rows are content-addressed:
    ``audit_verify`` recomputes each digest from them. Append-only, like the events (database
    triggers refuse update and delete). Storing each distinct list once keeps a page that shows
    the same caseload again to one event, and the trail from growing by one row per name shown
    (docs/decisions/0011).
    """

    pk = models.CompositePrimaryKey("list_digest", "youth_id")
    list_digest = models.CharField(_("list"), max_length=64)
    youth_id = models.UUIDField(_("youth"))

    class Meta:
        indexes = [models.Index(fields=["youth_id", "list_digest"], name="audit_listed_youth_idx")]
        verbose_name = _("youth named by a listed page")
        verbose_name_plural = _("youth named by listed pages")

    def __str__(self) -> str:
        return f"{self.list_digest} {self.youth_id}"


class AuditChainHead(models.Model):
    """The single row holding the last event's hash; locked by every writer of the trail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    # The last event's prev_hash, moved with the head: a writer that moves the head in one
    # statement reads it back (RETURNING shows only the new row).
    prev_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_head")]

    def __str__(self) -> str:
        return f"head #{self.seq}"
