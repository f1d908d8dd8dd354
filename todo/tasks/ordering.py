"""Manual order: each task's `position` is a fractional index, a string key ordered by plain
byte comparison (ties broken by id), so a task moves by changing its own key only.

The keys are those of rocicorp's `fractional-indexing` (npm), here through its Python port
(`fractional-indexing` on PyPI, httpie's): a client can compute a valid key offline with the
same algorithm. A new task's key is made in its INSERT from the user's change counter (no read
first); keys the server makes for a move grow by about one character per insertion into the
same gap, and past REBALANCE_AFTER characters the server re-spaces the whole scope instead
(the only time a stored key differs from the one computed).
"""

from fractional_indexing import (
    BASE_62_DIGITS,
    FIError,
    generate_key_between,
    generate_n_keys_between,
    validate_order_key,
)

LONGEST = 64  # what a client may send
DIGITS = frozenset(BASE_62_DIGITS)  # the library checks a key's head and end, not its digits
# A task added at the end gets `y` and its user's next change number in 25 decimal digits
# (tasks/store.py, in the INSERT): an integer part of the algorithm's, growing with the counter.
APPENDED_HEAD, APPENDED_DIGITS = "y", 25
REBALANCE_AFTER = 32  # what the server makes before it re-spaces the scope


class NoRoom(Exception):
    """No key fits between two neighbours (equal keys), or it would be too long: the scope is
    to be re-spaced."""


def checked(key: str) -> str:
    """A key a client sent; ValueError unless it follows the algorithm's grammar and is at most
    LONGEST characters."""
    if not isinstance(key, str) or not key or len(key) > LONGEST or not DIGITS.issuperset(key):
        raise ValueError(key)
    try:
        validate_order_key(key)
    except FIError as error:
        raise ValueError(key) from error
    return key


def between(before: str | None, after: str | None) -> str:
    """A key sorting after `before` and before `after` (None: no bound); NoRoom if there is
    none short enough."""
    if before is not None and after is not None and before >= after:
        raise NoRoom()
    try:
        key = generate_key_between(before, after)
    except (FIError, ValueError) as error:  # ValueError: a digit off the alphabet, stored before
        raise NoRoom() from error
    if len(key) > REBALANCE_AFTER:
        raise NoRoom()
    return key


def spaced(count: int) -> list[str]:
    """`count` evenly spaced keys in order, as short as they can be."""
    return generate_n_keys_between(None, None, count)
