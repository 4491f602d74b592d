import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessLog, User
from accounts.services import access_log_write, changed_fields
from membership.models import Member, MemberEvent, MemberTransfer, search_name_of
from membership.selectors import MEMBER_ORG_LEVELS, user_can_manage_members
from registry.models import Organization


class MembershipError(Exception):
    """A refusal whose message is the Russian sentence shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# What the chair fills in on the admission and edit forms.
MEMBER_FIELDS = (
    "last_name", "first_name", "middle_name", "birth_date", "sex", "phone", "email", "category", "position",
    "is_teaching_staff", "union_joined_on", "org_joined_on", "dues_application", "is_committee_member",
    "is_audit_member", "is_group_organiser", "is_safety_rep",
)  # fmt: skip


def _ensure_manages(by: User, org: Organization) -> None:
    if not user_can_manage_members(by, org):
        raise PermissionDenied


def _ensure_member_org(org: Organization) -> None:
    if org.level not in MEMBER_ORG_LEVELS:
        raise MembershipError(_("Членов Профсоюза ставят на учёт только в первичной организации или её профгруппе."))
    if not org.is_active:
        raise MembershipError(_("Организация «%(name)s» закрыта.") % {"name": org.display_name})


def _validate_dates(*, birth_date, union_joined_on, org_joined_on, today: datetime.date) -> None:
    if birth_date >= today:
        raise MembershipError(_("Дата рождения должна быть в прошлом."))
    if union_joined_on > today or org_joined_on > today:
        raise MembershipError(_("Дата вступления не может быть в будущем."))
    if org_joined_on < union_joined_on:
        raise MembershipError(_("Дата постановки на учёт в организации не может быть раньше вступления в Профсоюз."))
    if union_joined_on.year - birth_date.year < 14:
        raise MembershipError(_("В Профсоюз вступают с 14 лет: проверьте дату рождения и дату вступления."))


def member_event_record(*, member: Member, by: User | None, kind: str, changes: dict | None = None, note: str = ""):
    return MemberEvent.objects.create(
        member=member, by=by, kind=kind, organization_id=member.organization_id, changes=changes or {}, note=note
    )


@transaction.atomic
def member_admit(*, by: User, organization: Organization, **fields) -> Member:
    """Принять в Профсоюз (поставить на учёт) в первичной организации."""
    _ensure_manages(by, organization)
    _ensure_member_org(organization)
    _validate_dates(
        birth_date=fields["birth_date"],
        union_joined_on=fields["union_joined_on"],
        org_joined_on=fields["org_joined_on"],
        today=timezone.localdate(),
    )
    member = Member(organization=organization, **fields)
    member.search_name = search_name_of(member.last_name, member.first_name, member.middle_name)
    member.full_clean()
    member.save()
    member_event_record(member=member, by=by, kind=MemberEvent.Kind.ADMITTED)
    access_log_write(user=by, action=AccessLog.Action.CREATE, obj=member)
    return member


@transaction.atomic
def member_update(*, by: User, member: Member, **fields) -> Member:
    """Correct the member's record; the history keeps each field's old and new value."""
    _ensure_manages(by, member.organization)
    _ensure_not_blocked(member)
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise ValueError(f"Not member fields: {sorted(unknown)}")
    merged = {
        name: fields.get(name, getattr(member, name)) for name in ("birth_date", "union_joined_on", "org_joined_on")
    }
    _validate_dates(**merged, today=timezone.localdate())
    changes = changed_fields(member, fields)
    if not changes:
        return member
    for name, value in fields.items():
        setattr(member, name, value)
    member.search_name = search_name_of(member.last_name, member.first_name, member.middle_name)
    member.full_clean()
    member.save()
    member_event_record(member=member, by=by, kind=MemberEvent.Kind.CHANGED, changes=changes)
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=member, details={"changes": changes})
    return member


def _ensure_not_blocked(member: Member) -> None:
    if member.processing_blocked_on:
        raise MembershipError(
            _("Член Профсоюза отозвал согласие на обработку персональных данных: запись заблокирована.")
        )


@transaction.atomic
def member_record_leaving(*, by: User, member: Member, left_on: datetime.date, reason: str) -> Member:
    """Оформить выбытие из Профсоюза (добровольный выход, исключение, смерть, окончание работы или учёбы)."""
    _ensure_manages(by, member.organization)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != Member.Status.ACTIVE:
        raise MembershipError(_("Выбытие уже оформлено."))
    if reason not in Member.LeavingReason.values or reason == Member.LeavingReason.TRANSFER:
        raise MembershipError(_("Укажите причину выбытия. Перевод оформляется отдельно."))
    if left_on > timezone.localdate():
        raise MembershipError(_("Дата выбытия не может быть в будущем."))
    if left_on < member.org_joined_on:
        raise MembershipError(_("Дата выбытия не может быть раньше постановки на учёт."))
    member.transfers.filter(status=MemberTransfer.Status.PENDING).update(
        status=MemberTransfer.Status.CANCELLED, decided_by=by, decided_at=timezone.now()
    )
    member.status, member.left_on, member.leaving_reason = Member.Status.LEFT, left_on, reason
    member.save(update_fields=["status", "left_on", "leaving_reason", "updated_at"])
    changes = {
        "status": [Member.Status.ACTIVE, Member.Status.LEFT],
        "left_on": [None, str(left_on)],
        "leaving_reason": ["", reason],
    }
    member_event_record(member=member, by=by, kind=MemberEvent.Kind.LEFT, changes=changes)
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=member, details={"changes": changes})
    return member


@transaction.atomic
def member_restore(*, by: User, member: Member, note: str = "") -> Member:
    """Восстановить в Профсоюзе члена, выбытие которого было оформлено (ошибочно или он вернулся)."""
    _ensure_manages(by, member.organization)
    _ensure_member_org(member.organization)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != Member.Status.LEFT:
        raise MembershipError(_("Член Профсоюза не выбывал: восстанавливать нечего."))
    if member.leaving_reason == Member.LeavingReason.DEATH and not note:
        raise MembershipError(_("Выбытие по причине смерти отменяется только с пояснением."))
    changes = {
        "status": [Member.Status.LEFT, Member.Status.ACTIVE],
        "left_on": [str(member.left_on), None],
        "leaving_reason": [member.leaving_reason, ""],
    }
    member.status, member.left_on, member.leaving_reason = Member.Status.ACTIVE, None, ""
    member.save(update_fields=["status", "left_on", "leaving_reason", "updated_at"])
    member_event_record(member=member, by=by, kind=MemberEvent.Kind.RESTORED, changes=changes, note=note)
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=member, details={"changes": changes})
    return member


@transaction.atomic
def member_transfer_request(
    *, by: User, member: Member, to_organization: Organization, note: str = ""
) -> MemberTransfer:
    """Start a transfer; it takes effect when the receiving organisation accepts (at once if `by` manages both)."""
    _ensure_manages(by, member.organization)
    _ensure_member_org(to_organization)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != Member.Status.ACTIVE:
        raise MembershipError(_("Перевести можно только действующего члена Профсоюза."))
    if to_organization.pk == member.organization_id:
        raise MembershipError(_("Член Профсоюза уже состоит в этой организации."))
    if member.transfers.filter(status=MemberTransfer.Status.PENDING).exists():
        raise MembershipError(_("Перевод уже запрошен и ждёт решения принимающей организации."))
    transfer = MemberTransfer.objects.create(
        member=member,
        from_organization_id=member.organization_id,
        to_organization=to_organization,
        requested_by=by,
        note=note,
    )
    member_event_record(
        member=member,
        by=by,
        kind=MemberEvent.Kind.TRANSFER_REQUESTED,
        changes={"organization": [member.organization_id, to_organization.pk]},
        note=note,
    )
    if user_can_manage_members(by, to_organization):
        member_transfer_accept(by=by, transfer=transfer)
        transfer.refresh_from_db()
    return transfer


@transaction.atomic
def member_transfer_accept(*, by: User, transfer: MemberTransfer) -> Member:
    """The receiving organisation accepts: the member moves with the whole history."""
    transfer = MemberTransfer.objects.select_for_update().select_related("member").get(pk=transfer.pk)
    _ensure_manages(by, transfer.to_organization)
    if transfer.status != MemberTransfer.Status.PENDING:
        raise MembershipError(_("Решение по этому переводу уже принято."))
    member = transfer.member
    old_org_id = member.organization_id
    member.organization_id = transfer.to_organization_id
    member.org_joined_on = timezone.localdate()
    member.save(update_fields=["organization", "org_joined_on", "updated_at"])
    transfer.status, transfer.decided_by, transfer.decided_at = MemberTransfer.Status.ACCEPTED, by, timezone.now()
    transfer.save(update_fields=["status", "decided_by", "decided_at"])
    changes = {"organization": [old_org_id, transfer.to_organization_id]}
    member_event_record(member=member, by=by, kind=MemberEvent.Kind.TRANSFERRED, changes=changes)
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=member, details={"changes": changes})
    return member


@transaction.atomic
def member_transfer_reject(*, by: User, transfer: MemberTransfer, note: str) -> MemberTransfer:
    transfer = MemberTransfer.objects.select_for_update().select_related("member").get(pk=transfer.pk)
    _ensure_manages(by, transfer.to_organization)
    if transfer.status != MemberTransfer.Status.PENDING:
        raise MembershipError(_("Решение по этому переводу уже принято."))
    if not note.strip():
        raise MembershipError(_("Укажите причину отказа: её увидит организация, запросившая перевод."))
    transfer.status, transfer.decided_by, transfer.decided_at = MemberTransfer.Status.REJECTED, by, timezone.now()
    transfer.note = note
    transfer.save(update_fields=["status", "decided_by", "decided_at", "note"])
    member_event_record(member=transfer.member, by=by, kind=MemberEvent.Kind.TRANSFER_REJECTED, note=note)
    return transfer


@transaction.atomic
def member_transfer_cancel(*, by: User, transfer: MemberTransfer) -> MemberTransfer:
    transfer = MemberTransfer.objects.select_for_update().select_related("member").get(pk=transfer.pk)
    _ensure_manages(by, transfer.from_organization)
    if transfer.status != MemberTransfer.Status.PENDING:
        raise MembershipError(_("Решение по этому переводу уже принято."))
    transfer.status, transfer.decided_by, transfer.decided_at = MemberTransfer.Status.CANCELLED, by, timezone.now()
    transfer.save(update_fields=["status", "decided_by", "decided_at"])
    member_event_record(member=transfer.member, by=by, kind=MemberEvent.Kind.TRANSFER_CANCELLED)
    return transfer
