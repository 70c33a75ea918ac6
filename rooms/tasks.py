from celery import shared_task

from rooms.services.presence import sweep_presence as sweep


@shared_task(name="rooms.tasks.sweep_presence")
def sweep_presence() -> dict:
    """Runs every few seconds from Celery beat; a repeat is harmless."""
    return sweep()
