from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

# No ".json" suffix routes: the API speaks JSON only, and actions need not take `format`.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("items", api.ItemViewSet, basename="item")
router.register("kits", api.KitViewSet, basename="kit")
router.register("funding-sources", api.FundingSourceViewSet, basename="funding-source")
router.register("locations", api.LocationViewSet, basename="location")
router.register("lots", api.LotViewSet, basename="lot")
router.register("balances", api.BalanceViewSet, basename="balance")
router.register("movements", api.MovementViewSet, basename="movement")
router.register("counts", api.StockCountViewSet, basename="count")
router.register("alerts", api.StockAlertViewSet, basename="stock-alert")

urlpatterns = [
    path("levels/", api.StockLevelView.as_view(), name="levels"),
    path("stock-card/", api.StockCardView.as_view(), name="stock-card"),
    path("trend/", api.StockTrendView.as_view(), name="trend"),
    path("receipts/", api.ReceiptView.as_view(), name="receipt"),
    path("transfers/", api.TransferView.as_view(), name="transfer"),
    path("adjustments/", api.AdjustmentView.as_view(), name="adjustment"),
    path("counts/record/", api.CountView.as_view(), name="count-record"),
    path("dispenses/", api.DispenseView.as_view(), name="dispense"),
    path("reversals/", api.ReversalView.as_view(), name="reversal"),
    *router.urls,
]
