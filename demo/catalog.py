"""The static demo catalog: attributes and their options, families and their variants, channels,
two category trees, brands, colors and the text parts names and descriptions are built from.

Everything here is data, the same for every seed; the draws pick from it by index, so the
derived tables below (all nouns, leaves and materials in family order, each family's first
index into them) turn a per-row family index plus a per-row draw into a value column.

The structure is Akeneo's whole catalog model, so the demo exercises every part a reader must
get right: option labels that differ from the codes (and a few missing in a locale), a main
image attribute that differs between families, a second category tree for the print channel
that products are also filed in, and variant axes per enrichment level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

LOCALES = ("de_DE", "en_US", "fr_FR")
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
    Attribute("packshot", "pim_catalog_image", ("Freisteller", "Packshot", "Photo détourée")),
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
SUB_MODEL_ATTRIBUTES = ("color", "image")
"""What a color sub-model holds (level 1 of a two-level family variant)."""
VARIANT_ATTRIBUTES = ("sku", "ean", "size", "weight", "price")
"""What a variant product holds (the last level of every family variant)."""


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
_TOOLS = (*_BASE, "eco_friendly", "release_date", "warranty_years", "packshot")
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
        ("steel", "wood", "plastic"), (*_BASE, "warranty_years", "packshot"), share=0.2,
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
FAMILY_IMAGE = {"power_tools": "packshot", "hand_tools": "packshot"}
"""``attribute_as_image`` where it is not ``image``: tools show the cut-out packshot first (their
products also carry ``image``, which follows); garden products carry both but lead with
``image``."""


@dataclass(frozen=True)
class VariantLevel:
    """One enrichment level of a family variant: its axes and the attributes it holds."""

    level: int
    axes: tuple[str, ...]
    attributes: tuple[str, ...]


def variant_levels(family: Family) -> tuple[VariantLevel, ...]:
    """The levels ``demo.variants`` draws: two-level families put color (and the image) on a
    sub-model and size on the variant product, one-level families only size on the variant;
    attributes in the attributes' order, as Akeneo lists them."""

    def held(codes: Sequence[str]) -> tuple[str, ...]:
        return tuple(a.code for a in ATTRIBUTES if a.code in codes and a.code in family.attributes)

    last = VariantLevel(1, ("size",), held(VARIANT_ATTRIBUTES))
    if family.variant == "one":
        return (last,)
    if family.variant == "two":
        return VariantLevel(1, ("color",), held(SUB_MODEL_ATTRIBUTES)), replace(last, level=2)
    return ()


# (code, parent, de_DE, en_US, fr_FR): tree "master" (the ecommerce channel's), three levels deep,
# then tree "print_catalog" (the print channel's), as deep, with codes of its own.
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
    ("print_catalog", None, "Druckkatalog", "Print catalog", "Catalogue imprimé"),
    ("print_clothing", "print_catalog", "Kapitel 1: Bekleidung", "Chapter 1: Clothing",
     "Chapitre 1 : Vêtements"),
    ("print_tools", "print_catalog", "Kapitel 2: Werkzeug & Eisenwaren",
     "Chapter 2: Tools & hardware", "Chapitre 2 : Outillage & quincaillerie"),
    ("print_home_garden", "print_catalog", "Kapitel 3: Haus & Garten", "Chapter 3: Home & garden",
     "Chapitre 3 : Maison & jardin"),
    ("print_shirts_jackets", "print_clothing", "Shirts & Jacken", "Shirts & jackets",
     "T-shirts & vestes"),
    ("print_footwear", "print_clothing", "Schuhwerk", "Footwear", "Chaussures"),
    ("print_machines", "print_tools", "Maschinen", "Machines", "Machines"),
    ("print_hand_tools", "print_tools", "Handwerkzeug", "Hand tools", "Outils à main"),
    ("print_fasteners", "print_tools", "Befestigungstechnik", "Fasteners", "Fixations"),
    ("print_garden", "print_home_garden", "Gartenbedarf", "Garden supplies", "Jardinage"),
    ("print_living", "print_home_garden", "Wohnen", "Living", "Habitat"),
)  # fmt: skip
EXTRA_CATEGORIES = ("new_arrivals", "sale")  # depth 2, so a family leaf (depth 3) is deepest
PRINT_SECTION = {
    "tshirts": "print_shirts_jackets", "jackets": "print_shirts_jackets",
    "shoes": "print_footwear", "power_tools": "print_machines", "hand_tools": "print_hand_tools",
    "screws": "print_fasteners", "garden": "print_garden", "home": "print_living",
}  # fmt: skip
"""Each family's section of the print tree (depth 3, as deep as its master leaf): every product
sits in both trees, so a reader that ignores the channel's tree shows the other tree's path."""


@dataclass(frozen=True)
class Channel:
    code: str
    category_tree: str
    locales: tuple[str, ...]
    currencies: tuple[str, ...]
    labels: tuple[str, str, str]


CHANNELS = (
    Channel("ecommerce", "master", LOCALES, ("EUR", "USD"), ("Onlineshop", "Web shop", "Boutique")),
    Channel("print", "print_catalog", LOCALES, ("EUR",), ("Druckkatalog", "Print", "Impression")),
)
SCOPES = tuple(c.code for c in CHANNELS)

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
BRANDS_WITHOUT_FR = frozenset({"kraftwerk", "nordlicht"})
COLOR_LABELS: dict[str, tuple[str, str, str | None]] = {
    "black": ("Schwarz", "Black", "Noir"),
    "white": ("Weiß", "White", "Blanc"),
    "red": ("Rot", "Red", "Rouge"),
    "blue": ("Blau", "Blue", "Bleu"),
    "green": ("Grün", "Green", "Vert"),
    "grey": ("Grau", "Grey", "Gris"),
    "yellow": ("Gelb", "Yellow", "Jaune"),
    "navy": ("Marineblau", "Navy", None),
}
COLORS = tuple(COLOR_LABELS)
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
MATERIAL_LABELS: dict[str, tuple[str | None, str | None, str | None]] = {
    "cotton": ("Baumwolle", "Cotton", "Coton"),
    "polyester": ("Polyester", "Polyester", "Polyester"),
    "elastane": ("Elasthan", "Elastane", "Élasthanne"),
    "leather": ("Leder", "Leather", "Cuir"),
    "rubber": ("Gummi", "Rubber", "Caoutchouc"),
    "textile": ("Textil", "Textile", "Textile"),
    "wool": ("Wolle", "Wool", "Laine"),
    "steel": ("Stahl", "Steel", "Acier"),
    "plastic": ("Kunststoff", "Plastic", "Plastique"),
    "aluminium": ("Aluminium", "Aluminium", "Aluminium"),
    "wood": ("Holz", "Wood", "Bois"),
    "zinc": ("Zink", "Zinc", "Zinc"),
    "nylon": (None, None, None),  # imported without labels: readers fall back to the code
    "glass": ("Glas", "Glass", "Verre"),
}
SIZES_WITHOUT_FR = frozenset({"xxl"})


@dataclass(frozen=True)
class Option:
    """One option of a select attribute; ``labels`` per ``LOCALES``, None where it has none."""

    attribute: str
    code: str
    labels: tuple[str | None, ...]


def _options() -> tuple[Option, ...]:
    """The options of every select attribute, each attribute's in its own order."""
    brands = [
        Option("brand", code, (label, label, None if code in BRANDS_WITHOUT_FR else label))
        for code, label in BRANDS
    ]
    colors = [Option("color", code, labels) for code, labels in COLOR_LABELS.items()]
    sizes = dict.fromkeys(s for f in FAMILIES for s in f.sizes)
    size_options = [
        Option("size", code, (label, label, None if code in SIZES_WITHOUT_FR else label))
        for code in sizes
        for label in [code.upper() if code.isalpha() else f"EU {code}"]
    ]
    materials = [Option("material", code, labels) for code, labels in MATERIAL_LABELS.items()]
    return (*brands, *colors, *size_options, *materials)


OPTIONS = _options()
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
