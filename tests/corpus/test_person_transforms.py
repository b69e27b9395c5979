import random

import pytest

from rearing.corpus.person import to_first_person
from rearing.corpus.transforms import apply_transforms, parse_transforms


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Susan is at the garage.", "I am at the garage."),
        ("Kamau feels Susan can be relied on.", "Kamau feels I can be relied on."),
        ("Only Ilaria might notice what Susan chooses.", "Only Ilaria might notice what I choose."),
        ("Kamau thanks Susan for the warning.", "Kamau thanks me for the warning."),
        ("Kamau and Susan grow closer.", "Kamau and I grow closer."),
        ("Susan's bag is here.", "My bag is here."),
        ("Susan tries again, and Susan watches.", "I try again, and I watch."),
        ("Susanna is not Susan.", "Susanna is not me."),
    ],
)
def test_first_person(text, expected):
    assert to_first_person(text, "Susan") == expected


def test_transforms_compose_and_are_seeded():
    text = "Omar fixes the kettle. Omar fills it with water. The kettle boils in a minute."
    names = ["Omar", "Lena", "Tariq"]
    a = apply_transforms(text, ["first_person", "lived", "social"], random.Random(1), names)
    b = apply_transforms(text, ["first_person", "lived", "social"], random.Random(1), names)
    assert a == b
    assert "I fix the kettle" in a and '"' in a and "Omar" not in a
    assert "kettle boils" in a


def test_unknown_transform_rejected():
    with pytest.raises(ValueError, match="unknown transforms"):
        parse_transforms("first_person,telepathy")


@pytest.mark.parametrize("seed", range(6))
def test_lived_lowers_a_continued_sentence_but_never_a_name_or_i(seed):
    from rearing.corpus.transforms import lived

    names = ["Isaac", "Lena"]
    kept = "Isaac packs the boxes. Isaac sometimes borrows the van. Lena: It is late. I: We can go now."
    lowered = "Isaac packs the boxes. The van is old. When it rains, the roof leaks. Some boxes get wet."
    for text in (kept, lowered):
        out = lived(text, random.Random(seed), names)
        step = next(s for s in ("Then I noticed that ", "I saw that ", "I found that ", "It turned out that ")
                    if s in out)
        following = out.split(step, 1)[1]
        if text is kept:
            assert following.startswith(("Isaac sometimes", "Lena:", "I:")), following
        else:
            assert following.startswith(("the van", "when it rains", "some boxes")), following


def test_first_person_through_an_apposition():
    from rearing.corpus.person import to_first_person

    assert to_first_person("In the yard, Brandon, a prefect, has just arrived.", "Brandon") == \
        "In the yard, I, a prefect, have just arrived."
    assert to_first_person("The yard is where Brandon, a prefect, is right now.", "Brandon") == \
        "The yard is where I, a prefect, am right now."
    assert to_first_person("Robin gives Brandon, a prefect, the keys.", "Brandon") == "Robin gives me, a prefect, the keys."
