"""Plastic-card requests keep their member's organisation, as cards do (0005): the queue of a region is then read by
index. Existing requests take their member's organisation of now; the column becomes required once it is filled."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

FILL_POSTGRESQL = """
UPDATE cards_cardrequest SET organization_id = member.organization_id
  FROM membership_member AS member WHERE member.id = cards_cardrequest.member_id;
"""


def requests_organizations_fill(apps, schema_editor):
    """One joined UPDATE on PostgreSQL (hundreds of thousands of requests); the portable correlated form elsewhere."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILL_POSTGRESQL)
        return
    CardRequest = apps.get_model("cards", "CardRequest")
    Member = apps.get_model("membership", "Member")
    CardRequest.objects.update(
        organization_id=Subquery(Member.objects.filter(pk=OuterRef("member_id")).values("organization_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0008_card_settlement"),
        ("membership", "0008_member_statistics_target"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="cardrequest",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.organization",
                verbose_name="организация члена Профсоюза",
            ),
        ),
        migrations.RunPython(requests_organizations_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="cardrequest",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.organization",
                verbose_name="организация члена Профсоюза",
            ),
        ),
        migrations.AddIndex(
            model_name="cardrequest",
            index=models.Index(fields=["organization", "status"], name="card_request_org_status"),
        ),
    ]
