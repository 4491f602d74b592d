"""Who may have a union card: the rules a single action and a bulk one apply alike, to models or to plain values
read for ten thousand members at once (services), and that the pages show beside a request (selectors)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from membership.models import Member


def card_issue_refusal(*, status: str, consent_withdrawn: bool, region_id: int | None) -> str | None:
    """Why a member cannot be given a card number, or None: the one rule of a single card and of a bulk approval
    (which reads these three facts of ten thousand members as plain values, not as models)."""
    if status != Member.Status.ACTIVE:
        return _("Билет выпускают только действующему члену Профсоюза.")
    if consent_withdrawn:
        return _("Член Профсоюза отозвал согласие на обработку данных: билет выпустить нельзя.")
    if region_id is None:
        return _("У организации не указан субъект РФ: номер билета не из чего составить.")
    return None


# The plastic card's data go to the vendor (152-FZ: a consent of its own, apart from the one to processing); the
# virtual card stays with the union and needs none.
VENDOR_CONSENT_MISSING = gettext_lazy("Нет согласия члена Профсоюза на передачу данных изготовителю билета.")
VENDOR_CONSENT_HOW_TO = gettext_lazy(
    "Внесите подписанное им согласие в карточке члена Профсоюза, затем закажите билет."
)


def plastic_card_refusal(*, status: str, consent_withdrawn: bool, vendor_consent: bool, region_id: int | None):
    """Why a member cannot have a plastic card made, or None: the card's own rule and a valid consent to passing the
    member's data to the vendor. One rule for a request, an approval and a batch."""
    return card_issue_refusal(status=status, consent_withdrawn=consent_withdrawn, region_id=region_id) or (
        None if vendor_consent else str(VENDOR_CONSENT_MISSING)
    )


def card_request_batch_hold(*, member_status: str, processing_blocked_on, vendor_consent: bool) -> str | None:
    """Why an approved request stays out of the next batch, or None: its member left, withdrew the consent to
    processing, or has no valid consent to the vendor having the data (withdrawn since the approval). The request
    stays approved outside the batches and goes into one once the consent is given again."""
    return plastic_card_refusal(
        status=member_status, consent_withdrawn=bool(processing_blocked_on), vendor_consent=vendor_consent,
        region_id=0,  # an approved request has its number already
    )  # fmt: skip
