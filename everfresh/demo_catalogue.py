"""The demo companies' households, cleaners and services: made up, but as a real day has them.

Phone numbers come from the ranges set aside for fiction (Ofcom's 020 7946 0xxx, the North
American 555-01xx) and emails from `example.com`, so no demo row reaches a real person.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoCustomer:
    """A household of a demo company, with the address its cleaners go to."""

    name: str
    email: str | None
    phone: str | None
    address_line1: str
    address_line2: str | None
    city: str
    postcode: str
    access_notes: str | None = None


@dataclass(frozen=True)
class DemoService:
    """A cleaning a demo company sells: its length in minutes and price in minor units."""

    name: str
    duration_minutes: int
    price_cents: int


def _email(name: str) -> str:
    local_part = name.lower().replace(" ", ".").replace("'", "")
    return f"{local_part}@example.com"


def _london(
    number: int, name: str, line1: str, line2: str | None, postcode: str, notes: str | None = None
) -> DemoCustomer:
    return DemoCustomer(
        name, _email(name), f"020 7946 0{number:03d}", line1, line2, "London", postcode, notes
    )


def _new_york(
    number: int,
    name: str,
    line1: str,
    line2: str | None,
    city: str,
    postcode: str,
    notes: str | None = None,
) -> DemoCustomer:
    return DemoCustomer(
        name, _email(name), f"212-555-01{number:02d}", line1, line2, city, postcode, notes
    )


EVERFRESH_SERVICES = (
    DemoService("Standard clean", 120, 9000),
    DemoService("Deep clean", 240, 18000),
    DemoService("Oven clean", 90, 6500),
    DemoService("Window clean (inside)", 60, 4500),
    DemoService("End of tenancy clean", 300, 27500),
)

# The first is the customer login's own record, as the bare demo has always had it.
EVERFRESH_CUSTOMERS = (
    DemoCustomer(
        "Ada Lovelace",
        "ada@example.com",
        "+1 555 0100",
        "Flat 3",
        "12 St James's Square",
        "London",
        "SW1Y 4JH",
        "Concierge holds the key; sign in at the desk. Please avoid the study.",
    ),
    _london(
        101,
        "Oliver Bennett",
        "27 Elm Grove",
        None,
        "N8 9AJ",
        "Key safe left of the door, code 4821. Friendly cat: keep the kitchen door shut.",
    ),
    _london(102, "Amara Okafor", "Flat 12, Cedar Court", "41 Brixton Hill", "SW2 1RS"),
    _london(
        103,
        "Priya Sharma",
        "8 Lavender Sweep",
        None,
        "SW11 1HA",
        "Alarm panel in the hall cupboard, code 1966, 30 seconds to enter it.",
    ),
    _london(104, "Tom Hughes", "Flat B", "66 Mildmay Grove North", "N1 4RH"),
    _london(
        105,
        "Sofia Rossi",
        "19 Chesterton Road",
        None,
        "W10 5LY",
        "Two dogs (friendly). Spare key with the neighbour at number 21.",
    ),
    _london(106, "James O'Connor", "3 Albion Square", None, "E8 4ES"),
    _london(
        107,
        "Hannah Kim",
        "Flat 7, Harbour Yard",
        "Chelsea Harbour",
        "SW10 0XD",
        "Porter lets you in; parking bay 14 is free on weekdays.",
    ),
    _london(108, "Mohammed Al-Sayed", "52 Green Lanes", None, "N16 9BT"),
    _london(
        109,
        "Charlotte Evans",
        "14 Ravenscourt Road",
        None,
        "W6 0UH",
        "Key under the blue plant pot. No shoes upstairs, please.",
    ),
    _london(110, "Daniel Novak", "Flat 2", "88 Lordship Lane", "SE22 8HF"),
    _london(111, "Grace Adeyemi", "5 Tasso Road", None, "W6 8LZ"),
    _london(
        112,
        "William Clarke",
        "31 Highbury Hill",
        None,
        "N5 1SU",
        "Alarm code 7744. The cleaning cupboard is under the stairs.",
    ),
    _london(113, "Aisha Rahman", "Flat 9, Baltic Quay", "1 Sweden Gate", "SE16 7TJ"),
    _london(114, "Lucas Martin", "22 Pepys Road", None, "SE14 5SB"),
    _london(
        115,
        "Emily Watson",
        "17 Stanhope Gardens",
        None,
        "N6 5TT",
        "Elderly parent at home in the mornings; please ring and wait.",
    ),
    _london(116, "Kwame Mensah", "Flat 4", "9 Coldharbour Lane", "SE5 9NR"),
    _london(117, "Isabella Silva", "40 Northcote Road", None, "SW11 1NZ"),
    _london(
        118,
        "George Patel",
        "6 Ufton Road",
        None,
        "N1 5BX",
        "Key safe on the side gate, code 3190. Tortoise in the garden, close the gate.",
    ),
    _london(119, "Zara Ahmed", "Flat 15, Keybridge House", "80 South Lambeth Road", "SW8 1RL"),
    _london(120, "Harry Thompson", "11 Clapham Common North Side", None, "SW4 0QW"),
    _london(121, "Mei Chen", "28 Dartmouth Park Hill", None, "N19 5HN"),
    _london(
        122,
        "Ethan Brooks",
        "Flat 1",
        "3 Mare Street",
        "E8 4RP",
        "Buzzer broken: call on arrival and I will come down.",
    ),
    _london(123, "Niamh Murphy", "45 Leathwaite Road", None, "SW11 6RU"),
    _london(124, "Samuel Green", "9 Canonbury Park South", None, "N1 2JR"),
    _london(125, "Leila Haddad", "Flat 6, Arlington House", "Arlington Road", "NW1 7HP"),
    _london(126, "Noah Williams", "73 Shakespeare Road", None, "SE24 0PX"),
    _london(
        127,
        "Olivia Turner",
        "16 Thurleigh Road",
        None,
        "SW12 8UD",
        "Parrot in the sitting room: please keep the windows shut.",
    ),
    _london(128, "Arjun Mehta", "2 Greville Place", None, "NW6 5JP"),
    _london(129, "Freya Larsen", "Flat 10", "120 Lower Clapton Road", "E5 0QR"),
)

EVERFRESH_STAFF = (
    "Maria Santos",
    "Jake Wilson",
    "Aaliyah Johnson",
    "Piotr Kowalski",
    "Chloe Davies",
    "Ravi Kumar",
    "Fatima Begum",
)

BRIGHTHOME_SERVICES = (
    DemoService("Standard clean", 120, 8500),
    DemoService("Deep clean", 240, 19500),
    DemoService("Move-out clean", 300, 32000),
    DemoService("Kitchen refresh", 90, 9500),
    DemoService("Laundry and linens", 60, 4000),
)

# The first is the one customer the bare demo has always had.
BRIGHTHOME_CUSTOMERS = (
    DemoCustomer(
        "Grace Hopper",
        "grace@example.com",
        "+1 555 0100",
        "Apt 5C",
        "310 West 86th Street",
        "New York, NY",
        "10024",
        "Doorman has the key. Please water the fern by the window.",
    ),
    _new_york(
        1,
        "Michael Rivera",
        "Apt 4B",
        "245 East 19th Street",
        "New York, NY",
        "10003",
        "Doorman has a key in my name. Beagle named Max: friendly, loves to escape.",
    ),
    _new_york(2, "Jennifer Park", "Apt 12F", "400 West 57th Street", "New York, NY", "10019"),
    _new_york(
        3,
        "David Goldberg",
        "128 Prospect Place",
        None,
        "Brooklyn, NY",
        "11217",
        "Lockbox on the railing, code 2580. Alarm: none.",
    ),
    _new_york(4, "Ashley Johnson", "Apt 3", "87 Bedford Street", "New York, NY", "10014"),
    _new_york(5, "Carlos Mendez", "Apt 2R", "32-15 33rd Street", "Astoria, NY", "11106"),
    _new_york(
        6,
        "Emily Chen",
        "Apt 21A",
        "200 Rector Place",
        "New York, NY",
        "10280",
        "Use the service entrance on the side street; the lobby sends cleaners round.",
    ),
    _new_york(7, "Marcus Brown", "415 Halsey Street", None, "Brooklyn, NY", "11233"),
    _new_york(
        8,
        "Sarah O'Neill",
        "Apt 6D",
        "155 West 68th Street",
        "New York, NY",
        "10023",
        "Two cats: do not let them onto the balcony.",
    ),
    _new_york(9, "Raj Patel", "Apt 9", "60 Greenpoint Avenue", "Brooklyn, NY", "11222"),
    _new_york(10, "Olivia Martinez", "Apt 14C", "1 Irving Place", "New York, NY", "10003"),
    _new_york(
        11,
        "Daniel Kim",
        "27 Monroe Place",
        None,
        "Brooklyn, NY",
        "11201",
        "Key under the mat at the back door. Alarm code 0417.",
    ),
    _new_york(12, "Jessica Taylor", "Apt 5A", "333 East 66th Street", "New York, NY", "10065"),
    _new_york(13, "Andre Williams", "Apt 2", "146 Malcolm X Boulevard", "Brooklyn, NY", "11221"),
    _new_york(14, "Megan Sullivan", "Apt 8G", "45 Wall Street", "New York, NY", "10005"),
    _new_york(
        15,
        "Luis Hernandez",
        "37-20 80th Street",
        None,
        "Jackson Heights, NY",
        "11372",
        "Grandmother is home: please ring twice and wait.",
    ),
    _new_york(16, "Rachel Cohen", "Apt 17B", "215 West 95th Street", "New York, NY", "10025"),
    _new_york(17, "Kevin Nguyen", "Apt 3L", "22 Jay Street", "Brooklyn, NY", "11201"),
    _new_york(
        18,
        "Brittany Moore",
        "Apt 11",
        "505 West 37th Street",
        "New York, NY",
        "10018",
        "Front desk checks ID. Parking on the street only.",
    ),
    _new_york(19, "Jamal Washington", "Apt 1", "371 Hancock Street", "Brooklyn, NY", "11216"),
    _new_york(20, "Laura Bianchi", "Apt 4E", "70 Bleecker Street", "New York, NY", "10012"),
    _new_york(21, "Tyler Anderson", "88 Java Street", None, "Brooklyn, NY", "11222"),
    _new_york(
        22,
        "Priya Iyer",
        "Apt 26D",
        "10 City Point",
        "Brooklyn, NY",
        "11201",
        "Concierge lets you up. No bleach on the marble counters.",
    ),
    _new_york(23, "Nicole Davis", "Apt 7", "234 East 4th Street", "New York, NY", "10009"),
    _new_york(24, "Samuel Lee", "Apt 15H", "300 East 40th Street", "New York, NY", "10016"),
    _new_york(25, "Hannah Schwartz", "19 Garfield Place", None, "Brooklyn, NY", "11215"),
    _new_york(
        26,
        "Anthony Russo",
        "Apt 3F",
        "21-10 31st Avenue",
        "Astoria, NY",
        "11106",
        "Large dog (gentle), crated while you clean. Gate code 1221.",
    ),
    _new_york(27, "Victoria Adams", "Apt 10A", "140 Riverside Drive", "New York, NY", "10024"),
    _new_york(28, "Omar Farouk", "Apt 2", "512 Union Street", "Brooklyn, NY", "11215"),
    _new_york(29, "Katie Walsh", "Apt 5", "98 Christopher Street", "New York, NY", "10014"),
)

BRIGHTHOME_STAFF = (
    "Rosa Delgado",
    "Tyrone Jackson",
    "Anna Kowalczyk",
    "Kenji Watanabe",
    "Destiny Harris",
)
