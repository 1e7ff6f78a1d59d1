"""The stock API (/api/v1/inventory/): catalog and ledger lists scoped to the
locations a person may see, and one endpoint per stock operation. Thin: the
services do the work and their errors become the one error body (409 when short)."""

from org import api_errors

from ..alerts import AlertAlreadyResolved, AlertError, AlertNotAllowed
from ..services import InsufficientStock, LargeQuantityNotConfirmed, StockError
from .alerts import StockAlertViewSet
from .catalog import FundingSourceViewSet, ItemViewSet, KitViewSet, LocationViewSet, LotViewSet
from .ledger import (
    BalanceViewSet,
    MovementViewSet,
    StockCardView,
    StockCountViewSet,
    StockLevelView,
    StockTrendView,
)
from .operations import (
    AdjustmentView,
    CountView,
    DispenseView,
    ReceiptView,
    ReversalView,
    TransferView,
)

api_errors.domain_error(StockError, status=400, code="stock_error")
api_errors.domain_error(InsufficientStock, status=409, code="insufficient_stock")
api_errors.domain_error(LargeQuantityNotConfirmed, status=400, code="confirm_large_quantity")
api_errors.domain_error(AlertError, status=400, code="alert_error")
api_errors.domain_error(AlertNotAllowed, status=403, code="permission_denied")
api_errors.domain_error(AlertAlreadyResolved, status=409, code="alert_resolved")

__all__ = [
    "AdjustmentView",
    "BalanceViewSet",
    "CountView",
    "DispenseView",
    "FundingSourceViewSet",
    "ItemViewSet",
    "KitViewSet",
    "LocationViewSet",
    "LotViewSet",
    "MovementViewSet",
    "ReceiptView",
    "ReversalView",
    "StockAlertViewSet",
    "StockCardView",
    "StockCountViewSet",
    "StockLevelView",
    "StockTrendView",
    "TransferView",
]
