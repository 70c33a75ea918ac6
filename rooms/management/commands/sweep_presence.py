from django.core.management.base import BaseCommand

from rooms.services.presence import sweep_presence


class Command(BaseCommand):
    help = (
        "Drops room members whose connection died without a goodbye and ends rooms left "
        "without a moderator past the grace period (the periodic task's work, once)."
    )

    def handle(self, *args, **options):
        result = sweep_presence()
        self.stdout.write(
            f"Swept {result['rooms_swept']} room(s); ended {result['rooms_ended']} room(s)."
        )
