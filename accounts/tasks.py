from celery import shared_task

from accounts.services.tokens import expired_purge


@shared_task(name="accounts.tasks.purge_expired")
def purge_expired() -> dict[str, int]:
    """Runs hourly from Celery beat; a repeat is harmless."""
    return expired_purge()
