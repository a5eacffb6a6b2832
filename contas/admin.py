from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.utils.translation import gettext_lazy as _

from tds_core.forms import DecimalBRField

from .models import Conta, ContaMembership, CustomUser


@admin.register(CustomUser)
class CustomUserAdmin(UserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Dados pessoais"), {"fields": ("first_name", "last_name")}),
        (_("Permissões"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Datas"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = ContaMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Conta)
class ContaAdmin(admin.ModelAdmin):
    list_display = ["nome", "slug", "is_active", "created_at"]
    search_fields = ["nome", "slug"]
    prepopulated_fields = {"slug": ["nome"]}
    inlines = [MembershipInline]
    # The prices as a Brazilian types them ("0,85", "1.234,56"), as on the account's page.
    formfield_overrides = {models.DecimalField: {"form_class": DecimalBRField}}


@admin.register(ContaMembership)
class ContaMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "conta", "role", "created_at"]
    list_filter = ["role", "conta"]
    search_fields = ["user__email", "conta__nome"]
    autocomplete_fields = ["user", "conta"]
