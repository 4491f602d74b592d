from django.contrib import admin
from django.urls import include, path

from accounts.views import home
from discounts.api import api as partner_api

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("registry/", include("registry.urls")),
    path("members/", include("membership.urls")),
    path("cards/", include("cards.urls")),
    path("statistics/", include("union_statistics.urls")),
    path("discounts/", include("discounts.urls")),
    path("api/v1/", partner_api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
