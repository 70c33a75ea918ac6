from django.db import migrations

from core.db import PostgresOnlySQL

# The expression rooms.search matches clubs with (CLUB_VECTOR), so that Postgres uses the
# index; tests/rooms/test_search.py checks that it does.
INDEX = """
CREATE INDEX IF NOT EXISTS follows_club_search ON follows_club USING gin ((
    setweight(to_tsvector('simple'::regconfig, COALESCE(name, '')), 'A')
    || setweight(to_tsvector('simple'::regconfig, COALESCE(description, '')), 'B')
))
"""


class Migration(migrations.Migration):
    dependencies = [("follows", "0003_clubinvite")]

    operations = [PostgresOnlySQL(INDEX, "DROP INDEX IF EXISTS follows_club_search")]
