from django.urls import path

from union_statistics.views import dashboards, exports, reports

app_name = "statistics"

urlpatterns = [
    # Dashboards (views/dashboards.py): every level's figures from the rollup snapshots, digitalisation progress.
    path("", dashboards.home, name="home"),
    path("org/<int:pk>/", dashboards.dashboard, name="dashboard"),
    path("progress/", dashboards.progress, name="progress"),
    # Reports, campaigns and rollups (views/reports.py).
    path("reports/", reports.report_list, name="report_list"),
    path("reports/open/<int:year>/", reports.report_open_view, name="report_open"),
    path("reports/<int:pk>/", reports.report_detail, name="report_detail"),
    path("reports/<int:pk>/decide/", reports.report_decide, name="report_decide"),
    path("org/<int:pk>/report/<int:year>/", reports.org_report, name="org_report"),
    path("campaigns/", reports.campaign_list, name="campaign_list"),
    path("campaigns/<int:year>/", reports.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:year>/close/", reports.campaign_close_view, name="campaign_close"),
    path("rollups/", reports.rollup_list, name="rollup_list"),
    # Exports (views/exports.py): .xlsx and PDF of the report, a rollup, a dashboard's table, the progress table.
    path("reports/<int:pk>/export.<str:fmt>/", exports.report_export, name="report_export"),
    path("org/<int:pk>/report/<int:year>/export.<str:fmt>/", exports.org_report_export, name="org_report_export"),
    path("org/<int:pk>/table.<str:fmt>/", exports.dashboard_export, name="dashboard_export"),
    path("progress/export.<str:fmt>/", exports.progress_export, name="progress_export"),
]
