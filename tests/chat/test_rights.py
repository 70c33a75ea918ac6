"""The table of who may do what in a room's chat: role by chat mode by action, one test per cell."""

import pytest

from chat import services
from chat.models import ChatMute, Message
from core.errors import ApplicationError
from rooms.models import Room, RoomMember
from tests.factories import UserFactory
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Role = RoomMember.Role
MODES = Room.ChatMode.values

ACTIONS = {
    "send": lambda c, a: services.message_send(actor=a, room_id=c.room.pk, text="Hello"),
    "delete": lambda c, a: services.message_delete(
        actor=a, room_id=c.room.pk, message_id=c.others_message.pk
    ),
    "mute": lambda c, a: services.chat_mute_set(
        actor=a, room_id=c.room.pk, user_id=c.target.pk, muted=True
    ),
    "unmute": lambda c, a: services.chat_mute_set(
        actor=a, room_id=c.room.pk, user_id=c.muted.pk, muted=False
    ),
    "settings": lambda c, a: services.chat_settings_set(
        actor=a, room_id=c.room.pk, mode=c.other_mode, slow_seconds=7
    ),
}

# Who may, per chat mode: H host, M moderator, S speaker, L listener, X listener muted in chat.
ALLOWED = {
    "send": {"on": "HMSL", "stage": "HMS", "off": ""},
    "delete": {"on": "HM", "stage": "HM", "off": "HM"},
    "mute": {"on": "HM", "stage": "HM", "off": "HM"},
    "unmute": {"on": "HM", "stage": "HM", "off": "HM"},
    "settings": {"on": "HM", "stage": "HM", "off": "HM"},
}

# What the allowed action leaves behind, to prove it happened.
EFFECTS = {
    "send": lambda c, a: Message.objects.filter(room=c.room, author=a, text="Hello").exists(),
    "delete": lambda c, a: Message.objects.get(pk=c.others_message.pk).deleted_by == a,
    "mute": lambda c, a: ChatMute.objects.filter(room=c.room, user=c.target).exists(),
    "unmute": lambda c, a: not ChatMute.objects.filter(room=c.room, user=c.muted).exists(),
    "settings": lambda c, a: Room.objects.filter(
        pk=c.room.pk, chat_mode=c.other_mode, chat_slow_seconds=7
    ).exists(),
}


class Chat:
    def __init__(self, mode: str):
        self.host = UserFactory(username="the_host")
        self.room = Room.objects.create(
            host=self.host,
            title="Rights",
            status=Room.Status.LIVE,
            started_at="2026-01-01T00:00Z",
            speaker_cap=10,
            chat_mode=mode,
        )
        self.other_mode = next(other for other in MODES if other != mode)
        self.moderator, self.speaker, self.listener = UserFactory(), UserFactory(), UserFactory()
        self.target, self.muted = UserFactory(), UserFactory()
        member(self.room, self.host, Role.MODERATOR)
        member(self.room, self.moderator, Role.MODERATOR)
        member(self.room, self.speaker, Role.SPEAKER)
        member(self.room, self.listener)
        member(self.room, self.target)
        member(self.room, self.muted)
        ChatMute.objects.create(room=self.room, user=self.muted, muted_by=self.host)
        self.others_message = Message.objects.create(room=self.room, author=self.target, text="Hi")

    def actor(self, letter):
        return {
            "H": self.host,
            "M": self.moderator,
            "S": self.speaker,
            "L": self.listener,
            "X": self.muted,
        }[letter]

    def state(self):
        room = Room.objects.get(pk=self.room.pk)
        return (
            sorted(Message.objects.filter(room=self.room).values_list("pk", "deleted_at")),
            sorted(ChatMute.objects.filter(room=self.room).values_list("user_id", flat=True)),
            (room.chat_mode, room.chat_slow_seconds, room.seq),
        )


CELLS = [(action, mode, role) for action in ACTIONS for mode in MODES for role in "HMSLX"]


@pytest.mark.parametrize(
    ("action", "mode", "role"), CELLS, ids=[f"{a}-{m}-{r}" for a, m, r in CELLS]
)
def test_chat_rights(action, mode, role):
    chat = Chat(mode)
    actor = chat.actor(role)
    if role in ALLOWED[action][mode]:
        ACTIONS[action](chat, actor)
        assert EFFECTS[action](chat, actor)
    else:
        before = chat.state()
        with pytest.raises(ApplicationError) as raised:
            ACTIONS[action](chat, actor)
        assert raised.value.status == 403
        assert chat.state() == before
