"""The languages a room may be held in: ISO 639-1 codes, a fixed list, and the default a
new room takes from the browser's Accept-Language."""

from django.utils.translation.trans_real import parse_accept_lang_header

DEFAULT_LANGUAGE = "en"
LANGUAGES = [
    ("ar", "Arabic"),
    ("bn", "Bengali"),
    ("de", "German"),
    ("el", "Greek"),
    ("en", "English"),
    ("es", "Spanish"),
    ("fa", "Persian"),
    ("fr", "French"),
    ("he", "Hebrew"),
    ("hi", "Hindi"),
    ("id", "Indonesian"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("ru", "Russian"),
    ("sv", "Swedish"),
    ("sw", "Swahili"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("ur", "Urdu"),
    ("vi", "Vietnamese"),
    ("zh", "Chinese"),
]
LANGUAGE_CODES = frozenset(code for code, _ in LANGUAGES)


def language_from_accept(header: str) -> str:
    """The first language of an Accept-Language header that a room may be held in
    ("pt-BR" counts as "pt"), or English."""
    for tag, _quality in parse_accept_lang_header(header or ""):
        code = tag.split("-")[0].lower()
        if code in LANGUAGE_CODES:
            return code
    return DEFAULT_LANGUAGE
