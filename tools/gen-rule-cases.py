#!/usr/bin/env python3
"""Writes corpus/rules/*.json: one case file per rule, edge value and
combination of docs/legal-rules.md, on the public corpus fixture plus a few agencies
and accounts made for edge values.

Each case below states the order as a change to a base order and the decision
the rule book gives. Run it after changing a case: python3 tools/gen-rule-cases.py
"""
import copy
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = json.loads((ROOT / "corpus/public/001-us-subpoena-subscriber.json").read_text())
OUT = ROOT / "corpus/rules"

NOW = "2026-11-28T12:00:00Z"
D10 = "2026-12-08T12:00:00Z"   # now + 10 days
H1 = "2026-11-28T13:00:00Z"    # now + 60 minutes
H8 = "2026-11-28T20:00:00Z"    # now + 8 hours
H24 = "2026-11-29T12:00:00Z"   # now + 24 hours
RANGE = {"from": "2026-01-01T00:00:00Z", "to": "2026-10-31T23:59:59Z"}
CALLBACK = {"verified": True, "number_source": "registry", "verified_by": "duty-officer-1",
            "verified_at": "2026-11-28T11:50:00Z"}
FACTS = "A caller threatened to kill a named person tonight from this account."

AGENCIES = FIXTURE["agencies"] + [
    {"id": "us-edge-so", "name": "Edge County Sheriff", "country": "US", "kind": "law_enforcement",
     "status": "verified", "verified_since": "2026-10-29T12:00:00Z"},
    {"id": "us-newer-so", "name": "Newer County Sheriff", "country": "US", "kind": "law_enforcement",
     "status": "verified", "verified_since": "2026-10-29T12:00:01Z"},
    {"id": "us-undated-pd", "name": "Undated Police Department", "country": "US",
     "kind": "law_enforcement", "status": "verified", "verified_since": None},
]
ACCOUNTS = FIXTURE["accounts"] + [
    {"id": "acct-us-mixed", "identifiers": [{"kind": "email", "value": "Mixed.Case@Example.com"},
                                            {"kind": "username", "value": "MixedCase"}],
     "data_location": "US", "holder": {"us_person": True, "located_in": "US"}, "status": "active"},
]

CASES = []


def case(name, description, order, expect, submitted_by="__agency__", now=NOW, prior=None, agencies=(),
         accounts_before=()):
    """`agencies` are added to the registry of this case only; `accounts_before`
    go in front of the directory of this case only (where a first match would
    find them)."""
    CASES.append((name, description, order, expect, submitted_by, now, prior or [], list(agencies),
                  list(accounts_before)))


def order(agency="us-fbi-wfo", instrument="subpoena", issuer="prosecutor", targets=("alice@example.com",),
          categories=("subscriber",), date_range=RANGE, **extra):
    o = {
        "reference": "RULES-0001",
        "agency": agency,
        "instrument": instrument,
        "legal_basis": "test",
        "issued_by": {"kind": issuer},
        "issued_at": "2026-11-26T10:00:00Z",
        "targets": [t if isinstance(t, dict) else {"kind": "email", "value": t} for t in targets],
        "categories": list(categories),
    }
    if date_range is not None:
        o["date_range"] = date_range
    o.update(extra)
    return o


def expect(outcome, pairs, reasons=(), due=D10, not_before=None, preserve_until=None, notify="on_disclosure",
           at=None):
    n = {"when": notify}
    if at:
        n["at"] = at
    return {
        "outcome": outcome,
        "decisions": [{"target": t if ":" in t else "email:" + t, "category": c, "status": s} for t, c, s in pairs],
        "reasons": list(reasons),
        "due_at": due,
        "not_before": not_before,
        "preserve_until": preserve_until,
        "notify": n,
    }


def refused(*codes, due=D10):
    return expect("reject", [], codes, due=due, notify="none")


A = "alice@example.com"
EMER = {"threat": "death", "facts": FACTS, "callback": CALLBACK}

# A. Requester
case("a-unauthenticated-with-other-refusals",
     "With no submitter only `unauthenticated` of section A is evaluated, section D is skipped, but B and C still run.",
     order(instrument="national_security_letter", issuer="agency_official", assistance=["remote_access"]),
     refused("unauthenticated", "hacking_refused"), submitted_by=None)
case("a-unknown-agency-only",
     "An unregistered submitter: only `unknown_agency`, never `submitter_mismatch`.",
     order(), refused("unknown_agency"), submitted_by="us-nowhere-pd")
case("a-pending-and-mismatch",
     "A pending agency sending another agency's order gets both refusals of section A.",
     order(), refused("agency_not_verified", "submitter_mismatch"), submitted_by="us-riverside-pd")
case("a-suspended-nsl",
     "A suspended agency without the power serves a national security letter.",
     order(agency="us-harbor-pd", instrument="national_security_letter", issuer="agency_official"),
     refused("agency_not_verified", "instrument_not_available"))

# B. Validity
case("b-issued-in-future", "`issued_at` one second after `now`.",
     order(issued_at="2026-11-28T12:00:01Z"), refused("invalid_order"))
case("b-issued-exactly-now", "`issued_at` equal to `now` is not in the future.",
     order(issued_at=NOW), expect("approve", [(A, "subscriber", "grant")]))
case("b-issued-with-offset", "Timestamps compare as instants: 13:00+01:00 is `now`.",
     order(issued_at="2026-11-28T13:00:00+01:00"), expect("approve", [(A, "subscriber", "grant")]))
case("b-date-range-one-instant", "`from` equal to `to` is a valid range.",
     order(date_range={"from": "2026-05-01T00:00:00Z", "to": "2026-05-01T00:00:00Z"}),
     expect("approve", [(A, "subscriber", "grant")]))
case("b-no-targets", "An order with an empty target list.", order(targets=()), refused("invalid_order"))
case("b-no-categories", "A subpoena asking for no category.", order(categories=()), refused("invalid_order"))
case("b-emergency-without-block", "An emergency request that states no emergency.",
     order(instrument="emergency_request", issuer="police"), refused("invalid_order", due=H1))
case("b-renews-unknown", "A renewal naming no earlier hold.",
     order(instrument="preservation_request", issuer="police", date_range=None, renews="WFO-P-0001"),
     refused("invalid_order", due=H24))
case("b-renews-other-agency", "A renewal naming a hold of another agency.",
     order(instrument="preservation_request", issuer="police", date_range=None, renews="P-1"),
     refused("invalid_order", due=H24),
     prior=[{"reference": "P-1", "agency": "us-nypd", "instrument": "preservation_request",
             "preserve_until": "2026-12-10T00:00:00Z", "renewals": 0}])
case("b-renews-other-instrument", "A US preservation request cannot renew a European preservation order.",
     order(instrument="preservation_request", issuer="police", date_range=None, renews="P-1"),
     refused("invalid_order", due=H24),
     prior=[{"reference": "P-1", "agency": "us-fbi-wfo", "instrument": "epoc_pr",
             "preserve_until": "2026-12-10T00:00:00Z", "renewals": 0}])
case("b-renews-lapsing-exactly-now", "A hold whose `preserve_until` is `now` has lapsed and cannot be renewed.",
     order(instrument="preservation_request", issuer="police", date_range=None, renews="P-1"),
     refused("invalid_order", due=H24),
     prior=[{"reference": "P-1", "agency": "us-fbi-wfo", "instrument": "preservation_request",
             "preserve_until": NOW, "renewals": 0}])
case("b-expires-exactly-now", "A warrant whose `expires_at` is `now` has expired.",
     order(instrument="search_warrant", issuer="judge", expires_at=NOW), refused("order_expired"))
case("b-expires-one-second-later", "A warrant still inside its execution window.",
     order(instrument="search_warrant", issuer="judge", categories=("content",), expires_at="2026-11-28T12:00:01Z"),
     expect("approve", [(A, "content", "grant")]))
UK = dict(agency="gb-homeoffice-ipu", instrument="uk_overseas_order", issuer="judge",
          targets=("emma@example.co.uk",), categories=("content",),
          offence={"description": "fraud", "max_custodial_years": 10, "listed": False})
case("b-uk-order-quashed-at-three-months", "An overseas production order exactly 3 calendar months old is quashed.",
     order(**{**UK, "issued_at": "2026-08-28T12:00:00Z"}), refused("order_expired"))
case("b-uk-order-month-end", "31 August + 3 months is 30 November: the order is still alive on 28 November.",
     order(**{**UK, "issued_at": "2026-08-31T13:00:00Z"}),
     expect("approve", [("emma@example.co.uk", "content", "grant")]))
case("b-uk-order-one-second-short", "One second short of 3 months the order is still alive.",
     order(**{**UK, "issued_at": "2026-08-28T12:00:01Z"}),
     expect("approve", [("emma@example.co.uk", "content", "grant")]))
case("b-several-refusals", "Every refusal that fires is reported.",
     order(targets=(), expires_at="2026-11-01T00:00:00Z", assistance=["push_update"]),
     refused("invalid_order", "order_expired", "hacking_refused"))

# C. Refusals
for a in ("remote_access", "covert_access", "disable_encryption"):
    case(f"c-hacking-{a.replace('_', '-')}", f"A warrant that also asks for `{a}` is refused outright.",
         order(instrument="search_warrant", issuer="judge", categories=("content",), assistance=[a]),
         refused("hacking_refused"))
case("c-technical-assistance-without-categories", "Technical assistance needs no categories and is always refused.",
     order(agency="us-fbi-wfo", instrument="technical_assistance", issuer="judge", categories=()),
     refused("hacking_refused"))
case("c-all-users-among-particular", "One non-particular target refuses the whole order.",
     order(targets=(A, {"kind": "all_users", "value": "*"})), refused("not_particular"))
case("c-harmless-assistance", "Assistance that is not hacking changes nothing.",
     order(assistance=["expedite"]), expect("approve", [(A, "subscriber", "grant")]))

# D. Instrument availability
case("d-nsl-without-power", "A US police department cannot serve a national security letter.",
     order(agency="us-nypd", instrument="national_security_letter", issuer="agency_official"),
     refused("instrument_not_available"), submitted_by="us-nypd")
case("d-epoc-before-application", "An EPOC issued one second before 18 August 2026.",
     order(agency="de-bka", instrument="epoc", targets=("dieter@example.de",), issued_at="2026-08-17T23:59:59Z"),
     refused("instrument_not_available"))
case("d-epoc-on-application-day", "An EPOC issued at the first instant of 18 August 2026.",
     order(agency="de-bka", instrument="epoc", targets=("dieter@example.de",), issued_at="2026-08-18T00:00:00Z"),
     expect("approve", [("dieter@example.de", "subscriber", "grant")], notify="issuing_authority"))
case("d-epoc-pr-from-ireland", "Irish authorities use domestic process.",
     order(agency="ie-garda", instrument="epoc_pr", targets=("ciara@example.ie",), date_range=None),
     refused("instrument_not_available", due=H24))
case("d-uk-order-before-agreement", "An overseas production order from before the agreement, long quashed too.",
     order(**{**UK, "issued_at": "2022-10-02T12:00:00Z"}), refused("instrument_not_available", "order_expired"))
case("d-uk-order-from-france", "Only the UK serving authority serves overseas production orders.",
     order(**{**UK, "agency": "fr-ofac"}), refused("instrument_not_available"))
case("d-skipped-for-unknown-agency", "Without a registered submitter there is no issuing country: D is skipped.",
     order(instrument="national_security_letter", issuer="agency_official"), refused("unknown_agency"),
     submitted_by="xx-ghost")

# E. Issuing authority
case("e-court-order-by-magistrate", "A magistrate may issue a § 2703(d) order.",
     order(instrument="court_order", issuer="magistrate", categories=("traffic",)),
     expect("approve", [(A, "traffic", "grant")]))
case("e-court-order-by-grand-jury", "A grand jury is not a judge.",
     order(instrument="court_order", issuer="grand_jury", categories=("subscriber", "traffic")),
     expect("reject", [(A, "subscriber", "deny"), (A, "traffic", "deny")], ["not_judicially_authorized"],
            notify="none"))
EPOC = dict(agency="de-bka", instrument="epoc", targets=("jules@example.fr",),
            offence={"description": "fraud", "max_custodial_years": 5, "listed": False})
case("e-epoc-validated-by-judge", "A police EPOC for traffic validated by a judge.",
     order(**EPOC, issuer="police", validated_by={"kind": "judge"}, categories=("traffic",)),
     expect("approve", [("jules@example.fr", "traffic", "grant")], not_before=D10, notify="issuing_authority"))
case("e-epoc-subscriber-validated-by-prosecutor", "A prosecutor may validate an EPOC for subscriber data.",
     order(**EPOC, issuer="police", validated_by={"kind": "prosecutor"}, categories=("subscriber", "identification")),
     expect("approve", [("jules@example.fr", "subscriber", "grant"), ("jules@example.fr", "identification", "grant")],
            notify="issuing_authority"))
case("e-epoc-traffic-validated-by-prosecutor", "A prosecutor cannot validate an EPOC for traffic data.",
     order(**EPOC, issuer="police", validated_by={"kind": "prosecutor"}, categories=("subscriber", "traffic")),
     expect("partial", [("jules@example.fr", "subscriber", "grant"), ("jules@example.fr", "traffic", "deny")],
            ["not_judicially_authorized"], notify="issuing_authority"))
case("e-epoc-pr-by-police", "A European Preservation Order from the police alone.",
     order(agency="fr-ofac", instrument="epoc_pr", issuer="police", targets=("jules@example.fr",),
           categories=("content",), date_range=None),
     expect("reject", [("jules@example.fr", "content", "deny")], ["not_judicially_authorized"], due=H24, notify="none"))
case("e-epoc-pr-validated", "A police European Preservation Order validated by a prosecutor.",
     order(agency="fr-ofac", instrument="epoc_pr", issuer="police", validated_by={"kind": "prosecutor"},
           targets=("jules@example.fr",), categories=("content", "traffic"), date_range=None),
     expect("approve", [("jules@example.fr", "content", "preserve"), ("jules@example.fr", "traffic", "preserve")],
            due=H24, preserve_until="2027-01-27T12:00:00Z", notify="none"))
case("e-uk-order-by-prosecutor", "An overseas production order must be made by a judge.",
     order(**{**UK, "issuer": "prosecutor"}),
     expect("reject", [("emma@example.co.uk", "content", "deny")], ["not_judicially_authorized"], notify="none"))
case("e-emergency-epoc-police-traffic",
     "A qualifying emergency EPOC from the police: subscriber data goes without validation, traffic still needs a judge.",
     order(**EPOC, issuer="police", categories=("subscriber", "traffic"),
           emergency={"threat": "safety_of_person", "facts": FACTS}),
     expect("partial", [("jules@example.fr", "subscriber", "grant"), ("jules@example.fr", "traffic", "deny")],
            ["not_judicially_authorized", "validation_pending"], due=H8, notify="issuing_authority"))
case("e-emergency-epoc-not-qualifying-police",
     "An EPOC whose emergency does not qualify is an ordinary EPOC: the police alone cannot issue it.",
     order(**EPOC, issuer="police", emergency={"threat": "property_damage", "facts": FACTS}),
     expect("reject", [("jules@example.fr", "subscriber", "deny")], ["not_judicially_authorized", "emergency_queried"],
            notify="none"))
case("e-emergency-epoc-blank-facts", "Facts of white space only: the EPOC is handled as ordinary and queried.",
     order(**EPOC, issuer="judge", emergency={"threat": "death", "facts": "  \n\t "}),
     expect("approve", [("jules@example.fr", "subscriber", "grant")], ["emergency_queried"],
            notify="issuing_authority"))

# F. Reach
case("f-subpoena-four-categories", "A subpoena reaches subscriber and identification only.",
     order(categories=("subscriber", "identification", "traffic", "location")),
     expect("partial", [(A, "subscriber", "grant"), (A, "identification", "grant"), (A, "traffic", "deny"),
                        (A, "location", "deny")], ["category_not_authorized"]))
case("f-court-order-five-categories", "A § 2703(d) order reaches everything but location and content.",
     order(instrument="court_order", issuer="judge",
           categories=("subscriber", "identification", "traffic", "location", "content")),
     expect("partial", [(A, "subscriber", "grant"), (A, "identification", "grant"), (A, "traffic", "grant"),
                        (A, "location", "deny"), (A, "content", "deny")], ["category_not_authorized"]))
case("f-nsl-subscriber-and-traffic", "An NSL: subscriber data goes to review, the rest is denied.",
     order(instrument="national_security_letter", issuer="agency_official", categories=("subscriber", "traffic")),
     expect("review", [(A, "subscriber", "review"), (A, "traffic", "deny")],
            ["nsl_review", "category_not_authorized"]))
case("f-us-emergency-location", "A verified US emergency reaches location data.",
     order(instrument="emergency_request", issuer="police", categories=("location",), emergency=EMER),
     expect("approve", [(A, "location", "grant")], due=H1, notify="withheld"))
case("f-foreign-emergency-us-data", "An emergency is not held up by geography.",
     order(agency="br-pf", instrument="emergency_request", issuer="police", categories=("traffic",), emergency=EMER),
     expect("approve", [(A, "traffic", "grant")], due=H1, notify="withheld"))

# G. Offence threshold
case("g-epoc-listed-offence", "A listed offence meets the threshold whatever its sentence.",
     order(**{**EPOC, "offence": {"description": "x", "max_custodial_years": 1, "listed": True}},
           issuer="judge", categories=("traffic",)),
     expect("approve", [("jules@example.fr", "traffic", "grant")], not_before=D10, notify="issuing_authority"))
case("g-epoc-exactly-three-years", "Three years exactly meets the threshold.",
     order(**{**EPOC, "offence": {"description": "x", "max_custodial_years": 3, "listed": False}},
           issuer="judge", categories=("location",)),
     expect("approve", [("jules@example.fr", "location", "grant")], not_before=D10, notify="issuing_authority"))
case("g-epoc-without-offence", "Without an offence, traffic fails the threshold; subscriber data needs none.",
     order(agency="de-bka", instrument="epoc", targets=("jules@example.fr",), issuer="judge",
           categories=("subscriber", "traffic")),
     expect("partial", [("jules@example.fr", "subscriber", "grant"), ("jules@example.fr", "traffic", "deny")],
            ["offence_threshold"], notify="issuing_authority"))
case("g-uk-order-without-offence", "The US-UK agreement needs a serious crime for every category.",
     order(**{**UK, "categories": ("subscriber",), "offence": None}),
     expect("reject", [("emma@example.co.uk", "subscriber", "deny")], ["offence_threshold"], notify="none"))
case("g-uk-order-exactly-three-years", "Three years exactly is serious crime.",
     order(**{**UK, "offence": {"description": "x", "max_custodial_years": 3, "listed": False}}),
     expect("approve", [("emma@example.co.uk", "content", "grant")]))

# H. Target resolution
case("h-email-case-insensitive", "E-mail addresses compare case-insensitively, on both sides.",
     order(targets=("ALICE@Example.COM", "mixed.case@example.com")),
     expect("approve", [("ALICE@Example.COM", "subscriber", "grant"), ("mixed.case@example.com", "subscriber", "grant")]))
case("h-username-case-sensitive", "Usernames compare exactly.",
     order(targets=({"kind": "username", "value": "mixedcase"},)),
     expect("no_data", [("username:mixedcase", "subscriber", "no_data")], ["no_data_found"], notify="none"))
case("h-account-id-and-phone", "Targets by account id and by phone number.",
     order(targets=({"kind": "account_id", "value": "acct-us-bob"}, {"kind": "phone", "value": "+12025550101"})),
     expect("approve", [("account_id:acct-us-bob", "subscriber", "grant"), ("phone:+12025550101", "subscriber", "grant")]))
case("h-pending-deletion-holds-data", "An account pending deletion still holds its data.",
     order(targets=("lena@example.com",)), expect("approve", [("lena@example.com", "subscriber", "grant")]))
case("h-no-target-found", "Every target resolves to nothing.",
     order(targets=("nobody@example.com", "hana@example.com")),
     expect("no_data", [("nobody@example.com", "subscriber", "no_data"), ("hana@example.com", "subscriber", "no_data")],
            ["no_data_found"], notify="none"))
case("h-no-data-beats-denial", "A missing target's pairs are no_data even where the instrument could not reach them.",
     order(targets=("nobody@example.com",), categories=("content",)),
     expect("no_data", [("nobody@example.com", "content", "no_data")], ["no_data_found"], notify="none"))

# I. Where the data is
case("i-us-subpoena-irish-data", "A US subpoena for data stored in Ireland goes to legal review.",
     order(targets=({"kind": "username", "value": "ciara"},)),
     expect("review", [("username:ciara", "subscriber", "review")], ["extraterritorial_data"]))
case("i-nsl-irish-data", "An NSL for data abroad: two review codes on the pair, and the NSL trigger.",
     order(instrument="national_security_letter", issuer="agency_official", targets=("ciara@example.ie",)),
     expect("review", [("ciara@example.ie", "subscriber", "review")], ["nsl_review", "extraterritorial_data"]))
case("i-uk-warrant-us-data", "A British domestic warrant reaches only data stored in Britain.",
     order(agency="gb-nca", instrument="search_warrant", issuer="judge", categories=("content",)),
     expect("reject", [(A, "content", "deny")], ["outside_jurisdiction"], notify="none"))
case("i-german-court-order-local-data", "A German court order for data stored in Germany.",
     order(agency="de-bka", instrument="court_order", issuer="judge", targets=("dieter@example.de",),
           categories=("traffic",)),
     expect("approve", [("dieter@example.de", "traffic", "grant")]))
case("i-outside-jurisdiction-beats-reach", "Deny codes of several rules on one pair are all reported.",
     order(agency="gb-nca", categories=("subscriber", "content")),
     expect("reject", [(A, "subscriber", "deny"), (A, "content", "deny")],
            ["outside_jurisdiction", "category_not_authorized"], notify="none"))
case("i-epoc-content-irish-data", "An EPOC reaches data wherever it is stored; content is notified for 10 days.",
     order(**{**EPOC, "targets": ("ciara@example.ie",)}, issuer="judge", categories=("content",)),
     expect("approve", [("ciara@example.ie", "content", "grant")], not_before=D10, notify="issuing_authority"))
case("i-uk-order-holder-in-us", "The agreement excludes a person located in the United States.",
     order(**{**UK, "targets": ("ivan@example.ie",)}),
     expect("reject", [("ivan@example.ie", "content", "deny")], ["agreement_excludes_us_person"], notify="none"))
case("i-preservation-abroad", "Preservation discloses nothing, so geography does not apply.",
     order(instrument="preservation_request", issuer="police", targets=("ciara@example.ie",), date_range=None),
     expect("approve", [("ciara@example.ie", "subscriber", "preserve")], due=H24,
            preserve_until="2027-02-26T12:00:00Z", notify="none"))
case("i-epoc-subscriber-not-notified", "Subscriber data of an EPOC is not notified: no `not_before`.",
     order(**EPOC, issuer="judge", categories=("subscriber",)),
     expect("approve", [("jules@example.fr", "subscriber", "grant")], notify="issuing_authority"))
case("i-epoc-notified-before-trigger", "`not_before` looks at statuses before the order-level triggers.",
     order(**{**EPOC, "targets": tuple(f"x{i}@example.com" for i in range(25)) + ("jules@example.fr",)},
           issuer="judge", categories=("traffic",)),
     expect("review", [(f"x{i}@example.com", "traffic", "no_data") for i in range(25)]
            + [("jules@example.fr", "traffic", "review")],
            ["no_data_found", "overbroad_targets"], not_before=D10, notify="issuing_authority"))
case("i-epoc-domestic-per-person", "The domestic exception is per person: one target notified is enough.",
     order(**{**EPOC, "offence": {"description": "x", "max_custodial_years": 6, "listed": False, "committed_in": "DE"},
              "targets": ("dieter@example.de", "jules@example.fr")}, issuer="judge", categories=("traffic",)),
     expect("approve", [("dieter@example.de", "traffic", "grant"), ("jules@example.fr", "traffic", "grant")],
            not_before=D10, notify="issuing_authority"))

# J. Scope
case("j-court-order-without-range", "Traffic without a date range goes to review.",
     order(instrument="court_order", issuer="judge", categories=("subscriber", "traffic"), date_range=None),
     expect("review", [(A, "subscriber", "grant"), (A, "traffic", "review")], ["unbounded_date_range"]))
case("j-subscriber-without-range", "Subscriber data needs no date range.",
     order(date_range=None), expect("approve", [(A, "subscriber", "grant")]))
case("j-deny-beats-review", "A pair both denied and unbounded reports only the deny.",
     order(categories=("traffic",), date_range=None),
     expect("reject", [(A, "traffic", "deny")], ["category_not_authorized"], notify="none"))
case("j-emergency-without-range", "Emergencies are not held to a date range.",
     order(instrument="emergency_request", issuer="police", categories=("location",), date_range=None, emergency=EMER),
     expect("approve", [(A, "location", "grant")], due=H1, notify="withheld"))
case("j-exactly-max-targets", "25 targets is not overbroad.",
     order(targets=tuple(f"y{i}@example.com" for i in range(24)) + (A,)),
     expect("partial", [(f"y{i}@example.com", "subscriber", "no_data") for i in range(24)]
            + [(A, "subscriber", "grant")], ["no_data_found"]))
case("j-overbroad-nothing-found", "A trigger is reported even when no pair is left to review.",
     order(targets=tuple(f"z{i}@example.com" for i in range(26))),
     expect("no_data", [(f"z{i}@example.com", "subscriber", "no_data") for i in range(26)],
            ["no_data_found", "overbroad_targets"], notify="none"))

# K. Emergencies
case("k1-blank-facts", "An emergency request whose facts are white space.",
     order(instrument="emergency_request", issuer="police", emergency={**EMER, "facts": "   "}),
     refused("emergency_not_qualifying", due=H1))
case("k1-serious-physical-injury", "Serious physical injury qualifies.",
     order(instrument="emergency_request", issuer="police", emergency={**EMER, "threat": "serious_physical_injury"}),
     expect("approve", [(A, "subscriber", "grant")], due=H1, notify="withheld"))
case("k1-safety-of-person-is-eu-only", "`safety_of_person` qualifies an EPOC, not a US emergency request.",
     order(instrument="emergency_request", issuer="police", emergency={**EMER, "threat": "safety_of_person"}),
     refused("emergency_not_qualifying", due=H1))
case("k2-no-callback", "No callback recorded yet.",
     order(instrument="emergency_request", issuer="police", emergency={"threat": "death", "facts": FACTS}),
     expect("review", [(A, "subscriber", "review")], ["emergency_unverified"], due=H1, notify="withheld"))
case("k2-failed-callback", "A callback to the registry number that did not verify.",
     order(instrument="emergency_request", issuer="police",
           emergency={**EMER, "callback": {**CALLBACK, "verified": False}}),
     expect("review", [(A, "subscriber", "review")], ["emergency_unverified"], due=H1, notify="withheld"))
case("k3-verified-exactly-thirty-days", "An agency verified exactly 30 days ago is not new.",
     order(agency="us-edge-so", instrument="emergency_request", issuer="police", emergency=EMER),
     expect("approve", [(A, "subscriber", "grant")], due=H1, notify="withheld"))
case("k3-verified-one-second-short", "One second short of 30 days is new.",
     order(agency="us-newer-so", instrument="emergency_request", issuer="police", emergency=EMER),
     expect("review", [(A, "subscriber", "review")], ["new_requester"], due=H1, notify="withheld"))
case("k3-never-dated", "A verified agency with no `verified_since` is new.",
     order(agency="us-undated-pd", instrument="emergency_request", issuer="police", emergency=EMER),
     expect("review", [(A, "subscriber", "review")], ["new_requester"], due=H1, notify="withheld"))
case("k-all-emergency-triggers", "Unverified, new, and asking for content.",
     order(agency="us-lakeview-so", instrument="emergency_request", issuer="police", categories=("subscriber", "content"),
           emergency={"threat": "death", "facts": FACTS}),
     expect("review", [(A, "subscriber", "review"), (A, "content", "review")],
            ["emergency_content", "emergency_unverified", "new_requester"], due=H1, notify="withheld"))
case("k-epoc-emergency-needs-no-callback", "An emergency EPOC is binding: no callback, no new-requester check.",
     order(**EPOC, issuer="judge", emergency={"threat": "critical_infrastructure", "facts": FACTS}),
     expect("approve", [("jules@example.fr", "subscriber", "grant")], due=H8, notify="issuing_authority"))

# L. Secrecy orders and notice
def gag(kind="judge", until=None):
    g = {"issued_by": {"kind": kind}, "basis": "18 U.S.C. § 2705(b)"}
    if until:
        g["until"] = until
    return g


case("l-gag-lapsed-exactly-now", "A secrecy order ending at `now` has lapsed and counts as absent.",
     order(non_disclosure=gag(until=NOW)), expect("approve", [(A, "subscriber", "grant")]))
case("l-gag-one-second-left", "A secrecy order ending one second after `now`.",
     order(non_disclosure=gag(until="2026-11-28T12:00:01Z")),
     expect("approve", [(A, "subscriber", "grant")], notify="after", at="2026-11-28T12:00:01Z"))
case("l-gag-exactly-max-days", "A secrecy order of exactly 365 days is not long.",
     order(non_disclosure=gag(until="2027-11-28T12:00:00Z")),
     expect("approve", [(A, "subscriber", "grant")], notify="after", at="2027-11-28T12:00:00Z"))
case("l-gag-max-days-and-a-second", "One second over 365 days is a long gag.",
     order(non_disclosure=gag(until="2027-11-28T12:00:01Z")),
     expect("review", [(A, "subscriber", "review")], ["long_gag"], notify="after", at="2027-11-28T12:00:01Z"))
case("l-prosecutor-gag-without-end", "A US gag without a court binds nobody, with or without an end.",
     order(non_disclosure=gag(kind="prosecutor")),
     expect("approve", [(A, "subscriber", "grant")], ["gag_not_binding"]))
case("l-foreign-police-gag", "Outside the US a police secrecy order is taken as binding.",
     order(agency="gb-nca", targets=("emma@example.co.uk",), issuer="police",
           non_disclosure=gag(kind="police", until="2027-03-01T00:00:00Z")),
     expect("approve", [("emma@example.co.uk", "subscriber", "grant")], notify="after", at="2027-03-01T00:00:00Z"))
case("l-emergency-with-court-gag", "An emergency request with a court's secrecy order.",
     order(instrument="emergency_request", issuer="police", emergency=EMER,
           non_disclosure=gag(until="2027-02-01T00:00:00Z")),
     expect("approve", [(A, "subscriber", "grant")], due=H1, notify="after", at="2027-02-01T00:00:00Z"))
case("l-emergency-with-lapsed-gag", "A lapsed secrecy order on an emergency: notice is withheld until it is over.",
     order(instrument="emergency_request", issuer="police", emergency=EMER,
           non_disclosure=gag(until="2026-11-01T00:00:00Z")),
     expect("approve", [(A, "subscriber", "grant")], due=H1, notify="withheld"))
case("l-epoc-with-indefinite-gag", "EPOCs are confidential by law: no gag codes.",
     order(**EPOC, issuer="judge", non_disclosure=gag()),
     expect("approve", [("jules@example.fr", "subscriber", "grant")], notify="issuing_authority"))
case("l-preservation-with-indefinite-gag", "Preservations raise no gag codes and notify nobody.",
     order(instrument="preservation_request", issuer="police", date_range=None, non_disclosure=gag()),
     expect("approve", [(A, "subscriber", "preserve")], due=H24, preserve_until="2027-02-26T12:00:00Z", notify="none"))
case("l-gag-on-denied-order", "The gag trigger is reported even when every pair is denied.",
     order(categories=("content",), non_disclosure=gag()),
     expect("reject", [(A, "content", "deny")], ["category_not_authorized", "indefinite_gag"], notify="none"))
case("l-gag-on-no-data", "A long gag on an order that finds nothing.",
     order(targets=("nobody@example.com",), non_disclosure=gag(until="2029-01-01T00:00:00Z")),
     expect("no_data", [("nobody@example.com", "subscriber", "no_data")], ["no_data_found", "long_gag"], notify="none"))
case("l-nsl-gag-with-end", "An NSL gag binds without a court; with an end date notice follows it.",
     order(instrument="national_security_letter", issuer="agency_official",
           non_disclosure=gag(kind="agency_official", until="2027-05-01T00:00:00Z")),
     expect("review", [(A, "subscriber", "review")], ["nsl_review"], notify="after", at="2027-05-01T00:00:00Z"))

# M. Preservation
EPR = dict(agency="fr-ofac", instrument="epoc_pr", issuer="prosecutor", targets=("jules@example.fr",),
           categories=("content",), date_range=None)
case("m-epoc-pr-renewal", "A European Preservation Order renewed once: 30 more days.",
     order(**EPR, renews="FR-P-1"),
     expect("approve", [("jules@example.fr", "content", "preserve")], due=H24,
            preserve_until="2027-01-19T00:00:00Z", notify="none"),
     prior=[{"reference": "FR-P-1", "agency": "fr-ofac", "instrument": "epoc_pr",
             "preserve_until": "2026-12-20T00:00:00Z", "renewals": 0}])
case("m-epoc-pr-second-renewal", "No second renewal.",
     order(**EPR, renews="FR-P-1"), refused("renewal_limit", due=H24),
     prior=[{"reference": "FR-P-1", "agency": "fr-ofac", "instrument": "epoc_pr",
             "preserve_until": "2027-01-19T00:00:00Z", "renewals": 1}])
case("m-lapsed-hold-renewed-twice", "M3 is evaluated only for a hold that passed section B.",
     order(instrument="preservation_request", issuer="police", date_range=None, renews="P-1"),
     refused("invalid_order", due=H24),
     prior=[{"reference": "P-1", "agency": "us-fbi-wfo", "instrument": "preservation_request",
             "preserve_until": "2026-11-01T00:00:00Z", "renewals": 1}])
case("m-preservation-overbroad", "`preserve_until` is set from the statuses before the review triggers.",
     order(instrument="preservation_request", issuer="police", date_range=None,
           targets=tuple(f"w{i}@example.com" for i in range(25)) + (A,)),
     expect("review", [(f"w{i}@example.com", "subscriber", "no_data") for i in range(25)]
            + [(A, "subscriber", "review")], ["no_data_found", "overbroad_targets"], due=H24,
            preserve_until="2027-02-26T12:00:00Z", notify="none"))
case("m-preservation-nothing-found", "Nothing to preserve: no `preserve_until`.",
     order(instrument="preservation_request", issuer="police", date_range=None, targets=("nobody@example.com",)),
     expect("no_data", [("nobody@example.com", "subscriber", "no_data")], ["no_data_found"], due=H24, notify="none"))

# O. Real-time interception
case("o-real-time-on-subpoena", "Live interception goes to the legal team whatever the instrument.",
     order(assistance=["real_time_interception"]),
     expect("review", [(A, "subscriber", "review")], ["real_time_out_of_scope"]))

# P. Deadlines
case("p-respond-by-future", "A `respond_by` after `now` is the deadline.",
     order(respond_by="2026-12-01T09:30:00Z"),
     expect("approve", [(A, "subscriber", "grant")], due="2026-12-01T09:30:00Z"))
case("p-respond-by-now", "A `respond_by` equal to `now` falls back to the default.",
     order(respond_by=NOW), expect("approve", [(A, "subscriber", "grant")]))
case("p-respond-by-ignored-for-emergency", "An emergency is answered within the SLA whatever it asks.",
     order(instrument="emergency_request", issuer="police", emergency=EMER, respond_by="2026-12-20T00:00:00Z"),
     expect("approve", [(A, "subscriber", "grant")], due=H1, notify="withheld"))
case("p-respond-by-ignored-for-preservation", "Preservation is acted on within 24 hours.",
     order(instrument="preservation_request", issuer="police", date_range=None, respond_by="2026-12-20T00:00:00Z"),
     expect("approve", [(A, "subscriber", "preserve")], due=H24, preserve_until="2027-02-26T12:00:00Z", notify="none"))
case("p-refusal-owes-same-deadline", "A refusal is an answer too, owed by the order's deadline.",
     order(respond_by="2026-12-03T00:00:00Z", assistance=["provide_keys"]),
     refused("hacking_refused", due="2026-12-03T00:00:00Z"))


# Instants are exact: fractions of a second decide a boundary as whole seconds
# do, and an instant written with another UTC offset is the same instant.
HALF = "2026-11-28T12:00:00.5Z"  # now + 0.5 s
case("t-subpoena-expires-half-second-later", "`expires_at` half a second after `now`: the order has not expired.",
     order(expires_at=HALF), expect("approve", [(A, "subscriber", "grant")]))
case("t-expires-half-second-later-other-offset", "The same instant written at +01:00 has not expired either.",
     order(expires_at="2026-11-28T13:00:00.5+01:00"), expect("approve", [(A, "subscriber", "grant")]))
case("t-expired-half-second-earlier", "`expires_at` half a second before `now` has expired.",
     order(expires_at="2026-11-28T11:59:59.5Z"), refused("order_expired"))
case("t-issued-half-second-in-future", "`issued_at` half a second after `now` is in the future.",
     order(issued_at=HALF), refused("invalid_order"))
case("t-date-range-inverted-by-half-second", "`date_range.from` half a second after `to`.",
     order(date_range={"from": "2026-05-01T00:00:00.5Z", "to": "2026-05-01T00:00:00Z"}), refused("invalid_order"))
case("t-uk-order-half-second-short-of-three-months",
     "An overseas production order issued 3 months less half a second before `now` is alive for half a second.",
     order(**{**UK, "issued_at": "2026-08-28T12:00:00.5Z"}),
     expect("approve", [("emma@example.co.uk", "content", "grant")]))
case("t-uk-order-three-months-and-half-second", "Half a second past 3 months the order is quashed.",
     order(**{**UK, "issued_at": "2026-08-28T11:59:59.5Z"}), refused("order_expired"))
case("t-renewal-of-hold-ending-half-second-later", "A hold ending half a second after `now` has not lapsed: it is renewed.",
     order(instrument="preservation_request", issuer="police", date_range=None, renews="P-1"),
     expect("approve", [(A, "subscriber", "preserve")], due="2026-11-29T12:00:00Z",
            preserve_until="2027-02-26T12:00:00.5Z", notify="none"),
     prior=[{"reference": "P-1", "agency": "us-fbi-wfo", "instrument": "preservation_request",
             "preserve_until": HALF, "renewals": 0}])
case("t-second-renewal-of-hold-ending-half-second-later",
     "The same hold already renewed once: it passed section B, so `renewal_limit` refuses it.",
     order(instrument="preservation_request", issuer="police", date_range=None, renews="P-1"),
     refused("renewal_limit", due="2026-11-29T12:00:00Z"),
     prior=[{"reference": "P-1", "agency": "us-fbi-wfo", "instrument": "preservation_request",
             "preserve_until": HALF, "renewals": 1}])
case("t-renewal-of-hold-ended-half-second-earlier", "A hold that ended half a second before `now` has lapsed.",
     order(instrument="preservation_request", issuer="police", date_range=None, renews="P-1"),
     refused("invalid_order", due="2026-11-29T12:00:00Z"),
     prior=[{"reference": "P-1", "agency": "us-fbi-wfo", "instrument": "preservation_request",
             "preserve_until": "2026-11-28T11:59:59.5Z", "renewals": 1}])
case("t-judge-gag-max-days-and-half-second", "A judge's secrecy order ending 365 days and half a second after `now`.",
     order(non_disclosure=gag(until="2027-11-28T12:00:00.5Z")),
     expect("review", [(A, "subscriber", "review")], ["long_gag"], notify="after", at="2027-11-28T12:00:00.5Z"))
case("t-judge-gag-max-days-less-half-second", "Half a second short of 365 days is not long.",
     order(non_disclosure=gag(until="2027-11-28T11:59:59.5Z")),
     expect("approve", [(A, "subscriber", "grant")], notify="after", at="2027-11-28T11:59:59.5Z"))
FRESH = [
    {"id": "us-fresh-so", "name": "Fresh County Sheriff", "country": "US", "kind": "law_enforcement",
     "status": "verified", "verified_since": "2026-10-29T12:00:00.5Z"},
    {"id": "us-settled-so", "name": "Settled County Sheriff", "country": "US", "kind": "law_enforcement",
     "status": "verified", "verified_since": "2026-10-29T06:59:59.5-05:00"},
]
case("t-verified-half-second-short-of-thirty-days", "An agency verified 30 days less half a second ago is new.",
     order(agency="us-fresh-so", instrument="emergency_request", issuer="police", emergency=EMER),
     expect("review", [(A, "subscriber", "review")], ["new_requester"], due=H1, notify="withheld"), agencies=FRESH)
case("t-verified-thirty-days-and-half-second", "Verified 30 days and half a second ago (written at -05:00): not new.",
     order(agency="us-settled-so", instrument="emergency_request", issuer="police", emergency=EMER),
     expect("approve", [(A, "subscriber", "grant")], due=H1, notify="withheld"), agencies=FRESH)
case("t-prosecutor-gag-ending-half-second-later",
     "A prosecutor's secrecy order ending half a second after `now` is live, and binds nobody.",
     order(non_disclosure=gag(kind="prosecutor", until=HALF)),
     expect("approve", [(A, "subscriber", "grant")], ["gag_not_binding"]))
case("t-prosecutor-gag-ended-half-second-earlier",
     "A prosecutor's secrecy order that ended half a second before `now` has lapsed: no code.",
     order(non_disclosure=gag(kind="prosecutor", until="2026-11-28T11:59:59.5Z")),
     expect("approve", [(A, "subscriber", "grant")]))
case("t-respond-by-half-second-later", "A `respond_by` half a second after `now` is the deadline.",
     order(respond_by=HALF), expect("approve", [(A, "subscriber", "grant")], due=HALF))

# Identifiers: an `account_id` target matches the account's `id` only.
IMPOSTOR = [{"id": "acct-br-impostor", "identifiers": [{"kind": "account_id", "value": "acct-us-alice"},
                                                       {"kind": "account_id", "value": "acct-ghost"},
                                                       {"kind": "email", "value": "impostor@example.com.br"}],
             "data_location": "BR", "holder": {"us_person": False, "located_in": "BR"}, "status": "active"}]
case("h-account-id-ignores-directory-identifiers",
     "An identifier of kind `account_id` on another account, listed first, plays no part in matching.",
     order(targets=({"kind": "account_id", "value": "acct-us-alice"},)),
     expect("approve", [("account_id:acct-us-alice", "subscriber", "grant")]), accounts_before=IMPOSTOR)
case("h-account-id-only-as-identifier",
     "A value that is only an identifier of kind `account_id`, not an account's id, resolves to nothing.",
     order(targets=({"kind": "account_id", "value": "acct-ghost"},)),
     expect("no_data", [("account_id:acct-ghost", "subscriber", "no_data")], ["no_data_found"], notify="none"),
     accounts_before=IMPOSTOR)

# E, epoc row: `validation_pending` concerns the order, not the data.
case("e-validation-pending-nothing-found",
     "A qualifying emergency EPOC from the police whose target resolves to nothing still raises `validation_pending`.",
     order(**{**EPOC, "targets": ("nobody@example.com",)}, issuer="police",
           emergency={"threat": "death", "facts": FACTS}),
     expect("no_data", [("nobody@example.com", "subscriber", "no_data")], ["no_data_found", "validation_pending"],
            due=H8, notify="none"))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    names = set()
    for i, (name, description, o, e, submitted_by, now, prior, agencies, accounts_before) in enumerate(CASES, 1):
        assert name not in names, name
        names.add(name)
        o = {k: v for k, v in copy.deepcopy(o).items() if v is not None}
        if submitted_by == "__agency__":
            submitted_by = o["agency"]
        doc = {
            "name": name,
            "description": description,
            "now": now,
            "submitted_by": submitted_by,
            "agencies": AGENCIES + agencies,
            "accounts": accounts_before + ACCOUNTS,
            "prior": prior,
            "order": o,
            "expect": e,
        }
        (OUT / f"{i:03d}-{name}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(CASES)} cases to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
