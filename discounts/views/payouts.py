"""Monthly cashback payouts, central office's pages: the registers, one register with its lines, forming a month's
register now, the status steps, a payment the bank returned."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import require_role
from accounts.models import Role
from discounts import selectors, services, tasks
from discounts.money import roubles_text
from registry.task_queue import TaskQueueUnavailable, task_send

LINES_PER_PAGE = 100
WAITING_SHOWN = 50


def _month_from(text: str) -> datetime.date | None:
    """The month of <input type="month"> ("2026-10" → 1 October 2026); None for anything else."""
    try:
        return datetime.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        return None


@require_role(Role.CENTRAL)
def payout_batches(request):
    batches = list(selectors.payout_batches(user=request.user)[:120])
    waiting = list(selectors.payout_accounts_waiting_for_details(user=request.user)[: WAITING_SHOWN + 1])
    for batch in batches:
        batch.money_text = roubles_text(batch.total)
    for account in waiting:
        account.money_text = roubles_text(account.confirmed)
    return render(request, "discounts/payout_batches.html", {
        "batches": batches, "previous_month": services.payout_month_previous(),
        "waiting": waiting[:WAITING_SHOWN], "waiting_more": len(waiting) > WAITING_SHOWN,
        "minimum_text": roubles_text(settings.CASHBACK_PAYOUT_MINIMUM),
    })  # fmt: skip


@require_POST
@require_role(Role.CENTRAL)
def payout_batch_form(request):
    month = _month_from(request.POST.get("month", ""))
    if month is None:
        messages.error(request, _("Выберите месяц реестра."))
        return redirect("discounts:payout_batches")
    try:
        batch = services.payout_batch_form(month=month, by=request.user)
    except services.DiscountError as error:
        messages.error(request, error.message)
        return redirect("discounts:payout_batches")
    messages.success(request, _("Реестр за %(month)s сформирован: получателей %(count)s.")
                     % {"month": f"{batch.month:%m.%Y}", "count": batch.line_count})  # fmt: skip
    _register_build_send(request, batch)
    return redirect("discounts:payout_batch", pk=batch.pk)


def _register_build_send(request, batch) -> None:
    try:
        task_send(tasks.payout_batch_build, batch.pk)
    except TaskQueueUnavailable as refusal:
        services.payout_batch_build_unqueued(batch_id=batch.pk)
        messages.error(request, _("%(reason)s Файл реестра не записан: нажмите «Собрать реестр заново» через несколько "
                                  "минут.") % {"reason": refusal.message})  # fmt: skip


@require_role(Role.CENTRAL)
def payout_batch(request, pk):
    batch = selectors.get_payout_batch_for_user(request.user, pk)
    lines = Paginator(selectors.payout_lines(batch=batch), LINES_PER_PAGE).get_page(request.GET.get("page"))
    for line in lines:
        line.money_text = roubles_text(line.amount)
    totals = selectors.payout_batch_totals(batch=batch)
    return render(request, "discounts/payout_batch.html", {
        "batch": batch, "lines": lines, "totals": totals, "total_text": roubles_text(batch.total),
        "paid_text": roubles_text(totals.paid_total), "returned_text": roubles_text(totals.returned_total),
        "next_status": batch.NEXT_STATUS.get(batch.status),
        "can_return": batch.status in (batch.Status.SENT, batch.Status.PAID),
    })  # fmt: skip


@require_role(Role.CENTRAL)
def payout_batch_status(request, pk):
    batch = selectors.get_payout_batch_for_user(request.user, pk)
    building = batch.status == batch.Status.BUILDING
    return JsonResponse({"status": batch.status, "running": building, "progress": 50 if building else 100})


@require_role(Role.CENTRAL)
def payout_batch_download(request, pk):
    batch = selectors.get_payout_batch_for_user(request.user, pk)
    if not batch.register_file:
        raise Http404
    services.payout_batch_download_log(batch=batch, by=request.user)
    return FileResponse(
        batch.register_file.open("rb"), as_attachment=True, filename=f"reestr-vyplat-{batch.month:%Y-%m}.csv",
        content_type="text/csv; charset=utf-8",
    )  # fmt: skip


@require_POST
@require_role(Role.CENTRAL)
def payout_batch_advance(request, pk):
    batch = selectors.get_payout_batch_for_user(request.user, pk)
    try:
        batch = services.payout_batch_advance(batch=batch, by=request.user)
    except services.DiscountError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Реестр: %(status)s.") % {"status": batch.get_status_display()})
    return redirect("discounts:payout_batch", pk=batch.pk)


@require_POST
@require_role(Role.CENTRAL)
def payout_batch_rebuild(request, pk):
    batch = selectors.get_payout_batch_for_user(request.user, pk)
    try:
        batch = services.payout_batch_rebuild(batch=batch, by=request.user)
    except services.DiscountError as error:
        messages.error(request, error.message)
    else:
        _register_build_send(request, batch)
    return redirect("discounts:payout_batch", pk=batch.pk)


@require_POST
@require_role(Role.CENTRAL)
def payout_line_return(request, pk, line_pk):
    batch = selectors.get_payout_batch_for_user(request.user, pk)
    line = selectors.get_payout_line_for_user(request.user, batch=batch, pk=line_pk)
    try:
        line = services.payout_line_return(line=line, by=request.user, now=timezone.now())
    except services.DiscountError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Выплата %(member)s отмечена как вернувшаяся: деньги снова на счёте кешбэка.")
            % {"member": line.account.member.full_name},
        )
    page = request.POST.get("page", "")
    return redirect(reverse("discounts:payout_batch", args=[batch.pk]) + (f"?page={page}" if page.isdigit() else ""))


urlpatterns = [
    path("payouts/", payout_batches, name="payout_batches"),
    path("payouts/form/", payout_batch_form, name="payout_batch_form"),
    path("payouts/<int:pk>/", payout_batch, name="payout_batch"),
    path("payouts/<int:pk>/status/", payout_batch_status, name="payout_batch_status"),
    path("payouts/<int:pk>/register.csv", payout_batch_download, name="payout_batch_download"),
    path("payouts/<int:pk>/advance/", payout_batch_advance, name="payout_batch_advance"),
    path("payouts/<int:pk>/rebuild/", payout_batch_rebuild, name="payout_batch_rebuild"),
    path("payouts/<int:pk>/lines/<int:line_pk>/return/", payout_line_return, name="payout_line_return"),
]
