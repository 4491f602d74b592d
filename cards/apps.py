from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "cards"
    verbose_name = _("Профсоюзные билеты")

    def ready(self):
        # membership sits below cards and cannot call it; cards puts itself on membership's list instead.
        from cards.services import cards_block_for_member, cards_follow_member
        from membership.services import MEMBER_DEACTIVATION_LISTENERS, MEMBER_TRANSFER_LISTENERS

        if cards_block_for_member not in MEMBER_DEACTIVATION_LISTENERS:
            MEMBER_DEACTIVATION_LISTENERS.append(cards_block_for_member)
        if cards_follow_member not in MEMBER_TRANSFER_LISTENERS:
            MEMBER_TRANSFER_LISTENERS.append(cards_follow_member)
