"""The lived and social transforms' phrasings are an editable data file."""

import random

import pytest

from rearing.corpus.transforms import lived, load_transform_phrasings, social
from rearing.io import InputError

TEXT = "Omar fixes the kettle. Omar fills it with water. The kettle boils in a minute."
NAMES = ["Omar", "Lena", "Tariq"]


def refusal(path) -> str:
    with pytest.raises(InputError) as caught:
        load_transform_phrasings(path)
    return str(caught.value)


def test_unknown_slot_and_empty_list_are_refused(edited_data):
    path, line = edited_data("transforms.yaml", """'{name} told me, "{sentence}"'""", """'{name} told me, "{s}"'""")
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: social.them.before") and "unknown slot {s}" in message
    assert "allowed slots: {name}, {sentence}" in message

    path, line = edited_data(
        "transforms.yaml",
        '  step:\n    - "Then I noticed that"\n    - "I saw that"\n    - "I found that"\n    - "It turned out that"\n'
        '    - "I soon learned that"\n',
        "  step: []\n",
    )
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: lived.step") and "at least 1 item" in message

    path, line = edited_data("transforms.yaml", """'"{first}" I said, "{second}"'""", """'"{first}" I said.'""")
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: social.me.split") and "missing slot {second}" in message


def test_edited_phrasings_change_the_transformed_text(edited_data):
    path, _ = edited_data("transforms.yaml", '"{name} nodded, and we went on with the day."',
                          '"{name} nodded, and we went back to work."')
    phrasings = load_transform_phrasings(path)
    changed = 0
    for seed in range(40):
        default = social(TEXT, random.Random(seed), NAMES)
        custom = social(TEXT, random.Random(seed), NAMES, phrasings=phrasings)
        assert custom == default.replace("we went on with the day.", "we went back to work.")
        changed += custom != default
    assert changed > 0
    assert lived(TEXT, random.Random(1), NAMES, phrasings=phrasings) == lived(TEXT, random.Random(1), NAMES)
