"""API views for the chat: a room's history, page by page."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import UserSummarySerializer
from chat.permissions import chat_access_to_read
from chat.selectors import PAGE_SIZE, chat_muted_ids, chat_room_get, message_page
from core.api import DATABASE_ID_MAX, query_input
from core.schema import errors


class ReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = UserSummarySerializer(source="author")
    text = serializers.SerializerMethodField()
    deleted = serializers.BooleanField(source="is_deleted")

    def get_text(self, message) -> str:
        return "" if message.is_deleted else message.text[:120]


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The chat's cursor: it grows with every message.")
    user = UserSummarySerializer(source="author")
    text = serializers.CharField(help_text="As written: escape it when showing it.")
    created = serializers.DateTimeField()
    reply_to = serializers.SerializerMethodField()
    mentions = serializers.SerializerMethodField()

    @extend_schema_field(ReplySerializer(allow_null=True))
    def get_reply_to(self, message) -> dict | None:
        """None for a message that answers nothing, or one by someone the reader blocked."""
        if message.reply_to is None or message.reply_hidden:
            return None
        return ReplySerializer(message.reply_to).data

    def get_mentions(self, message) -> list[int]:
        return sorted(user.pk for user in message.mentions.all())


class RoomMessagesApi(APIView):
    """The room's chat, newest page first: pass the oldest id you hold as `before` for the
    page before it. Only for people who may be in the room."""

    class QuerySerializer(serializers.Serializer):
        before = serializers.IntegerField(
            required=False, min_value=1, max_value=DATABASE_ID_MAX, help_text="A message id."
        )

    class OutputSerializer(serializers.Serializer):
        messages = MessageSerializer(many=True, help_text="Oldest first.")
        has_more = serializers.BooleanField(help_text="Older messages remain.")
        muted = serializers.ListField(
            child=serializers.IntegerField(), help_text="People muted in this chat."
        )

    @extend_schema(
        parameters=[QuerySerializer],
        responses={200: OutputSerializer, **errors(403, 404)},
    )
    def get(self, request, room_id):
        query = self.QuerySerializer(data=query_input(request))
        query.is_valid(raise_exception=True)
        room = chat_room_get(room_id=room_id)
        chat_access_to_read(user=request.user, room=room)
        messages, has_more = message_page(
            room=room,
            viewer=request.user,
            before=query.validated_data.get("before"),
            limit=PAGE_SIZE,
        )
        body = {"messages": messages, "has_more": has_more, "muted": chat_muted_ids(room=room)}
        return Response(self.OutputSerializer(body).data)
