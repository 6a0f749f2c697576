"""The ISOM municipalities (Herenthout's reference group), as the official files name them."""

ISOM = {
    "13010": "Grobbendonk",
    "13011": "Herentals",
    "13012": "Herenthout",
    "13017": "Kasterlee",
    "13019": "Lille",
    "13029": "Olen",
    "13044": "Vorselaar",
}
