"""Writes of the stock ledger. Every function here is the one way to move stock.

Each write appends `StockMovement` rows and changes the cached `StockBalance` rows
in the same transaction, locking in a fixed order (see common.py). Validation happens
before any write: a refused operation writes nothing. The outermost form of each
operation is a durable transaction, so nesting one by accident fails loudly; dispense
and reverse also have a form that runs inside a caller's transaction.
"""

from .adjust import stock_adjust
from .common import (
    CountLine,
    DispenseLine,
    InsufficientStock,
    LargeQuantityNotConfirmed,
    ReceiptLine,
    StockError,
    TransferLine,
    alert_checks_coalesced,
    alert_rechecks_claim,
    reference_owned,
    reference_owner_register,
)
from .count import stock_count, stock_count_record
from .dispense import (
    stock_dispense,
    stock_dispense_in_transaction,
    stock_reverse,
    stock_reverse_in_transaction,
)
from .integrity import balances_rebuild
from .receipts import receipt_check_confirmed, stock_receive
from .transfer import stock_transfer

__all__ = [
    "CountLine",
    "DispenseLine",
    "InsufficientStock",
    "LargeQuantityNotConfirmed",
    "ReceiptLine",
    "StockError",
    "TransferLine",
    "alert_checks_coalesced",
    "alert_rechecks_claim",
    "balances_rebuild",
    "receipt_check_confirmed",
    "reference_owned",
    "reference_owner_register",
    "stock_adjust",
    "stock_count",
    "stock_count_record",
    "stock_dispense",
    "stock_dispense_in_transaction",
    "stock_receive",
    "stock_reverse",
    "stock_reverse_in_transaction",
    "stock_transfer",
]
