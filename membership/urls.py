from django.urls import path, re_path

from membership import views

app_name = "membership"

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("<int:pk>/", views.member_detail, name="member_detail"),
    path("<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("<int:pk>/leave/", views.member_leave, name="member_leave"),
    path("<int:pk>/restore/", views.member_restore, name="member_restore"),
    path("<int:pk>/transfer/", views.member_transfer, name="member_transfer"),
    path("<int:pk>/transfer/cancel/", views.transfer_cancel, name="transfer_cancel"),
    path("<int:pk>/consents/add/", views.consent_add, name="consent_add"),
    path("<int:pk>/consents/form/<slug:purpose>.pdf", views.consent_form_pdf, name="consent_form_pdf"),
    path("<int:pk>/consents/<int:consent_pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("<int:pk>/consents/<int:consent_pk>/scan/", views.consent_scan, name="consent_scan"),
    re_path(r"^(?P<pk>\d+)/data\.(?P<fmt>json|pdf)$", views.member_data, name="member_data"),
    path("<int:pk>/account/", views.member_account_invite, name="member_account_invite"),
    path("activate/", views.account_activate, name="account_activate"),
    path("me/", views.my_cabinet, name="my_cabinet"),
    path("me/contacts/", views.my_contacts, name="my_contacts"),
    re_path(r"^me/data\.(?P<fmt>json|pdf)$", views.my_data, name="my_data"),
    path("me/consents/form/<slug:purpose>.pdf", views.my_consent_form_pdf, name="my_consent_form_pdf"),
    re_path(r"^import/template\.(?P<fmt>xlsx|csv)$", views.import_template, name="import_template"),
    path("import/<int:org_pk>/", views.import_upload, name="import_upload"),
    path("import/job/<int:pk>/", views.import_job, name="import_job"),
    path("import/job/<int:pk>/status/", views.import_job_status, name="import_job_status"),
    re_path(r"^export\.(?P<fmt>xlsx|csv)$", views.member_export, name="member_export"),
    path("admit/<int:org_pk>/", views.member_admit, name="member_admit"),
    path("transfers/", views.transfer_inbox, name="transfer_inbox"),
    path("transfers/<int:pk>/accept/", views.transfer_accept, name="transfer_accept"),
    path("transfers/<int:pk>/reject/", views.transfer_reject, name="transfer_reject"),
]
