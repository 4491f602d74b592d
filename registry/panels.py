"""Panels that apps above the registry add to an organisation's passport page.

The registry imports none of them: an app appends a callable `(user, org) -> (template_name, context) | None` to
ORG_DETAIL_PANELS from its AppConfig.ready() (statistics adds the analysis of the members), and the page includes
each template with the context as `panel`.
"""

from collections.abc import Callable

from accounts.models import User
from accounts.panels import panels_shown
from registry.models import Organization

OrgDetailPanel = Callable[[User, Organization], tuple[str, dict] | None]

ORG_DETAIL_PANELS: list[OrgDetailPanel] = []


def org_detail_panels(*, user: User, org: Organization) -> list[dict]:
    return panels_shown(ORG_DETAIL_PANELS, user, org)
