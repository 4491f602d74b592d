"""The annual report: pre-filled from the register, checked, submitted, returned, resubmitted, accepted, frozen."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import AccessLog
from membership.services import member_update
from union_statistics import services
from union_statistics.indicators import END, START
from union_statistics.models import AnnualReport, ReportCampaign, ReportEvent
from union_statistics.services import StatisticsError

pytestmark = pytest.mark.django_db

ENTERED = {"working": [10, 12, 9], "students": [0, 3, 1]}


@pytest.fixture
def report(union, users, year_2025) -> AnnualReport:
    return services.report_open(organization=union.primary_a1a, year=2025, by=users.chair)


def test_a_new_report_is_prefilled_from_the_register(report):
    figures, check = services.report_preview(report=report, entered=ENTERED)

    assert figures["members"] == [6, 5, 3]
    assert figures["joined"][END] == 1
    assert figures["working"] == [10, 12, 9]
    assert not check.errors
    assert "было 6, принято и прибыло 2, выбыло и убыло 3, стало 5" in check.balance[0]


def test_members_more_than_the_institution_employs_are_refused(report, users):
    too_few = {"working": [3, 2, 2], "students": [0, 3, 1]}  # 3 working members at the end, 2 employees

    with pytest.raises(StatisticsError) as refused:
        services.report_submit(report=report, by=users.chair, entered=too_few)

    assert "больше, чем «Работающих в учреждении» (2)" in refused.value.message
    report.refresh_from_db()
    assert report.status == AnnualReport.Status.DRAFT
    assert report.figures == {}


def test_every_entered_number_is_required(report, users):
    with pytest.raises(StatisticsError) as refused:
        services.report_submit(report=report, by=users.chair, entered={"working": [10, None, 9]})

    assert "Заполните строку «Работающих в учреждении»" in refused.value.message


def test_a_start_that_differs_from_last_years_accepted_end_needs_an_explanation(union, users, report):
    AnnualReport.objects.create(
        organization=union.primary_a1a, year=2024, status=AnnualReport.Status.ACCEPTED,
        submitted_at=datetime.datetime(2025, 2, 1, tzinfo=datetime.UTC),
        figures={"members": [7, 8, 6], "working": [10, 10, 8], "students": [0, 0, 0]},
    )  # fmt: skip

    with pytest.raises(StatisticsError) as refused:
        services.report_submit(report=report, by=users.chair, entered=ENTERED)
    assert "объясните расхождение" in refused.value.message

    _figures, check = services.report_preview(report=report, entered=ENTERED)
    assert any(
        "на начало 2025 года: 6, а в принятом отчёте за 2024 год на конец года было 8" in line
        for line in check.differences
    )

    submitted = services.report_submit(
        report=report, by=users.chair, entered=ENTERED, explanation="Двое выбывших в 2024 году внесены в реестр позже."
    )
    assert submitted.status == AnnualReport.Status.SUBMITTED


def test_return_correct_resubmit_accept(report, users):
    services.report_submit(report=report, by=users.chair, entered=ENTERED)

    returned = services.report_return(report=report, by=users.local, comment="Проверьте число обучающихся.")
    assert returned.status == AnnualReport.Status.RETURNED
    assert returned.return_comment == "Проверьте число обучающихся."

    services.report_submit(report=report, by=users.chair, entered={"working": [10, 12, 9], "students": [0, 4, 2]})
    accepted = services.report_accept(report=report, by=users.regional)

    assert accepted.status == AnnualReport.Status.ACCEPTED
    assert accepted.figures["students"] == [0, 4, 2]
    assert accepted.return_comment == ""
    kinds = list(accepted.events.order_by("created_at", "id").values_list("kind", flat=True))
    assert kinds == ["submitted", "returned", "submitted", "accepted"]


def test_a_return_needs_a_comment(report, users):
    services.report_submit(report=report, by=users.chair, entered=ENTERED)

    with pytest.raises(StatisticsError):
        services.report_return(report=report, by=users.local, comment="  ")


@pytest.mark.parametrize("role", ["chair", "other_chair", "other_regional", "member", "cashier"])
def test_only_the_apparatus_above_decides(report, users, role):
    services.report_submit(report=report, by=users.chair, entered=ENTERED)

    with pytest.raises(PermissionDenied):
        services.report_accept(report=report, by=users.by_role(role))
    with pytest.raises(PermissionDenied):
        services.report_return(report=report, by=users.by_role(role), comment="нет")
    assert AnnualReport.objects.get(pk=report.pk).status == AnnualReport.Status.SUBMITTED


@pytest.mark.parametrize("role", ["local", "regional", "central", "other_chair", "member"])
def test_only_the_chair_fills_and_submits(report, users, role):
    with pytest.raises(PermissionDenied):
        services.report_submit(report=report, by=users.by_role(role), entered=ENTERED)


def test_a_submitted_report_is_frozen_against_register_changes(report, users, year_2025):
    services.report_submit(report=report, by=users.chair, entered=ENTERED)
    frozen = AnnualReport.objects.get(pk=report.pk).figures

    vera = year_2025.members["vera"]
    member_update(
        by=users.chair,
        member=vera,
        category="working",
        union_joined_on=datetime.date(2024, 1, 10),
        org_joined_on=datetime.date(2024, 1, 10),
    )

    report.refresh_from_db()
    assert report.figures == frozen
    figures, _check = services.report_preview(report=report, entered=ENTERED)
    assert figures == frozen
    live = services.organization_register_figures(organization=report.organization, year=2025)
    assert live["members"][START] == 7  # the register moved on; the report did not


def test_a_frozen_report_cannot_be_edited(report, users):
    services.report_submit(report=report, by=users.chair, entered=ENTERED)

    with pytest.raises(StatisticsError):
        services.report_save(report=report, by=users.chair, entered=ENTERED)


def test_a_report_of_the_current_year_is_refused(union, users):
    with pytest.raises(StatisticsError):
        services.report_open(organization=union.primary_a1a, year=datetime.date.today().year, by=users.chair)


class TestPages:
    def test_chair_fills_and_submits_through_the_form(self, client_for, users, report):
        client = client_for(users.chair)
        page = client.get(reverse("statistics:report_detail", args=[report.pk]))
        assert page.status_code == 200
        assert "Всего членов Профсоюза" in page.content.decode()

        data = {"working_start": 10, "working_end": 12, "working_women": 9, "students_start": 0, "students_end": 3, "students_women": 1, "explanation": "", "submit": "1"}  # fmt: skip
        response = client.post(reverse("statistics:report_detail", args=[report.pk]), data)

        assert response.status_code == 302
        report.refresh_from_db()
        assert report.status == AnnualReport.Status.SUBMITTED
        assert report.figures["working"] == [10, 12, 9]

    def test_a_refused_submission_shows_why_and_keeps_the_draft(self, client_for, users, report):
        data = {"working_start": 1, "working_end": 1, "working_women": 1, "students_start": 0, "students_end": 3, "students_women": 1, "submit": "1"}  # fmt: skip

        response = client_for(users.chair).post(reverse("statistics:report_detail", args=[report.pk]), data)

        assert response.status_code == 200
        assert "больше, чем" in response.content.decode()
        report.refresh_from_db()
        assert report.status == AnnualReport.Status.DRAFT

    def test_negative_numbers_are_refused_in_russian(self, client_for, users, report):
        data = {"working_start": -1, "working_end": 12, "working_women": 9, "students_start": 0, "students_end": 3, "students_women": 1, "submit": "1"}  # fmt: skip

        response = client_for(users.chair).post(reverse("statistics:report_detail", args=[report.pk]), data)

        assert "Не меньше нуля." in response.content.decode()

    def test_the_level_above_returns_and_the_chair_reads_the_comment(self, client_for, users, report, client):
        services.report_submit(report=report, by=users.chair, entered=ENTERED)
        client_for(users.local).post(
            reverse("statistics:report_decide", args=[report.pk]), {"action": "return", "comment": "Где студенты?"}
        )

        page = client_for(users.chair).get(reverse("statistics:report_detail", args=[report.pk]))

        assert "Где студенты?" in page.content.decode()
        assert AnnualReport.objects.get(pk=report.pk).status == AnnualReport.Status.RETURNED

    def test_the_other_region_cannot_see_or_decide(self, client_for, users, report):
        services.report_submit(report=report, by=users.chair, entered=ENTERED)
        client = client_for(users.other_regional)

        assert client.get(reverse("statistics:report_detail", args=[report.pk])).status_code == 404
        response = client.post(reverse("statistics:report_decide", args=[report.pk]), {"action": "accept"})

        assert response.status_code == 404
        assert AnnualReport.objects.get(pk=report.pk).status == AnnualReport.Status.SUBMITTED

    def test_the_report_list_of_a_region_leaves_out_the_other_region(self, client_for, users, union, report):
        other = services.report_open(organization=union.primary_b1a, year=2025, by=users.other_chair)

        page = client_for(users.regional).get(reverse("statistics:report_list"), {"status": ""}).content.decode()

        assert union.primary_a1a.display_name in page
        assert other.organization.display_name not in page


class TestCampaigns:
    def test_central_opens_a_campaign_and_every_open_primary_owes_a_report(self, users, union):
        campaign = services.campaign_open(
            year=2025, deadline=datetime.date.today() + datetime.timedelta(days=30), by=users.central
        )

        owed = set(campaign.reports.values_list("organization_id", flat=True))
        assert owed == {union.primary_a1a.pk, union.primary_a1b.pk, union.university_a.pk, union.primary_b1a.pk}

    def test_only_central_office_opens_campaigns(self, users):
        with pytest.raises(PermissionDenied):
            services.campaign_open(year=2025, deadline=datetime.date.today(), by=users.regional)

    def test_the_not_submitted_list_of_a_region(self, client_for, users, union, year_2025):
        campaign = services.campaign_open(
            year=2025, deadline=datetime.date.today() + datetime.timedelta(days=30), by=users.central
        )
        report = campaign.reports.get(organization=union.primary_a1a)
        services.report_submit(report=report, by=users.chair, entered=ENTERED)
        returned = services.report_return(report=report, by=users.local, comment="Исправьте")

        page = client_for(users.regional).get(reverse("statistics:campaign_detail", args=[2025]))
        html = page.content.decode()

        assert page.status_code == 200
        total = page.context["total"]
        assert (total.expected, total.accepted, total.returned, total.owed) == (3, 0, 1, 3)
        owed = {r.organization_id: r.status for r in page.context["owed"]}
        assert owed == {union.primary_a1a.pk: "returned", union.primary_a1b.pk: "draft", union.university_a.pk: "draft"}
        assert union.primary_b1a.display_name not in html
        assert returned.organization.display_name in html

    def test_reminders_go_to_chairs_who_owe_and_not_twice_a_week(self, users, union, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        today = datetime.date.today()
        campaign = services.campaign_open(year=2025, deadline=today + datetime.timedelta(days=5), by=users.central)
        users.chair.email = "chair@example.org"
        users.chair.save()
        done = campaign.reports.get(organization=union.primary_b1a)
        AnnualReport.objects.filter(pk=done.pk).update(
            status=AnnualReport.Status.ACCEPTED, submitted_at=datetime.datetime.now(datetime.UTC)
        )

        sent = services.campaign_send_reminders(today=today, site_url="https://reestr.example")

        assert sent == 1
        assert mail.outbox[0].to == ["chair@example.org"]
        assert "2025" in mail.outbox[0].subject
        assert "https://reestr.example/statistics/reports/" in mail.outbox[0].body
        assert services.campaign_send_reminders(today=today) == 0
        assert ReportCampaign.objects.get(pk=campaign.pk).last_reminders_on == today

    def test_no_reminders_long_before_the_deadline(self, users, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        today = datetime.date.today()
        services.campaign_open(year=2025, deadline=today + datetime.timedelta(days=60), by=users.central)
        users.chair.email = "chair@example.org"
        users.chair.save()

        assert services.campaign_send_reminders(today=today) == 0


def test_decisions_are_in_the_access_log(report, users):
    services.report_submit(report=report, by=users.chair, entered=ENTERED)
    services.report_accept(report=report, by=users.local)

    entries = AccessLog.objects.filter(object_id=str(report.organization_id), action=AccessLog.Action.CHANGE)
    assert {entry.details.get("status") for entry in entries} >= {"submitted", "accepted"}
    assert ReportEvent.objects.filter(report=report).count() == 2
