"""The referral types seen in real programs (../shared/DOMAIN.md, Referrals).

Coordinators manage the list afterwards (rename, deactivate, add); the codes are what
funder reports key on, so only codes that are missing are ever added. Used by the data
migration and by the demo (after a failed demo seed empties the database).
"""

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


def default_types_ensure(ReferralType) -> int:
    """Add the default types whose codes are missing (given the model class, so the data
    migration can pass its historical model). Returns how many were added."""
    added = 0
    for order, (code, name, group) in enumerate(TYPES, start=1):
        _, created = ReferralType.objects.get_or_create(
            code=code, defaults={"name": name, "group": group, "sort_order": order * 10}
        )
        added += created
    return added
