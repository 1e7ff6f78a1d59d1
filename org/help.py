"""Which section of the help page answers for which screen: the `?` in the top bar of
every page links to it. A screen not listed gets its app's section."""

# (URL namespace, URL name) or namespace alone → the anchor of org/help.html.
SECTIONS = {
    ("ssp", "intake"): "front-desk",
    ("ssp", "intake-shift"): "street-shift",
    ("ssp", "visit-list"): "visits",
    ("ssp", "visit-detail"): "visits",
    ("ssp", "visit-edit"): "visits",
    "ssp": "participants",
    "referrals": "follow-ups",
    "events": "events",
    "inventory": "stock",
    "reports": "reports",
    ("org", "audit-list"): "admin",
    ("org", "staff-list"): "admin",
    "org": "account",
}


def help_section(resolver_match) -> str:
    """The help page's anchor for the screen that `resolver_match` resolved to."""
    if resolver_match is None:
        return "start"
    namespace = resolver_match.namespace
    return SECTIONS.get((namespace, resolver_match.url_name), SECTIONS.get(namespace, "start"))
