"""The project's generator of fictional people. Deterministic for a seed; clearly not real.

Family names are invented compounds that no census lists; phone numbers use the 555-01xx range
reserved for fiction; every street is on an invented road in the fictional Harbor County.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

GIVEN_NAMES = (
    "Maya",
    "Jordan",
    "Aaliyah",
    "Sofia",
    "Destiny",
    "Luz",
    "Amari",
    "Kai",
    "Jasmine",
    "Elena",
    "Rosa",
    "Nia",
    "Tavi",
    "Marisol",
    "Skye",
    "Imani",
    "Alexis",
    "Valeria",
    "Dani",
    "Camila",
    "Zoe",
    "Jaylen",
    "Ximena",
    "Noor",
    "Paloma",
    "Reese",
    "Amara",
    "Leilani",
    "Quinn",
    "Rowan",
)
_FAMILY_FIRST = (
    "Quill",
    "Ash",
    "Fern",
    "Moss",
    "Briar",
    "Wren",
    "Lark",
    "Cinder",
    "Marrow",
    "Thistle",
    "Juniper",
    "Saffron",
    "Pebble",
    "Tansy",
    "Hollow",
)
_FAMILY_SECOND = (
    "feather",
    "brook",
    "vale",
    "wick",
    "stone",
    "field",
    "gate",
    "thorn",
    "well",
    "ridge",
    "mere",
    "dale",
    "lock",
    "wood",
    "haven",
)
_STREETS = (
    "Imaginary Lane",
    "Storybook Way",
    "Nowhere Court",
    "Fable Street",
    "Makebelieve Road",
    "Paper Moon Drive",
    "Lantern Row",
)


@dataclass(frozen=True)
class FictionalPerson:
    given_name: str
    family_name: str
    date_of_birth: datetime.date
    phone: str
    address: str


class PeopleGenerator:
    """Makes fictional youth; the same seed always yields the same people."""

    def __init__(self, seed: int, today: datetime.date) -> None:
        self.rng = random.Random(seed)
        self.today = today

    def family_name(self) -> str:
        return self.rng.choice(_FAMILY_FIRST) + self.rng.choice(_FAMILY_SECOND)

    def person(self, min_age: int = 11, max_age: int = 20) -> FictionalPerson:
        age_days = self.rng.randint(min_age * 365, max_age * 365 + 364)
        return FictionalPerson(
            given_name=self.rng.choice(GIVEN_NAMES),
            family_name=self.family_name(),
            date_of_birth=self.today - datetime.timedelta(days=age_days),
            phone=f"555-01{self.rng.randint(0, 99):02d}",
            address=f"{self.rng.randint(1, 999)} {self.rng.choice(_STREETS)}, "
            "Harbor County (fictional)",
        )
