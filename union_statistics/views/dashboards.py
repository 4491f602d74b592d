"""Dashboards of every level and the digitalisation progress: pages over the rollup snapshots."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from accounts.access import require_role
from accounts.models import ORG_STAFF_ROLES, Role
from registry.selectors import get_org_for_user, org_ancestors_for_user
from union_statistics import dashboards
from union_statistics.models import RollupSnapshot


def _int_param(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _rollup_request_url() -> tuple[str, bool]:
    """Where central office asks for a rollup: the request form (POST) if it exists, else the list of rollups."""
    try:
        return reverse("statistics:rollup_request"), True
    except NoReverseMatch:
        return reverse("statistics:rollup_list"), False


@require_role(*ORG_STAFF_ROLES)
def home(request):
    return redirect("statistics:dashboard", pk=request.user.organization_id)


@require_role(*ORG_STAFF_ROLES)
def dashboard(request, pk):
    org = get_org_for_user(request.user, pk)
    variant = request.GET.get("variant")
    if variant not in RollupSnapshot.Variant.values:
        variant = RollupSnapshot.Variant.REGISTER
    board = dashboards.dashboard(user=request.user, org=org, year=_int_param(request, "year"), variant=variant)
    rollup_url, rollup_is_form = _rollup_request_url()
    return render(
        request,
        "union_statistics/dashboard.html",
        {
            "org": org,
            "board": board,
            # Cached per snapshot build; only after get_org_for_user has refused an organisation out of scope.
            "children_html": dashboards.dashboard_children_html(board) if board.snapshot else "",
            "breadcrumbs": org_ancestors_for_user(request.user, org),
            "variants": RollupSnapshot.Variant.choices,
            "can_request_rollup": request.user.role == Role.CENTRAL,
            "rollup_url": rollup_url,
            "rollup_is_form": rollup_is_form,
        },
    )


@require_role(*ORG_STAFF_ROLES)
def progress(request):
    org_id = _int_param(request, "org") if "org" in request.GET else request.user.organization_id
    if org_id is None:
        raise Http404
    org = get_org_for_user(request.user, org_id)
    page = dashboards.progress(user=request.user, org=org)
    return render(
        request,
        "union_statistics/progress.html",
        {"org": org, "page": page, "breadcrumbs": org_ancestors_for_user(request.user, org)},
    )
