"""Stock manager pages: stock on hand, item detail, stock card, and the receive,
transfer, adjust and count forms. Thin: forms parse, services write, selectors read.

Who sees what: stock managers (manage_stock) see and change the locations of their
sites and the shared central store; program-wide roles (coordinators) see every
location read-only. A location outside someone's reach is a 404, as if it did not exist.
"""

from .alerts import alert_acknowledge_view, alert_list
from .counts import count
from .movements import adjust, receive, transfer
from .stock import item_detail, stock_card, stock_csv, stock_list

__all__ = [
    "adjust",
    "alert_acknowledge_view",
    "alert_list",
    "count",
    "item_detail",
    "receive",
    "stock_card",
    "stock_csv",
    "stock_list",
    "transfer",
]
