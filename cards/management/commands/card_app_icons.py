"""Draw the icons of the member's card app (cards/offline.py ICONS) into static/icons/; the PNGs are committed."""

from itertools import pairwise
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from PIL import Image, ImageChops, ImageDraw, ImageFont

from cards.offline import APPLE_TOUCH_ICON, ICONS

# The card's own gradient (static/css/app.css, .union-card) and the union's red accent.
GRADIENT = ((0.0, (8, 58, 115)), (0.6, (11, 79, 156)), (1.0, (47, 123, 209)))
ACCENT = (227, 30, 36)
FONT = "vendor/fonts/pt-sans-cyrillic-700-normal.woff2"
SUPERSAMPLE = 4


def _gradient_colour(t: float) -> tuple[int, int, int]:
    for (start, low), (end, high) in pairwise(GRADIENT):
        if t <= end:
            k = (t - start) / (end - start)
            return tuple(round(a + (b - a) * k) for a, b in zip(low, high, strict=True))
    return GRADIENT[-1][1]


def icon(size: int, *, full_bleed: bool, content_scale: float) -> Image.Image:
    """The brand mark «ЕР» over the card's diagonal gradient with a red stroke beneath, as on the card's corner.

    full_bleed: the square is filled to its edges (maskable icons, Apple's), the system rounds it; otherwise the
    corners are rounded here. content_scale: the share of the side the letters span (maskable icons keep theirs
    inside the central circle that every mask shape leaves visible)."""
    big = size * SUPERSAMPLE
    vertical = Image.linear_gradient("L")
    diagonal = ImageChops.add(vertical, vertical.transpose(Image.Transpose.ROTATE_90), scale=2)
    diagonal = diagonal.resize((big, big), Image.Resampling.BILINEAR)
    palette = [_gradient_colour(level / 255) for level in range(256)]
    channels = [diagonal.point([colour[channel] for colour in palette]) for channel in range(3)]
    image = Image.merge("RGB", channels).convert("RGBA")

    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(Path(settings.BASE_DIR) / "static" / FONT), round(big * content_scale * 0.62))
    left, top, right, bottom = draw.textbbox((0, 0), "ЕР", font=font)
    text_width, text_height = right - left, bottom - top
    bar_height = round(text_height * 0.14)
    gap = round(text_height * 0.18)
    block_height = text_height + gap + bar_height
    x = (big - text_width) / 2 - left
    y = (big - block_height) / 2 - top
    draw.text((x, y), "ЕР", font=font, fill="white")
    bar_top = (big - block_height) / 2 + text_height + gap
    draw.rounded_rectangle(
        [(big - text_width) / 2, bar_top, (big + text_width) / 2, bar_top + bar_height],
        radius=bar_height / 2,
        fill=ACCENT,
    )

    if not full_bleed:
        mask = Image.new("L", (big, big), 0)
        ImageDraw.Draw(mask).rounded_rectangle([0, 0, big - 1, big - 1], radius=round(big * 0.22), fill=255)
        image.putalpha(mask)
    return image.resize((size, size), Image.Resampling.LANCZOS)


class Command(BaseCommand):
    help = "Рисует значки приложения «Профсоюзный билет» в static/icons/."

    def handle(self, *args, **options):
        folder = Path(settings.BASE_DIR) / "static" / "icons"
        folder.mkdir(exist_ok=True)
        pictures = [(name, size, purpose == "maskable") for name, size, purpose in ICONS]
        pictures.append((APPLE_TOUCH_ICON[0], APPLE_TOUCH_ICON[1], True))
        for name, size, maskable in pictures:
            scale = 0.5 if maskable else 0.62
            icon(size, full_bleed=maskable, content_scale=scale).save(folder / name, optimize=True)
            self.stdout.write(f"static/icons/{name}: {size}×{size}")
