"""Capabilities of the stock ledger, declared on inventory.Location (see org/roles.py)."""

from org.roles import MANAGER

CAPABILITIES = [
    ("manage_stock", "Can receive, transfer, adjust and count stock"),
]
GRANTS = {MANAGER: ["manage_stock"]}
