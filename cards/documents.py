"""Pictures of the card: the Code128 barcode of the number and the QR code of the verification address, as SVG."""

import io

import barcode
import qrcode
import qrcode.image.svg
from barcode.writer import SVGWriter


def barcode_svg(number: str) -> str:
    """Code128 of the card number, vector, without the human-readable line (the number is printed beside it)."""
    buffer = io.BytesIO()
    barcode.get("code128", number, writer=SVGWriter()).write(
        buffer, options={"write_text": False, "module_height": 12.0, "quiet_zone": 2.0, "module_width": 0.3}
    )
    return _svg_element(buffer.getvalue().decode("utf-8"))


def qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return _svg_element(image.to_string(encoding="unicode"))


def _svg_element(svg: str) -> str:
    """The <svg> element alone, fit to be placed inside HTML (no XML declaration or doctype)."""
    return svg[svg.index("<svg") :]
