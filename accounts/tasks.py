from celery import shared_task

from accounts.services.recovery import password_reset_send as reset_send
from accounts.services.tokens import expired_purge


@shared_task(name="accounts.tasks.purge_expired")
def purge_expired() -> dict[str, int]:
    """Runs hourly from Celery beat; a repeat is harmless."""
    return expired_purge()


@shared_task(name="accounts.tasks.password_reset_send")
def password_reset_send(*, email: str) -> int:
    """A reset mail, if an account may have one (see accounts.services.recovery)."""
    return len(reset_send(email=email))
