import safeharbor.core.fields
from django.db import migrations

COLUMN = "youth_consenttoshare.signed_form_name"


def encrypt_existing_names(apps, schema_editor):
    """Values written before this migration are plaintext: encrypt them in place."""
    from safeharbor.core.crypto import keyring

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, signed_form_name FROM youth_consenttoshare WHERE signed_form_name <> ''"
        )
        rows = [(pk, name) for pk, name in cursor.fetchall() if not name.startswith("v1.")]
        for pk, name in rows:
            token = keyring().encrypt(name.encode("utf-8"), COLUMN.encode())
            cursor.execute(
                "UPDATE youth_consenttoshare SET signed_form_name = %s WHERE id = %s", [token, pk]
            )


class Migration(migrations.Migration):
    dependencies = [("youth", "0001_records_care_team_consent_notes")]

    operations = [
        migrations.AlterField(
            model_name="consenttoshare",
            name="signed_form_name",
            field=safeharbor.core.fields.EncryptedCharField(blank=True, max_length=200),
        ),
        migrations.RunPython(encrypt_existing_names, migrations.RunPython.noop),
    ]
