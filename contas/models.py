"""Users, tenants (Conta) and memberships, plus the abstract base of every tenant-owned model."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class CustomUserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("The e-mail must be set")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username):
        # Login by e-mail ignores case: people type their address in any case.
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class CustomUser(AbstractUser):
    """A person; logs in with the e-mail address."""

    username = None
    email = models.EmailField(_("e-mail"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = CustomUserManager()

    class Meta:
        db_table = "tds_new_user"
        verbose_name = _("usuário")
        verbose_name_plural = _("usuários")

    def __str__(self):
        return self.email


class Conta(models.Model):
    """A customer account: the tenant that owns gateways, devices and readings."""

    nome = models.CharField(_("nome"), max_length=120)
    slug = models.SlugField(_("identificador"), max_length=60, unique=True)
    is_active = models.BooleanField(_("ativa"), default=True)
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizada em"), auto_now=True)

    class Meta:
        db_table = "tds_new_conta"
        ordering = ["nome"]
        verbose_name = _("conta")
        verbose_name_plural = _("contas")

    def __str__(self):
        return self.nome


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrador")
    OPERADOR = "operador", _("Operador")
    LEITOR = "leitor", _("Leitor")
    # A resident: sees only their own unit (unidades.MoradorUnidade), none of the pages above.
    MORADOR = "morador", _("Morador")


class ContaMembership(models.Model):
    """A user's role in an account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    conta = models.ForeignKey(Conta, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("papel"), max_length=16, choices=Role.choices, default=Role.LEITOR)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(
        _("aceito em"),
        null=True,
        blank=True,
        default=timezone.now,
        help_text=_(
            "Vazio: convite pendente, ainda sem acesso à conta. Um convite por e-mail só vale "
            "depois que a pessoa o aceita."
        ),
    )

    class Meta:
        db_table = "tds_new_conta_membership"
        constraints = [
            models.UniqueConstraint(fields=["conta", "user"], name="uniq_membership_conta_user")
        ]
        verbose_name = _("membro")
        verbose_name_plural = _("membros")

    def __str__(self):
        return f"{self.user} @ {self.conta} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None

    @property
    def can_manage_members(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_edit_registry(self) -> bool:
        return self.role in (Role.ADMIN, Role.OPERADOR)


class ContaOwnedModel(models.Model):
    """Abstract base of every tenant-owned row.

    The default manager is scoped (django-scopes): a query made outside
    `scope(conta=...)` or `scopes_disabled()` raises instead of leaking rows.
    """

    conta = models.ForeignKey(Conta, on_delete=models.CASCADE, verbose_name=_("conta"))
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    objects = ScopedManager(conta="conta")

    class Meta:
        abstract = True
