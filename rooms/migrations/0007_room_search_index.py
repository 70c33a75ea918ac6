from django.db import migrations

from core.db import PostgresOnlySQL

# The expression rooms.search matches rooms with (ROOM_VECTOR), so that Postgres uses the
# index; tests/rooms/test_search.py checks that it does.
INDEX = """
CREATE INDEX IF NOT EXISTS rooms_room_search ON rooms_room USING gin ((
    setweight(to_tsvector('simple'::regconfig, COALESCE(title, '')), 'A')
    || setweight(to_tsvector('simple'::regconfig, COALESCE(description, '')), 'B')
))
"""


class Migration(migrations.Migration):
    dependencies = [("rooms", "0006_topics_and_language")]

    operations = [PostgresOnlySQL(INDEX, "DROP INDEX IF EXISTS rooms_room_search")]
