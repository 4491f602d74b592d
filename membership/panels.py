"""Panels that apps above membership add to the member's own cabinet page.

membership imports none of them: an app appends a callable `(user, member) -> (template_name, context) | None`
to MY_CABINET_PANELS from its AppConfig.ready() (statistics adds the live counters of the member's organisation),
and the page includes each template with the context as `panel`.
"""

from collections.abc import Callable

from accounts.models import User
from accounts.panels import panels_shown
from membership.models import Member

MyCabinetPanel = Callable[[User, Member], tuple[str, dict] | None]

MY_CABINET_PANELS: list[MyCabinetPanel] = []


def my_cabinet_panels(*, user: User, member: Member) -> list[dict]:
    return panels_shown(MY_CABINET_PANELS, user, member)
