from django.db import migrations
from django.db.models import OuterRef, Subquery

FILL_POSTGRESQL = """
UPDATE cards_card SET organization_id = member.organization_id
  FROM membership_member AS member WHERE member.id = cards_card.member_id;
UPDATE cards_card SET plastic_issued_at = issued.issued_at
  FROM (SELECT card_id, MAX(issued_at) AS issued_at FROM cards_cardrequest
        WHERE status = 'issued' AND card_id IS NOT NULL GROUP BY card_id) AS issued
  WHERE issued.card_id = cards_card.id;
"""


def holders_organizations_fill(apps, schema_editor):
    """Cards issued before the fields existed: the holder's organisation now, the day their plastic was handed out.

    One joined UPDATE on PostgreSQL (millions of cards); the portable correlated form elsewhere.
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILL_POSTGRESQL)
        return
    Card = apps.get_model("cards", "Card")
    CardRequest = apps.get_model("cards", "CardRequest")
    Member = apps.get_model("membership", "Member")
    Card.objects.update(
        organization_id=Subquery(Member.objects.filter(pk=OuterRef("member_id")).values("organization_id")[:1])
    )
    issued = CardRequest.objects.filter(card_id=OuterRef("pk"), status="issued").order_by("-issued_at")
    Card.objects.filter(requests__status="issued").update(plastic_issued_at=Subquery(issued.values("issued_at")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0005_card_holder_organization"),
        ("membership", "0008_member_statistics_target"),
    ]

    operations = [migrations.RunPython(holders_organizations_fill, migrations.RunPython.noop)]
