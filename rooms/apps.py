from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Rooms"

    def ready(self):
        # Follows announces its news through signals; rooms subscribes (rooms.receivers).
        # Each feature registers the room socket frames it answers (rooms.handlers). A
        # stopping server process writes out what it holds (rooms.batching).
        from realtime.stopping import stopping  # noqa: PLC0415
        from rooms import receivers  # noqa: F401, PLC0415
        from rooms.batching import write_out  # noqa: PLC0415
        from rooms.handlers import connection, stage  # noqa: F401, PLC0415
        from rooms.media import handlers  # noqa: F401, PLC0415

        stopping.connect(write_out, dispatch_uid="rooms.batching.write_out")
