"""Every task answer goes through one encoder (todo/serializer.py); it must give, byte for byte,
what marshmallow's own dump of the same schema gives, for every kind of value a task holds."""

import itertools
import json
import uuid
from collections import namedtuple
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from marshmallow import Schema, fields
from sqlalchemy import bindparam, create_engine, null, select, text

from todo.columns import UTCDateTime, answer_time
from todo.database import first_value
from todo.json_provider import OrjsonProvider
from todo.serializer import EncodedSchema, RowEncoder
from todo.sync.schemas import DeletedTaskSchema
from todo.sync.store import Deleted
from todo.tasks.models import BY_OWNER
from todo.tasks.schemas import TaskSchema
from todo.timestamps import utc_text

Row = namedtuple(
    "Row",
    "id user_id title description completed created_at updated_at version deleted_at "
    "priority completed_at due_date due_time due_timezone due_at reminders "
    "recurrence_rule recurrence_from recurrence_completed_count recurrence_last_completed_at "
    "position list_id parent_id subtasks_total subtasks_completed labels "
    "created_by updated_by completed_by assignee_id",
)
REMINDERS = [
    [],
    [{"before": "PT15M", "at": None, "remind_at": "2026-12-24T17:15:00.000000Z"}],
    [
        {"before": "P1D", "at": None, "remind_at": None},
        {
            "before": None,
            "at": "2026-12-24T08:00:00.000000Z",
            "remind_at": "2026-12-24T08:00:00.000000Z",
        },
    ],
]
RECURRENCES = [
    (None, None, 0, None),
    ("FREQ=WEEKLY;BYDAY=MO,TH", "due", 0, None),
    ("FREQ=DAILY;INTERVAL=3", "completion", 12, datetime(2026, 12, 1, 7, 3, 0, 5, tzinfo=UTC)),
]
LABELS = [[], ["home"], ["Straße", "emoji 🏠", 'quote " and \\ backslash', "x" * 64]]
# No due date, and each of the three forms (all-day, floating, zoned; seconds or not).
DUES = [
    (None, None, None, None),
    (date(2026, 12, 24), None, None, None),
    (date(1900, 1, 1), time(18, 30), None, None),
    (date(2999, 12, 31), time(23, 59, 59), "Pacific/Kiritimati", None),
    (date(2026, 3, 8), time(2, 30), "America/New_York", None),
]
TITLES = ["Buy milk", "Äpfel & Birnen", "emoji 🥛 and \u2028 line separator", "x" * 500, '"quoted"']
DESCRIPTIONS = [None, "", "Milk, eggs, bread", "tab\tand\nnewline", "\\ backslash"]
INSTANTS = [
    datetime(2026, 12, 1, 7, 3, 0, tzinfo=UTC),  # no microseconds: still printed
    datetime(2026, 12, 1, 7, 3, 0, 123456, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2030, 3, 30, 1, 0, 0, 1, tzinfo=timezone(timedelta(hours=-8))),
]


def rows():
    combinations = itertools.product(
        TITLES, DESCRIPTIONS, [False, True], INSTANTS, [None, INSTANTS[1]], range(len(DUES))
    )
    for title, description, completed, instant, deleted_at, which in combinations:
        day, wall, zone_name, _ = DUES[which]
        yield Row(
            str(uuid.uuid4()),
            str(uuid.uuid4()),
            title,
            description,
            completed,
            instant,
            instant + timedelta(microseconds=7),
            3,
            deleted_at,
            which % 4,
            instant if completed else None,
            day,
            wall,
            zone_name,
            None if zone_name is None else INSTANTS[which % len(INSTANTS)],
            REMINDERS[which % len(REMINDERS)],
            *RECURRENCES[(which + completed) % len(RECURRENCES)],
            ["a0", "Zz", "a0V" + "x" * 29][which % 3],
            [None, str(uuid.uuid4())][completed],
            [None, str(uuid.uuid4())][which % 2],
            which,
            which // 2,
            LABELS[(which + completed) % len(LABELS)],
            *who(which, completed),
        )


def who(which: int, completed: bool) -> tuple:
    """created_by, updated_by, completed_by and assignee_id: another user's id, or for the
    first two null (the owner's, as answer reads give it: tasks.models.answered_who)."""
    other = str(uuid.uuid4())
    return (
        [None, other][which % 2],
        [other, None][which % 2],
        str(uuid.uuid4()) if completed else None,
        [None, other][which % 2],
    )


@pytest.fixture
def encode_json(app):
    provider = OrjsonProvider(app)
    return provider.dumps


def test_a_document_with_keys_other_than_text_is_encoded_with_them_sorted(encode_json):
    """The provider tries orjson without OPT_NON_STR_KEYS first (json_provider.encoded)."""
    assert encode_json({2: "b", 1: {"é": None}, 3.5: True}) == '{"1":{"é":null},"2":"b","3.5":true}'
    assert encode_json({"b": 1, "a": [{"d": 2, "c": 3}]}) == '{"a":[{"c":3,"d":2}],"b":1}'


def test_a_task_encodes_as_marshmallow_dumps_it(encode_json):
    schema = TaskSchema()
    for row in rows():
        assert encode_json(schema.dump(row)) == encode_json(Schema.dump(schema, row))


def test_who_created_or_wrote_read_as_null_is_answered_as_the_owners_id():
    schema = TaskSchema()
    for row in rows():
        answer = schema.dump(row)
        for name in BY_OWNER:
            assert answer[name] == (getattr(row, name) or row.user_id)
        assert answer["completed_by"] == row.completed_by


def test_lists_read_as_their_json_text_encode_as_the_lists_do(encode_json):
    """The answer reads take a task's reminders and labels as the JSON text the database
    prints (columns.JSONText); the encoder parses it."""
    schema = TaskSchema()
    for row in rows():
        as_text = row._replace(
            reminders=json.dumps(row.reminders), labels=json.dumps(row.labels, ensure_ascii=False)
        )
        assert isinstance(as_text.labels, str)
        assert encode_json(schema.dump(as_text)) == encode_json(schema.dump(row))
        assert encode_json(Schema.dump(schema, as_text)) == encode_json(schema.dump(row))


def test_a_page_encodes_as_marshmallow_dumps_it(encode_json):
    page, schema = list(rows()), TaskSchema(many=True)
    assert encode_json(schema.dump(page)) == encode_json(Schema.dump(schema, page))
    assert schema.dump([]) == []


def test_a_deleted_task_of_the_feed_encodes_as_marshmallow_dumps_it(encode_json):
    schema = DeletedTaskSchema()
    for instant, purged in itertools.product(INSTANTS, [False, True]):
        row = Deleted(str(uuid.uuid4()), instant, purged)
        assert encode_json(schema.dump(row)) == encode_json(Schema.dump(schema, row))


def test_rows_of_results_with_other_column_orders_are_each_read_by_their_own_columns():
    """A page may mix rows of several statements (the feed's): each result's columns are
    looked up once, and a row is never read by another result's positions."""

    class Pair(EncodedSchema):
        name = fields.String()
        count = fields.Integer()

    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        first = connection.execute(text("SELECT 'a' AS name, 1 AS count UNION ALL SELECT 'b', 2"))
        second = connection.execute(text("SELECT 3 AS count, 'c' AS name"))
        mixed = [*first.all(), *second.all(), namedtuple("Other", "count name")(4, "d")]
    assert Pair(many=True).dump(mixed) == [
        {"name": "a", "count": 1},
        {"name": "b", "count": 2},
        {"name": "c", "count": 3},
        {"name": "d", "count": 4},
    ]


def test_a_schema_with_a_field_the_encoder_cannot_reproduce_is_refused():
    class Odd(Schema):
        amount = fields.Decimal()

    with pytest.raises(TypeError, match="no fast dump"):
        RowEncoder(Odd())


@pytest.mark.parametrize("instant", [*INSTANTS, datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC)])
def test_a_timestamp_the_database_prints_is_what_utc_text_prints(app, instant):
    """Reads take their answered timestamps as text made by the database (answer_time);
    writes print theirs with utc_text: the two agree on every database."""
    with app.app_context():
        stored = bindparam("stored", type_=UTCDateTime)
        assert first_value(select(answer_time(stored)), {"stored": instant}) == utc_text(instant)
        assert first_value(select(answer_time(null())), {}) is None


def test_a_task_read_back_is_byte_for_byte_the_answer_its_write_gave(client, user, stored_tasks):
    """A write's answer (timestamps printed in Python) and the same task read by a get, a
    list page and the feed (printed by the database) are the same bytes; so is the trash's
    deleted_at, against the stored value."""
    url = f"/api/{user['user_id']}/tasks"
    created = client.post(url, json={"title": "Read me back"}, headers=user["headers"]).json
    completed = client.patch(
        f"{url}/{created['id']}", json={"completed": True}, headers=user["headers"]
    )
    got = client.get(f"{url}/{created['id']}", headers=user["headers"])
    assert completed.json["completed_at"] is not None
    assert got.data == completed.data
    listed = client.get(url, headers=user["headers"]).json
    fed = client.get(f"/api/{user['user_id']}/changes", headers=user["headers"]).json
    assert listed == [completed.json] and fed["tasks"] == [completed.json]
    assert client.delete(f"{url}/{created['id']}", headers=user["headers"]).status_code == 204
    trashed = client.get(url, query_string={"deleted": "true"}, headers=user["headers"]).json
    assert trashed[0]["deleted_at"] == utc_text(stored_tasks()[0].deleted_at)
