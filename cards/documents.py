"""Pictures of the card: the Code128 barcode of the number and the QR code of the verification address, as SVG."""

from itertools import groupby

import barcode
import qrcode
import qrcode.image.svg

# Quiet zone on each side, in modules (bars): scanners need at least ten.
QUIET_ZONE_MODULES = 10
BAR_HEIGHT_MODULES = 40


def barcode_svg(number: str) -> str:
    """Code128 of the card number as a vector SVG with a viewBox, so it scales to any width without blurring.

    python-barcode computes the bars; each run of dark modules becomes one rectangle.
    """
    modules = barcode.get("code128", number).build()[0]
    width = len(modules) + 2 * QUIET_ZONE_MODULES
    bars, position = [], 0
    for dark, run in groupby(modules):
        length = len(list(run))
        if dark == "1":
            bars.append(
                f'<rect x="{QUIET_ZONE_MODULES + position}" y="0" width="{length}" height="{BAR_HEIGHT_MODULES}"/>'
            )
        position += length
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {BAR_HEIGHT_MODULES}" '
        f'preserveAspectRatio="none" shape-rendering="crispEdges" role="img" aria-label="Code128 {number}">'
        f'<rect width="{width}" height="{BAR_HEIGHT_MODULES}" fill="#fff"/><g fill="#000">{"".join(bars)}</g></svg>'
    )


def qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return _svg_element(image.to_string(encoding="unicode"))


def _svg_element(svg: str) -> str:
    """The <svg> element alone, fit to be placed inside HTML (no XML declaration or doctype)."""
    return svg[svg.index("<svg") :]
