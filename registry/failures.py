"""Background jobs that fail: a short reference the staff can quote, and the traceback under it in the log.

The page says "код сбоя 3F9A-0C1B"; whoever reads the server's log finds the same code beside the traceback.
"""

import logging
import secrets


def failure_reference() -> str:
    """Eight hex digits in two groups, easy to read out on the phone: "3F9A-0C1B"."""
    code = secrets.token_hex(4).upper()
    return f"{code[:4]}-{code[4:]}"


def failure_logged(logger: logging.Logger, what: str, *args) -> str:
    """Log the exception being handled with its traceback and a fresh reference; returns the reference.
    Call it inside an `except` block. `what` is a %-format for `args`, as logging takes them."""
    reference = failure_reference()
    logger.exception(what + " [код сбоя %s]", *args, reference)
    return reference
