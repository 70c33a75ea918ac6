from django.db import migrations

from core.db import PostgresOnlySQL

# The expression rooms.search matches people with (PERSON_VECTOR), so that Postgres uses the
# index; tests/rooms/test_search.py checks that it does.
INDEX = """
CREATE INDEX IF NOT EXISTS accounts_user_search ON accounts_user USING gin ((
    to_tsvector('simple'::regconfig, COALESCE(username, '') || ' ' || COALESCE(display_name, ''))
))
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_report_to_moderation")]

    operations = [PostgresOnlySQL(INDEX, "DROP INDEX IF EXISTS accounts_user_search")]
