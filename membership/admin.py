from django.contrib import admin

from membership.models import Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "middle_name", "organization", "category", "status")
    list_filter = ("status", "category")
    search_fields = ("last_name",)
    raw_id_fields = ("organization", "user")
    show_full_result_count = False
