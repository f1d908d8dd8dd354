"""What a label's name may be, and which names are the same label: identity is the name's
NFKC normal form, casefolded (`Home`, `HOME` and a full-width `home` are one label), shown as
it was first spelled until it is renamed."""

import unicodedata

NAME_MAX = 64
MOST_PER_TASK = 20
# The identity of a name can be longer than the name (casefold expands ß to ss, NFKC a
# ligature to its letters, and one Arabic ligature to 18 characters): room for four times the
# longest name, and a name whose identity needs more is refused.
KEY_MAX = 4 * NAME_MAX


class LabelNameInvalid(ValueError):
    pass


def checked(name: str) -> str:
    """`name` trimmed; LabelNameInvalid if it is empty, longer than NAME_MAX characters, or
    holds a control character (a line break in a label is never meant)."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise LabelNameInvalid(f"A label is 1 to {NAME_MAX} characters, trimmed.")
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise LabelNameInvalid("A label holds no control characters.")
    if len(identity(name)) > KEY_MAX:
        raise LabelNameInvalid("This label is too long once its characters are normalized.")
    return name


def findable(name: str) -> bool:
    """Whether `name` (from a URL) could name a label at all: what was checked() could."""
    try:
        return checked(name) == name
    except LabelNameInvalid:
        return False


def identity(name: str) -> str:
    """What makes two names the same label."""
    return unicodedata.normalize("NFKC", name).casefold()


def distinct(names: list[str]) -> dict[str, str]:
    """The labels `names` give, by identity, in their first order and first spelling: a task
    carries a label once, however often it was sent."""
    labels = {}
    for name in names:
        labels.setdefault(identity(name), name)
    return labels
