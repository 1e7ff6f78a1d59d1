"""Reads of what a visit being recorded names — its site (with the site's default stock
location) and its kits (with their components) — each kind in one query, so a visit,
and a sync batch of many, does not look them up again while it is written."""

from collections.abc import Iterable

from django.db.models import JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from inventory.models import Kit, KitComponent, Location
from org.models import Site

# The attribute ssp.services reads for the default location (a Location, or None when
# the site has no active one); absent when the site was loaded without it.
DEFAULT_LOCATION = "_default_location"


def sites_with_default_location() -> QuerySet[Site]:
    """Sites, each with its default stock location (the first active one by id) read in
    the same query: `default_location_of(site)` then needs no query."""
    first = Location.objects.filter(site=OuterRef("pk"), is_active=True).order_by("pk")
    row = JSONObject(id="id", name="name", kind="kind", site_id="site_id", is_active="is_active")
    return Site.objects.annotate(
        default_location_row=Subquery(first.values(row=row)[:1], output_field=JSONField())
    )


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
