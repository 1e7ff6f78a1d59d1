"""The front desk's and the street shift's words for their scripts (ssp/static/ssp/
intake.js and outbox.js), gathered by org.context_processors.js_strings."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from org.js_strings import plural


def strings() -> dict:
    return {
        # intake.js: the supply cart
        "intake.kit": _("kit"),
        "intake.quantity_of": _("Quantity of %(name)s"),
        "intake.remove": _("Remove %(name)s"),
        # outbox.js: what the page refuses without a connection
        "outbox.parts_need_connection": _(
            "Building a code from its parts needs a connection: type the code."
        ),
        "outbox.code_or_anonymous": _("Type the participant’s code, or tick Anonymous."),
        "outbox.not_both": _("Either a code or anonymous, not both."),
        "outbox.at_least_one": _("People reached: at least 1."),
        "outbox.visit_kept": _("Visit kept on this device at %(time)s: waiting to send."),
        "outbox.shift_kept": _("Shift kept on this device at %(time)s: waiting to send."),
        # outbox.js: the rows of records kept on the device
        "outbox.shift_contacts": plural(
            lambda n: ngettext("shift · %(n)s contact", "shift · %(n)s contacts", n)
        ),
        "outbox.anonymous": _("anonymous"),
        "outbox.this_device": _("this device"),
        "outbox.sent": pgettext("record", "sent"),
        "outbox.sent_notice": pgettext("record", "sent · %(notice)s"),
        "outbox.refused": pgettext("record", "not accepted"),
        "outbox.waiting": pgettext("record", "waiting to send"),
        "outbox.fix": _("Fix"),
        "outbox.discard": _("Discard"),
        "outbox.discard_label": _("Discard the record of %(time)s kept on this device"),
        "outbox.discard_confirm": _(
            "Discard this record? It has not reached the server and will be lost."
        ),
        "outbox.fix_then_save": _(
            "Fix the record, then save it again. The server said: %(message)s"
        ),
        "outbox.heading": _("Kept on this device"),
        "outbox.time": _("Time"),
        "outbox.who": _("Who"),
        "outbox.supplies": _("Supplies"),
        "outbox.state": _("State"),
        # outbox.js: the code look-up without a connection (the server's words for the
        # differences are ssp.codes.near_difference)
        "outbox.offline_tag": _("offline — suggestions from this device"),
        "outbox.seen_here": _(
            "Seen at your sites. Saving keeps the visit on this device until it is sent."
        ),
        "outbox.not_seen": _(
            "Not among the codes this device keeps. Saving keeps the visit on this device; "
            "the server decides whether the code is new."
        ),
        "outbox.did_you_mean": _("Did you mean an existing code?"),
        "outbox.starting_with": _("Codes starting with %(code)s:"),
        "outbox.birth_year": _("birth year ±1"),
        "outbox.letters_swapped": _("letters swapped"),
        "outbox.digits_swapped": _("digits swapped"),
        "outbox.letter_different": _("one letter different"),
        "outbox.digit_different": _("one digit different"),
        "outbox.letter_missing": _("one letter missing"),
        "outbox.digit_missing": _("one digit missing"),
        "outbox.letter_extra": _("one letter extra"),
        "outbox.digit_extra": _("one digit extra"),
    }
