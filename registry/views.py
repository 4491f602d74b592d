from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import log_page_view, require_role
from accounts.models import APPARATUS_ROLES, ORG_STAFF_ROLES
from registry import selectors, services
from registry.forms import (
    ChairFilterForm,
    ChairForm,
    ChairTrainingForm,
    OrganizationCreateForm,
    OrgSearchForm,
    PassportForm,
    StaffUserFilterForm,
    StaffUserForm,
)
from registry.panels import org_detail_panels

CHILDREN_PAGE_SIZE = 50
CHAIRS_PAGE_SIZE = 50
STAFF_PAGE_SIZE = 50


@require_role(*ORG_STAFF_ROLES)
def org_tree(request):
    """The tree browser opens at the top of the user's own scope."""
    return redirect("registry:org_detail", pk=request.user.organization_id)


@require_role(*ORG_STAFF_ROLES)
def org_detail(request, pk):
    org = selectors.get_org_for_user(request.user, pk)
    search_form = OrgSearchForm(request.GET or None)
    query = search_form.cleaned_data["q"] if search_form.is_valid() else ""
    children = Paginator(selectors.org_children(org=org), CHILDREN_PAGE_SIZE).get_page(request.GET.get("page"))
    children.object_list = selectors.org_children_details(list(children.object_list))
    log_page_view(request, org)
    return render(
        request,
        "registry/org_detail.html",
        {
            "org": org,
            "breadcrumbs": selectors.org_ancestors_for_user(request.user, org),
            "children": children,
            "search_form": search_form,
            "query": query,
            "search_results": selectors.org_search(user=request.user, query=query, within=org) if query else None,
            "subtree_counts": selectors.org_subtree_counts(org=org),
            "current_chair": selectors.org_current_chair(org=org),
            "can_edit": selectors.user_can_edit_org(request.user, org),
            "can_add_child": bool(selectors.child_levels_user_may_create(request.user, org)),
            "can_manage_chairs": selectors.user_can_manage_chairs(request.user, org),
            "panels": org_detail_panels(user=request.user, org=org),
        },
    )


@require_role(*ORG_STAFF_ROLES)
def org_edit(request, pk):
    org = selectors.get_org_for_user(request.user, pk)
    if not selectors.user_can_edit_org(request.user, org):
        raise PermissionDenied
    form = PassportForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        # is_valid() has already copied the new values onto `org`; the service compares against the stored row.
        org.refresh_from_db()
        services.organization_update_passport(
            org=org, by=request.user, **{name: form.cleaned_data[name] for name in services.PASSPORT_FIELDS}
        )
        messages.success(request, _("Паспорт организации сохранён."))
        return redirect(org)
    org.refresh_from_db()
    return render(
        request,
        "registry/org_form.html",
        {
            "org": org,
            "form": form,
            "breadcrumbs": selectors.org_ancestors_for_user(request.user, org),
            "title": _("Паспорт организации: редактирование"),
        },
    )


@require_role(*ORG_STAFF_ROLES)
def org_add_child(request, pk):
    parent = selectors.get_org_for_user(request.user, pk)
    levels = selectors.child_levels_user_may_create(request.user, parent)
    if not levels:
        raise PermissionDenied
    form = OrganizationCreateForm(request.POST or None, levels=levels)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.PASSPORT_FIELDS}
        try:
            child = services.organization_create(
                parent=parent, level=form.cleaned_data["level"], by=request.user, **fields
            )
        except services.RegistryError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Организация «%(name)s» создана.") % {"name": child.display_name})
            return redirect(child)
    return render(
        request,
        "registry/org_form.html",
        {
            "org": parent,
            "form": form,
            "breadcrumbs": selectors.org_ancestors_for_user(request.user, parent),
            "title": _("Новая организация в составе «%(name)s»") % {"name": parent.display_name},
        },
    )


@require_POST
@require_role(*ORG_STAFF_ROLES)
def org_set_active(request, pk):
    org = selectors.get_org_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        services.organization_set_active(org=org, by=request.user, active=active)
    except services.RegistryError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Организация снова действует.") if active else _("Организация закрыта."))
    return redirect(org)


@require_role(*APPARATUS_ROLES)
def chair_list(request):
    form = ChairFilterForm(request.GET or None)
    chairs = Paginator(selectors.chair_list(user=request.user, filters=form.to_filters()), CHAIRS_PAGE_SIZE)
    return render(
        request,
        "registry/chair_list.html",
        {
            "form": form,
            "page": chairs.get_page(request.GET.get("page")),
            "today": selectors.today(),
        },
    )


@require_role(*ORG_STAFF_ROLES)
def chair_detail(request, pk):
    chair = selectors.get_chair_for_user(request.user, pk)
    log_page_view(request, chair)
    return render(
        request,
        "registry/chair_detail.html",
        {
            "chair": chair,
            "org": chair.organization,
            "trainings": chair.trainings.all(),
            "breadcrumbs": selectors.org_ancestors_for_user(request.user, chair.organization),
            "can_manage": selectors.user_can_manage_chairs(request.user, chair.organization),
            "today": selectors.today(),
        },
    )


@require_role(*APPARATUS_ROLES)
def chair_create(request, org_pk):
    org = selectors.get_org_for_user(request.user, org_pk)
    if not selectors.user_can_manage_chairs(request.user, org):
        raise PermissionDenied
    form = ChairForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            chair = services.chair_create(
                org=org, by=request.user, **{f: form.cleaned_data[f] for f in services.CHAIR_FIELDS}
            )
        except services.RegistryError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Учётная карточка председателя заведена."))
            return redirect(chair)
    return render(
        request,
        "registry/chair_form.html",
        {
            "org": org,
            "form": form,
            "breadcrumbs": selectors.org_ancestors_for_user(request.user, org),
            "title": _("Новый председатель"),
        },
    )


@require_role(*APPARATUS_ROLES)
def chair_edit(request, pk):
    chair = selectors.get_chair_for_user(request.user, pk)
    if not selectors.user_can_manage_chairs(request.user, chair.organization):
        raise PermissionDenied
    form = ChairForm(request.POST or None, instance=chair)
    if request.method == "POST" and form.is_valid():
        chair.refresh_from_db()
        try:
            services.chair_update(
                chair=chair, by=request.user, **{f: form.cleaned_data[f] for f in services.CHAIR_FIELDS}
            )
        except services.RegistryError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Учётная карточка председателя сохранена."))
            return redirect(chair)
    return render(
        request,
        "registry/chair_form.html",
        {
            "org": chair.organization,
            "chair": chair,
            "form": form,
            "breadcrumbs": selectors.org_ancestors_for_user(request.user, chair.organization),
            "title": _("Учётная карточка председателя: редактирование"),
        },
    )


@require_role(*APPARATUS_ROLES)
def chair_training_add(request, pk):
    chair = selectors.get_chair_for_user(request.user, pk)
    if not selectors.user_can_manage_chairs(request.user, chair.organization):
        raise PermissionDenied
    form = ChairTrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.chair_training_add(chair=chair, by=request.user, **form.cleaned_data)
        except services.RegistryError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Запись об обучении добавлена."))
            return redirect(chair)
    return render(
        request,
        "registry/chair_form.html",
        {
            "org": chair.organization,
            "chair": chair,
            "form": form,
            "breadcrumbs": selectors.org_ancestors_for_user(request.user, chair.organization),
            "title": _("Обучение председателя: %(name)s") % {"name": chair.full_name},
        },
    )


@require_role(*APPARATUS_ROLES)
def staff_user_list(request):
    form = StaffUserFilterForm(request.GET or None)
    staff_users = selectors.staff_users_visible_to(user=request.user, filters=form.to_filters())
    return render(
        request,
        "registry/staff_user_list.html",
        {
            "form": form,
            "page": Paginator(staff_users, STAFF_PAGE_SIZE).get_page(request.GET.get("page")),
        },
    )


@require_role(*APPARATUS_ROLES)
def staff_user_create(request, org_pk):
    org = selectors.get_org_for_user(request.user, org_pk)
    roles = selectors.roles_user_may_grant(request.user, org)
    if not roles:
        raise PermissionDenied
    form = StaffUserForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        try:
            staff_user = services.staff_user_create(
                by=request.user, organization=org, site_url=request.build_absolute_uri("/"), **form.cleaned_data
            )
        except services.RegistryError as error:
            form.add_error("username", error.message)
        else:
            messages.success(
                request, _("Учётная запись открыта, приглашение отправлено на %(email)s.") % {"email": staff_user.email}
            )
            return redirect("registry:staff_user_list")
    return render(
        request,
        "registry/staff_user_form.html",
        {
            "org": org,
            "form": form,
            "breadcrumbs": selectors.org_ancestors_for_user(request.user, org),
            "title": _("Новый сотрудник"),
        },
    )


@require_POST
@require_role(*APPARATUS_ROLES)
def staff_user_set_active(request, pk):
    staff_user = selectors.get_staff_user_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    services.staff_user_set_active(by=request.user, staff_user=staff_user, active=active)
    if active:
        messages.success(request, _("Доступ %(name)s восстановлен.") % {"name": staff_user.display_name})
    else:
        messages.success(request, _("Доступ %(name)s заблокирован.") % {"name": staff_user.display_name})
    return redirect("registry:staff_user_list")


@require_POST
@require_role(*APPARATUS_ROLES)
def staff_user_resend_invitation(request, pk):
    staff_user = selectors.get_staff_user_for_user(request.user, pk)
    if not selectors.user_can_manage_staff_user(request.user, staff_user):
        raise PermissionDenied
    services.staff_user_send_invitation(staff_user=staff_user, site_url=request.build_absolute_uri("/"))
    messages.success(request, _("Приглашение отправлено повторно на %(email)s.") % {"email": staff_user.email})
    return redirect("registry:staff_user_list")
