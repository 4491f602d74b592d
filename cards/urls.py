from django.urls import path

from cards import offline, settlement_views, views

app_name = "cards"

urlpatterns = [
    path("member/<int:member_pk>/", views.member_card, name="member_card"),
    path("member/<int:member_pk>/request/", views.card_request_create, name="card_request_create"),
    path("member/<int:member_pk>/<slug:action>/", views.card_action, name="card_action"),
    path("my/", views.my_card, name="my_card"),
    path("my/sw.js", offline.service_worker, name="app_worker"),
    path("my/manifest.webmanifest", offline.manifest, name="app_manifest"),
    path("requests/", views.card_requests, name="card_requests"),
    path("requests/for-all/", views.card_requests_for_all, name="card_requests_for_all"),
    path("requests/approve/", views.card_requests_approve, name="card_requests_approve"),
    path("requests/<int:pk>/<slug:action>/", views.card_request_action, name="card_request_action"),
    path("batches/", views.card_batches, name="card_batches"),
    path("batches/form/", views.card_batch_form, name="card_batch_form"),
    path("batches/<int:pk>/", views.card_batch, name="card_batch"),
    path("batches/<int:pk>/status/", views.card_batch_status, name="card_batch_status"),
    path("batches/<int:pk>/package/", views.card_batch_download, name="card_batch_download"),
    path("batches/<int:pk>/advance/", views.card_batch_advance, name="card_batch_advance"),
    path("batches/<int:pk>/rebuild/", views.card_batch_rebuild, name="card_batch_rebuild"),
    path("v/<str:token>/", views.verify, name="verify"),
    *settlement_views.urlpatterns,
]
