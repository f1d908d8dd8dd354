"""Who may do what with a list: its owner everything, a member what its role allows. Read in
the transaction of the change it allows, with the owner's list row locked (FOR NO KEY UPDATE:
it does not block the task writes that only reference the row), so every membership change
of one list is serialised on that row and no permission outlives a removal."""

import hashlib
import uuid
from dataclasses import replace
from types import MappingProxyType

from sqlalchemy import Row, Uuid, and_, bindparam, exists, select

from ..accounts.models import users
from ..accounts.store import load_account
from ..accounts.tokens import ACTOR, CALLER_ROW_IS_CURRENT, OWNER, TOKEN_IS_CURRENT, Caller
from ..database import first_value, rows_in_turn, statement_rows
from ..extensions import db
from ..lists.models import lists
from ..lists.store import ListNotFound, not_found
from ..tasks.models import tasks
from ..tasks.rows import TaskNotFound
from .models import list_members, memberships

MEMBER_ROLE = "member"  # a Caller's role in a space where lists are shared with it
# Why a caller is refused another user's URL space where nothing of it is shared with them.
FOREIGN_SPACE = "The token does not belong to this user."
# A Caller's role reading one list's tasks, whose sharing that read asks (`member_reading`).
READER_ROLE = "reader"

LIST_ID, MEMBER = "the_list", "member"
OWNER_ID = bindparam(OWNER, type_=Uuid)
THE_LIST = bindparam(LIST_ID, type_=Uuid)
MEMBER_ID = bindparam(MEMBER, type_=Uuid)


class MemberNotFound(Exception):
    def __init__(self):
        super().__init__("Member not found")


class OwnListInvitation(Exception):
    def __init__(self):
        super().__init__("This invitation is to a list of your own.")


# The owner's list, live and locked, while the owner's token is current.
LOCK_OWN_LIST = (
    select(lists.c.id, lists.c.name)
    .where(lists.c.user_id == OWNER_ID, lists.c.id == THE_LIST, lists.c.deleted_at.is_(None))
    .where(TOKEN_IS_CURRENT)
    .with_for_update(key_share=True)
)
OWN_LIST = (
    select(lists.c.id)
    .where(lists.c.user_id == OWNER_ID, lists.c.id == THE_LIST, lists.c.deleted_at.is_(None))
    .where(TOKEN_IS_CURRENT)
)
# The owner's list, locked, for a change a member makes (the member's token is checked on
# the member's own row): live or in the trash; None once purged.
LOCK_LIST_OF_OWNER = (
    select(lists.c.id, lists.c.deleted_at)
    .where(lists.c.user_id == OWNER_ID, lists.c.id == THE_LIST)
    .with_for_update(key_share=True)
)
# A member's role, read on the owner's side (where the owner's changes are made first).
ROLE_OF_MEMBER = select(list_members.c.role).where(
    list_members.c.user_id == OWNER_ID,
    list_members.c.list_id == THE_LIST,
    list_members.c.member_id == MEMBER_ID,
)
# Where a member's page of a list's tasks reads the list's version (tasks/listing.py): the
# owner's users row, while the list the page names (its `list_id` filter's own parameter) is
# live and shared with the member, on the owner's side (lists, list_members: the owner's
# shard, the page's statement); the member's token is asked on their own row
# (`member_reading`). A null version: not theirs to read.
PAGE_LIST = bindparam("list_id", type_=Uuid)
SHARED_WITH_ACTOR = and_(
    users.c.id == OWNER_ID,
    exists().where(
        list_members.c.user_id == OWNER_ID,
        list_members.c.list_id == PAGE_LIST,
        list_members.c.member_id == bindparam(ACTOR, type_=Uuid),
    ),
    exists().where(
        lists.c.user_id == OWNER_ID, lists.c.id == PAGE_LIST, lists.c.deleted_at.is_(None)
    ),
)


def page_readable(member: bool):
    """The condition on the space's users row under which a page of tasks is answered: the
    caller's token current (one's own space), or the list shared with the member."""
    return SHARED_WITH_ACTOR if member else CALLER_ROW_IS_CURRENT


# What is shared with a member, read on the member's side.
MEMBERSHIPS_OF = (
    select(memberships)
    .where(memberships.c.user_id == MEMBER_ID)
    .order_by(memberships.c.owner_id, memberships.c.list_id)
)


def listed(owner_id: uuid.UUID, list_id: uuid.UUID, **more) -> dict:
    return {OWNER: owner_id, LIST_ID: list_id, **more}


def lock_own_list(caller: Caller, list_id: uuid.UUID) -> Row:
    """The caller's own live list, locked to the end of the transaction; ListNotFound (or
    TokenNotCurrent) otherwise."""
    found = db.session.execute(LOCK_OWN_LIST, {**caller.parameters, LIST_ID: list_id}).first()
    return found if found is not None else not_found(caller)


def own_list(caller: Caller, list_id: uuid.UUID) -> None:
    """ListNotFound (or TokenNotCurrent) unless the list is the caller's and live."""
    if db.session.execute(OWN_LIST, {**caller.parameters, LIST_ID: list_id}).first() is None:
        not_found(caller)


def lock_list_of(owner_id: uuid.UUID, list_id: uuid.UUID) -> Row | None:
    """Another user's list, locked for a member's change; None once it is purged."""
    return db.session.execute(LOCK_LIST_OF_OWNER, listed(owner_id, list_id)).first()


def role_of(owner_id: uuid.UUID, list_id: uuid.UUID, member_id: uuid.UUID) -> str | None:
    """The member's role in the owner's list, from the owner's side; None: not a member."""
    parameters = listed(owner_id, list_id, **{MEMBER: member_id})
    return db.session.scalar(ROLE_OF_MEMBER, parameters)


class ReadOnly(Exception):
    def __init__(self):
        super().__init__("You are a viewer of this list: you may read its tasks, not change them.")


class OwnerOnly(Exception):
    def __init__(self):
        super().__init__("Only the list's owner may do this.")


class NotSharedList(Exception):
    def __init__(self):
        super().__init__(
            "A member's tasks stay in the lists shared with them as an editor: list_id (or "
            "parent_id) must name one of those."
        )


# An owner's lists joined with their members (the owner's side: one shard).
LISTS_AND_MEMBERS = lists.join(
    list_members,
    and_(list_members.c.user_id == lists.c.user_id, list_members.c.list_id == lists.c.id),
)
# The lists of the owner's shared with a member (live), their roles and the owner's token
# generation: one statement on the owner's shard.
SHARED_HERE = (
    select(list_members.c.list_id, list_members.c.role, users.c.token_generation)
    .select_from(LISTS_AND_MEMBERS.join(users, users.c.id == list_members.c.user_id))
    .where(
        list_members.c.user_id == OWNER_ID,
        users.c.id == OWNER_ID,
        lists.c.user_id == OWNER_ID,
        lists.c.deleted_at.is_(None),
        list_members.c.member_id == bindparam(ACTOR, type_=Uuid),
    )
)
# Whether the caller's token stands, on the caller's own users row (compiled, no session).
TOKEN_STANDS = select(users.c.id).where(CALLER_ROW_IS_CURRENT)
TASK_LIST = select(tasks.c.list_id).where(
    tasks.c.user_id == OWNER_ID, tasks.c.id == bindparam("task_id", type_=Uuid)
)


def token_stands(caller: Caller) -> None:
    """TokenNotCurrent unless the caller's token stands, asked of its own users row alone
    (compiled once, run outside the ORM session: database.first_value)."""
    if first_value(TOKEN_STANDS, caller.token_parameters) is None:
        load_account(caller)  # raises, saying why


def member_caller(caller: Caller, owner_id: uuid.UUID) -> Caller | None:
    """The caller acting in `owner_id`'s space as a member of the lists shared with them
    there; None if none is. The caller's token is checked on its own users row first
    (TokenNotCurrent), then the lists are read on the owner's side: two statements, each
    compiled once and run outside the ORM session (database.statement_rows), ~the cost of
    one task read each."""
    token_stands(caller)
    rows = statement_rows(SHARED_HERE, {OWNER: owner_id, ACTOR: caller.actor_id})
    if not rows:
        return None
    shared = MappingProxyType({row.list_id: row.role for row in rows})
    generation = rows[0].token_generation
    return replace(
        caller, space_id=owner_id, role=MEMBER_ROLE, shared=shared, space_generation=generation
    )


def member_reading(caller: Caller, owner_id: uuid.UUID, list_id: uuid.UUID) -> Caller:
    """The caller reading the tasks of `owner_id`'s list `list_id`, which may be shared with
    them, with nothing read yet: the page's read (tasks/reads.py) asks first whether the
    caller's token stands, on the caller's own users row, then the page, whose statement
    asks whether the list is live and shared with them (SHARED_WITH_ACTOR: ListNotFound if
    not), two statements on one connection (`checked_rows`), as the owner's is one (with
    `member_caller` first, three). The caller is a viewer of that list alone, whatever their
    role: it reads."""
    shared = MappingProxyType({list_id: "viewer"})
    return replace(caller, space_id=owner_id, role=READER_ROLE, shared=shared)


def checked_rows(caller: Caller, statement, parameters: dict) -> list[Row]:
    """The rows of one statement of the caller's (database.statement_rows); a reader's
    (`member_reading`) after a statement of its own that asks whether the token stands, on
    the reader's own users row, on the same connection: TokenNotCurrent, and none of the
    rows, if it does not."""
    if caller.role != READER_ROLE:
        return statement_rows(statement, parameters)
    stands, rows = rows_in_turn([(TOKEN_STANDS, caller.token_parameters), (statement, parameters)])
    if not stands:
        load_account(caller)  # raises, saying why
    return rows


def list_role(caller: Caller, list_id: uuid.UUID | None) -> str | None:
    """The caller's role in a list of its space: the owner's, or a member's (None: none)."""
    if caller.shared is None:
        return caller.role
    return None if list_id is None else caller.shared.get(list_id)


def writer(caller: Caller, task_id: uuid.UUID | None = None) -> Caller:
    """The caller about to write (a task, or a new one): a member writes as an editor only
    (ReadOnly where they are a viewer), and their statements then ask for it. A task outside
    the lists shared with them is not found, whatever the write (a purge's If-Match included),
    so no answer tells a member whether the owner has a task of that id."""
    if caller.shared is None:
        return caller
    if task_id is not None:
        list_id = db.session.scalar(TASK_LIST, {OWNER: caller.space_id, "task_id": task_id})
        role = list_role(caller, list_id)
        if role is None:
            raise TaskNotFound()
        if role == "viewer":
            raise ReadOnly()
    elif "editor" not in caller.shared.values():
        raise ReadOnly()
    return replace(caller, reading=False)


def keeps_to_shared(caller: Caller, fields: dict, required: bool = False) -> None:
    """A member's write keeps its task in a list shared with them as an editor: the list it
    names, or its new parent's (NotSharedList otherwise)."""
    if caller.shared is None:
        return
    if fields.get("parent_id") is not None:
        parent = {OWNER: caller.space_id, "task_id": fields["parent_id"]}
        if list_role(caller, db.session.scalar(TASK_LIST, parent)) != "editor":
            raise NotSharedList()
    names_list = "list_id" in fields or (required and fields.get("parent_id") is None)
    if names_list and list_role(caller, fields.get("list_id")) != "editor":
        raise NotSharedList()


def readable_list(caller: Caller, list_id: uuid.UUID | None) -> None:
    """ListNotFound unless a member names a list shared with them."""
    if caller.shared is not None and list_role(caller, list_id) is None:
        raise ListNotFound()


def idempotency_key(caller: Caller, key: str | None) -> str | None:
    """The key a create's answer is kept under in the space: a member's own keys apart from
    the owner's and other members' (the same key from two people is two requests)."""
    if key is None or caller.shared is None:
        return key
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return f"member:{caller.actor_id}:{digest}"
