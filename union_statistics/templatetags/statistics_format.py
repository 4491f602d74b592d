from django import template

from union_statistics.templatetags.stat_tables import NumberFormat

register = template.Library()

NO_FIGURE = "—"


@register.filter
def figure(value, kind: str = "stock") -> str:
    """A number as the report prints it, in the language's separators: one decimal for a percentage (the column
    says it is one), a dash for none."""
    if value is None or value == "":
        return NO_FIGURE
    number_format = NumberFormat()
    return number_format.one_decimal(value) if kind == "percent" else number_format.integer(value)


class _BoundFieldPicker:
    def __init__(self, form, key: str):
        self.form, self.key = form, key


@register.filter
def field_of(form_or_picker, name: str):
    """{{ form|field_of:"working"|field_of:"start" }} → the bound field working_start."""
    if isinstance(form_or_picker, _BoundFieldPicker):
        return form_or_picker.form[f"{form_or_picker.key}_{name}"]
    return _BoundFieldPicker(form_or_picker, name)
