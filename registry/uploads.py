"""Uploaded files checked by what they contain, not by their names: a picture must decode as one of the formats
asked for, a PDF must begin as a PDF does. Every app that takes a file from a user (consent scans, partners'
logos) checks it here and words the refusal in its own terms.
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, UnidentifiedImageError

PDF_HEAD = b"%PDF-"
# Signatures of the containers spreadsheets are saved in: .xlsx and .ods are ZIP files, .xls an OLE2 compound file.
ZIP_HEAD = b"PK\x03\x04"
OLE2_HEAD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class UploadRefused(ValueError):
    """The file is not what it should be; `reason` is "not_image" or "too_large"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def upload_head(upload, size: int = 8) -> bytes:
    """The first bytes of an upload, the file left at its start."""
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


@contextmanager
def image_opened(upload, *, formats: tuple[str, ...], max_pixels: int) -> Iterator[Image.Image]:
    """The upload's picture, fully decoded: only the decoders in `formats` see the file (Pillow's rarer ones are not
    offered untrusted input), and a picture of more than `max_pixels` is refused before it is unpacked (a
    decompression bomb is a small file that unpacks to gigabytes). Anything that fails to decode in the block is
    refused too."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload, formats=formats) as probe:
                if probe.width * probe.height > max_pixels:
                    raise UploadRefused("too_large")
                probe.verify()
            upload.seek(0)
            with Image.open(upload, formats=formats) as image:
                image.load()
                yield image
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused("too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise UploadRefused("not_image") from None
    finally:
        upload.seek(0)


def image_format(upload, *, formats: tuple[str, ...], max_pixels: int) -> str:
    """The format ("PNG", "JPEG", …) of an upload that decodes as a picture; UploadRefused otherwise."""
    with image_opened(upload, formats=formats, max_pixels=max_pixels) as image:
        return image.format


def is_pdf(upload) -> bool:
    """A PDF begins with "%PDF-", whatever the file is called."""
    return upload_head(upload, len(PDF_HEAD)) == PDF_HEAD
