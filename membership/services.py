import datetime
import secrets
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from accounts.models import AccessLog, Role, User
from accounts.services import access_log_write, changed_fields
from membership import validation
from membership.consent_texts import CURRENT_CONSENT_TEXT_VERSION
from membership.models import (
    Consent,
    Member,
    MemberEvent,
    MemberInvitation,
    MemberTransfer,
    PersonalDataDestruction,
    search_name_of,
)
from membership.selectors import MEMBER_ORG_LEVELS, user_can_manage_members
from registry.models import Organization
from registry.uploads import UploadRefused, image_format, is_pdf


class MembershipError(DomainError):
    """A refusal in the member register."""


# What the chair fills in on the admission and edit forms.
MEMBER_FIELDS = (
    "last_name", "first_name", "middle_name", "birth_date", "sex", "phone", "email", "category", "position",
    "is_teaching_staff", "union_joined_on", "org_joined_on", "dues_application", "is_committee_member",
    "is_audit_member", "is_group_organiser", "is_safety_rep",
)  # fmt: skip


def _ensure_manages(by: User, org: Organization) -> None:
    if not user_can_manage_members(by, org):
        raise PermissionDenied


def ensure_member_organization(org: Organization) -> None:
    """Members are on the register of an open primary organisation or its unit."""
    if org.level not in MEMBER_ORG_LEVELS:
        raise MembershipError(_("Членов Профсоюза ставят на учёт только в первичной организации или её профгруппе."))
    if not org.is_active:
        raise MembershipError(_("Организация «%(name)s» закрыта.") % {"name": org.display_name})


def _validate_dates(*, birth_date, union_joined_on, org_joined_on, today: datetime.date) -> None:
    if union_joined_on > today or org_joined_on > today:
        raise MembershipError(_("Дата вступления не может быть в будущем."))
    if org_joined_on < union_joined_on:
        raise MembershipError(_("Дата постановки на учёт в организации не может быть раньше вступления в Профсоюз."))
    try:
        validation.birth_date_check(birth_date, joined_on=union_joined_on, today=today)
    except ValidationError as error:
        raise MembershipError(error.messages[0]) from None


def _clean_texts(fields: dict) -> dict:
    """The text fields through the same checks as the forms and the import: a refusal names the field."""
    try:
        return validation.member_text_clean(fields)
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        label = str(Member._meta.get_field(name).verbose_name)
        raise MembershipError(f"{label[:1].upper()}{label[1:]}: {messages[0]}") from None


# Apps above membership (cards) react to a member who stops being served — leaving the union, withdrawing consent —
# by adding a function here in their AppConfig.ready(); it runs inside the same transaction as the change.
# Called as listener(member=..., by=..., reason=...), reason being "left" or "consent_withdrawn".
MEMBER_DEACTIVATION_LISTENERS: list = []


# The same for a member who moves to another organisation: called as listener(member=..., by=...) after the move.
MEMBER_TRANSFER_LISTENERS: list = []


# And for a withdrawn consent of any purpose, the data it covered being no longer passed on (cards takes the member's
# card out of a batch not yet sent to the vendor): called as listener(member=..., by=..., purpose=...) inside the
# withdrawal's transaction, with the member's row locked.
CONSENT_WITHDRAWAL_LISTENERS: list = []


def _member_deactivated(*, member: Member, by: User | None, reason: str) -> None:
    for listener in MEMBER_DEACTIVATION_LISTENERS:
        listener(member=member, by=by, reason=reason)


def member_event_record(*, member: Member, by: User | None, kind: str, changes: dict | None = None, note: str = ""):
    return MemberEvent.objects.create(
        member=member, by=by, kind=kind, organization_id=member.organization_id, changes=changes or {}, note=note
    )


@transaction.atomic
def member_admit(*, by: User, organization: Organization, **fields) -> Member:
    """Принять в Профсоюз (поставить на учёт) в первичной организации."""
    _ensure_manages(by, organization)
    ensure_member_organization(organization)
    _validate_dates(
        birth_date=fields["birth_date"],
        union_joined_on=fields["union_joined_on"],
        org_joined_on=fields["org_joined_on"],
        today=timezone.localdate(),
    )
    fields = _clean_texts(fields)
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
    # Only what changes is checked: a record loaded before these checks existed can still be corrected field by field.
    fields = fields | _clean_texts({name: value for name, value in fields.items() if getattr(member, name) != value})
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
    _member_deactivated(member=member, by=by, reason="left")
    return member


@transaction.atomic
def member_restore(*, by: User, member: Member, note: str = "") -> Member:
    """Восстановить в Профсоюзе члена, выбытие которого было оформлено (ошибочно или он вернулся)."""
    _ensure_manages(by, member.organization)
    ensure_member_organization(member.organization)
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
    ensure_member_organization(to_organization)
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
    for listener in MEMBER_TRANSFER_LISTENERS:
        listener(member=member, by=by)
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


# 152-FZ art. 21 p. 5: after consent is withdrawn the data are destroyed within thirty days.
DESTRUCTION_PERIOD_DAYS = 30
CONSENT_SCAN_MAX_BYTES = 10 * 1024 * 1024
# Pictures a scanner or a phone saves; an A4 page at 600 dpi is 35 megapixels.
CONSENT_SCAN_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png"}
CONSENT_SCAN_MAX_PIXELS = 60_000_000


@transaction.atomic
def consent_record(
    *, by: User, member: Member, purpose: str, given_on: datetime.date, method: str, scan=None, text_version: str = ""
) -> Consent:
    """Внести согласие (подписанный бланк, скан или согласие в личном кабинете)."""
    if by.role != Role.MEMBER:
        _ensure_manages(by, member.organization)
    elif getattr(by, "member", None) != member:
        raise PermissionDenied
    _ensure_not_blocked(member)
    if given_on > timezone.localdate():
        raise MembershipError(_("Дата согласия не может быть в будущем."))
    if method == Consent.Method.SCAN and not scan:
        raise MembershipError(_("Приложите скан подписанного согласия."))
    suffix = _scan_suffix(scan) if scan else ""
    if member.consents.filter(purpose=purpose, withdrawn_on__isnull=True).exists():
        raise MembershipError(_("Такое согласие уже действует. Чтобы заменить его, сначала оформите отзыв."))
    consent = Consent(
        member=member,
        purpose=purpose,
        text_version=text_version or CURRENT_CONSENT_TEXT_VERSION,
        given_on=given_on,
        method=method,
        recorded_by=by,
    )
    if scan:
        consent.scan.save(f"consent-{member.pk}-{purpose}{suffix}", scan, save=False)
    consent.full_clean()
    consent.save()
    member_event_record(
        member=member, by=by, kind=MemberEvent.Kind.CONSENT_GIVEN, note=f"{consent.get_purpose_display()}"
    )
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=member, details={"consent_given": purpose})
    return consent


def _scan_suffix(scan) -> str:
    """The suffix a scan is stored under, from what the file holds (a PDF, a JPEG or a PNG picture that decodes),
    never from its name: a renamed file of any other kind is refused."""
    if scan.size > CONSENT_SCAN_MAX_BYTES:
        raise MembershipError(_("Файл скана больше 10 МБ: уменьшите разрешение при сканировании."))
    if is_pdf(scan):
        return ".pdf"
    try:
        picture_format = image_format(scan, formats=tuple(CONSENT_SCAN_SUFFIXES), max_pixels=CONSENT_SCAN_MAX_PIXELS)
    except UploadRefused as refusal:
        if refusal.reason == "too_large":
            raise MembershipError(
                _("Изображение скана слишком большое: уменьшите разрешение при сканировании.")
            ) from None
        raise MembershipError(
            _("Скан принимается в формате PDF, JPEG или PNG. Содержимое этого файла не похоже ни на один из них.")
        ) from None
    return CONSENT_SCAN_SUFFIXES[picture_format]


@transaction.atomic
def consent_withdraw(*, by: User, consent: Consent, withdrawn_on: datetime.date) -> Consent:
    """Отзыв согласия. Отзыв согласия на обработку блокирует запись; данные уничтожаются через 30 дней."""
    member = consent.member
    if by.role != Role.MEMBER:
        _ensure_manages(by, member.organization)
    elif getattr(by, "member", None) != member:
        raise PermissionDenied
    # The member's row first, as leaving does: a card request or an approval deciding on this consent at the same
    # moment (they lock the member) sees it either given or withdrawn, never half-way.
    Member.objects.select_for_update().only("pk").get(pk=member.pk)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_on:
        raise MembershipError(_("Согласие уже отозвано."))
    if withdrawn_on > timezone.localdate() or withdrawn_on < consent.given_on:
        raise MembershipError(_("Дата отзыва не может быть в будущем или раньше даты согласия."))
    consent.withdrawn_on = withdrawn_on
    consent.save(update_fields=["withdrawn_on"])
    if consent.purpose == Consent.Purpose.PROCESSING:
        member.processing_blocked_on = withdrawn_on
        member.save(update_fields=["processing_blocked_on", "updated_at"])
        if member.user_id:
            User.objects.filter(pk=member.user_id).update(is_active=False)
        _member_deactivated(member=member, by=by, reason="consent_withdrawn")
    for listener in CONSENT_WITHDRAWAL_LISTENERS:
        listener(member=member, by=by, purpose=consent.purpose)
    member_event_record(
        member=member, by=by, kind=MemberEvent.Kind.CONSENT_WITHDRAWN, note=consent.get_purpose_display()
    )
    access_log_write(
        user=by, action=AccessLog.Action.CHANGE, obj=member, details={"consent_withdrawn": consent.purpose}
    )
    return consent


def member_data_export(*, member: Member, by: User) -> dict:
    """Everything the register holds about the member, in words a person reads ("мои данные", 152-FZ art. 14)."""
    access_log_write(user=by, action=AccessLog.Action.EXPORT, obj=member, details={"what": "member_data"})
    yes_no = {True: "да", False: "нет"}
    record = {
        "ФИО": member.full_name,
        "Дата рождения": member.birth_date.strftime("%d.%m.%Y"),
        "Пол": member.get_sex_display(),
        "Телефон": member.phone or "—",
        "E-mail": member.email or "—",
        "Первичная организация": member.organization.name,
        "Категория": member.get_category_display(),
        "Должность / учебная группа": member.position or "—",
        "Педагогический работник": yes_no[member.is_teaching_staff],
        "Дата вступления в Профсоюз": member.union_joined_on.strftime("%d.%m.%Y"),
        "Дата постановки на учёт": member.org_joined_on.strftime("%d.%m.%Y"),
        "Заявление об удержании взносов": yes_no[member.dues_application],
        "Статус": member.get_status_display(),
        "Член профкома": yes_no[member.is_committee_member],
        "Член ревизионной комиссии": yes_no[member.is_audit_member],
        "Профгрупорг": yes_no[member.is_group_organiser],
        "Уполномоченный по охране труда": yes_no[member.is_safety_rep],
    }
    if member.status == Member.Status.LEFT:
        record["Дата выбытия"] = member.left_on.strftime("%d.%m.%Y")
        record["Причина выбытия"] = member.get_leaving_reason_display()
    consents = [
        {
            "Согласие": consent.get_purpose_display(),
            "Редакция текста": consent.text_version,
            "Дата": consent.given_on.strftime("%d.%m.%Y"),
            "Как получено": consent.get_method_display(),
            "Отозвано": consent.withdrawn_on.strftime("%d.%m.%Y") if consent.withdrawn_on else "—",
        }
        for consent in member.consents.order_by("given_on", "id")
    ]
    history = [
        {
            "Когда": timezone.localtime(event.created_at).strftime("%d.%m.%Y %H:%M"),
            "Событие": event.get_kind_display(),
            "Кто": event.by.display_name if event.by else "—",
            **({"Изменения": "; ".join(event.change_lines)} if event.changes else {}),
            **({"Примечание": event.note} if event.note else {}),
        }
        for event in member.events.select_related("by").order_by("created_at", "id")
    ]
    return {"member": record, "consents": consents, "history": history}


@transaction.atomic
def member_personal_data_destroy(*, member: Member, basis: str, by: User | None = None) -> PersonalDataDestruction:
    """Уничтожить персональные данные: the record stays for the counts, nothing in it identifies the person."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if hasattr(member, "destruction"):
        return member.destruction
    files_deleted = 0
    for consent in member.consents.exclude(scan=""):
        consent.scan.delete(save=False)
        files_deleted += 1
    member.consents.exclude(scan="").update(scan="")
    destroyed = ["last_name", "first_name", "middle_name", "birth_date (кроме года)", "phone", "email", "position"]
    member.last_name, member.first_name, member.middle_name = "Данные уничтожены", "—", ""
    # The year of birth alone identifies nobody and keeps the youth statistics of past years right.
    member.birth_date = member.birth_date.replace(month=1, day=1)
    member.phone = member.email = member.position = ""
    member.search_name = ""
    member.save()
    if member.user_id:
        User.objects.filter(pk=member.user_id).update(
            is_active=False, first_name="", last_name="", email="", username=f"destroyed-{member.user_id}"
        )
    # History notes may hold names typed by people; the events themselves stay as the record of what happened.
    member.events.update(note="", changes={})
    act = PersonalDataDestruction.objects.create(
        member=member, basis=basis, fields=destroyed, files_deleted=files_deleted, performed_by=by
    )
    member_event_record(member=member, by=by, kind=MemberEvent.Kind.DATA_DESTROYED, note=f"Акт № {act.pk}")
    access_log_write(user=by, action=AccessLog.Action.DELETE, obj=member, details={"act": act.pk, "basis": basis})
    return act


def members_destroy_after_withdrawal(*, today: datetime.date | None = None) -> int:
    """The periodic task: destroy the data of everyone whose consent was withdrawn more than 30 days ago."""
    today = today or timezone.localdate()
    due = Member.objects.filter(
        processing_blocked_on__lte=today - datetime.timedelta(days=DESTRUCTION_PERIOD_DAYS), destruction__isnull=True
    )
    destroyed = 0
    for member in due.iterator(chunk_size=500):
        member_personal_data_destroy(
            member=member,
            basis=f"Отзыв согласия на обработку персональных данных {member.processing_blocked_on:%d.%m.%Y}",
        )
        destroyed += 1
    return destroyed


INVITATION_VALID_DAYS = 14
INVITATION_CODE_DIGITS = 8
# Contacts the member corrects personally in the self-service cabinet.
SELF_SERVICE_FIELDS = ("phone", "email")


@dataclass(frozen=True)
class IssuedInvitation:
    username: str
    code: str
    expires_at: datetime.datetime


@transaction.atomic
def member_account_invite(*, by: User, member: Member, site_url: str) -> IssuedInvitation:
    """Открыть (или переоткрыть) личный кабинет: a login and a one-time code, printed or sent by e-mail."""
    _ensure_manages(by, member.organization)
    _ensure_not_blocked(member)
    member = Member.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
    if member.status != Member.Status.ACTIVE:
        raise MembershipError(_("Личный кабинет открывают только действующему члену Профсоюза."))
    account = member.user
    if account is None:
        account = User(
            username=f"m{member.pk}", first_name=member.first_name, last_name=member.last_name,
            middle_name=member.middle_name, email=member.email, role=Role.MEMBER,
        )  # fmt: skip
        account.set_unusable_password()
        account.save()
        member.user = account
        member.save(update_fields=["user", "updated_at"])
    elif not account.is_active:
        raise MembershipError(_("Учётная запись заблокирована."))
    code = "".join(secrets.choice("0123456789") for _ in range(INVITATION_CODE_DIGITS))
    # A new code cancels the earlier ones: only the last printed slip works.
    member.invitations.filter(used_at__isnull=True).update(expires_at=timezone.now())
    invitation = MemberInvitation.objects.create(
        member=member, code_hash=make_password(code), created_by=by,
        expires_at=timezone.now() + datetime.timedelta(days=INVITATION_VALID_DAYS),
    )  # fmt: skip
    member_event_record(member=member, by=by, kind=MemberEvent.Kind.ACCOUNT_INVITED)
    access_log_write(user=by, action=AccessLog.Action.CHANGE, obj=member, details={"account_invited": account.username})
    issued = IssuedInvitation(username=account.username, code=code, expires_at=invitation.expires_at)
    if member.email:
        transaction.on_commit(lambda: _send_member_invitation(member=member, issued=issued, site_url=site_url))
    return issued


def _send_member_invitation(*, member: Member, issued: IssuedInvitation, site_url: str) -> None:
    context = {
        "member": member,
        "issued": issued,
        "link": site_url.rstrip("/") + reverse("membership:account_activate"),
    }
    send_mail(
        subject=_("Личный кабинет члена Профсоюза образования"),
        message=render_to_string("membership/email/member_invitation.txt", context),
        from_email=None,
        recipient_list=[member.email],
    )


def member_account_activate(*, username: str, code: str, birth_date: datetime.date, password: str) -> User:
    """The member sets a password with the one-time code and the date of birth as a second check."""
    refusal = MembershipError(_("Логин, код или дата рождения не подходят, либо срок действия кода истёк."))
    member = Member.objects.select_related("user").filter(user__username__iexact=username.strip()).first()
    if member is None or not member.user.is_active:
        raise refusal
    invitation = (
        member.invitations.filter(used_at__isnull=True, expires_at__gt=timezone.now()).order_by("-created_at").first()
    )
    if invitation is None or invitation.failed_attempts >= MemberInvitation.MAX_ATTEMPTS:
        raise refusal
    if not check_password(code.strip(), invitation.code_hash) or member.birth_date != birth_date:
        # Outside any transaction, so a wrong guess is counted even though the call fails.
        MemberInvitation.objects.filter(pk=invitation.pk).update(failed_attempts=F("failed_attempts") + 1)
        raise refusal
    validate_password(password, user=member.user)
    with transaction.atomic():
        claimed = MemberInvitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=timezone.now())
        if not claimed:
            raise refusal
        member.user.set_password(password)
        member.user.save(update_fields=["password"])
    return member.user


@transaction.atomic
def member_self_update(*, member: Member, by: User, **fields) -> Member:
    """The member corrects own contacts in the cabinet; the chair sees it in the history."""
    if getattr(by, "member", None) != member or set(fields) - set(SELF_SERVICE_FIELDS):
        raise PermissionDenied
    _ensure_not_blocked(member)
    fields = _clean_texts(fields)
    changes = changed_fields(member, fields)
    if not changes:
        return member
    for name, value in fields.items():
        setattr(member, name, value)
    member.full_clean()
    member.save(update_fields=[*changes.keys(), "updated_at"])
    member_event_record(member=member, by=by, kind=MemberEvent.Kind.SELF_SERVICE, changes=changes)
    return member
