from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self):
        # Rooms and follows announce what moderation logs and enforces; they do not import it.
        from moderation import receivers  # noqa: F401, PLC0415
