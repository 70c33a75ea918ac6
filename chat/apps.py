from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self):
        # The room socket hands `chat.*` frames to the chat, on the chat's own rate budget.
        from chat.handlers import handle  # noqa: PLC0415
        from rooms.consumers import FRAME_HOOKS, HOOK_BUDGETS  # noqa: PLC0415
        from rooms.limits import FloodGuard  # noqa: PLC0415

        FRAME_HOOKS["chat."] = handle
        HOOK_BUDGETS["chat."] = FloodGuard.CHAT
