from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import AccessLog, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "organization", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "last_name", "first_name", "email")
    raw_id_fields = ("organization",)
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Роль в Профсоюзе"), {"fields": ("role", "organization", "middle_name")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("Роль в Профсоюзе"), {"fields": ("role", "organization")}))


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only by law."""

    list_display = ("created_at", "username", "action", "object_type", "object_id", "object_repr", "ip_address")
    list_filter = ("action", "object_type")
    search_fields = ("username", "object_id", "object_repr")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
