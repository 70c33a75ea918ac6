"""A person looks the same in API answers and in socket frames: the serializer, the frames'
dict and the protocol's declaration agree, field for field and value for value."""

import msgspec
import pytest

from accounts.serializers import UserSummarySerializer, user_summary
from realtime.protocol import UserSummary
from tests.factories import UserFactory
from tests.support.helpers import image_upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [{"display_name": "Ada Lovelace"}, {"display_name": ""}],
    ids=["named", "no-display-name"],
)
def test_the_api_and_the_socket_show_a_person_alike(fields, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    person = UserFactory(**fields)
    person.avatar = image_upload()
    person.save()
    api = dict(UserSummarySerializer(person).data)
    socket = user_summary(person)
    assert api == socket
    assert socket["display_name"] == (fields["display_name"] or person.username)
    assert socket["avatar_url"].endswith(".png")
    # The protocol's declaration takes exactly that shape.
    assert msgspec.to_builtins(msgspec.convert(socket, UserSummary)) == socket
    assert set(UserSummary.__struct_fields__) == set(UserSummarySerializer().fields)


def test_ones_own_display_name_stays_as_set(authed_client, user):
    user.display_name = ""
    user.save()
    assert authed_client.get("/api/me/").json()["display_name"] == ""
