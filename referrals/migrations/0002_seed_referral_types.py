"""Add the referral types seen in real programs (referrals/defaults.py)."""

from django.db import migrations

from referrals.defaults import default_types_ensure


def seed(apps, schema_editor):
    default_types_ensure(apps.get_model("referrals", "ReferralType"))


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
