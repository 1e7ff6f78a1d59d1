"""Reads of what a visit being recorded names — its site (with the site's default stock
location) and its kits (with their components) — each kind in one query, so a visit,
and a sync batch of many, does not look them up again while it is written."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import JSONObject

from inventory.models import Item, Kit, KitComponent, Location
from org.lookups import AnyOf, CompiledRead
from org.models import Site

# The attribute ssp.services reads for the default location (a Location, or None when
# the site has no active one); absent when the site was loaded without it.
DEFAULT_LOCATION = "_default_location"

# The kit and component columns of supplies_by_code's rows (null on an item named alone).
_COMPONENT_PATHS = (
    ("component_id", "id"),
    ("units", "quantity"),
    ("kit_id", "kit__id"),
    ("kit_code", "kit__code"),
    ("kit_name", "kit__name"),
    ("kit_is_active", "kit__is_active"),
)
_COMPONENT_FIELDS = (
    ("component_id", IntegerField()),
    ("units", IntegerField()),
    ("kit_id", IntegerField()),
    ("kit_code", CharField()),
    ("kit_name", CharField()),
    ("kit_is_active", BooleanField()),
)


def sites_with_default_location() -> QuerySet[Site]:
    """Sites, each with its default stock location (the first active one by id) read in
    the same query: `default_location_of(site)` then needs no query."""
    first = Location.objects.filter(site=OuterRef("pk"), is_active=True).order_by("pk")
    row = JSONObject(id="id", name="name", kind="kind", site_id="site_id", is_active="is_active")
    return Site.objects.annotate(
        default_location_row=Subquery(first.values(row=row)[:1], output_field=JSONField())
    )


def _site_columns() -> list[str]:
    return [field.attname for field in Site._meta.concrete_fields]


def _site_read(pk: int) -> QuerySet:
    return (
        sites_with_default_location()
        .filter(pk=pk)
        .values_list(*_site_columns(), "default_location_row")
    )


_SITE_READ = CompiledRead(_site_read, pk=-1_000_001)  # no site has this id


def site_with_default_location(pk: int) -> Site | None:
    """The site with this id as `sites_with_default_location` reads it, or None: a
    visit's site, read on every visit (compiled once, org/lookups.py)."""
    rows = _SITE_READ.rows(pk=pk)
    if not rows:
        return None
    *columns, default_location_row = rows[0]
    site = Site.from_db(connection.alias, _site_columns(), columns)
    site.default_location_row = default_location_row
    return site


def default_location_of(site: Site) -> Location | None:
    """The site's default location as `sites_with_default_location` read it, built once
    per site object (a batch's records share it); a query only for a site loaded
    otherwise."""
    if hasattr(site, DEFAULT_LOCATION):
        return getattr(site, DEFAULT_LOCATION)
    if hasattr(site, "default_location_row"):
        row = site.default_location_row
        location = Location(**row) if row else None
        if location is not None:
            location.site = site
    else:
        location = site.locations.filter(is_active=True).order_by("pk").first()
    setattr(site, DEFAULT_LOCATION, location)
    return location


def kits_by_code(codes: Iterable[str]) -> dict[str, Kit]:
    """Kits by code, each with its components (and their items) in one query: the
    components are kept on the kit as inventory.selectors.kit_components keeps them, so
    checking the lines and dispensing them read nothing more. A kit without components
    (none in practice) costs one more query."""
    codes = set(codes)
    kits: dict[str, Kit] = {}
    rows = KitComponent.objects.filter(kit__code__in=codes).select_related("kit", "item")
    for component in rows:
        kit = kits.setdefault(component.kit.code, component.kit)
        if not hasattr(kit, "_components"):
            kit._components = []
        component.kit = kit
        kit._components.append(component)
    missing = codes - set(kits)
    if missing:
        for kit in Kit.objects.filter(code__in=missing):
            kit._components = []
            kits[kit.code] = kit
    return kits


def _item_columns() -> list[str]:
    return [field.attname for field in Item._meta.concrete_fields]


def _named_items(items: list[str]) -> QuerySet:
    return Item.objects.filter(AnyOf(F("code"), items)).values_list(*_item_columns())


def _supplies(items: list[str], kits: list[str]) -> QuerySet:
    """The items named and the items of the kits named, each of these with its kit and
    component columns (null on an item named alone), as one UNION."""
    none = {name: Value(None, output_field=field) for name, field in _COMPONENT_FIELDS}
    names = [name for name, _field in _COMPONENT_FIELDS]
    named = Item.objects.filter(AnyOf(F("code"), items)).annotate(**none)
    in_kits = Item.objects.filter(AnyOf(F("kit_components__kit__code"), kits)).annotate(
        **{name: F(f"kit_components__{path}") for name, path in _COMPONENT_PATHS}
    )
    columns = [*_item_columns(), *names]
    return (
        named.values_list(*columns)
        .order_by()
        .union(in_kits.values_list(*columns).order_by(), all=True)
    )


# Compiled once per process (org/lookups.py): what a visit reads of its supplies.
_ITEMS_READ = CompiledRead(_named_items, items=["ITEMSMARK"])
_SUPPLIES_READ = CompiledRead(_supplies, items=["ITEMSMARK"], kits=["KITSMARK"])


def supplies_by_code(item_codes: Iterable[str], kit_codes: Iterable[str]):
    """(items by code, kits by code), the kits with their components: one query for
    both kinds (a UNION of the items named and the kits' component items), so a visit of
    kits and items reads its lines in one round trip. Kits absent from it (unknown, or
    without components) are looked up as `kits_by_code` does."""
    item_codes, kit_codes = sorted(set(item_codes)), sorted(set(kit_codes))
    if not kit_codes:
        rows = _ITEMS_READ.rows(items=item_codes) if item_codes else []
        return {item.code: item for item in map(_item, rows)}, {}
    if not item_codes:
        return {}, kits_by_code(kit_codes)
    items: dict[str, Item] = {}
    kits: dict[str, Kit] = {}
    width = len(Item._meta.concrete_fields)
    for row in _SUPPLIES_READ.rows(items=item_codes, kits=kit_codes):
        item = _item(row[:width])
        component_id, units, kit_id, kit_code, kit_name, kit_is_active = row[width:]
        if component_id is None:
            items[item.code] = item
            continue
        kit = kits.get(kit_code)
        if kit is None:
            kit = Kit(id=kit_id, name=kit_name, code=kit_code)
            kit.is_active = kit_is_active
            kit._components = []
            kits[kit.code] = kit
        kit._components.append(KitComponent(id=component_id, kit=kit, item=item, quantity=units))
    missing = set(kit_codes) - set(kits)
    if missing:
        kits.update(kits_by_code(missing))
    return items, kits


def _item(row) -> Item:
    return Item.from_db(connection.alias, _item_columns(), row)
