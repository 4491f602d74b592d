from django.urls import path

from registry import views

app_name = "registry"

urlpatterns = [
    path("orgs/", views.org_tree, name="org_tree"),
    path("orgs/<int:pk>/", views.org_detail, name="org_detail"),
    path("orgs/<int:pk>/edit/", views.org_edit, name="org_edit"),
    path("orgs/<int:pk>/add/", views.org_add_child, name="org_add_child"),
    path("orgs/<int:pk>/active/", views.org_set_active, name="org_set_active"),
    path("orgs/<int:org_pk>/chairs/add/", views.chair_create, name="chair_create"),
    path("chairs/", views.chair_list, name="chair_list"),
    path("chairs/<int:pk>/", views.chair_detail, name="chair_detail"),
    path("chairs/<int:pk>/edit/", views.chair_edit, name="chair_edit"),
    path("chairs/<int:pk>/trainings/add/", views.chair_training_add, name="chair_training_add"),
    path("staff/", views.staff_user_list, name="staff_user_list"),
    path("orgs/<int:org_pk>/staff/add/", views.staff_user_create, name="staff_user_create"),
    path("staff/<int:pk>/active/", views.staff_user_set_active, name="staff_user_set_active"),
    path("staff/<int:pk>/invite/", views.staff_user_resend_invitation, name="staff_user_resend_invitation"),
]
