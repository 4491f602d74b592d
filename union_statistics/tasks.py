from celery import shared_task
from django.conf import settings
from django.utils import timezone

from union_statistics import services
from union_statistics.models import RollupBuild


@shared_task(acks_late=True)
def rollup_build(year: int, variant: str, trigger: str = RollupBuild.Trigger.ON_DEMAND, user_id: int | None = None):
    from accounts.models import User

    by = User.objects.filter(pk=user_id).first() if user_id else None
    return services.rollup_build(year=year, variant=variant, trigger=trigger, by=by).digest


@shared_task
def rollup_nightly() -> list[str]:
    """The current year from the register, and both variants of every year with an open campaign."""
    digests = []
    for year, variant in services.rollups_due_tonight(today=timezone.localdate()):
        build = services.rollup_build(year=year, variant=variant, trigger=RollupBuild.Trigger.NIGHTLY)
        digests.append(f"{year} {variant} {build.digest}")
    return digests


@shared_task
def campaign_reminders_send() -> int:
    return services.campaign_send_reminders(site_url=settings.SITE_URL)
