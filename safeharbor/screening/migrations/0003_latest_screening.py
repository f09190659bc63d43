import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Max


def fill(apps, schema_editor):
    """Each youth's latest completion per instrument URL, from the screenings already there."""
    db = schema_editor.connection.alias
    screening = apps.get_model("screening", "Screening")
    latest = apps.get_model("screening", "LatestScreening")
    rows = (
        screening.objects.using(db)
        .filter(status="completed")
        .order_by()
        .values("youth_id", "youth__owning_agency_id", "instrument__url")
        .annotate(last=Max("completed_at"))
    )
    latest.objects.using(db).bulk_create(
        [
            latest(
                youth_id=row["youth_id"],
                agency_id=row["youth__owning_agency_id"],
                instrument_url=row["instrument__url"],
                completed_at=row["last"],
            )
            for row in rows
        ],
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_users_agencies_memberships"),
        ("screening", "0002_screening_covering_indexes"),
        ("youth", "0002_encrypt_signed_form_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="LatestScreening",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("instrument_url", models.CharField(max_length=255, verbose_name="instrument")),
                ("completed_at", models.DateTimeField(verbose_name="last completed")),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.agency",
                    ),
                ),
                (
                    "youth",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="youth.youth",
                    ),
                ),
            ],
            options={
                "verbose_name": "latest screening",
                "verbose_name_plural": "latest screenings",
                "indexes": [
                    models.Index(
                        fields=["agency", "instrument_url", "completed_at", "youth"],
                        name="latest_screening_due_idx",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("youth", "instrument_url"), name="latest_screening_once_per_youth"
                    )
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
