"""The stock ledger's verbs in the audit trail (org/audit_trail.py); stock movements
are their own record (the stock card) and are not in the trail."""

VERBS = {
    "inventory.stockcount": {"create": "recorded"},
    "inventory.stockalert": {"create": "raised", "update": "updated"},
}
