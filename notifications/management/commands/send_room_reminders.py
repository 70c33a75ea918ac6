from django.core.management.base import BaseCommand

from notifications.services import reminders_send


class Command(BaseCommand):
    help = (
        "Sends 'starting soon' reminders for scheduled rooms that start within "
        "ROOM_REMINDER_LEAD_MINUTES, once per room, and re-sends fan-outs that a broker "
        "outage kept from starting (the periodic task's work, once)."
    )

    def handle(self, *args, **options):
        result = reminders_send()
        self.stdout.write(
            f"Reminders for {result['reminded']} room(s); "
            f"{result['redispatched']} fan-out(s) sent again; "
            f"{result['connections_dropped']} dead socket(s) dropped."
        )
