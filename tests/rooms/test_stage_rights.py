"""The table of who may do what on the stage: actor role by action, one test per cell."""

import pytest

from core.errors import ApplicationError
from rooms.models import Room, RoomMember
from rooms.services import lifecycle, recording, stage
from tests.factories import UserFactory
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Role = RoomMember.Role

ACTIONS = {
    "hand.raise": lambda s, a: stage.hand_raise(actor=a, room_id=s.room.pk),
    "speaker.invite": lambda s, a: stage.speaker_invite(
        actor=a, room_id=s.room.pk, user_id=s.target_listener.pk
    ),
    "speaker.accept": lambda s, a: stage.speaker_accept(actor=a, room_id=s.room.pk),
    "speaker.leave": lambda s, a: stage.speaker_leave(actor=a, room_id=s.room.pk),
    "speaker.remove": lambda s, a: stage.speaker_remove(
        actor=a, room_id=s.room.pk, user_id=s.target_speaker.pk
    ),
    "mute.set": lambda s, a: stage.mute_set(actor=a, room_id=s.room.pk, muted=False),
    "mute.force": lambda s, a: stage.mute_force(
        actor=a, room_id=s.room.pk, user_id=s.target_speaker.pk
    ),
    "moderator.grant": lambda s, a: stage.moderator_grant(
        actor=a, room_id=s.room.pk, user_id=s.target_speaker.pk
    ),
    "moderator.revoke": lambda s, a: stage.moderator_revoke(
        actor=a, room_id=s.room.pk, user_id=s.target_moderator.pk
    ),
    "member.remove": lambda s, a: stage.member_remove(
        actor=a, room_id=s.room.pk, user_id=s.target_listener.pk
    ),
    "room.end": lambda s, a: lifecycle.room_end(actor=a, room_id=s.room.pk),
    "recording.set": lambda s, a: recording.recording_set(actor=a, room_id=s.room.pk, on=True),
    "reaction": lambda s, a: stage.reaction_send(actor=a, room_id=s.room.pk, emoji="👏"),
}

# Who may: H host, M moderator, S speaker, L listener (uninvited).
ALLOWED = {
    "hand.raise": "L",
    "speaker.invite": "HM",
    "speaker.accept": "",
    "speaker.leave": "MS",
    "speaker.remove": "HM",
    "mute.set": "HMS",
    "mute.force": "HM",
    "moderator.grant": "HM",
    "moderator.revoke": "HM",
    "member.remove": "HM",
    "room.end": "HM",
    "recording.set": "HM",
    "reaction": "HMSL",
}

# What the allowed action leaves behind, to prove it happened.
EFFECTS = {
    "hand.raise": lambda s, a: RoomMember.objects.get(room=s.room, user=a).hand_raised,
    "speaker.invite": lambda s, a: s.member_of(s.target_listener).invited_to_speak_at is not None,
    "speaker.leave": lambda s, a: RoomMember.objects.get(room=s.room, user=a).role == Role.LISTENER,
    "speaker.remove": lambda s, a: s.member_of(s.target_speaker).role == Role.LISTENER,
    "mute.set": lambda s, a: RoomMember.objects.get(room=s.room, user=a).muted is False,
    "mute.force": lambda s, a: s.member_of(s.target_speaker).muted,
    "moderator.grant": lambda s, a: s.member_of(s.target_speaker).role == Role.MODERATOR,
    "moderator.revoke": lambda s, a: s.member_of(s.target_moderator).role == Role.SPEAKER,
    "member.remove": lambda s, a: (
        not RoomMember.objects.filter(room=s.room, user=s.target_listener).exists()
    ),
    "room.end": lambda s, a: Room.objects.get(pk=s.room.pk).status == Room.Status.ENDED,
    "recording.set": lambda s, a: Room.objects.get(pk=s.room.pk).recording,
    "reaction": lambda s, a: True,
}


class Stage:
    def __init__(self):
        self.host = UserFactory(username="the_host")
        self.room = lifecycle.room_create(host=self.host, title="Rights")
        self.moderator, self.speaker, self.listener = UserFactory(), UserFactory(), UserFactory()
        self.target_listener, self.target_speaker, self.target_moderator = (
            UserFactory(),
            UserFactory(),
            UserFactory(),
        )
        member(self.room, self.host, Role.MODERATOR)
        member(self.room, self.moderator, Role.MODERATOR)
        member(self.room, self.speaker, Role.SPEAKER, muted=True)
        member(self.room, self.listener)
        member(self.room, self.target_listener)
        member(self.room, self.target_speaker, Role.SPEAKER, muted=False)
        member(self.room, self.target_moderator, Role.MODERATOR)

    def actor(self, letter):
        return {"H": self.host, "M": self.moderator, "S": self.speaker, "L": self.listener}[letter]

    def member_of(self, user) -> RoomMember:
        return RoomMember.objects.get(room=self.room, user=user)


CELLS = [(action, role) for action in ACTIONS for role in "HMSL"]


@pytest.mark.parametrize(("action", "role"), CELLS, ids=[f"{a}-{r}" for a, r in CELLS])
def test_stage_rights(action, role, settings):
    settings.ROOM_SPEAKER_CAP = 20
    # Configured for recording.set; nothing here waits on it to answer.
    settings.JANUS_URL = "unix:/nonexistent/janus.sock"
    settings.JANUS_API_SECRET = settings.JANUS_ADMIN_KEY = "x" * 32
    s = Stage()
    s.room.speaker_cap = 20
    s.room.save()
    actor = s.actor(role)
    if role in ALLOWED[action]:
        ACTIONS[action](s, actor)
        assert EFFECTS[action](s, actor)
    else:
        before = sorted(
            RoomMember.objects.filter(room=s.room).values_list(
                "user_id", "role", "muted", "hand_raised_at", "invited_to_speak_at"
            )
        )
        with pytest.raises(ApplicationError) as raised:
            ACTIONS[action](s, actor)
        assert raised.value.status in (403, 422)
        after = sorted(
            RoomMember.objects.filter(room=s.room).values_list(
                "user_id", "role", "muted", "hand_raised_at", "invited_to_speak_at"
            )
        )
        assert after == before
        assert Room.objects.get(pk=s.room.pk).status == Room.Status.LIVE
