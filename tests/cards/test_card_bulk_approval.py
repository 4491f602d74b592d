"""Approving many plastic-card requests at once: one block of numbers per region, refusals listed, the queue page."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog
from cards.models import Card, CardRequest, CardSerialCounter
from cards.selectors import CardRequestFilters
from cards.services import CardError, card_issue, card_request_approve, card_request_create, card_requests_approve
from membership.models import Member
from registry.models import Organization
from tests.factories import MemberFactory, org_create


def requests_for(org: Organization, count: int, *, by, name: str = "Очередина") -> list[CardRequest]:
    members = [
        MemberFactory(
            organization=org, last_name=f"{name}{number}", search_name=f"{name.lower()}{number}", card_consents=True
        )
        for number in range(count)
    ]
    return [card_request_create(member=member, by=by) for member in members]


def serials(cards) -> list[int]:
    return sorted(int(card.number[2:15]) for card in cards)


def test_one_action_approves_every_request_with_consecutive_numbers(users, union):
    card_issue(
        member=MemberFactory(organization=union.primary_a1b, card_consents=True), by=users.regional
    )  # the counter is at 1
    requests = requests_for(union.primary_a1a, 12, by=users.chair) + requests_for(
        union.university_a, 8, by=users.regional
    )

    result = card_requests_approve(by=users.regional, filters=CardRequestFilters())

    assert (result.approved, result.new_cards, result.refusals, result.not_found) == (20, 20, [], 0)
    cards = Card.objects.filter(requests__in=requests)
    assert len({card.number for card in cards}) == 20
    assert serials(cards) == list(range(2, 22))  # one block right after the number already taken
    assert CardSerialCounter.objects.get(region=union.region_a.region).last_serial == 21
    [block] = result.number_blocks
    assert (block.region_code, block.count, block.first[2:15], block.last[2:15]) == (
        "77",
        20,
        "0000000000002",
        "0000000000021",
    )
    for request in CardRequest.objects.filter(pk__in=[request.pk for request in requests]).select_related("card"):
        assert request.status == "approved" and request.decided_by == users.regional and request.decided_at
        assert request.card.member_id == request.member_id and request.card.is_active
        assert (
            request.card.organization_id == request.member.organization_id and request.card.issued_by == users.regional
        )
    [entry] = AccessLog.objects.filter(object_type="cards.cardrequest", action="change")
    assert entry.details["approved"] == 20 and entry.details["numbers"] == [[block.first, block.last]]


def test_refusals_are_listed_and_stay_in_the_queue_while_the_others_get_numbers_without_gaps(users, union):
    requests = requests_for(union.primary_a1a, 6, by=users.chair)
    left, withdrawn, holder = (request.member for request in requests[1:4])
    Member.objects.filter(pk=left.pk).update(status="left", left_on="2025-01-01", leaving_reason="voluntary")
    Member.objects.filter(pk=withdrawn.pk).update(processing_blocked_on=datetime.date(2025, 3, 1))
    valid_card = card_issue(member=holder, by=users.chair)  # serial 1
    no_region_org = org_create(parent=union.region_a, level="primary", name="ППО без субъекта")
    no_region = requests_for(no_region_org, 1, by=users.regional, name="Бессубъектова")[0]
    Organization.objects.filter(pk=no_region_org.pk).update(region=None)  # a passport edited after the request

    result = card_requests_approve(by=users.regional, filters=CardRequestFilters())

    assert (result.approved, result.new_cards, result.kept_cards) == (4, 3, 1)
    reasons = {refusal.member_id: refusal.reason for refusal in result.refusals}
    assert reasons == {
        left.pk: "Билет выпускают только действующему члену Профсоюза.",
        withdrawn.pk: "Член Профсоюза отозвал согласие на обработку данных: билет выпустить нельзя.",
        no_region.member_id: "У организации не указан субъект РФ: номер билета не из чего составить.",
    }
    assert {refusal.organization_name for refusal in result.refusals} == {"ППО школы № 1", "ППО без субъекта"}
    statuses = dict(CardRequest.objects.values_list("member_id", "status"))
    assert statuses[left.pk] == statuses[withdrawn.pk] == statuses[no_region.member_id] == "requested"
    holder_request = CardRequest.objects.get(member=holder)
    assert holder_request.status == "approved" and holder_request.card == valid_card  # kept, as a single approval does
    assert serials(Card.objects.all()) == [1, 2, 3, 4]


def test_the_single_approval_follows_the_same_rule(users, union):
    [request] = requests_for(union.primary_a1a, 1, by=users.chair)
    Member.objects.filter(pk=request.member_id).update(processing_blocked_on=datetime.date(2025, 3, 1))
    with pytest.raises(CardError, match="отозвал согласие"):
        card_request_approve(request=request, by=users.regional)
    request.refresh_from_db()
    assert request.status == "requested" and not Card.objects.exists()


def test_filters_take_an_organisation_subtree_and_the_days_of_the_request(users, union):
    school = requests_for(union.primary_a1a, 3, by=users.chair, name="Школьнова")
    kindergarten = requests_for(union.primary_a1b, 2, by=users.regional, name="Садова")
    university = requests_for(union.university_a, 2, by=users.regional, name="Вузова")
    CardRequest.objects.filter(pk=school[0].pk).update(requested_at=timezone.now() - datetime.timedelta(days=40))
    today = timezone.localdate()

    by_local = card_requests_approve(
        by=users.regional,
        filters=CardRequestFilters(
            organization_id=union.local_a1.pk, requested_from=today - datetime.timedelta(days=7)
        ),
    )
    assert by_local.approved == 4  # the school's and the kindergarten's, but not the month-old one
    approved = set(CardRequest.objects.filter(status="approved").values_list("pk", flat=True))
    assert approved == {request.pk for request in school[1:] + kindergarten}

    last = university[0].pk  # what the confirmation counted: a request made after it is not taken
    assert card_requests_approve(by=users.regional, filters=CardRequestFilters(last_id=last)).approved == 2
    assert set(CardRequest.objects.filter(status="requested").values_list("pk", flat=True)) == {university[1].pk}


def test_posted_ids_of_another_region_are_never_approved(users, union):
    ours = requests_for(union.primary_a1a, 2, by=users.chair)
    theirs = requests_for(union.primary_b1a, 2, by=users.other_chair, name="Чужакова")

    result = card_requests_approve(
        by=users.regional, filters=CardRequestFilters(), ids=[request.pk for request in ours + theirs]
    )

    assert (result.approved, result.not_found) == (2, 2)
    assert set(CardRequest.objects.filter(status="approved").values_list("pk", flat=True)) == {r.pk for r in ours}
    assert not Card.objects.filter(number__startswith="78").exists()
    with pytest.raises(PermissionDenied):
        card_requests_approve(by=users.chair, filters=CardRequestFilters())
    with pytest.raises(PermissionDenied):
        card_requests_approve(by=users.local, filters=CardRequestFilters())


def test_central_office_takes_one_block_in_each_region(users, union):
    requests_for(union.primary_a1a, 3, by=users.chair)
    requests_for(union.primary_b1a, 2, by=users.other_chair, name="Питерова")
    result = card_requests_approve(by=users.central, filters=CardRequestFilters())
    assert [(block.region_code, block.count) for block in result.number_blocks] == [("77", 3), ("78", 2)]
    assert serials(Card.objects.filter(number__startswith="78")) == [1, 2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("overlap", [True, False], ids=["same-requests", "two-organisations"])
def test_two_bulk_approvals_racing_give_every_number_once_without_gaps(users, union, overlap):
    school = requests_for(union.primary_a1a, 60, by=users.chair)
    kindergarten = requests_for(union.primary_a1b, 60, by=users.regional, name="Садова")
    orgs = [None, None] if overlap else [union.primary_a1a.pk, union.primary_a1b.pk]
    results, errors = [], []
    start = threading.Barrier(2)

    def approve(org_id):
        try:
            start.wait()
            results.append(card_requests_approve(by=users.regional, filters=CardRequestFilters(organization_id=org_id)))
        except Exception as error:  # a failure in a thread must fail the test, not vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(org_id,)) for org_id in orgs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sum(result.approved for result in results) == 120  # each request approved once, by one of the two
    cards = list(Card.objects.all())
    assert len({card.number for card in cards}) == len(cards) == 120
    assert serials(cards) == list(range(1, 121))
    assert CardSerialCounter.objects.get(region=union.region_a.region).last_serial == 120
    approved = CardRequest.objects.filter(status="approved", pk__in=[r.pk for r in school + kindergarten])
    assert approved.values("card").distinct().count() == 120


# The page: the queue with its filter and ticks, the confirmation, the result.


def approve_url() -> str:
    return reverse("cards:card_requests_approve")


def test_the_queue_offers_ticks_and_a_filter_limited_to_the_users_subtree(client_for, users, union):
    requests_for(union.primary_a1a, 2, by=users.chair)
    requests_for(union.primary_b1a, 1, by=users.other_chair, name="Чужакова")
    page = client_for(users.regional).get(reverse("cards:card_requests"), {"status": "requested"}).content.decode()
    assert 'form="bulk-approve"' in page and "Одобрить все по фильтру (2)" in page
    assert "ППО школы № 1 · 2" in page and "Районная организация А1 · 2" in page  # the subtree, with its count
    assert "Б1" not in page and "гимназии" not in page and "Чужакова" not in page
    for follower in (users.chair, users.local):  # they follow the requests, never approve them
        page = client_for(follower).get(reverse("cards:card_requests"), {"status": "requested"}).content.decode()
        assert "bulk-approve" not in page and "Очередина0" in page
    central = client_for(users.central).get(reverse("cards:card_requests"), {"status": "requested"}).content.decode()
    assert "Московская городская организация · 2" in central and "Санкт-Петербургская организация · 1" in central


def test_the_queue_page_is_filtered_and_its_queries_do_not_grow_with_rows(
    client_for, users, union, django_assert_max_num_queries
):
    requests_for(union.primary_a1a, 30, by=users.chair)
    requests_for(union.university_a, 2, by=users.regional, name="Вузова")
    client = client_for(users.regional)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("cards:card_requests"), {"status": "requested", "org": union.university_a.pk})
    html = page.content.decode()
    assert "Вузова0" in html and "Очередина0" not in html and "Одобрить все по фильтру (2)" in html


def test_the_queue_counts_by_its_organisations_figures_without_a_count_query_unless_a_period_is_chosen(
    client_for, users, union
):
    requests_for(union.primary_a1a, 3, by=users.chair)
    requests_for(union.unit_a1a, 1, by=users.chair, name="Профгруппова")
    requests_for(union.university_a, 2, by=users.regional, name="Вузова")
    requests_for(union.primary_b1a, 4, by=users.other_chair, name="Чужакова")
    old = timezone.now() - datetime.timedelta(days=10)
    CardRequest.objects.filter(member__last_name="Вузова0").update(requested_at=old)
    client = client_for(users.regional)
    queue = reverse("cards:card_requests")
    for query, expected in [
        ({}, 6), ({"org": union.local_a1.pk}, 4), ({"org": union.primary_a1a.pk}, 4),
        ({"org": union.university_a.pk}, 2),
    ]:  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            html = client.get(queue, {"status": "requested", **query}).content.decode()
        assert f"Одобрить все по фильтру ({expected})" in html, query
        assert not [q for q in queries if 'COUNT(*) AS "__count" FROM "cards_cardrequest"' in q["sql"]], query
    since = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()
    html = client.get(queue, {"status": "requested", "date_from": since}).content.decode()
    assert "Одобрить все по фильтру (5)" in html and "Вузова0" not in html and "Вузова1" in html


def test_a_filter_on_an_organisation_without_waiting_requests_says_so_and_shows_them_all(client_for, users, union):
    requests_for(union.primary_a1a, 2, by=users.chair)
    page = client_for(users.regional).get(
        reverse("cards:card_requests"), {"status": "requested", "org": union.primary_a1b.pk}
    )
    html = page.content.decode()
    assert "В этой организации заявок в ожидании нет: показаны все." in html and "Одобрить все по фильтру (2)" in html


def test_confirmation_counts_and_changes_nothing_then_the_action_lists_refusals(client_for, users, union):
    requests = requests_for(union.primary_a1a, 4, by=users.chair)
    Member.objects.filter(pk=requests[0].member_id).update(
        status="left", left_on="2025-01-01", leaving_reason="voluntary"
    )
    client = client_for(users.regional)

    confirm = client.post(approve_url(), {"scope": "filter", "org": union.local_a1.pk})
    assert confirm.status_code == 200 and confirm.context["preview"].count == 4
    assert not CardRequest.objects.filter(status="approved").exists()
    last_id = confirm.context["preview"].last_id
    late = requests_for(union.primary_a1a, 1, by=users.chair, name="Опоздалова")[0]  # after the confirmation

    done = client.post(
        approve_url(), {"scope": "filter", "org": union.local_a1.pk, "last_id": last_id, "confirmed": "1"}
    )
    html = done.content.decode()
    assert done.context["result"].approved == 3
    assert requests[0].member.full_name in html and "Билет выпускают только действующему члену Профсоюза." in html
    late.refresh_from_db()
    assert late.status == "requested"


def test_ticked_requests_only_and_nothing_without_a_tick(client_for, users, union):
    requests = requests_for(union.primary_a1a, 3, by=users.chair)
    client = client_for(users.regional)
    empty = client.post(approve_url(), {"scope": "selected"}, follow=True)
    assert "Отметьте заявки, которые нужно одобрить." in empty.content.decode()
    too_many = client.post(approve_url(), {"scope": "selected", "ids": list(range(1, 502))}, follow=True)
    assert "Отметьте не больше 500 заявок или одобрите все по фильтру." in too_many.content.decode()
    done = client.post(approve_url(), {"scope": "selected", "ids": [requests[0].pk, requests[2].pk], "confirmed": "1"})
    assert done.context["result"].approved == 2
    assert CardRequest.objects.get(pk=requests[1].pk).status == "requested"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("regional", 200), ("central", 200), ("other_regional", 200), ("local", 403), ("chair", 403), ("member", 403),
     ("cashier", 403)],
)  # fmt: skip
def test_bulk_approval_by_role(client_for, users, union, role, expected):
    requests = requests_for(union.primary_a1a, 2, by=users.chair)
    response = client_for(users.by_role(role)).post(
        approve_url(), {"scope": "selected", "ids": [request.pk for request in requests], "confirmed": "1"}
    )
    assert response.status_code == expected
    approved = CardRequest.objects.filter(status="approved").count()
    # The other region posts our ids: the page answers, and approves nothing of ours.
    assert approved == (2 if role in ("regional", "central") else 0)
    if role == "other_regional":
        assert response.context["result"].not_found == 2


def test_another_regions_organisation_in_the_filter_is_not_found(client_for, users, union):
    requests_for(union.primary_b1a, 1, by=users.other_chair, name="Чужакова")
    response = client_for(users.regional).post(approve_url(), {"scope": "filter", "org": union.primary_b1a.pk})
    assert response.status_code == 404
    assert not CardRequest.objects.filter(status="approved").exists()


def test_the_action_takes_a_fixed_number_of_queries(client_for, users, union, django_assert_max_num_queries):
    requests = requests_for(union.primary_a1a, 40, by=users.chair)
    client = client_for(users.regional)
    # Sign-in, scope, the requests, their members, regions, the counter (created here), cards, requests, the log.
    with django_assert_max_num_queries(20):
        done = client.post(approve_url(), {"scope": "filter", "confirmed": "1"})
    assert done.context["result"].approved == len(requests)
