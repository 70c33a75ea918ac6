from celery import shared_task

from rooms.media.services import media_reconcile
from rooms.services.presence import sweep_presence as sweep


@shared_task(name="rooms.tasks.sweep_presence")
def sweep_presence() -> dict:
    """Runs every few seconds from Celery beat; a repeat is harmless."""
    return sweep()


@shared_task(name="rooms.tasks.reconcile_media")
def reconcile_media() -> dict:
    """Mends the media server against the database (runs at start and every 30 s)."""
    return media_reconcile()
