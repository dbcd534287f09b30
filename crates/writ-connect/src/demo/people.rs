//! Who a demo account belongs to: the holder (name, job, city, address),
//! the people and senders they write with, and the mail they exchange.
//!
//! A few accounts of the demo directory have a written inbox ([`SCRIPTS`]);
//! every other account gets a holder and contacts drawn from its id and a
//! general set of threads ([`GENERAL`]). All names, addresses, companies and
//! texts are fictional; mail domains are `example.com`, `example.org` and
//! `example.net` (or the account's own).

use super::Rng;

/// Who a contact is to the account's holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    Landlord,
    Colleague,
    Family,
    Friend,
    Newsletter,
    Shop,
    Bank,
    Service,
}

/// A country the demo knows: phone prefix, currency, cities (with postcode
/// and coordinates) and street names.
#[derive(Debug)]
pub struct Country {
    pub code: &'static str,
    pub phone: &'static str,
    pub currency: &'static str,
    pub cities: &'static [City],
    pub streets: &'static [&'static str],
}

#[derive(Debug)]
pub struct City {
    pub name: &'static str,
    pub postcode: &'static str,
    pub lat: f64,
    pub lon: f64,
}

const fn city(name: &'static str, postcode: &'static str, lat: f64, lon: f64) -> City {
    City {
        name,
        postcode,
        lat,
        lon,
    }
}

/// The demo's countries. The position of a country is its slot in the
/// documentation address ranges (see `super::ip_block`).
pub const COUNTRIES: &[Country] = &[
    Country {
        code: "US",
        phone: "+1",
        currency: "$",
        cities: &[
            city("Washington", "20009", 38.921, -77.042),
            city("New York", "10027", 40.811, -73.953),
            city("Chicago", "60614", 41.922, -87.652),
        ],
        streets: &["Larkspur Row NW", "Maple Avenue", "Harbor Street"],
    },
    Country {
        code: "IE",
        phone: "+353",
        currency: "€",
        cities: &[
            city("Dublin", "D08 X2F5", 53.339, -6.281),
            city("Cork", "T12 K8AF", 51.897, -8.47),
            city("Galway", "H91 E2K3", 53.274, -9.049),
        ],
        streets: &["Rowan Terrace", "Mill Lane", "Quay View"],
    },
    Country {
        code: "DE",
        phone: "+49",
        currency: "€",
        cities: &[
            city("Berlin", "10115", 52.532, 13.385),
            city("Hamburg", "20095", 53.551, 10.0),
            city("Munich", "80331", 48.137, 11.575),
        ],
        streets: &["Lindenweg", "Am Kanal", "Birkenstraße"],
    },
    Country {
        code: "GB",
        phone: "+44",
        currency: "£",
        cities: &[
            city("London", "N1 7AA", 51.536, -0.083),
            city("Bristol", "BS1 4DJ", 51.454, -2.597),
            city("Manchester", "M1 1AE", 53.481, -2.237),
        ],
        streets: &["Orchard Road", "Weaver's Close", "Station Parade"],
    },
    Country {
        code: "FR",
        phone: "+33",
        currency: "€",
        cities: &[
            city("Lyon", "69003", 45.76, 4.85),
            city("Paris", "75011", 48.857, 2.38),
            city("Lille", "59000", 50.629, 3.057),
        ],
        streets: &["rue des Tilleuls", "quai des Mariniers", "rue du Four"],
    },
    Country {
        code: "BR",
        phone: "+55",
        currency: "R$",
        cities: &[
            city("São Paulo", "01310-000", -23.561, -46.656),
            city("Rio de Janeiro", "20040-002", -22.903, -43.176),
        ],
        streets: &["Rua das Palmeiras", "Avenida do Porto"],
    },
    Country {
        code: "IN",
        phone: "+91",
        currency: "₹",
        cities: &[
            city("Bengaluru", "560001", 12.972, 77.594),
            city("Mumbai", "400001", 18.94, 72.835),
        ],
        streets: &["Lake View Road", "Temple Street"],
    },
    Country {
        code: "DK",
        phone: "+45",
        currency: "kr",
        cities: &[
            city("Copenhagen", "1050", 55.676, 12.568),
            city("Aarhus", "8000", 56.157, 10.211),
        ],
        streets: &["Havnegade", "Kirkevej"],
    },
    Country {
        code: "NL",
        phone: "+31",
        currency: "€",
        cities: &[city("Amsterdam", "1012 AB", 52.373, 4.893)],
        streets: &["Lindengracht", "Molenstraat"],
    },
    Country {
        code: "ES",
        phone: "+34",
        currency: "€",
        cities: &[city("Madrid", "28013", 40.417, -3.704)],
        streets: &["Calle del Olivo", "Calle Mayor"],
    },
    Country {
        code: "PL",
        phone: "+48",
        currency: "zł",
        cities: &[city("Warsaw", "00-001", 52.23, 21.012)],
        streets: &["ul. Lipowa", "ul. Ogrodowa"],
    },
];

/// The country with this code, if the demo knows it.
pub fn country(code: &str) -> Option<(usize, &'static Country)> {
    COUNTRIES
        .iter()
        .enumerate()
        .find(|(_, c)| c.code.eq_ignore_ascii_case(code))
}

/// An attachment's file name (it may hold placeholders) and content type.
pub type Spec = (&'static str, &'static str);

/// One message of a thread: who writes it, what it says, and what it
/// carries.
#[derive(Debug)]
pub struct Msg {
    /// Written by the account's holder (else by the contact).
    pub mine: bool,
    pub body: &'static str,
    /// File name and content type of an attachment.
    pub attach: Option<Spec>,
}

const fn me(body: &'static str) -> Msg {
    Msg {
        mine: true,
        body,
        attach: None,
    }
}

const fn them(body: &'static str) -> Msg {
    Msg {
        mine: false,
        body,
        attach: None,
    }
}

const fn me_with(body: &'static str, name: &'static str, kind: &'static str) -> Msg {
    Msg {
        mine: true,
        body,
        attach: Some((name, kind)),
    }
}

const fn them_with(body: &'static str, name: &'static str, kind: &'static str) -> Msg {
    Msg {
        mine: false,
        body,
        attach: Some((name, kind)),
    }
}

const PDF: &str = "application/pdf";
const JPEG: &str = "image/jpeg";
const PNG: &str = "image/png";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
const ICS: &str = "text/calendar";

/// A conversation with one contact. Replies follow one another under
/// `Re: <subject>`; a `series` (a newsletter, receipts, statements) is a run
/// of separate messages, each under its own subject.
#[derive(Debug)]
pub struct Thread {
    /// The contact's position in the holder's contacts.
    pub with: usize,
    pub subject: &'static str,
    pub msgs: &'static [Msg],
    pub series: bool,
}

const fn thread(with: usize, subject: &'static str, msgs: &'static [Msg]) -> Thread {
    Thread {
        with,
        subject,
        msgs,
        series: false,
    }
}

const fn series(with: usize, subject: &'static str, msgs: &'static [Msg]) -> Thread {
    Thread {
        with,
        subject,
        msgs,
        series: true,
    }
}

/// Short replies by the holder, for a conversation that runs longer than
/// its script.
pub const FOLLOW_UPS_MINE: &[&str] = &[
    "Thanks, {them}, that works for me.\n\n{me}",
    "Sounds good. Talk soon.\n\n{me}",
    "Great, I'll let you know if anything changes.\n\n{me}",
];

/// Short replies by the contact.
pub const FOLLOW_UPS_THEIRS: &[&str] = &[
    "Perfect, thank you!\n\n{them}",
    "Got it. Speak soon.\n\n{them}",
    "All sorted on my side.\n\n{them}",
];

/// A demo account's holder with a written inbox.
#[derive(Debug)]
pub struct Script {
    pub account: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub job: &'static str,
    pub employer: &'static str,
    pub country: &'static str,
    pub city: &'static str,
    pub street: &'static str,
    pub phone: &'static str,
    /// Name, address and relation of each contact.
    pub contacts: &'static [(&'static str, &'static str, Rel)],
    pub threads: &'static [Thread],
}

/// A demo account whose holder and contacts follow from its id: the
/// account's address and where its holder lives.
#[derive(Debug)]
pub struct Known {
    pub account: &'static str,
    pub email: &'static str,
    pub country: &'static str,
}

/// The corpus fixture's accounts without a written inbox
/// (`crates/writ-gateway/fixtures/demo.json`).
pub const KNOWN: &[Known] = &[
    Known {
        account: "acct-us-bob",
        email: "bob@example.com",
        country: "US",
    },
    Known {
        account: "acct-gb-frank",
        email: "frank@example.com",
        country: "GB",
    },
    Known {
        account: "acct-br-gabriel",
        email: "gabriel@example.com.br",
        country: "BR",
    },
    Known {
        account: "acct-us-hana",
        email: "hana@example.com",
        country: "US",
    },
    Known {
        account: "acct-ie-ivan",
        email: "ivan@example.ie",
        country: "US",
    },
    Known {
        account: "acct-in-kiran",
        email: "kiran@example.in",
        country: "IN",
    },
    Known {
        account: "acct-us-lena",
        email: "lena@example.com",
        country: "US",
    },
    Known {
        account: "acct-de-marta",
        email: "marta@example.de",
        country: "DE",
    },
];

/// The regions of the gateway's synthetic accounts, `acct-demo-<n>` being
/// in `REGIONS[n % 8]` (`writ_gateway::demo`).
pub const REGIONS: &[&str] = &["US", "IE", "DE", "GB", "FR", "BR", "IN", "DK"];

/// The accounts with a written inbox.
pub const SCRIPTS: &[Script] = &[ALICE, CIARA, DIETER, EMMA, JULES];

const ALICE: Script = Script {
    account: "acct-us-alice",
    name: "Alice Whitfield",
    email: "alice@example.com",
    job: "Landscape architect",
    employer: "Rivergate Design",
    country: "US",
    city: "Washington",
    street: "218 Larkspur Row NW, Apt 3B",
    phone: "+1 202 555 0101",
    contacts: &[
        (
            "Gerald Pruitt",
            "gerald@larkspur-homes.example.com",
            Rel::Landlord,
        ),
        (
            "Priya Raman",
            "priya.raman@rivergate.example.com",
            Rel::Colleague,
        ),
        (
            "Margaret Whitfield",
            "maggie.whitfield@example.net",
            Rel::Family,
        ),
        ("Tom Whitfield", "tom.whitfield@example.org", Rel::Family),
        ("Jess Okoro", "jess.okoro@example.com", Rel::Friend),
        (
            "The Adams Corner Ledger",
            "newsletter@ledger.example.org",
            Rel::Newsletter,
        ),
        (
            "Corner Market Online",
            "orders@cornermarket.example.com",
            Rel::Shop,
        ),
        (
            "First Example Bank",
            "statements@firstbank.example.com",
            Rel::Bank,
        ),
        (
            "Dr. Lee's Dental Office",
            "appointments@leedental.example.net",
            Rel::Service,
        ),
        (
            "Sam Ortiz",
            "sam.ortiz@rivergate.example.com",
            Rel::Colleague,
        ),
    ],
    threads: &[
        thread(
            0,
            "Lease renewal for Apt 3B",
            &[
                them_with(
                    "Hi Alice,\n\nYour lease on 3B runs out at the end of next month. The owners are happy to renew for another twelve months; the rent goes up by 3%. The new lease is attached, please read it through and sign the last page if it all looks right.\n\nBest,\nGerald Pruitt\nLarkspur Homes, property management",
                    "lease-{year}.pdf",
                    PDF,
                ),
                me(
                    "Hi Gerald,\n\nThanks for sending this. 3% is fine. Could you confirm that the parking space stays included? It isn't mentioned on page 2.\n\nAlice",
                ),
                them(
                    "Yes, space 14 stays with the apartment. I'll add a line to page 2 and send a clean copy.\n\nGerald",
                ),
                me_with(
                    "Signed copy attached. Thanks!\n\nAlice",
                    "lease-{year}-signed.pdf",
                    PDF,
                ),
            ],
        ),
        thread(
            0,
            "Radiator in the bedroom",
            &[
                me(
                    "Hi Gerald,\n\nThe radiator in the bedroom has been knocking all night and barely gets warm. Could someone take a look this week? I'm home after 5:30 on weekdays.\n\nThanks,\nAlice",
                ),
                them(
                    "Hi Alice, sorry about that. Our plumber, Dave, can come Thursday between 6 and 7 pm. Does that work?\n\nGerald",
                ),
                me("Thursday works. I'll be in.\n\nAlice"),
                them(
                    "Dave says it needed bleeding and a new valve. Let me know if it acts up again.\n\nGerald",
                ),
            ],
        ),
        series(
            0,
            "Building notice: {date}",
            &[
                them(
                    "Dear residents,\n\nThe water will be off on Tuesday from 9 am to about 1 pm while the riser in the basement is replaced. We're sorry for the inconvenience.\n\nLarkspur Homes",
                ),
                them(
                    "Dear residents,\n\nThe fire alarms will be tested on Thursday morning between 10 and 11. There is no need to leave the building.\n\nLarkspur Homes",
                ),
                them(
                    "Dear residents,\n\nThe hallways on floors 2 and 3 will be painted next week. Please keep doormats and shoes inside your apartment until Friday.\n\nLarkspur Homes",
                ),
            ],
        ),
        thread(
            1,
            "Elm Park planting plan, draft 2",
            &[
                them_with(
                    "Alice,\n\nHere is draft 2 of the planting plan. I swapped the birches along the path for serviceberries as the city asked, and moved the rain garden closer to the playground. Can you check the plant counts before Friday?\n\nPriya",
                    "elm-park-planting-v2.pdf",
                    PDF,
                ),
                me(
                    "Looks good. Two notes: the serviceberries on the north side will be in shade most of the day, and we're short about 40 plugs of sedge for the rain garden. I've marked both on the PDF.\n\nAlice",
                ),
                them(
                    "Good catch on the shade. I'll move them south and add the sedge. Draft 3 tomorrow.\n\nPriya",
                ),
            ],
        ),
        thread(
            1,
            "Slides for the council meeting",
            &[
                me_with(
                    "Hi Priya,\n\nHere's the deck for Monday. I kept it to twelve slides. Can you add the cost table on slide 9? I don't have the latest figures.\n\nThanks,\nAlice",
                    "council-deck-v3.pptx",
                    PPTX,
                ),
                them_with(
                    "Added, and I updated the totals. The contingency is now 8%.\n\nPriya",
                    "council-deck-v4.pptx",
                    PPTX,
                ),
                me("Great, thank you. See you at 9 on Monday.\n\nAlice"),
            ],
        ),
        thread(
            9,
            "Site visit moved to Thursday",
            &[
                them(
                    "Hi Alice,\n\nThe contractor can't make Wednesday, so the site visit at Elm Park is now Thursday at 10. Bring boots; it rained all week.\n\nSam",
                ),
                me("Thursday at 10 is fine. I'll bring the survey drawings.\n\nAlice"),
            ],
        ),
        thread(
            9,
            "Timesheet for {month}",
            &[them_with(
                "Hi all,\n\nPlease fill in your {month} timesheets by Friday. The template is attached in case you lost it.\n\nThanks,\nSam Ortiz\nOffice manager, Rivergate Design",
                "timesheet-{month}.xlsx",
                XLSX,
            )],
        ),
        thread(
            2,
            "Coming home for the long weekend?",
            &[
                them(
                    "Hi sweetheart,\n\nAre you and Jess still coming up for the long weekend? Your father wants to know whether to get the big roast. Tom is bringing the kids on Friday night.\n\nLove,\nMom",
                ),
                me(
                    "Hi Mom,\n\nYes, we'll drive up Friday after work, so probably late. Get the big one, Tom's kids eat a lot. I'll bring the pies.\n\nLove,\nAlice",
                ),
                them("Wonderful. I'll make up the spare room. Drive safely.\n\nMom"),
            ],
        ),
        thread(
            2,
            "Photos from the lake",
            &[
                them_with(
                    "Here are the pictures from the weekend at the lake. Your father finally caught something! Look at the one of you and Tom on the dock.\n\nMom",
                    "IMG_{n}.jpg",
                    JPEG,
                ),
                me("These are lovely, thank you. I'm printing the dock one for my desk.\n\nAlice"),
            ],
        ),
        thread(
            3,
            "Dad's birthday present",
            &[
                them(
                    "Hey Al,\n\nDad turns 65 next month. I was thinking we go in together on the new fishing rod he keeps talking about, about $180. Half each?\n\nTom",
                ),
                me(
                    "Good idea, count me in. Send me your half of the card too and I'll mail it.\n\nAlice",
                ),
                them(
                    "Ordered. I'll send you my bank details, or just pay me back when you're up next.\n\nTom",
                ),
            ],
        ),
        thread(
            4,
            "Hiking on Saturday?",
            &[
                them(
                    "Hi Alice!\n\nThe weather looks good for Saturday. Do you want to do the river trail loop? I can pick you up at 8.\n\nJess",
                ),
                me("Yes please! I'll bring lunch. 8 is fine.\n\nAlice"),
                them("Great. Don't forget the bug spray this time.\n\nJess"),
            ],
        ),
        thread(
            4,
            "Book club: next pick",
            &[
                me(
                    "Hi Jess,\n\nIt's my turn to pick for book club. I'm torn between a mystery set in Lisbon and a memoir about a lighthouse keeper. Thoughts?\n\nAlice",
                ),
                them("The lighthouse one, definitely. Everyone liked the last memoir.\n\nJess"),
            ],
        ),
        series(
            5,
            "This week in Adams Corner: {date}",
            &[
                them_with(
                    "THE ADAMS CORNER LEDGER\n\nThis week: the farmers market moves indoors for the winter, the library extends its Sunday hours, and the neighbourhood association meets on Tuesday at 7 pm in the community hall.\n\nYou are receiving this because you signed up at ledger.example.org. Unsubscribe: https://ledger.example.org/unsubscribe",
                    "ledger-header.png",
                    PNG,
                ),
                them(
                    "THE ADAMS CORNER LEDGER\n\nThis week: a new bike lane on 18th Street, the spring cleanup volunteers list, and a recipe from the bakery on the corner.\n\nUnsubscribe: https://ledger.example.org/unsubscribe",
                ),
            ],
        ),
        series(
            6,
            "Your order #{n} has shipped",
            &[them_with(
                "Hello Alice,\n\nGood news: your order #{n} is on its way and should arrive within two days.\n\n1 x Bag of coffee beans, 1 lb\n1 x Dish soap, refill\n1 x Oat milk, 6 pack\n\nTotal: {money}\n\nYour receipt is attached.\n\nCorner Market Online",
                "receipt-{n}.pdf",
                PDF,
            )],
        ),
        series(
            7,
            "Your {month} statement is ready",
            &[them_with(
                "Dear Alice Whitfield,\n\nYour statement for {month} {year} for the account ending 4417 is ready. Please sign in to view it online.\n\nThis is an automated message, please do not reply.\nFirst Example Bank",
                "statement-{month}-{year}.pdf",
                PDF,
            )],
        ),
        series(
            8,
            "Reminder: your appointment on {date}",
            &[them_with(
                "Hello Alice,\n\nThis is a reminder of your cleaning appointment with Dr. Lee on {date} at 8:30 am. To reschedule, please call the office at least 24 hours ahead.\n\nDr. Lee's Dental Office",
                "appointment.ics",
                ICS,
            )],
        ),
    ],
};

const CIARA: Script = Script {
    account: "acct-ie-ciara",
    name: "Ciara Byrne",
    email: "ciara@example.ie",
    job: "Chemistry teacher",
    employer: "Rathmore Community School",
    country: "IE",
    city: "Dublin",
    street: "14 Rowan Terrace",
    phone: "+353 1 555 0142",
    contacts: &[
        ("Niamh Byrne", "niamh.byrne@example.net", Rel::Family),
        (
            "Declan Moran",
            "d.moran@rathmore-school.example.org",
            Rel::Colleague,
        ),
        (
            "Quayside Lettings",
            "lettings@quayside.example.com",
            Rel::Landlord,
        ),
        ("Aoife Kelly", "aoife.kelly@example.com", Rel::Friend),
        ("Liffey Power", "billing@liffeypower.example.com", Rel::Bank),
    ],
    threads: &[
        thread(
            0,
            "Mam's 60th",
            &[
                them(
                    "Ciara,\n\nI booked the back room at the pub in Howth for Mam's 60th on the Saturday. Can you do the cake? Don't tell her, she thinks we're just going for dinner.\n\nNiamh x",
                ),
                me(
                    "Brilliant. I'll get the cake from the bakery on Camden Street. What time do we need to be there?\n\nC",
                ),
                them("Half seven. Dad is bringing her at eight.\n\nN"),
            ],
        ),
        thread(
            1,
            "Transition Year lab rota",
            &[
                them_with(
                    "Hi Ciara,\n\nAttached is the lab rota for the Transition Year groups after the mid-term. You have the Wednesday double. Let me know if that clashes with anything.\n\nDeclan",
                    "ty-lab-rota.docx",
                    DOCX,
                ),
                me(
                    "Wednesday is grand. Can I swap the week of the 14th with you? I'm at a training day.\n\nCiara",
                ),
            ],
        ),
        thread(
            2,
            "Rent review, 14 Rowan Terrace",
            &[
                them_with(
                    "Dear Ms Byrne,\n\nPlease find attached the notice of rent review for 14 Rowan Terrace, effective in 90 days as required.\n\nKind regards,\nQuayside Lettings",
                    "rent-review-notice.pdf",
                    PDF,
                ),
                me(
                    "Thank you. Could you confirm the boiler service is booked before the winter?\n\nCiara Byrne",
                ),
            ],
        ),
        thread(
            3,
            "Sea swim Sunday",
            &[
                them("Forty Foot on Sunday morning? Tide's in at 9.\n\nAoife"),
                me_with(
                    "I'm in! Here's the photo from last time, we look frozen.\n\nC",
                    "IMG_{n}.jpg",
                    JPEG,
                ),
            ],
        ),
        series(
            4,
            "Your Liffey Power bill for {month}",
            &[them_with(
                "Hello Ciara,\n\nYour bill for {month} is {money}, due in 14 days by direct debit. Your bill is attached.\n\nLiffey Power",
                "bill-{month}-{year}.pdf",
                PDF,
            )],
        ),
    ],
};

const DIETER: Script = Script {
    account: "acct-de-dieter",
    name: "Dieter Hartmann",
    email: "dieter@example.de",
    job: "Logistics coordinator",
    employer: "Elbtor Shipping",
    country: "DE",
    city: "Hamburg",
    street: "Am Kanal 7",
    phone: "+49 40 5550 1187",
    contacts: &[
        (
            "Hausverwaltung Lindner",
            "verwaltung@lindner-haus.example.com",
            Rel::Landlord,
        ),
        ("Katrin Vogel", "k.vogel@elbtor.example.com", Rel::Colleague),
        ("Lena Hartmann", "lena.hartmann@example.net", Rel::Family),
        (
            "Ruderclub Alster",
            "vorstand@rc-alster.example.org",
            Rel::Newsletter,
        ),
    ],
    threads: &[
        thread(
            0,
            "Nebenkostenabrechnung {year}",
            &[
                them_with(
                    "Sehr geehrter Herr Hartmann,\n\nanbei erhalten Sie die Nebenkostenabrechnung für Ihre Wohnung Am Kanal 7. Es ergibt sich eine Nachzahlung von {money}.\n\nMit freundlichen Grüßen\nHausverwaltung Lindner",
                    "nebenkosten-{year}.pdf",
                    PDF,
                ),
                me(
                    "Sehr geehrte Damen und Herren,\n\nvielen Dank. Könnten Sie mir die Ablesewerte der Heizung schicken? Der Betrag erscheint mir hoch.\n\nDieter Hartmann",
                ),
            ],
        ),
        thread(
            1,
            "Container delays, week {n}",
            &[
                them_with(
                    "Hi Dieter,\n\nThree containers for the Rotterdam run are stuck at customs. Updated schedule attached. Can you let the client know before noon?\n\nKatrin",
                    "schedule-week-{n}.xlsx",
                    XLSX,
                ),
                me("Done, they're fine with Thursday delivery. Thanks for the heads-up.\n\nDieter"),
            ],
        ),
        thread(
            2,
            "Besuch am Wochenende",
            &[
                them(
                    "Hallo Papa,\n\nkann ich am Wochenende mit Jonas vorbeikommen? Wir bringen Kuchen mit.\n\nLena",
                ),
                me("Sehr gern! Ich koche Samstag Abend. Bis dann.\n\nPapa"),
            ],
        ),
        series(
            3,
            "Vereinsnachrichten {month}",
            &[them(
                "Liebe Mitglieder,\n\ndas Anrudern findet am ersten Sonntag im Monat statt, Treffpunkt 10 Uhr am Bootshaus. Bitte tragt euch in die Liste ein.\n\nDer Vorstand",
            )],
        ),
    ],
};

const EMMA: Script = Script {
    account: "acct-gb-emma",
    name: "Emma Clarke",
    email: "emma@example.co.uk",
    job: "Freelance illustrator",
    employer: "self-employed",
    country: "GB",
    city: "Bristol",
    street: "3 Weaver's Close",
    phone: "+44 117 496 0733",
    contacts: &[
        (
            "Oliver Grant",
            "oliver@hillside-books.example.com",
            Rel::Colleague,
        ),
        ("Hannah Clarke", "hannah.clarke@example.net", Rel::Family),
        (
            "Redbrick Lettings",
            "info@redbrick-lettings.example.com",
            Rel::Landlord,
        ),
        ("Maya Patel", "maya.patel@example.org", Rel::Friend),
        (
            "Inkwell Print Shop",
            "orders@inkwell.example.com",
            Rel::Shop,
        ),
        (
            "Studio Notes",
            "hello@studionotes.example.org",
            Rel::Newsletter,
        ),
    ],
    threads: &[
        thread(
            0,
            "Cover sketches for The Quiet Harbour",
            &[
                me_with(
                    "Hi Oliver,\n\nHere are three rough directions for the cover. I like the second one best, with the lighthouse small in the corner.\n\nEmma",
                    "quiet-harbour-sketches.pdf",
                    PDF,
                ),
                them(
                    "We love number two. Could the title sit a bit higher so it reads at thumbnail size?\n\nOliver",
                ),
                me_with(
                    "Moved up. Final at full size attached.\n\nEmma",
                    "quiet-harbour-cover-final.png",
                    PNG,
                ),
                them_with(
                    "Perfect. Invoice details below; please send yours when you can.\n\nOliver",
                    "purchase-order-{n}.pdf",
                    PDF,
                ),
            ],
        ),
        thread(
            0,
            "Invoice {n}",
            &[
                me_with(
                    "Hi Oliver,\n\nPlease find my invoice for the cover attached, payable within 30 days.\n\nThanks,\nEmma Clarke",
                    "invoice-{n}.pdf",
                    PDF,
                ),
                them("Thanks Emma, passed to accounts.\n\nOliver"),
            ],
        ),
        thread(
            1,
            "Sunday lunch",
            &[
                them(
                    "Are you coming to Mum's on Sunday? She's doing a roast. Bring the dog.\n\nHan",
                ),
                me("Yes, we'll be there around one. I'll bring a crumble.\n\nEm"),
            ],
        ),
        thread(
            2,
            "Inspection visit",
            &[
                them(
                    "Dear Emma,\n\nWe'd like to carry out the routine inspection of 3 Weaver's Close next Tuesday morning. Please let us know if this is not convenient.\n\nRedbrick Lettings",
                ),
                me(
                    "Tuesday morning is fine. The bathroom extractor fan has stopped working, could that be looked at too?\n\nEmma",
                ),
            ],
        ),
        thread(
            3,
            "Drawing club Thursday",
            &[
                them_with(
                    "Still on for drawing club? I finished the fox one.\n\nMaya",
                    "IMG_{n}.jpg",
                    JPEG,
                ),
                me("Love it! See you at the café at 7.\n\nEmma"),
            ],
        ),
        series(
            4,
            "Order {n} confirmed",
            &[them_with(
                "Thanks for your order with Inkwell Print Shop.\n\n50 x A5 art prints, matte\nTotal: {money}\n\nYour receipt is attached.",
                "receipt-{n}.pdf",
                PDF,
            )],
        ),
        series(
            5,
            "Studio Notes: {month} issue",
            &[them(
                "STUDIO NOTES\n\nThis month: pricing commissions, a look at riso printing, and open calls for illustrators.\n\nUnsubscribe: https://studionotes.example.org/unsubscribe",
            )],
        ),
    ],
};

const JULES: Script = Script {
    account: "acct-ie-jules",
    name: "Jules Moreau",
    email: "jules@example.fr",
    job: "Software tester",
    employer: "Tisserand Labs",
    country: "FR",
    city: "Lyon",
    street: "12 rue des Tilleuls",
    phone: "+33 4 55 50 12 34",
    contacts: &[
        (
            "Camille Roux",
            "camille.roux@tisserand.example.com",
            Rel::Colleague,
        ),
        (
            "Agence Saône Immobilier",
            "gestion@saone-immo.example.com",
            Rel::Landlord,
        ),
        ("Hélène Moreau", "helene.moreau@example.net", Rel::Family),
        ("Karim Benali", "karim.benali@example.org", Rel::Friend),
        (
            "Vélo Lyon Club",
            "contact@velo-lyon.example.org",
            Rel::Newsletter,
        ),
    ],
    threads: &[
        thread(
            0,
            "Test report, release {n}",
            &[
                me_with(
                    "Hi Camille,\n\nThe test report for the release is attached. Two blockers left, both in the export screen. I've filed them.\n\nJules",
                    "test-report-{n}.xlsx",
                    XLSX,
                ),
                them(
                    "Thanks. The fix for the first one is in review; we'll ship on Thursday if the second one is minor.\n\nCamille",
                ),
                me("Second one is minor. Thursday it is.\n\nJules"),
            ],
        ),
        thread(
            1,
            "Quittance de loyer",
            &[
                me(
                    "Bonjour,\n\nPourriez-vous m'envoyer la quittance de loyer du mois dernier ? J'en ai besoin pour un dossier.\n\nJules Moreau",
                ),
                them_with(
                    "Bonjour M. Moreau,\n\nVeuillez trouver ci-joint votre quittance.\n\nCordialement,\nAgence Saône Immobilier",
                    "quittance-{month}-{year}.pdf",
                    PDF,
                ),
            ],
        ),
        thread(
            2,
            "Dimanche chez nous",
            &[
                them(
                    "Coucou Jules,\n\nTu viens déjeuner dimanche ? Ta sœur sera là avec les enfants.\n\nBisous,\nMaman",
                ),
                me("Oui, j'apporte le dessert. À dimanche !\n\nJules"),
            ],
        ),
        thread(
            3,
            "Match on Saturday",
            &[
                them("Five-a-side on Saturday at 10? We're one short.\n\nKarim"),
                me("Count me in. Same pitch as last time?\n\nJules"),
                them_with(
                    "Yes. Here's the team photo from last week.\n\nKarim",
                    "IMG_{n}.jpg",
                    JPEG,
                ),
            ],
        ),
        series(
            4,
            "La lettre du club, {month}",
            &[them(
                "VÉLO LYON CLUB\n\nCe mois-ci : sortie du dimanche vers les monts d'Or, atelier réparation le mercredi soir.\n\nSe désabonner : https://velo-lyon.example.org/desabonnement",
            )],
        ),
    ],
};

/// The threads of an account without a written inbox. Contacts are laid out
/// as in [`general_contacts`].
pub const GENERAL: &[Thread] = &[
    thread(
        0,
        "Repairs at the flat",
        &[
            me(
                "Hello,\n\nThe kitchen tap has been dripping for a week and is getting worse. Could someone come and look at it?\n\nThanks,\n{me}",
            ),
            them(
                "Thanks for letting us know. A plumber will call you to arrange a time.\n\n{them}",
            ),
            me("Fixed, thank you.\n\n{me}"),
        ],
    ),
    thread(
        0,
        "Your tenancy agreement",
        &[them_with(
            "Dear {me},\n\nAttached is your tenancy agreement for the coming year. Please sign and return it within two weeks.\n\nRegards,\n{them}",
            "tenancy-{year}.pdf",
            PDF,
        )],
    ),
    thread(
        1,
        "Notes from today's meeting",
        &[
            them_with(
                "Hi {me},\n\nNotes from this morning attached. Action items for you: update the budget sheet and send the client the revised timeline.\n\n{them}",
                "meeting-notes.docx",
                DOCX,
            ),
            me("Thanks, {them}. I'll have both done by Thursday.\n\n{me}"),
        ],
    ),
    thread(
        1,
        "Quarterly figures",
        &[
            me_with(
                "Hi {them},\n\nHere are the numbers for the quarter. Sales are up a little; costs are flat.\n\n{me}",
                "q-figures-{year}.xlsx",
                XLSX,
            ),
            them("Looks good. Can you add last year's quarter for comparison?\n\n{them}"),
            me("Added in a second tab.\n\n{me}"),
        ],
    ),
    thread(
        2,
        "Weekend visit",
        &[
            them(
                "Hi love,\n\nAre you still coming this weekend? I'll make your favourite.\n\n{them}",
            ),
            me("Yes! I'll be there Saturday around noon.\n\n{me}"),
        ],
    ),
    thread(
        2,
        "Photos",
        &[
            them_with(
                "Some photos from the garden. The roses are out at last.\n\n{them}",
                "IMG_{n}.jpg",
                JPEG,
            ),
            me("Beautiful! Send more.\n\n{me}"),
        ],
    ),
    thread(
        3,
        "Dinner next week?",
        &[
            me("Hey {them}, it's been ages. Dinner next week? Tuesday or Wednesday?\n\n{me}"),
            them("Wednesday! The new place near the station?\n\n{them}"),
            me("Booked for 7:30.\n\n{me}"),
        ],
    ),
    thread(
        3,
        "Trip plans",
        &[
            them_with(
                "I drafted a plan for the trip, have a look. Trains are cheaper if we book this week.\n\n{them}",
                "trip-plan.docx",
                DOCX,
            ),
            me("Looks great. I'll book the trains tonight.\n\n{me}"),
        ],
    ),
    series(
        4,
        "Community news: {month} {year}",
        &[them(
            "COMMUNITY NEWS\n\nThis month: road works on the high street, the library's reading group, and the summer fair needs volunteers.\n\nUnsubscribe at any time from the link in your account settings.",
        )],
    ),
    series(
        5,
        "Your order #{n}",
        &[them_with(
            "Hello {me},\n\nThank you for your order #{n}. Total: {money}. Your receipt is attached.\n\n{them}",
            "receipt-{n}.pdf",
            PDF,
        )],
    ),
    series(
        6,
        "Your {month} statement",
        &[them_with(
            "Dear {me_full},\n\nYour statement for {month} {year} is ready. This is an automated message.\n\n{them}",
            "statement-{month}-{year}.pdf",
            PDF,
        )],
    ),
];

pub const FIRST: &[&str] = &[
    "Ada", "Bram", "Chloe", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kemal",
    "Lena", "Marta", "Nils", "Olga", "Pavel",
];
pub const LAST: &[&str] = &[
    "Ahn",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
];
pub const JOBS: &[(&str, &str)] = &[
    ("Accountant", "Tidewell Partners"),
    ("Nurse", "Harbourside Clinic"),
    ("Civil engineer", "Brightwater Engineering"),
    ("Teacher", "Northgate School"),
    ("Data analyst", "Copperleaf Analytics"),
    ("Architect", "Harbor & Pine"),
    ("Chef", "The Green Table"),
    ("Sales manager", "Greenway Supplies"),
];
const LANDLORDS: &[&str] = &["Oakridge Lettings", "Parkside Homes", "Stonebridge Estates"];
const NEWSLETTERS: &[&str] = &[
    "Neighbourhood News",
    "The Weekly Post",
    "Town Hall Bulletin",
];
const SHOPS: &[&str] = &["Corner Market Online", "Pine & Thread", "Lantern Books"];
const BANKS: &[&str] = &["First Example Bank", "Harbour Savings", "Northern Mutual"];

/// An address part made of a name: lower case, letters and digits, words
/// joined by `sep`.
pub fn slug(name: &str, sep: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join(sep)
}

fn pick_str(items: &[&'static str], r: u64) -> &'static str {
    super::word(items, r)
}

/// The contacts of an account without a written inbox, in the order
/// [`GENERAL`] refers to them: landlord, colleague, family, friend,
/// newsletter, shop, bank. No two people (the holder among them) share a
/// first name.
pub fn general_contacts(
    seed: u64,
    me: &str,
    last: &str,
    employer: &str,
) -> Vec<(String, String, Rel)> {
    let mut r = Rng::new(seed ^ 0xc0_47ac, 0);
    let mut taken = vec![me.to_owned()];
    let mut person = |r: &mut Rng, last: Option<&str>, domain: &str| {
        let mut first = pick_str(FIRST, r.next());
        while taken.iter().any(|t| t == first) {
            first = pick_str(FIRST, r.next());
        }
        taken.push(first.to_owned());
        let last = last.unwrap_or_else(|| pick_str(LAST, r.next()));
        (
            format!("{first} {last}"),
            format!(
                "{}.{}@{domain}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase()
            ),
        )
    };
    let domains = ["example.com", "example.org", "example.net"];
    let work = format!("{}.example.com", slug(employer, "-"));
    let landlord = pick_str(LANDLORDS, r.next());
    let newsletter = pick_str(NEWSLETTERS, r.next());
    let shop = pick_str(SHOPS, r.next());
    let bank = pick_str(BANKS, r.next());
    let colleague = person(&mut r, None, &work);
    let family_domain = pick_str(&domains, r.next());
    let family = person(&mut r, Some(last), family_domain);
    let friend_domain = pick_str(&domains, r.next());
    let friend = person(&mut r, None, friend_domain);
    vec![
        (
            landlord.to_owned(),
            format!("office@{}.example.com", slug(landlord, "-")),
            Rel::Landlord,
        ),
        (colleague.0, colleague.1, Rel::Colleague),
        (family.0, family.1, Rel::Family),
        (friend.0, friend.1, Rel::Friend),
        (
            newsletter.to_owned(),
            format!("news@{}.example.org", slug(newsletter, "-")),
            Rel::Newsletter,
        ),
        (
            shop.to_owned(),
            format!("orders@{}.example.com", slug(shop, "-")),
            Rel::Shop,
        ),
        (
            bank.to_owned(),
            format!("statements@{}.example.com", slug(bank, "-")),
            Rel::Bank,
        ),
    ]
}

/// An attachment for a message whose script names none but which is
/// large, if that kind of contact would send one: photos between family and
/// friends, the logo in a colleague's signature, a newsletter's header
/// image, a shop's or bank's PDF.
pub fn usual_attachment(rel: Rel, mine: bool) -> Option<Spec> {
    match (rel, mine) {
        (Rel::Family | Rel::Friend, _) => Some(("IMG_{n}.jpg", JPEG)),
        (Rel::Colleague, false) => Some(("image001.png", PNG)),
        (Rel::Newsletter, _) => Some(("header.png", PNG)),
        (Rel::Shop | Rel::Bank | Rel::Service, false) => Some(("document-{n}.pdf", PDF)),
        _ => None,
    }
}
