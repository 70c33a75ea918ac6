"""Celery tasks: each takes ids, calls one service, and may run twice harmlessly."""

from celery import shared_task

from notifications import push, services


@shared_task(name=services.FAN_OUT_PLAN_TASK)
def fan_out_plan(fan_out_id: int) -> int | None:
    return services.fan_out_plan(fan_out_id=fan_out_id)


@shared_task(name=services.FAN_OUT_CHUNK_TASK)
def fan_out_chunk(fan_out_id: int, recipient_ids: list[int], push: bool = True) -> int:
    return services.fan_out_chunk(fan_out_id=fan_out_id, recipient_ids=recipient_ids, push=push)


@shared_task(name=push.PUSH_SEND_TASK)
def push_send(kind: str, subject: str, recipient_ids: list[int]) -> dict:
    """Not retried: a push that failed is counted on its subscription, not sent again."""
    return push.push_send(kind=kind, subject=subject, recipient_ids=recipient_ids)


@shared_task(name="notifications.tasks.send_room_reminders")
def send_room_reminders() -> dict:
    """Every minute from Celery beat (`manage.py send_room_reminders` does the same)."""
    return services.reminders_send()
