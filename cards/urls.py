from django.urls import path

from cards import views

app_name = "cards"

urlpatterns = [
    path("member/<int:member_pk>/", views.member_card, name="member_card"),
    path("member/<int:member_pk>/<slug:action>/", views.card_action, name="card_action"),
    path("my/", views.my_card, name="my_card"),
    path("v/<str:token>/", views.verify, name="verify"),
]
