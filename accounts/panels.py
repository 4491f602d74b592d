"""Panels that an app higher up adds to a page of a lower app, which imports none of them.

The lower app keeps a list of callables returning `(template_name, context)` or None (nothing to show) and its page
includes each template with the context as `panel`; the higher app appends its callable in AppConfig.ready().
"""

from collections.abc import Callable, Iterable

Panel = Callable[..., tuple[str, dict] | None]


def panels_shown(panels: Iterable[Panel], *args) -> list[dict]:
    shown = []
    for panel in panels:
        result = panel(*args)
        if result is not None:
            template_name, context = result
            shown.append({"template_name": template_name, "context": context})
    return shown
