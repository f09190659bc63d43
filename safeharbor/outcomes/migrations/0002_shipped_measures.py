from django.db import migrations


def create_shipped(apps, schema_editor):
    from safeharbor.outcomes.measures import SHIPPED

    measure_model = apps.get_model("outcomes", "OutcomeMeasure")
    for item in SHIPPED:
        measure_model.objects.update_or_create(
            code=item.code,
            defaults={
                "name": item.name,
                "kind": str(item.kind),
                "description": item.description,
                "how_to_collect": item.how_to_collect,
                "scale_min": item.scale[0] if item.scale else None,
                "scale_max": item.scale[1] if item.scale else None,
                "stages": item.stages,
                "higher_is_better": item.higher_is_better,
                "shipped": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]
    operations = [migrations.RunPython(create_shipped, migrations.RunPython.noop)]
