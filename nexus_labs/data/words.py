"""Word lists the generator builds names, places and texts from.

Fixed lists (not Faker) keep the dataset deterministic across library versions and small enough
to read: every value in datasets/ comes from here, a seed, and an id.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Ana", "Ben", "Carla", "Chen", "Dario", "Elena", "Emeka",
    "Farah", "Grace", "Hiro", "Ines", "Ivan", "Jonas", "Kofi", "Lena", "Liam", "Maya",
    "Mateo", "Nadia", "Noah", "Olga", "Omar", "Priya", "Quentin", "Rosa", "Sami", "Sofia",
    "Tariq", "Uma", "Victor", "Wen", "Yara", "Zoe", "Aiko", "Bruno", "Chloe", "Diego",
)  # fmt: skip

LAST_NAMES = (
    "Almeida", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Kowalski", "Lopez", "Mensah", "Novak", "Okafor", "Petrov", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Nakamura",
    "Oliveira", "Park", "Silva", "Moreau", "Kim", "Larsen", "Haddad", "Ivanova", "Brown",
)  # fmt: skip

# (city, country): a customer's country follows from their city, a real dependency.
CITIES = (
    ("Lisbon", "Portugal"), ("Porto", "Portugal"), ("Berlin", "Germany"),
    ("Munich", "Germany"), ("Hamburg", "Germany"), ("Paris", "France"), ("Lyon", "France"),
    ("Madrid", "Spain"), ("Barcelona", "Spain"), ("Rome", "Italy"), ("Milan", "Italy"),
    ("Amsterdam", "Netherlands"), ("Warsaw", "Poland"), ("Krakow", "Poland"),
    ("Stockholm", "Sweden"), ("Copenhagen", "Denmark"), ("Dublin", "Ireland"),
    ("Vienna", "Austria"), ("Prague", "Czechia"), ("Athens", "Greece"),
)  # fmt: skip

SELLER_WORDS = (
    "Northwind", "Bluebird", "Copperleaf", "Harbor", "Juniper", "Lighthouse", "Maple",
    "Nimbus", "Oakridge", "Pioneer", "Quartz", "Riverside", "Sierra", "Tidal", "Summit",
    "Evergreen", "Granite", "Horizon", "Kestrel", "Meadow",
)  # fmt: skip

SELLER_SUFFIXES = ("Traders", "Goods", "Supply", "Outfitters", "Works", "Market", "Co.")

# (category_id, name, parent_id): four departments, two leaf categories under each.
CATEGORIES = (
    (1, "Electronics", None),
    (2, "Home & Kitchen", None),
    (3, "Books", None),
    (4, "Sports & Outdoors", None),
    (5, "Phones & Accessories", 1),
    (6, "Computers", 1),
    (7, "Cookware", 2),
    (8, "Furniture", 2),
    (9, "Fiction", 3),
    (10, "Non-fiction", 3),
    (11, "Camping", 4),
    (12, "Fitness", 4),
)

# Per leaf category: product nouns and a price range in cents (log-uniform between them).
PRODUCT_NOUNS = {
    5: (("Phone Case", "USB-C Charger", "Screen Protector", "Power Bank", "Earbuds",
         "Phone Stand"), (999, 129_900)),
    6: (("Laptop Sleeve", "Mechanical Keyboard", "Wireless Mouse", "Monitor", "USB Hub",
         "Webcam"), (1_999, 249_900)),
    7: (("Frying Pan", "Chef Knife", "Dutch Oven", "Saucepan", "Cutting Board", "Wok"),
        (1_499, 19_999)),
    8: (("Desk Chair", "Bookshelf", "Side Table", "Floor Lamp", "Standing Desk", "Stool"),
        (4_999, 99_999)),
    9: (("Mystery Novel", "Fantasy Saga", "Short Stories", "Sci-Fi Novel", "Thriller",
         "Poetry Collection"), (599, 2_999)),
    10: (("Cookbook", "Field Guide", "Biography", "History of Rome", "Design Handbook",
          "Travel Guide"), (899, 4_999)),
    11: (("Tent", "Sleeping Bag", "Camp Stove", "Headlamp", "Backpack", "Water Filter"),
         (1_999, 49_999)),
    12: (("Yoga Mat", "Kettlebell", "Jump Rope", "Foam Roller", "Dumbbell Set",
          "Resistance Bands"), (999, 29_999)),
}  # fmt: skip

PRODUCT_BRANDS = (
    "Acme", "Aurora", "Boreal", "Cobalt", "Delta", "Ember", "Fjord", "Glacier", "Helix",
    "Ion", "Jade", "Kinetic", "Lumen", "Mosaic", "Nova", "Orbit", "Pulse", "Terra",
    "Vertex", "Zephyr",
)  # fmt: skip

PRODUCT_ADJECTIVES = (
    "Classic", "Compact", "Deluxe", "Essential", "Lite", "Pro", "Travel", "Ultra", "Eco",
    "Max",
)  # fmt: skip

TAGS = (
    "bestseller", "eco-friendly", "new-arrival", "on-sale", "gift-idea", "handmade",
    "premium", "budget", "bundle", "limited-edition", "refurbished", "wireless", "outdoor",
    "kids", "vegan",
)  # fmt: skip

HOBBIES = (
    "hiking", "baking", "chess", "cycling", "photography", "gardening", "jazz", "running",
    "board games", "pottery", "sailing", "reading", "climbing", "cooking", "birdwatching",
)  # fmt: skip

BIO_TEMPLATES = (
    "Loves {a} and {b}.",
    "Weekend {a} enthusiast; also into {b}.",
    "Into {a}. Shops mostly for {b} gear.",
    "{A} by day, {b} by night.",
)

# Review texts by star rating; "{item}" is the product noun in lower case.
REVIEW_TEMPLATES = {
    1: ("Broke after a week. Would not buy this {item} again.",
        "Nothing like the photos; returned the {item}.",
        "Poor quality {item}, arrived damaged."),
    2: ("The {item} works, but feels cheap.",
        "Disappointing {item} for the price.",
        "Shipping was slow and the {item} is mediocre."),
    3: ("An okay {item}. Does the job.",
        "Average {item}; nothing special.",
        "Decent {item} but the instructions were unclear."),
    4: ("Good {item}, would recommend.",
        "Solid {item} for the price.",
        "Very happy with this {item}; minor scratches on arrival."),
    5: ("Excellent {item}, exactly as described!",
        "Best {item} I have owned.",
        "Great {item}, fast delivery, five stars."),
}  # fmt: skip

# Order statuses: recent orders are still moving; older ones have finished one way or another.
OPEN_STATUSES = (("pending", 0.3), ("paid", 0.3), ("shipped", 0.4))
CLOSED_STATUSES = (("delivered", 0.82), ("cancelled", 0.11), ("refunded", 0.07))
ORDER_STATUSES = tuple(name for name, _ in OPEN_STATUSES + CLOSED_STATUSES)
