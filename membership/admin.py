from django import forms
from django.contrib import admin

from membership.forms import MemberChecksMixin
from membership.models import Member


class MemberAdminForm(MemberChecksMixin, forms.ModelForm):
    """The admin changes a record through the same checks as the chair's form (the admin adds model and fields)."""


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    form = MemberAdminForm
    list_display = ("last_name", "first_name", "middle_name", "organization", "category", "status")
    list_filter = ("status", "category")
    search_fields = ("last_name",)
    raw_id_fields = ("organization", "user")
    show_full_result_count = False
