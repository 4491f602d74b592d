from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import client_ip, log_page_view, require_role
from accounts.models import ORG_STAFF_ROLES, AccessLog, Role
from accounts.services import access_log_write
from membership import documents, exports, imports, selectors, services, tasks
from membership.forms import (
    AccountActivationForm,
    ConsentForm,
    ConsentWithdrawForm,
    ImportCommitForm,
    ImportUploadForm,
    LeavingForm,
    MemberFilterForm,
    MemberForm,
    RestoreForm,
    SelfServiceContactsForm,
    TransferForm,
    TransferRejectForm,
)
from membership.models import Consent
from membership.panels import my_cabinet_panels
from registry.selectors import get_org_for_user, org_ancestors_for_user
from registry.task_queue import TaskQueueUnavailable, task_send


def _managed_member(request, pk):
    member = selectors.get_member_for_user(request.user, pk)
    if not selectors.user_can_manage_members(request.user, member.organization):
        raise PermissionDenied
    return member


def _member_action(request, member, *, form, perform, success: str, title: str, submit: str, warning: str = ""):
    """One form about one member (leaving, restore, consents): run the service, or show the form with its refusal."""
    if request.method == "POST" and form.is_valid():
        try:
            perform(form.cleaned_data)
        except services.MembershipError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, success)
            return redirect(member)
    return render(request, "membership/member_action.html", {
        "member": member, "org": member.organization, "form": form, "title": title, "submit": submit,
        "warning": warning, "multipart": form.is_multipart(),
        "breadcrumbs": org_ancestors_for_user(request.user, member.organization),
    })  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def member_list(request):
    form = MemberFilterForm(request.GET or None)
    filters = form.to_filters()
    org = (
        get_org_for_user(request.user, filters.organization_id)
        if filters.organization_id
        else request.user.organization
    )
    members = selectors.member_list(user=request.user, filters=filters)
    page = selectors.keyset_page(
        members,
        ordering_name=filters.ordering,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    if page.next_cursor or page.previous_cursor:
        total, exact = selectors.member_count(members)
    else:
        total, exact = len(page.rows), True  # everything is on this one page: nothing more to count
    if page.rows:
        # 152-FZ: which members' data a staff user has seen, one record per list page.
        access_log_write(
            user=request.user, action=AccessLog.Action.VIEW, object_type="membership.member",
            object_repr=_("Список членов Профсоюза: %(org)s") % {"org": org.display_name}, organization_path=org.path,
            details={"members": [member.pk for member in page.rows]}, ip_address=client_ip(request),
        )  # fmt: skip
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    return render(request, "membership/member_list.html", {
        "form": form, "org": org, "page": page, "total": total, "total_exact": exact,
        "base_query": query.urlencode(), "breadcrumbs": org_ancestors_for_user(request.user, org),
        "can_admit": selectors.user_can_manage_members(request.user, org),
        "incoming_count": selectors.incoming_transfers(user=request.user).count(),
        # Rows link to their cards by this prefix: one reverse() per page instead of one per row.
        "member_url_prefix": reverse("membership:member_detail", args=[0]).removesuffix("0/"),
    })  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def member_detail(request, pk):
    member = selectors.get_member_for_user(request.user, pk)
    log_page_view(request, member)
    return render(request, "membership/member_detail.html", {
        "member": member, "org": member.organization,
        "breadcrumbs": org_ancestors_for_user(request.user, member.organization),
        "events": selectors.member_history(member=member)[:100],
        "pending_transfer": selectors.member_pending_transfer(member=member),
        "consents": member.consents.all(),
        "consent_purposes": Consent.Purpose.choices,
        "can_manage": selectors.user_can_manage_members(request.user, member.organization),
        "age": member.age_on(timezone.localdate()),
    })  # fmt: skip


def _member_form_page(request, *, form, org, member=None, duplicates=(), title):
    return render(request, "membership/member_form.html", {
        "form": form, "org": org, "member": member, "duplicates": duplicates, "title": title,
        "breadcrumbs": org_ancestors_for_user(request.user, org),
    })  # fmt: skip


def _duplicates_unconfirmed(form, member_pk=None):
    data = form.cleaned_data
    duplicates = selectors.member_possible_duplicates(
        last_name=data["last_name"], first_name=data["first_name"], middle_name=data["middle_name"],
        birth_date=data["birth_date"], exclude_pk=member_pk,
    )  # fmt: skip
    if duplicates and not data.get("duplicate_confirmed"):
        form.add_error(None, _("В Профсоюзе уже есть человек с такими ФИО и датой рождения. Проверьте, не он ли это."))
        return duplicates
    return []


@require_role(*ORG_STAFF_ROLES)
def member_admit(request, org_pk):
    org = get_org_for_user(request.user, org_pk)
    if not selectors.user_can_manage_members(request.user, org):
        raise PermissionDenied
    form = MemberForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates_unconfirmed(form)
        if not duplicates:
            fields = {name: form.cleaned_data[name] for name in services.MEMBER_FIELDS}
            try:
                member = services.member_admit(by=request.user, organization=org, **fields)
            except services.MembershipError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("%(name)s принят(а) в Профсоюз.") % {"name": member.full_name})
                return redirect("membership:member_detail", pk=member.pk)
    return _member_form_page(request, form=form, org=org, duplicates=duplicates, title=_("Приём в Профсоюз"))


@require_role(*ORG_STAFF_ROLES)
def member_edit(request, pk):
    member = _managed_member(request, pk)
    form = MemberForm(request.POST or None, instance=member)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates_unconfirmed(form, member_pk=member.pk)
        if not duplicates:
            fields = {name: form.cleaned_data[name] for name in services.MEMBER_FIELDS}
            member.refresh_from_db()
            try:
                services.member_update(by=request.user, member=member, **fields)
            except services.MembershipError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Изменения сохранены."))
                return redirect("membership:member_detail", pk=member.pk)
    member.refresh_from_db()
    return _member_form_page(
        request, form=form, org=member.organization, member=member, duplicates=duplicates, title=member.full_name
    )


@require_role(*ORG_STAFF_ROLES)
def member_leave(request, pk):
    member = _managed_member(request, pk)
    return _member_action(
        request, member, form=LeavingForm(request.POST or None),
        perform=lambda data: services.member_record_leaving(
            by=request.user, member=member, left_on=data["left_on"], reason=data["reason"]
        ),
        success=_("Выбытие оформлено."), title=_("Выбытие из Профсоюза"), submit=_("Оформить выбытие"),
    )  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def member_restore(request, pk):
    member = _managed_member(request, pk)
    return _member_action(
        request, member, form=RestoreForm(request.POST or None),
        perform=lambda data: services.member_restore(by=request.user, member=member, note=data["note"]),
        success=_("Член Профсоюза восстановлен на учёте."), title=_("Восстановление в Профсоюзе"),
        submit=_("Восстановить"),
    )  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def member_transfer(request, pk):
    member = _managed_member(request, pk)
    form = TransferForm(request.POST or request.GET or None)
    candidates = []
    if form.is_valid():
        candidates = selectors.transfer_target_search(query=form.cleaned_data["q"] or "", exclude=member.organization)
    if request.method == "POST" and form.is_valid() and form.cleaned_data["to_organization"]:
        target = selectors.transfer_target(pk=form.cleaned_data["to_organization"], exclude=member.organization)
        if target is None:
            form.add_error(None, _("Выберите принимающую организацию из списка."))
        else:
            try:
                transfer = services.member_transfer_request(
                    by=request.user, member=member, to_organization=target, note=form.cleaned_data["note"]
                )
            except services.MembershipError as error:
                form.add_error(None, error.message)
            else:
                if transfer.status == transfer.Status.ACCEPTED:
                    messages.success(request, _("Член Профсоюза переведён в «%(org)s».") % {"org": target.display_name})
                else:
                    messages.success(
                        request,
                        _("Перевод запрошен. Он вступит в силу, когда «%(org)s» его примет.")
                        % {"org": target.display_name},
                    )
                return redirect("membership:member_detail", pk=member.pk)
    return render(request, "membership/member_transfer.html", {
        "member": member, "org": member.organization, "form": form, "candidates": candidates,
        "breadcrumbs": org_ancestors_for_user(request.user, member.organization),
    })  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def transfer_inbox(request):
    return render(request, "membership/transfer_inbox.html", {
        "transfers": selectors.incoming_transfers(user=request.user)[:200],
    })  # fmt: skip


@require_POST
@require_role(*ORG_STAFF_ROLES)
def transfer_accept(request, pk):
    transfer = selectors.get_transfer_for_receiver(request.user, pk)
    try:
        member = services.member_transfer_accept(by=request.user, transfer=transfer)
    except services.MembershipError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s принят(а) на учёт.") % {"name": member.full_name})
    return redirect("membership:transfer_inbox")


@require_POST
@require_role(*ORG_STAFF_ROLES)
def transfer_reject(request, pk):
    transfer = selectors.get_transfer_for_receiver(request.user, pk)
    form = TransferRejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Укажите причину отказа: её увидит организация, запросившая перевод."))
        return redirect("membership:transfer_inbox")
    try:
        services.member_transfer_reject(by=request.user, transfer=transfer, note=form.cleaned_data["note"])
    except services.MembershipError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Перевод отклонён."))
    return redirect("membership:transfer_inbox")


@require_POST
@require_role(*ORG_STAFF_ROLES)
def transfer_cancel(request, pk):
    member = selectors.get_member_for_user(request.user, pk)
    transfer = selectors.member_pending_transfer(member=member)
    if transfer is None:
        messages.error(request, _("Запрошенного перевода нет."))
    else:
        try:
            services.member_transfer_cancel(by=request.user, transfer=transfer)
        except services.MembershipError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Перевод отменён."))
    return redirect("membership:member_detail", pk=member.pk)


@require_role(*ORG_STAFF_ROLES)
def consent_form_pdf(request, pk, purpose):
    member = selectors.get_member_for_user(request.user, pk)
    if purpose not in Consent.Purpose.values:
        raise Http404
    response = HttpResponse(documents.consent_form_pdf(member=member, purpose=purpose), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="consent-{purpose}-{member.pk}.pdf"'
    return response


@require_role(*ORG_STAFF_ROLES)
def consent_add(request, pk):
    member = _managed_member(request, pk)
    return _member_action(
        request, member, form=ConsentForm(request.POST or None, request.FILES or None),
        perform=lambda data: services.consent_record(by=request.user, member=member, **data),
        success=_("Согласие внесено."), title=_("Согласие"), submit=_("Внести"),
    )  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def consent_withdraw(request, pk, consent_pk):
    member = _managed_member(request, pk)
    consent = selectors.get_member_consent(member=member, pk=consent_pk)
    blocks = consent.purpose == Consent.Purpose.PROCESSING
    return _member_action(
        request, member, form=ConsentWithdrawForm(request.POST or None, initial={"withdrawn_on": timezone.localdate()}),
        perform=lambda data: services.consent_withdraw(
            by=request.user, consent=consent, withdrawn_on=data["withdrawn_on"]
        ),
        success=_("Отзыв согласия оформлен."),
        title=_("Отзыв согласия: %(purpose)s") % {"purpose": consent.get_purpose_display()},
        submit=_("Оформить отзыв"),
        warning=_("Отзыв согласия на обработку данных блокирует запись и профсоюзный билет; через 30 дней "
                  "персональные данные будут уничтожены.") if blocks else "",
    )  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def consent_scan(request, pk, consent_pk):
    member = selectors.get_member_for_user(request.user, pk)
    consent = selectors.get_member_consent(member=member, pk=consent_pk)
    if not consent.scan:
        raise Http404
    log_page_view(request, member, consent_scan=consent.pk)
    return FileResponse(consent.scan.open("rb"), filename=consent.scan.name.rsplit("/", 1)[-1])


@require_role(*ORG_STAFF_ROLES)
def member_data(request, pk, fmt):
    """The member's "my data" statement, handed over by the chair on the member's request."""
    member = selectors.get_member_for_user(request.user, pk)
    data = services.member_data_export(member=member, by=request.user)
    return member_data_response(data=data, fmt=fmt, member=member)


def member_data_response(*, data: dict, fmt: str, member) -> HttpResponse:
    if fmt == "json":
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    else:
        response = HttpResponse(documents.member_data_pdf(data=data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="member-data-{member.pk}.{fmt}"'
    return response


@require_POST
@require_role(*ORG_STAFF_ROLES)
def member_account_invite(request, pk):
    member = _managed_member(request, pk)
    try:
        issued = services.member_account_invite(
            by=request.user, member=member, site_url=request.build_absolute_uri("/")
        )
    except services.MembershipError as error:
        messages.error(request, error.message)
        return redirect(member)
    return render(request, "membership/account_slip.html", {
        "member": member, "org": member.organization, "issued": issued,
        "activate_url": request.build_absolute_uri(reverse("membership:account_activate")),
        "breadcrumbs": org_ancestors_for_user(request.user, member.organization),
    })  # fmt: skip


def account_activate(request):
    form = AccountActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = services.member_account_activate(
                username=data["username"], code=data["code"], birth_date=data["birth_date"], password=data["password1"]
            )
        except services.MembershipError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            form.add_error("password1", error)
        else:
            login(request, account, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Пароль установлен. Добро пожаловать в личный кабинет!"))
            return redirect("membership:my_cabinet")
    return render(request, "membership/account_activate.html", {"form": form})


def _own_member(request):
    member = selectors.member_of_user(request.user)
    if member is None:
        raise Http404
    return member


@require_role(Role.MEMBER)
def my_cabinet(request):
    member = _own_member(request)
    return render(request, "membership/my_cabinet.html", {
        "member": member, "consents": member.consents.all(), "consent_purposes": Consent.Purpose.choices,
        "panels": my_cabinet_panels(user=request.user, member=member),
    })  # fmt: skip


@require_role(Role.MEMBER)
def my_contacts(request):
    member = _own_member(request)
    form = SelfServiceContactsForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        member.refresh_from_db()
        try:
            services.member_self_update(member=member, by=request.user, **form.cleaned_data)
        except services.MembershipError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Контакты обновлены."))
            return redirect("membership:my_cabinet")
    return render(request, "membership/my_contacts.html", {"member": member, "form": form})


@require_role(Role.MEMBER)
def my_data(request, fmt):
    member = _own_member(request)
    return member_data_response(
        data=services.member_data_export(member=member, by=request.user), fmt=fmt, member=member
    )


@require_role(Role.MEMBER)
def my_consent_form_pdf(request, purpose):
    member = _own_member(request)
    if purpose not in Consent.Purpose.values:
        raise Http404
    return HttpResponse(documents.consent_form_pdf(member=member, purpose=purpose), content_type="application/pdf")


@require_role(*ORG_STAFF_ROLES)
def import_template(request, fmt):
    content_type = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(imports.import_template(fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="shablon-chleny-profsoyuza.{fmt}"'
    return response


@require_role(*ORG_STAFF_ROLES)
def import_upload(request, org_pk):
    org = get_org_for_user(request.user, org_pk)
    if not selectors.user_can_manage_members(request.user, org):
        raise PermissionDenied
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.member_import_start(
                by=request.user, organization=org, uploaded_file=form.cleaned_data["file"]
            )
        except services.MembershipError as error:
            form.add_error("file", error.message)
        else:
            try:
                task_send(tasks.member_import_check, job.pk)
            except TaskQueueUnavailable as refusal:
                imports.member_import_discard_unqueued(job=job)
                form.add_error("file", _("%(reason)s Файл не принят: загрузите его ещё раз через несколько минут.")
                               % {"reason": refusal.message})  # fmt: skip
            else:
                return redirect("membership:import_job", pk=job.pk)
    return render(request, "membership/import_upload.html", {
        "org": org, "form": form, "jobs": selectors.recent_imports(organization=org), "columns": imports.COLUMNS,
        "breadcrumbs": org_ancestors_for_user(request.user, org),
    })  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def import_job(request, pk):
    job = selectors.get_import_for_user(request.user, pk)
    form = ImportCommitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            imports.member_import_request_commit(
                by=request.user, job=job, include_duplicates=form.cleaned_data["include_duplicates"]
            )
        except services.MembershipError as error:
            messages.error(request, error.message)
        else:
            try:
                task_send(tasks.member_import_commit, job.pk)
            except TaskQueueUnavailable as refusal:
                imports.member_import_commit_unqueued(job=job)
                messages.error(request, _("%(reason)s В реестр ничего не записано: файл проверен и ждёт, нажмите "
                                          "«Записать в реестр» ещё раз через несколько минут.")
                               % {"reason": refusal.message})  # fmt: skip
        return redirect("membership:import_job", pk=job.pk)
    return render(request, "membership/import_job.html", {
        "job": job, "org": job.organization, "form": form, "progress": imports.member_import_progress(job),
        "breadcrumbs": org_ancestors_for_user(request.user, job.organization),
    })  # fmt: skip


@require_role(*ORG_STAFF_ROLES)
def import_job_status(request, pk):
    job = selectors.get_import_for_user(request.user, pk)
    return JsonResponse(
        {"status": job.status, "running": job.is_running, "progress": imports.member_import_progress(job)}
    )


@require_role(*ORG_STAFF_ROLES)
def member_export(request, fmt):
    form = MemberFilterForm(request.GET or None)
    filters = form.to_filters()
    org = (
        get_org_for_user(request.user, filters.organization_id)
        if filters.organization_id
        else request.user.organization
    )
    members = selectors.member_list(user=request.user, filters=filters)
    exports.member_export_log(by=request.user, members=members, org=org, fmt=fmt, filters=request.GET.dict())
    filename = f"chleny-profsoyuza-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(exports.export_csv_lines(members), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return FileResponse(exports.export_xlsx_file(members), as_attachment=True, filename=filename)
