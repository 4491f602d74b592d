from django.contrib import admin

from registry.models import Chair, ChairTraining, Organization, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "federal_district", "pilot_2018")
    list_filter = ("federal_district", "pilot_2018")
    search_fields = ("code", "name")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Structure changes go through the cabinet's services; the admin only reads and fixes passports."""

    list_display = ("name", "level", "region", "inn", "is_active")
    list_filter = ("level", "institution_type", "is_active")
    search_fields = ("name", "short_name", "inn")
    raw_id_fields = ("parent",)
    readonly_fields = ("parent", "path", "depth", "level", "region", "created_at", "updated_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


class ChairTrainingInline(admin.TabularInline):
    model = ChairTraining
    extra = 0


@admin.register(Chair)
class ChairAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "organization", "term_start", "term_end")
    search_fields = ("last_name", "first_name", "organization__name")
    raw_id_fields = ("organization",)
    inlines = [ChairTrainingInline]
