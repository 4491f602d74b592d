"""Handing a background job to the Celery queue from a request, when the queue (Redis) may be down.

A view calls task_send() once its service has committed. If the broker cannot take the message, the caller gets
TaskQueueUnavailable at once, with a sentence for the user, and applies its job's policy (README, «Сбои»): undo
what was prepared, or leave it for a beat task to send again once Redis is back. The message is sent without a
result subscription: nobody in a web process waits for a result, and a subscription left open while Redis is
down would make the process wait for it on its way out.
"""

import logging

from celery import Task
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError as BrokerUnreachable

from registry.cache import REDIS_UNREACHABLE

logger = logging.getLogger(__name__)


class TaskQueueUnavailable(Exception):
    """The broker did not take the message: the job was not queued."""

    message = _("Очередь фоновых задач сейчас недоступна.")


def task_send(task: Task, *args) -> None:
    """Queue `task` with `args` (run it inline when Celery is eager); TaskQueueUnavailable if the broker is down."""
    try:
        task.apply_async(args=args, ignore_result=True)
    except (BrokerUnreachable, *REDIS_UNREACHABLE) as error:
        logger.warning("task %s not queued, the broker is unreachable: %s", task.name, error)
        raise TaskQueueUnavailable from error
