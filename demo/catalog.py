"""The static demo catalog: attributes, families, categories, brands, colors and the text parts
names and descriptions are built from.

Everything here is data, the same for every seed; the draws pick from it by index, so the
derived tables below (all nouns, leaves and materials in family order, each family's first
index into them) turn a per-row family index plus a per-row draw into a value column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

LOCALES = ("de_DE", "en_US", "fr_FR")
SCOPES = ("ecommerce", "print")
WAREHOUSES = ("DE-HAM", "DE-MUC", "AT-VIE")


@dataclass(frozen=True)
class Attribute:
    code: str
    type: str
    labels: tuple[str, str, str]
    localizable: bool = False
    scopable: bool = False


ATTRIBUTES = (
    Attribute("sku", "pim_catalog_identifier", ("Artikelnummer", "SKU", "Référence")),
    Attribute("name", "pim_catalog_text", ("Name", "Name", "Nom"), localizable=True),
    Attribute(
        "description",
        "pim_catalog_textarea",
        ("Beschreibung", "Description", "Description"),
        localizable=True,
        scopable=True,
    ),
    Attribute("brand", "pim_catalog_simpleselect", ("Marke", "Brand", "Marque")),
    Attribute("color", "pim_catalog_simpleselect", ("Farbe", "Color", "Couleur")),
    Attribute("size", "pim_catalog_simpleselect", ("Größe", "Size", "Taille")),
    Attribute("ean", "pim_catalog_text", ("EAN", "EAN", "EAN")),
    Attribute("image", "pim_catalog_image", ("Bild", "Image", "Image")),
    Attribute("weight", "pim_catalog_metric", ("Gewicht", "Weight", "Poids")),
    Attribute("price", "pim_catalog_price_collection", ("Preis", "Price", "Prix")),
    Attribute("material", "pim_catalog_multiselect", ("Material", "Material", "Matière")),
    Attribute(
        "eco_friendly", "pim_catalog_boolean", ("Umweltfreundlich", "Eco-friendly", "Écologique")
    ),
    Attribute(
        "release_date", "pim_catalog_date", ("Erscheinungsdatum", "Release date", "Date de sortie")
    ),
    Attribute(
        "warranty_years",
        "pim_catalog_number",
        ("Garantie (Jahre)", "Warranty (years)", "Garantie (ans)"),
    ),
)
MODEL_ATTRIBUTES = (
    "name", "description", "brand", "color", "image", "material", "eco_friendly", "release_date"
)  # fmt: skip


@dataclass(frozen=True)
class Family:
    code: str
    labels: tuple[str, str, str]
    nouns: tuple[tuple[str, str, str], ...]
    leaves: tuple[str, ...]
    variant: Literal["none", "one", "two"]
    price_cents: tuple[int, int]  # ERP list price range for ``per_quantity`` pieces
    weight_grams: tuple[int, int]
    materials: tuple[str, ...]
    attributes: tuple[str, ...]
    sizes: tuple[str, ...] = ()
    per_quantity: int = 1
    weight_unit: str = "KILOGRAM"
    share: float = 0.0  # share of the simple products


_BASE = ("sku", "name", "description", "brand", "ean", "image", "weight", "price", "material")
_CLOTHES = (*_BASE, "color", "size", "eco_friendly", "release_date")
_TOOLS = (*_BASE, "eco_friendly", "release_date", "warranty_years")
_SIZES = ("xs", "s", "m", "l", "xl", "xxl")
FAMILIES = (
    Family(
        "tshirts", ("T-Shirts", "T-shirts", "T-shirts"), (("T-Shirt", "T-shirt", "T-shirt"),),
        ("tshirts",), "two", (990, 3990), (150, 320), ("cotton", "polyester", "elastane"),
        _CLOTHES, _SIZES,
    ),
    Family(
        "shoes", ("Schuhe", "Shoes", "Chaussures"), (("Sneaker", "Sneaker", "Baskets"),),
        ("shoes",), "two", (3990, 14990), (500, 1400), ("leather", "rubber", "textile"),
        _CLOTHES, tuple(str(s) for s in range(38, 47)),
    ),
    Family(
        "jackets", ("Jacken", "Jackets", "Vestes"),
        (("Arbeitsjacke", "Work jacket", "Veste de travail"),), ("jackets", "workwear"), "one",
        (5990, 24990), (600, 1800), ("polyester", "cotton", "wool"), _CLOTHES, _SIZES,
    ),
    Family(
        "power_tools", ("Elektrowerkzeuge", "Power tools", "Outillage électrique"),
        (("Akku-Bohrschrauber", "Cordless drill", "Perceuse-visseuse sans fil"),
         ("Winkelschleifer", "Angle grinder", "Meuleuse d'angle"),
         ("Stichsäge", "Jigsaw", "Scie sauteuse"),
         ("Schlagbohrmaschine", "Hammer drill", "Perceuse à percussion")),
        ("power_tools", "power_tool_accessories"), "none", (3990, 49990), (900, 4500),
        ("steel", "plastic", "aluminium"), _TOOLS, share=0.2,
    ),
    Family(
        "hand_tools", ("Handwerkzeuge", "Hand tools", "Outillage à main"),
        (("Schraubendreher-Set", "Screwdriver set", "Jeu de tournevis"),
         ("Hammer", "Hammer", "Marteau"),
         ("Wasserwaage", "Spirit level", "Niveau à bulle"),
         ("Zange", "Pliers", "Pince")),
        ("hand_tools", "measuring_tools"), "none", (499, 7990), (150, 1600),
        ("steel", "wood", "plastic"), (*_BASE, "warranty_years"), share=0.2,
    ),
    Family(
        "screws", ("Schrauben & Dübel", "Screws & plugs", "Vis & chevilles"),
        (("Spanplattenschraube", "Chipboard screw", "Vis à aggloméré"),
         ("Holzschraube", "Wood screw", "Vis à bois"),
         ("Dübel", "Wall plug", "Cheville"),
         ("Nagel", "Nail", "Clou")),
        ("screws", "screws", "dowels", "nails"), "none", (250, 2990), (2, 40),
        ("steel", "zinc", "nylon"), _BASE, per_quantity=100, weight_unit="GRAM", share=0.15,
    ),
    Family(
        "garden", ("Garten", "Garden", "Jardin"),
        (("Gartenschere", "Pruning shears", "Sécateur"),
         ("Gießkanne", "Watering can", "Arrosoir"),
         ("Pflanzkübel", "Planter", "Jardinière"),
         ("Rasenmäher", "Lawn mower", "Tondeuse à gazon")),
        ("garden_tools", "watering", "planters", "lawn_care"), "none", (590, 19990),
        (200, 25000), ("plastic", "steel", "wood"), _TOOLS, share=0.2,
    ),
    Family(
        "home", ("Wohnen", "Home", "Maison"),
        (("Stehleuchte", "Floor lamp", "Lampadaire"),
         ("Küchenwaage", "Kitchen scale", "Balance de cuisine"),
         ("Handtuchhalter", "Towel rail", "Porte-serviettes"),
         ("Aufbewahrungsbox", "Storage box", "Boîte de rangement")),
        ("lighting", "kitchen", "bathroom", "storage"), "none", (990, 14990), (300, 6000),
        ("glass", "plastic", "aluminium", "wood"),
        (*_BASE, "color", "eco_friendly", "release_date"), share=0.25,
    ),
)  # fmt: skip
FAMILY_VARIANT = {"tshirts": "tshirts_color_size", "shoes": "shoes_color_size"}
FAMILY_VARIANT["jackets"] = "jackets_size"

# (code, parent, de_DE, en_US, fr_FR): one tree "master", three levels deep.
CATEGORIES: tuple[tuple[str, str | None, str, str, str], ...] = (
    ("master", None, "Hauptkatalog", "Master catalog", "Catalogue principal"),
    ("clothing", "master", "Bekleidung", "Clothing", "Vêtements"),
    ("tshirts", "clothing", "T-Shirts", "T-shirts", "T-shirts"),
    ("shoes", "clothing", "Schuhe", "Shoes", "Chaussures"),
    ("jackets", "clothing", "Jacken", "Jackets", "Vestes"),
    ("workwear", "clothing", "Arbeitskleidung", "Workwear", "Vêtements de travail"),
    ("tools", "master", "Werkzeuge", "Tools", "Outils"),
    ("power_tools", "tools", "Elektrowerkzeuge", "Power tools", "Outillage électrique"),
    ("power_tool_accessories", "tools", "Zubehör", "Accessories", "Accessoires"),
    ("hand_tools", "tools", "Handwerkzeuge", "Hand tools", "Outillage à main"),
    ("measuring_tools", "tools", "Messwerkzeuge", "Measuring tools", "Instruments de mesure"),
    ("hardware", "master", "Eisenwaren", "Hardware", "Quincaillerie"),
    ("screws", "hardware", "Schrauben", "Screws", "Vis"),
    ("dowels", "hardware", "Dübel", "Wall plugs", "Chevilles"),
    ("nails", "hardware", "Nägel", "Nails", "Clous"),
    ("fittings", "hardware", "Beschläge", "Fittings", "Ferrures"),
    ("garden", "master", "Garten", "Garden", "Jardin"),
    ("garden_tools", "garden", "Gartengeräte", "Garden tools", "Outils de jardin"),
    ("watering", "garden", "Bewässerung", "Watering", "Arrosage"),
    ("planters", "garden", "Pflanzgefäße", "Planters", "Jardinières"),
    ("lawn_care", "garden", "Rasenpflege", "Lawn care", "Entretien de la pelouse"),
    ("home", "master", "Wohnen & Küche", "Home & kitchen", "Maison & cuisine"),
    ("lighting", "home", "Leuchten", "Lighting", "Luminaires"),
    ("kitchen", "home", "Küche", "Kitchen", "Cuisine"),
    ("bathroom", "home", "Bad", "Bathroom", "Salle de bain"),
    ("storage", "home", "Aufbewahrung", "Storage", "Rangement"),
    ("new_arrivals", "master", "Neuheiten", "New arrivals", "Nouveautés"),
    ("sale", "master", "Sale %", "Sale %", "Soldes %"),
)
EXTRA_CATEGORIES = ("new_arrivals", "sale")  # depth 2, so a family leaf (depth 3) is deepest

# (option code, label used in names): labels exercise "&", "'", umlauts, accents.
BRANDS = (
    ("acme", "Acme"),
    ("mueller_soehne", "Müller & Söhne"),
    ("kraftwerk", "Kraftwerk"),
    ("hammer_co", "Hammer & Co."),
    ("elan_outdoor", "Élan Outdoor"),
    ("nordlicht", "Nordlicht"),
    ("obrien_tools", "O'Brien Tools"),
    ("soeren", "Søren"),
)
COLORS = ("black", "white", "red", "blue", "green", "grey", "yellow", "navy")
ADJECTIVES = (
    ("Kompakt", "Compact", "Compact"),
    ("Profi", "Pro", "Pro"),
    ("Classic", "Classic", "Classique"),
    ("Öko", "Eco", "Éco"),
    ("Premium", "Premium", "Premium"),
    ("Leicht", "Light", "Léger"),
    ("Groß", "Large", "Grand"),
)
SUFFIXES: tuple[str, ...] = (' "Limited"', " <Edition 2>", " & more", " 🌿", " l'Original")
SUFFIXES += (" Ø 30 cm", ' 1/2"', " ; Set")
NAME_PREFIXES = ("=1+1 ", "+49 ", "-20% ", "@home ")  # spreadsheet formula injection
DESCRIPTION_PREFIXES = ('=HYPERLINK("http://evil.example") ', "@SUM(A1) ", "+ ", "- ")
SENTENCES = (
    (
        "Robust & langlebig \u2013 ideal für den täglichen Einsatz.",
        "Sturdy & durable \u2013 ideal for everyday use.",
        "Robuste & durable \u2013 idéal pour un usage quotidien.",
    ),
    (
        "Geprüfte Qualität, „made in Germany“.",
        'Tested quality, "made in Germany".',
        "Qualité contrôlée, « made in Germany ».",
    ),
    (
        "Mit <strong>Extra</strong>-Zubehör im Koffer.",
        "Comes with <strong>extra</strong> accessories in a case.",
        "Livré avec des accessoires <strong>supplémentaires</strong>.",
    ),
    (
        "Leicht, ergonomisch und wartungsarm.",
        "Light, ergonomic and low-maintenance.",
        "Léger, ergonomique et sans entretien.",
    ),
    (
        "Ökologisch hergestellt, 100 % recycelbar.",
        "Eco-friendly production, 100% recyclable.",
        "Fabrication écologique, 100 % recyclable.",
    ),
)
FAMILY_INDEX = {f.code: i for i, f in enumerate(FAMILIES)}
NOUNS = tuple(noun for family in FAMILIES for noun in family.nouns)
LEAVES = tuple(leaf for family in FAMILIES for leaf in family.leaves)
MATERIALS = tuple(m for family in FAMILIES for m in family.materials)


def _offsets(sizes: Sequence[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


NOUN_START = _offsets([len(f.nouns) for f in FAMILIES])
LEAF_START = _offsets([len(f.leaves) for f in FAMILIES])
MATERIAL_START = _offsets([len(f.materials) for f in FAMILIES])


def family_array(attribute: str) -> np.ndarray:
    return np.array([getattr(f, attribute) for f in FAMILIES])
