from django.urls import path

from cards import views

app_name = "cards"

urlpatterns = [
    path("member/<int:member_pk>/", views.member_card, name="member_card"),
    path("member/<int:member_pk>/request/", views.card_request_create, name="card_request_create"),
    path("member/<int:member_pk>/<slug:action>/", views.card_action, name="card_action"),
    path("my/", views.my_card, name="my_card"),
    path("requests/", views.card_requests, name="card_requests"),
    path("requests/for-all/", views.card_requests_for_all, name="card_requests_for_all"),
    path("requests/<int:pk>/<slug:action>/", views.card_request_action, name="card_request_action"),
    path("v/<str:token>/", views.verify, name="verify"),
]
