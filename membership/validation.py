"""The checks every value of a member's record passes, whichever way it comes in: the admission and edit forms, the
member's own contacts, the file import and the services behind them.

Each check returns the value to store or raises ValidationError with the Russian sentence the user reads. Nothing
is shortened or rewritten behind anyone's back: spaces at the ends and runs of spaces are closed up, a phone number
is written in the register's one form (+7 XXX XXX-XX-XX), and that is all; anything else that does not fit is
refused with the reason.
"""

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from registry.spreadsheet import FORMULA_STARTS

NAME_MAX_LENGTH = 150  # Member.last_name, first_name, middle_name
POSITION_MAX_LENGTH = 255  # Member.position
EMAIL_MAX_LENGTH = 254  # RFC 5321, Member.email
AGE_AT_ENTRY_MIN = 14  # the union's charter: members from 14 years of age
AGE_MAX = 110

# Between the letters of a name: a space, a hyphen, an apostrophe (typed straight, curly or as the Ukrainian sign).
NAME_SEPARATORS = " -'\u2019\u02bc"
_SEPARATOR_RUN = re.compile(f"[{re.escape(NAME_SEPARATORS)}]+")
# The common case at import speed: Russian letters, single separators between them.
_RUSSIAN_NAME = re.compile(r"[А-Яа-яЁё]+(?:[ \-'\u2019\u02bc][А-Яа-яЁё]+)*")
# Characters no register value holds: control and format characters (Unicode C*), line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Emoji and pictographs (and the selectors that turn a symbol into one); "№", "©" and the like stay allowed.
_EMOJI_RANGES = ((0x2600, 0x27BF), (0x2B00, 0x2BFF), (0xFE00, 0xFE0F), (0x1F000, 0x1FAFF), (0xE0000, 0xE007F))
_PHONE_PUNCTUATION = re.compile(r"[\s().\-\u2010-\u2015]")


def _shown(char: str) -> str:
    """A character as a message names it: itself if it can be seen, its code if it cannot."""
    if char.isprintable() and not char.isspace():
        return f"«{char}»"
    return f"U+{ord(char):04X}"


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _EMOJI_RANGES)


def plain_text(value, *, max_length: int) -> str:
    """Text typed by a person: no control characters, no emoji, at most `max_length` characters. Spaces at the ends
    are dropped and runs of spaces closed up."""
    text = unicodedata.normalize("NFC", "" if value is None else str(value)).strip()
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES or _is_emoji(char):
            raise ValidationError(
                _("недопустимый знак %(char)s (управляющий символ или эмодзи)") % {"char": _shown(char)},
                code="bad_character",
            )
    text = " ".join(text.split())
    if len(text) > max_length:
        raise ValidationError(
            _("длиннее %(limit)s знаков (здесь %(length)s): сократите") % {"limit": max_length, "length": len(text)},
            code="too_long",
        )
    return text


def _alphabet(char: str) -> str | None:
    """ "CYRILLIC" or "LATIN" for a letter of one of the two alphabets names are written in; None for anything else."""
    if not char.isalpha():
        return None
    script = unicodedata.name(char, "").split(" ", 1)[0]
    return script if script in ("CYRILLIC", "LATIN") else None


def person_name(value, *, required: bool = True) -> str:
    """A last, first or middle name: letters of one alphabet (Cyrillic or Latin) in each word, words joined by a
    space, a hyphen or an apostrophe; never a formula, never longer than the register holds."""
    text = plain_text(value, max_length=10**6)
    if not text:
        if required:
            raise ValidationError(_("не заполнено"), code="required")
        return ""
    if text.startswith(FORMULA_STARTS):
        raise ValidationError(
            _("«%(value)s» начинается с «%(start)s», как формула в таблице: имя начинается с буквы")
            % {"value": text[:40], "start": text[0]},
            code="formula",
        )
    if len(text) > NAME_MAX_LENGTH:
        raise ValidationError(
            _("длиннее %(limit)s знаков (здесь %(length)s): сократите")
            % {"limit": NAME_MAX_LENGTH, "length": len(text)},
            code="too_long",
        )
    if _RUSSIAN_NAME.fullmatch(text):
        return text
    for char in text:
        if char not in NAME_SEPARATORS and _alphabet(char) is None:
            raise ValidationError(
                _("«%(value)s»: недопустимый знак %(char)s — в фамилии, имени и отчестве пишут только буквы, "
                  "дефис, апостроф и пробел") % {"value": text, "char": _shown(char)},
                code="bad_character",
            )  # fmt: skip
    if (
        text[0] in NAME_SEPARATORS
        or text[-1] in NAME_SEPARATORS
        or any(len(run) > 1 for run in _SEPARATOR_RUN.findall(text))
    ):
        raise ValidationError(
            _("«%(value)s»: дефис, апостроф и пробел ставят только между буквами") % {"value": text},
            code="separators",
        )
    for word in _SEPARATOR_RUN.split(text):
        if len({_alphabet(char) for char in word}) > 1:
            raise ValidationError(
                _("«%(value)s»: в слове «%(word)s» смешаны русские и латинские буквы — наберите его буквами одного "
                  "алфавита") % {"value": text, "word": word},
                code="mixed_alphabets",
            )  # fmt: skip
    return text


def phone_number(value) -> str:
    """A Russian number, written as +7 XXX XXX-XX-XX whichever way it was typed (8 900 …, 9001234567, +7(900)…);
    an empty value stays empty."""
    text = plain_text(value, max_length=64)
    if not text:
        return ""
    digits = _PHONE_PUNCTUATION.sub("", text)
    plus = digits.startswith("+")
    digits = digits.removeprefix("+")
    national = None
    if digits.isascii() and digits.isdigit():
        if len(digits) == 11 and (digits[0] == "7" or (digits[0] == "8" and not plus)):
            national = digits[1:]
        elif len(digits) == 10 and not plus:
            national = digits
    if national is None or national[0] in "012":
        raise ValidationError(
            _("«%(value)s» — не номер телефона: нужны 10 цифр после +7, например +7 900 123-45-67")
            % {"value": text[:40]},
            code="phone",
        )
    return f"+7 {national[:3]} {national[3:6]}-{national[6:8]}-{national[8:]}"


def email_address(value) -> str:
    """An e-mail address as a mail server takes it; an empty value stays empty."""
    text = plain_text(value, max_length=EMAIL_MAX_LENGTH + 1000)
    if not text:
        return ""
    try:
        if len(text) > EMAIL_MAX_LENGTH or " " in text:
            raise ValidationError("")
        validate_email(text)
    except ValidationError:
        raise ValidationError(
            _("«%(value)s» — не адрес электронной почты") % {"value": text[:60]}, code="email"
        ) from None
    return text


def position_text(value) -> str:
    return plain_text(value, max_length=POSITION_MAX_LENGTH)


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def birth_date_check(birth_date: datetime.date, *, joined_on: datetime.date | None, today: datetime.date) -> None:
    """A date of birth that fits a living member: in the past, 14 to 110 years before the date of entry, and no more
    than 110 years ago. The code of the error says which date to look at: "too_young" is about the date of entry."""
    if birth_date >= today:
        raise ValidationError(_("Дата рождения должна быть в прошлом."), code="future")
    entry = joined_on or today
    if age_on(birth_date, entry) < AGE_AT_ENTRY_MIN:
        raise ValidationError(
            _("В Профсоюз вступают с 14 лет: на дату вступления (%(entry)s) человеку не было 14. Проверьте дату "
              "рождения и дату вступления.") % {"entry": entry.strftime("%d.%m.%Y")},
            code="too_young",
        )  # fmt: skip
    if age_on(birth_date, max(entry, today)) > AGE_MAX:
        raise ValidationError(
            _("Дата рождения %(birth)s даёт возраст больше 110 лет: проверьте год рождения.")
            % {"birth": birth_date.strftime("%d.%m.%Y")},
            code="too_old",
        )


# The text fields of a member's record and their checks, for the services and the import; the forms call the same
# functions field by field.
TEXT_CHECKS = {
    "last_name": person_name,
    "first_name": person_name,
    "middle_name": lambda value: person_name(value, required=False),
    "phone": phone_number,
    "email": email_address,
    "position": position_text,
}


def member_text_clean(fields: dict) -> dict:
    """`fields` with every text value of TEXT_CHECKS checked and put in its stored form; ValidationError with a
    message per field otherwise."""
    cleaned, errors = dict(fields), {}
    for name, check in TEXT_CHECKS.items():
        if name in fields:
            try:
                cleaned[name] = check(fields[name])
            except ValidationError as error:
                errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned
