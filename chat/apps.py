from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self):
        # The chat's frames ride on the room socket: declared in chat.protocol (added to the
        # room's protocol), answered by chat.handlers (added to the room's registry).
        from chat import handlers  # noqa: F401, PLC0415
