"""People, the agencies they work for, and their role there."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from safeharbor.core.models import TimeStampedModel

from .choices import MFA_ROLES, YOUTH_DATA_ROLES, AgencyKind, Role


class Agency(TimeStampedModel):
    """An organisation whose staff use Safe Harbor."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=AgencyKind.choices)
    county = models.CharField(_("county"), max_length=100)
    is_victim_service_provider = models.BooleanField(
        _("victim-service provider"),
        default=False,
        help_text=_(
            "VAWA/VOCA-funded providers share nothing identifying without written, "
            "time-limited consent."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in. Belongs to at most one agency (see docs/decisions/0003)."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def agency_membership(self) -> Membership | None:
        try:
            return self.membership
        except Membership.DoesNotExist:
            return None

    @property
    def role(self) -> str | None:
        membership = self.agency_membership
        return membership.role if membership and membership.is_active else None

    @property
    def agency_id_or_none(self) -> int | None:
        membership = self.agency_membership
        return membership.agency_id if membership and membership.is_active else None

    @property
    def works_with_youth_data(self) -> bool:
        return self.role in YOUTH_DATA_ROLES

    @property
    def requires_mfa(self) -> bool:
        return self.is_staff or self.role in MFA_ROLES


class Membership(TimeStampedModel):
    """A user's role at their agency."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["agency", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.agency}"
