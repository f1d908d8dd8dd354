"""Manual order: each task's `position` is a fractional index, a string key ordered by plain
byte comparison (ties broken by id), so a task moves by changing its own key only.

The keys are those of rocicorp's `fractional-indexing` (npm), here through its Python port
(`fractional-indexing` on PyPI, httpie's): a client can compute a valid key offline with the
same algorithm. A new task's key is made in its INSERT from the user's change counter (no read
first); keys the server makes for a move grow by about one character per insertion into the
same gap, and past REBALANCE_AFTER characters the server re-spaces the rows around the place
instead (tasks/positions.py; the only time a stored key differs from the one computed).
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
# (tasks/creates.py, in the INSERT): an integer part of the algorithm's, growing with the counter.
APPENDED_HEAD, APPENDED_DIGITS = "y", 25
REBALANCE_AFTER = 32  # what the server makes before it re-spaces the scope
APPENDED_IN_A_CHANGE = len(BASE_62_DIGITS) ** 2  # tasks of one change told apart (a batch: 100)


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


def appended_fraction(index: int) -> str:
    """What follows the key of the `index`th task added at the end by one change (all of
    them share its number): two base-62 digits and a `V` (a key ends in no zero), so tasks
    created together keep their order in their keys instead of sharing one key."""
    high, low = divmod(min(index, APPENDED_IN_A_CHANGE - 1), len(BASE_62_DIGITS))
    return BASE_62_DIGITS[high] + BASE_62_DIGITS[low] + "V"


def appended_key(number: int, index: int) -> str:
    """The key `creates.appended_position` makes in SQL, made here: of the `index`th task a
    change appends when the user's next change number is `number` (a bulk write's)."""
    return (
        APPENDED_HEAD
        + str(number).zfill(APPENDED_DIGITS)[-APPENDED_DIGITS:]
        + (appended_fraction(index))
    )


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


def spaced_between(low: str | None, high: str | None, count: int) -> list[str] | None:
    """`count` evenly spaced keys in order between `low` and `high` (None: no bound), each
    short enough for a key between two of them to be too; None if there are none such."""
    if low is not None and high is not None and low >= high:
        return None
    try:
        keys = generate_n_keys_between(low, high, count)
    except (FIError, ValueError):  # ValueError: a bound off the alphabet, stored before
        return None
    return keys if max(map(len, keys)) < REBALANCE_AFTER else None
