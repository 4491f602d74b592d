from django import template

from registry.money import roubles_text

register = template.Library()


@register.filter
def roubles(kopecks: int | None) -> str:
    """Kopecks as roubles on a page: 123456 → "1 234,56"; None stays empty."""
    return "" if kopecks is None or kopecks == "" else roubles_text(int(kopecks))
