from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "cards"
    verbose_name = _("Профсоюзные билеты")

    def ready(self):
        # membership sits below cards and cannot call it; cards puts itself on membership's list instead.
        from cards.services import card_requests_follow_consent_withdrawal, cards_block_for_member, cards_follow_member
        from membership.services import (
            CONSENT_WITHDRAWAL_LISTENERS,
            MEMBER_DEACTIVATION_LISTENERS,
            MEMBER_TRANSFER_LISTENERS,
        )

        if cards_block_for_member not in MEMBER_DEACTIVATION_LISTENERS:
            MEMBER_DEACTIVATION_LISTENERS.append(cards_block_for_member)
        if cards_follow_member not in MEMBER_TRANSFER_LISTENERS:
            MEMBER_TRANSFER_LISTENERS.append(cards_follow_member)
        if card_requests_follow_consent_withdrawal not in CONSENT_WITHDRAWAL_LISTENERS:
            CONSENT_WITHDRAWAL_LISTENERS.append(card_requests_follow_consent_withdrawal)
        from accounts.context_processors import CARDS_MENU_PROVIDERS
        from cards.settlement_selectors import settlement_menu_items

        if settlement_menu_items not in CARDS_MENU_PROVIDERS:
            CARDS_MENU_PROVIDERS.append(settlement_menu_items)
