from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        # Rooms and follows announce their news; notifications subscribe (they are not
        # imported by them). The services enqueue the tasks by name, so the tasks must be
        # registered in every process that may enqueue them, not only in the worker.
        from notifications import receivers, tasks  # noqa: F401, PLC0415
