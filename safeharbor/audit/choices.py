from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    LIST = "list", _("listed")
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    REVOKE = "revoke", _("revoked")
    EXPORT = "export", _("exported")
    DENIED = "denied", _("was refused")
    LOGIN = "login", _("logged in")
    LOGIN_FAILED = "login_failed", _("failed to log in")
    LOGOUT = "logout", _("logged out")
    LOCKOUT = "lockout", _("was locked out")
    MFA_VERIFIED = "mfa_verified", _("passed MFA")
    MFA_FAILED = "mfa_failed", _("failed MFA")
    MFA_ENROLLED = "mfa_enrolled", _("enrolled in MFA")
    BREAK_GLASS_OPEN = "break_glass_open", _("opened break-glass access")
    BREAK_GLASS_REVIEW = "break_glass_review", _("reviewed break-glass access")
    KEY_ROTATION = "key_rotation", _("rotated encryption keys")
