"""One demo user of every role, and the list of their logins that `make run` prints.

The `chair` user is the person on the demo school's chair card and the `member` user is a member of that school,
so that every role sees the same corner of the union from its own side.
"""

import datetime
import functools
from base64 import b32decode

from django.contrib.auth.hashers import make_password
from django_otp.plugins.otp_static.models import StaticToken

from accounts.models import Role, User
from accounts.two_factor_services import recovery_code_shown, recovery_codes_derived, second_factor_install
from demo.plan import DEMO_EMAIL_DOMAIN, MOSCOW_CODE, SAINT_PETERSBURG_CODE, UnionPlan
from demo.report import DemoSeedReport, Say
from discounts.models import Cashier
from membership.models import Member

DEMO_PASSWORD = "Demo-2026-reestr"
DEMO_USERNAMES = ("central", "regional", "regional2", "local", "chair", "member", "cashier", "cashier2", "cashier3")
# Central and regional staff sign in in two steps (accounts.two_factor_services): the demo gives them one key for an
# authenticator app, printed by demo_logins so that a visitor can add it to theirs, and recovery codes of their own.
DEMO_TOTP_SECRET = "DEMOREESTRDEMOREESTRDEMOREESTR23"
DEMO_RECOVERY_CODES_SHOWN = 3


@functools.cache
def _demo_password_hash() -> str:
    # PBKDF2 is slow on purpose; seven users (and every test that seeds) share one hash.
    return make_password(DEMO_PASSWORD)


def users_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    """Step "users": the demo users, created or reset to their role, place and the demo password."""
    regions = {region.code: region for region in plan.regions}
    accounts: list[tuple[str, str, int | None, tuple[str, str, str]]] = [
        ("central", Role.CENTRAL, plan.central.pk if plan.central else None, ("Смирнова", "Ирина", "Викторовна"))
    ]
    if MOSCOW_CODE in regions:
        accounts.append(("regional", Role.REGIONAL, regions[MOSCOW_CODE].org.id, ("Кузнецов", "Андрей", "Николаевич")))
    if SAINT_PETERSBURG_CODE in regions:
        accounts.append(
            ("regional2", Role.REGIONAL, regions[SAINT_PETERSBURG_CODE].org.id, ("Лебедева", "Ольга", "Сергеевна"))
        )
    if plan.demo_local is not None:
        accounts.append(("local", Role.LOCAL, plan.demo_local.id, ("Морозова", "Елена", "Александровна")))
    member = None
    if plan.demo_school is not None:
        # The chair user is the person on the school's current chair card.
        chair = next(chair for chair in reversed(plan.chairs) if chair.org is plan.demo_school)
        accounts.append(
            ("chair", Role.CHAIR, plan.demo_school.id, (chair.last_name, chair.first_name, chair.middle_name))
        )
        member = (
            Member.objects.filter(
                organization_id=plan.demo_school.id, status=Member.Status.ACTIVE, category=Member.Category.WORKING
            )
            .order_by("id")
            .first()
        )
        if member is not None:
            accounts.append(("member", Role.MEMBER, None, (member.last_name, member.first_name, member.middle_name)))
    # The cashiers of three partners of the discount programme (demo.discounts puts them at their tills).
    accounts.append(("cashier", Role.CASHIER, None, ("Соколов", "Дмитрий", "Игоревич")))
    accounts.append(("cashier2", Role.CASHIER, None, ("Павлова", "Анна", "Сергеевна")))
    accounts.append(("cashier3", Role.CASHIER, None, ("Григорьев", "Максим", "Олегович")))
    users = {}
    for username, role, organization_id, (last_name, first_name, middle_name) in accounts:
        if role != Role.CASHIER and role != Role.MEMBER and organization_id is None:
            continue
        users[username], _created = User.objects.update_or_create(
            username=username,
            defaults={
                "password": _demo_password_hash(),
                "role": role,
                "organization_id": organization_id,
                "last_name": last_name,
                "first_name": first_name,
                "middle_name": middle_name,
                "email": f"{username}@{DEMO_EMAIL_DOMAIN}",
                "is_active": True,
            },
        )
    if member is not None:
        member.user = users["member"]
        member.save(update_fields=["user", "updated_at"])
    for user in users.values():
        if user.second_factor_required:
            second_factor_install(
                user=user,
                totp_key=b32decode(DEMO_TOTP_SECRET).hex(),
                recovery_codes=recovery_codes_derived(f"demo:{user.username}"),
            )
    report.users = len(users)


def demo_logins() -> list[tuple[str, str, str]]:
    """(role in Russian, login, where) of each demo user present in the database, in DEMO_USERNAMES order."""
    users = {
        user.username: user for user in User.objects.filter(username__in=DEMO_USERNAMES).select_related("organization")
    }
    member_orgs = dict(
        Member.objects.filter(user__in=list(users.values()))
        .select_related("organization")
        .values_list("user_id", "organization__short_name")
    )
    tills = dict(Cashier.objects.filter(user__in=list(users.values())).values_list("user_id", "partner__name"))
    rows = []
    for username in DEMO_USERNAMES:
        user = users.get(username)
        if user is None:
            continue
        if user.organization is not None:
            where = user.organization.display_name
        elif user.pk in member_orgs:
            where = member_orgs[user.pk]
        elif user.pk in tills:
            where = tills[user.pk]  # the partner at whose till the cashier works
        else:
            where = "проверка карт у партнёра программы скидок"
        rows.append((str(Role(user.role).label), username, where))
    return rows


def demo_second_factor_logins() -> list[tuple[str, list[str]]]:
    """(login, a few of its unused recovery codes, shown as typed) of each demo user who signs in in two steps."""
    tokens = StaticToken.objects.filter(device__user__username__in=DEMO_USERNAMES, device__confirmed=True)
    codes: dict[str, list[str]] = {}
    for username, code in tokens.order_by("id").values_list("device__user__username", "token"):
        codes.setdefault(username, []).append(recovery_code_shown(code))
    return [(username, codes[username][:DEMO_RECOVERY_CODES_SHOWN]) for username in DEMO_USERNAMES if username in codes]
