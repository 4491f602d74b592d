from django import template

register = template.Library()

NO_FIGURE = "—"


@register.filter
def figure(value, kind: str = "stock") -> str:
    """A number as the report prints it: thin-space thousands, one decimal for a percentage, a dash for none."""
    if value is None or value == "":
        return NO_FIGURE
    if kind == "percent":
        return f"{value:.1f}".replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")


class _BoundFieldPicker:
    def __init__(self, form, key: str):
        self.form, self.key = form, key


@register.filter
def field_of(form_or_picker, name: str):
    """{{ form|field_of:"working"|field_of:"start" }} → the bound field working_start."""
    if isinstance(form_or_picker, _BoundFieldPicker):
        return form_or_picker.form[f"{form_or_picker.key}_{name}"]
    return _BoundFieldPicker(form_or_picker, name)
