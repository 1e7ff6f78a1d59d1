"""Seed the referral types seen in real programs (../shared/DOMAIN.md, Referrals).

Coordinators manage the list afterwards (rename, deactivate, add); the codes are
what funder reports key on, so this migration only adds codes that are missing.
"""

from django.db import migrations

# code, name, group — in the order staff see them.
TYPES = [
    ("moud-buprenorphine", "MOUD: buprenorphine", "treatment"),
    ("moud-methadone", "MOUD: methadone", "treatment"),
    ("moud-naltrexone", "MOUD: naltrexone", "treatment"),
    ("withdrawal-management", "Withdrawal management (detox)", "treatment"),
    ("residential-treatment", "Residential treatment", "treatment"),
    ("outpatient-treatment", "Outpatient treatment", "treatment"),
    ("hcv-treatment", "Hepatitis C treatment", "treatment"),
    ("hiv-testing", "HIV testing", "testing"),
    ("hcv-testing", "Hepatitis C testing", "testing"),
    ("prep", "PrEP", "care"),
    ("hiv-care", "HIV care", "care"),
    ("hepatitis-vaccination", "Hepatitis A/B vaccination", "care"),
    ("wound-care", "Wound care", "care"),
    ("primary-care", "Primary care", "care"),
    ("mental-health", "Mental health", "care"),
    ("sexual-reproductive-health", "Sexual and reproductive health", "care"),
    ("housing", "Housing", "social"),
    ("food", "Food", "social"),
    ("id-benefits", "ID and benefits", "social"),
    ("legal-aid", "Legal aid", "social"),
]


def seed(apps, schema_editor):
    ReferralType = apps.get_model("referrals", "ReferralType")
    for order, (code, name, group) in enumerate(TYPES, start=1):
        ReferralType.objects.get_or_create(
            code=code, defaults={"name": name, "group": group, "sort_order": order * 10}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
