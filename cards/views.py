from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.access import log_page_view, require_role
from accounts.models import ORG_STAFF_ROLES, Role
from cards import documents, offline, selectors, services, tasks
from cards.models import Card, CardRequest
from cards.request_forms import CardRequestBulkApproveForm, CardRequestFilterForm
from membership.models import Consent
from membership.selectors import get_member_for_user, member_has_consent, member_of_user, user_can_manage_members
from registry.selectors import get_org_for_user, org_ancestors_for_user
from registry.task_queue import TaskQueueUnavailable


def _card_face(request, card: Card | None) -> dict:
    """The virtual card's pictures; the QR code carries the signed verification address, never the number."""
    if card is None or not card.is_active:
        return {}
    verify_url = request.build_absolute_uri(reverse("cards:verify", args=[services.card_verification_token(card)]))
    # Both SVGs are generated here from a number and an address of our own, never from user input.
    return {"barcode": mark_safe(documents.barcode_svg(card.number)), "qr": mark_safe(documents.qr_svg(verify_url))}


@require_role(*ORG_STAFF_ROLES)
def member_card(request, member_pk):
    """The member's card as the chair sees and prints it, with the card's history and actions."""
    member = get_member_for_user(request.user, member_pk)
    card = selectors.member_active_card(member=member)
    log_page_view(request, member, card=card.number if card else None)
    can_manage = user_can_manage_members(request.user, member.organization)
    return render(request, "cards/member_card.html", {
        "member": member, "org": member.organization, "card": card, "cards": selectors.member_cards(member=member),
        "can_manage": can_manage,
        "vendor_consent": can_manage and member_has_consent(member=member, purpose=Consent.Purpose.CARD_VENDOR),
        "breadcrumbs": org_ancestors_for_user(request.user, member.organization),
        "block_reasons": [(value, label) for value, label in Card.BlockReason.choices if value != Card.BlockReason.REISSUED],
        **_card_face(request, card),
    })  # fmt: skip


@require_POST
@require_role(*ORG_STAFF_ROLES)
def card_action(request, member_pk, action):
    member = get_member_for_user(request.user, member_pk)
    card = selectors.member_active_card(member=member)
    try:
        if action == "issue":
            services.card_issue(member=member, by=request.user)
            messages.success(request, _("Электронный профсоюзный билет выпущен."))
        elif action in ("reissue", "block") and card is not None:
            reason = request.POST.get("reason", Card.BlockReason.LOST)
            if action == "reissue":
                new_card = services.card_reissue(card=card, by=request.user, reason=Card.BlockReason.REISSUED)
                messages.success(
                    request, _("Билет перевыпущен: новый номер %(number)s.") % {"number": new_card.grouped_number}
                )
            else:
                services.card_block(card=card, by=request.user, reason=reason)
                messages.success(request, _("Билет заблокирован."))
        else:
            raise Http404
    except services.CardError as error:
        messages.error(request, error.message)
    return redirect("cards:member_card", member_pk=member.pk)


@require_role(Role.MEMBER)
def my_card(request):
    member = member_of_user(request.user)
    if member is None:
        raise Http404
    card = selectors.member_card_to_show(member=member)
    return offline.mark_card_page(render(request, "cards/my_card.html", {
        "member": member, "card": card, "checked_at": timezone.now(), "theme_color": offline.THEME_COLOR,
        **_card_face(request, card),
    }))  # fmt: skip


def verify(request, token):
    """Public: anyone who scans the QR code learns only whether the card is valid, and whose first name it bears."""
    result = selectors.card_verification_result(services.card_from_verification_token(token))
    return render(request, "cards/verify.html", {"result": result}, status=200 if result.state != "unknown" else 404)


REQUESTS_PAGE_SIZE = 100


@require_role(*ORG_STAFF_ROLES)
def card_requests(request):
    """Chairs follow their requests; regional staff work the queue (approve or reject, one by one or many at once
    by ticking them or by the filter)."""
    deciding = request.user.role in services.CARD_DECIDING_ROLES
    status = request.GET.get("status", "requested" if deciding else "open")
    if status not in {"open", ""} | set(CardRequest.Status.values):
        status = "open"
    requests, filter_form, filters = selectors.card_requests_visible_to(user=request.user, status=status), None, None
    if deciding and status == CardRequest.Status.REQUESTED:
        overview = selectors.card_request_queue_overview(user=request.user)
        filter_form = CardRequestFilterForm(request.GET, organizations=overview.organizations)
        filters = filter_form.to_filters()
        requests = selectors.card_request_queue(user=request.user, filters=filters)
    page = Paginator(requests, REQUESTS_PAGE_SIZE)
    if filters is not None and (known := overview.count_for(filters)) is not None:
        page.count = known  # the organisations' counts already hold it: no second count over the subtree
    query = request.GET.copy()
    query.pop("page", None)
    query["status"] = status
    org = request.user.organization
    shown = page.get_page(request.GET.get("page"))
    shown.object_list = selectors.card_requests_batch_holds_mark(shown.object_list)
    return render(request, "cards/card_requests.html", {
        "page": shown, "status": status, "statuses": CardRequest.Status.choices,
        "deciding": deciding, "org": org, "can_request_for_all": user_can_manage_members(request.user, org),
        "filter_form": filter_form, "filters": filters, "query_string": query.urlencode(),
    })  # fmt: skip


# The result page lists at most this many refusals; the rest are still in the queue to be looked at there.
REFUSALS_SHOWN = 500


def _queue_url(filters: selectors.CardRequestFilters) -> str:
    """The queue with the same filter: where the confirmation and the result page lead back to."""
    query = {"status": CardRequest.Status.REQUESTED, "org": filters.organization_id,
             "date_from": filters.requested_from, "date_to": filters.requested_to}  # fmt: skip
    return f"{reverse('cards:card_requests')}?{urlencode({key: value for key, value in query.items() if value})}"


@require_POST
@require_role(*services.CARD_DECIDING_ROLES)
def card_requests_approve(request):
    """Approve the ticked requests or all that match the filter: a confirmation with the count, then the action,
    whose page lists the requests it had to leave in the queue."""
    form = CardRequestBulkApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(f"{reverse('cards:card_requests')}?status=requested")
    filters, ids = form.to_filters(), form.selected_ids()
    organization = get_org_for_user(request.user, filters.organization_id) if filters.organization_id else None
    context = {"filters": filters, "ids": ids, "scope": form.cleaned_data["scope"], "organization": organization,
               "queue_url": _queue_url(filters)}  # fmt: skip
    if not form.cleaned_data["confirmed"]:
        preview = selectors.card_requests_approval_preview(user=request.user, filters=filters, ids=ids)
        return render(request, "cards/card_requests_approve.html", {**context, "preview": preview})
    result = services.card_requests_approve(by=request.user, filters=filters, ids=ids)
    return render(request, "cards/card_requests_approve.html", {
        **context, "result": result, "refusals_shown": result.refusals[:REFUSALS_SHOWN],
        "refusals_more": max(len(result.refusals) - REFUSALS_SHOWN, 0),
    })  # fmt: skip


@require_POST
@require_role(*ORG_STAFF_ROLES)
def card_request_create(request, member_pk):
    member = get_member_for_user(request.user, member_pk)
    try:
        services.card_request_create(member=member, by=request.user)
    except services.CardError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Заявка на пластиковый билет подана."))
    return redirect("cards:member_card", member_pk=member.pk)


@require_POST
@require_role(*ORG_STAFF_ROLES)
def card_requests_for_all(request):
    """Requests for every member without a card; the page lists, by name, those left without one for want of the
    vendor consent (names in a page of the answer, not in a message kept in a cookie)."""
    result = services.card_requests_for_members_without_card(organization=request.user.organization, by=request.user)
    if not result.refusals:
        messages.success(request, _("Подано заявок: %(count)s.") % {"count": result.created})
        return redirect("cards:card_requests")
    return render(request, "cards/card_requests_for_all.html", {
        "result": result, "refusals_shown": result.refusals[:REFUSALS_SHOWN],
        "refusals_more": max(len(result.refusals) - REFUSALS_SHOWN, 0),
    })  # fmt: skip


@require_POST
@require_role(*ORG_STAFF_ROLES)
def card_request_action(request, pk, action):
    card_request = selectors.get_card_request_for_user(request.user, pk)
    handlers = {
        "approve": lambda: services.card_request_approve(request=card_request, by=request.user),
        "reject": lambda: services.card_request_reject(
            request=card_request, by=request.user, reason=request.POST.get("reason", "")
        ),
        "cancel": lambda: services.card_request_cancel(request=card_request, by=request.user),
        "issued": lambda: services.card_request_mark_issued(request=card_request, by=request.user),
    }
    if action not in handlers:
        raise Http404
    try:
        handlers[action]()
    except services.CardError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Заявка: %(member)s — готово.") % {"member": card_request.member.full_name})
    return redirect(request.POST.get("next") or "cards:card_requests")


@require_role(*services.CARD_DECIDING_ROLES)
def card_batches(request):
    return render(
        request, "cards/card_batches.html", {"batches": selectors.card_batches_visible_to(user=request.user)[:200]}
    )


@require_POST
@require_role(*services.CARD_DECIDING_ROLES)
def card_batch_form(request):
    try:
        batch = services.card_batch_form(by=request.user)
    except services.CardError as error:
        messages.error(request, error.message)
        return redirect("cards:card_requests")
    messages.success(
        request,
        ngettext(
            "Партия № %(number)s сформирована: %(count)s билет.",
            "Партия № %(number)s сформирована: %(count)s билетов.",
            batch.card_count,
        )
        % {"number": batch.pk, "count": batch.card_count},
    )
    if held_back := selectors.card_requests_held_back(user=request.user).count():
        messages.warning(request, _(
            "Не вошли в партию одобренные заявки (%(count)s): нет согласия члена Профсоюза на передачу данных "
            "изготовителю билета или он выбыл. Причина указана у каждой в списке одобренных."
        ) % {"count": held_back})  # fmt: skip
    _package_build_send(request, batch)
    return redirect("cards:card_batch", pk=batch.pk)


def _package_build_send(request, batch) -> bool:
    """Queue the package's build. With the queue down the batch waits and the beat task queues it once the queue is
    back (README, «Сбои»): the region need not come back to press anything."""
    try:
        tasks.card_batch_build_send(batch.pk)
    except TaskQueueUnavailable as refusal:
        messages.warning(request, _("%(reason)s Пакет партии № %(number)s начнёт собираться сам, когда она заработает.")
                         % {"reason": refusal.message, "number": batch.pk})  # fmt: skip
        return False
    return True


@require_role(*services.CARD_DECIDING_ROLES)
def card_batch(request, pk):
    batch = selectors.get_card_batch_for_user(request.user, pk)
    return render(request, "cards/card_batch.html", {
        "batch": batch, "progress": selectors.card_batch_progress(batch),
        "requests": batch.requests.select_related("member", "member__organization", "card").order_by("card__number")[:500],
        "next_status": batch.NEXT_STATUS.get(batch.status), "can_rebuild": selectors.card_batch_can_rebuild(batch),
    })  # fmt: skip


@require_role(*services.CARD_DECIDING_ROLES)
def card_batch_status(request, pk):
    batch = selectors.get_card_batch_for_user(request.user, pk)
    return JsonResponse(
        {"status": batch.status, "running": batch.is_building, "progress": selectors.card_batch_progress(batch)}
    )


@require_role(*services.CARD_DECIDING_ROLES)
def card_batch_download(request, pk):
    batch = selectors.get_card_batch_for_user(request.user, pk)
    if not batch.package:
        raise Http404
    services.card_batch_download_log(batch=batch, by=request.user)
    return FileResponse(batch.package.open("rb"), as_attachment=True, filename=f"partiya-{batch.pk}.zip")


@require_POST
@require_role(*services.CARD_DECIDING_ROLES)
def card_batch_rebuild(request, pk):
    batch = selectors.get_card_batch_for_user(request.user, pk)
    try:
        batch = services.card_batch_rebuild(batch=batch, by=request.user)
    except services.CardError as error:
        messages.error(request, error.message)
    else:
        if _package_build_send(request, batch):
            messages.success(request, _("Партия № %(number)s: сборка пакета началась заново.") % {"number": batch.pk})
    return redirect("cards:card_batch", pk=batch.pk)


@require_POST
@require_role(*services.CARD_DECIDING_ROLES)
def card_batch_advance(request, pk):
    batch = selectors.get_card_batch_for_user(request.user, pk)
    try:
        batch = services.card_batch_advance(batch=batch, by=request.user)
    except services.CardError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Партия: %(status)s.") % {"status": batch.get_status_display()})
    return redirect("cards:card_batch", pk=batch.pk)
