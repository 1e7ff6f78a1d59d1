from django.apps import AppConfig


class SspConfig(AppConfig):
    name = "ssp"
    verbose_name = "SSP intake"

    def ready(self):
        # Models are loaded only now, and inventory.services imports them.
        from inventory.services import reference_owner_register

        # A visit's stock moves with the visit (Visit.stock_reference, "visit:<uuid>"):
        # undoing it from the ledger would leave the visit showing supplies the ledger
        # says came back. Street shifts are visits too.
        reference_owner_register(prefix="visit:", owner="intake: correct or void the visit instead")
