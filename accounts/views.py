from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

from accounts.access import client_ip, require_role
from accounts.forms import AccessLogFilterForm, LoginForm
from accounts.models import ORG_STAFF_ROLES, Role
from accounts.rate_limits import rate_limited
from accounts.selectors import access_log_list
from accounts.two_factor_selectors import second_factor_status

ACCESS_LOG_PAGE_SIZE = 100

# A role's start page by URL name, filled by the apps above accounts from their AppConfig.ready() (statistics puts
# the dashboard here for staff); a role without an entry starts where the registry puts it.
HOME_URL_NAMES: dict[str, str] = {}


@login_required
def home(request):
    """Each role starts where its daily work is."""
    if request.user.role in ORG_STAFF_ROLES and request.user.organization_id:
        return redirect(HOME_URL_NAMES.get(request.user.role, "registry:org_tree"))
    if request.user.role == Role.MEMBER and hasattr(request.user, "member"):
        return redirect("membership:my_cabinet")
    if request.user.role == Role.CASHIER and Role.CASHIER in HOME_URL_NAMES:
        return redirect(HOME_URL_NAMES[Role.CASHIER])
    return redirect("accounts:profile")


@login_required
def profile(request):
    context = {"profile_user": request.user, "second_factor": second_factor_status(user=request.user)}
    return render(request, "accounts/profile.html", context)


# Every sign-in attempt from one address counts, whatever the username: django-axes locks a username only together
# with the address, which leaves trying one password on many usernames.
@method_decorator(rate_limited("login", limit="LOGIN_RATE_LIMIT", subject=client_ip), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Signing out also clears what the site kept on the device: the member's card saved for use offline."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # Browsers honour it on HTTPS and on localhost; the login page's script covers the others.
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


@require_role(Role.CENTRAL)
def access_log(request):
    form = AccessLogFilterForm(request.GET or None)
    entries = access_log_list(user=request.user, filters=form.to_filters()).select_related(None)
    # Keyset pagination: the log grows to many millions of rows and a COUNT(*) per page would not keep up.
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(id__lt=int(before))
    page = list(entries[: ACCESS_LOG_PAGE_SIZE + 1])
    has_next = len(page) > ACCESS_LOG_PAGE_SIZE
    page = page[:ACCESS_LOG_PAGE_SIZE]
    next_query = request.GET.copy()
    if has_next:
        next_query["before"] = page[-1].id
    return render(
        request,
        "accounts/access_log.html",
        {"form": form, "entries": page, "has_next": has_next, "next_query": next_query.urlencode()},
    )


password_change = auth_views.PasswordChangeView.as_view(
    template_name="accounts/password_change.html", success_url=reverse_lazy("accounts:password_change_done")
)
password_change_done = auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html")


def _posted_email(request) -> str:
    return request.POST.get("email", "").strip().lower()[:254]


# Each request sends a letter: limited per address (someone probing which e-mails are known) and per e-mail
# (someone filling a colleague's mailbox).
password_reset = rate_limited("password-reset", limit="PASSWORD_RESET_RATE_LIMIT", subject=client_ip)(
    rate_limited("password-reset-email", limit="PASSWORD_RESET_EMAIL_RATE_LIMIT", subject=_posted_email)(
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        )
    )
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html", success_url=reverse_lazy("accounts:password_reset_complete")
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)
