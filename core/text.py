"""Text people type for others to read (names): tidied of what does not show, and compared by
how it looks rather than how it is coded.

A name that looks like another's is a way to pass for them: "Night Owls" and the same with a
Cyrillic O, a fullwidth N, a no-break space or a zero-width space in it are one name to a
reader. `name_key` is what two names
share when they look alike: Unicode's compatibility normal form (NFKC), case folded, then its
confusable skeleton (Unicode TR39), which ICU computes (PyICU; `pyicu-wheels` ships it with
ICU built in, so nothing needs compiling). A key is for comparing, never for showing.
"""

import unicodedata

from icu import SpoofChecker

# Characters that reorder the text around them; a name or a link carrying one can show as
# something else than it is.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def without_bidi_controls(text: str) -> str:
    return "".join(char for char in text if char not in BIDI_CONTROLS)


def tidy_name(text: str) -> str:
    """Without format characters (zero-width spaces, joiners, direction marks), and with its
    runs of spaces, no-break ones included, made one plain space."""
    shown = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(shown.split())


def name_key(text: str) -> str:
    """What a name shares with every name that looks like it (see the module's docstring)."""
    folded = unicodedata.normalize("NFKC", tidy_name(text)).casefold()
    return SpoofChecker().getSkeleton(0, folded)
