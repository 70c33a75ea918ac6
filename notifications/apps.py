from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        # The services enqueue the tasks by name: they must be registered in every process
        # that may enqueue them, not only in the worker that autodiscovers them.
        from notifications import tasks  # noqa: F401, PLC0415
