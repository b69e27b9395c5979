import random
import re

import pytest

from rearing.corpus.person import base_form, is_third_person_verb, to_first_person
from rearing.corpus.transforms import apply_transforms, lived, parse_transforms, protagonist, social


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
        # the verb agrees through an adverb, and "sometimes" is not a verb
        ("Susan sometimes borrows the game account and returns it the same afternoon.",
         "I sometimes borrow the game account and return it the same afternoon."),
        ("Susan usually works there in the evening.", "I usually work there in the evening."),
        ("I think Susan often checks the door.", "I think I often check the door."),
        ("Susan has a key.", "I have a key."),
        ("Susan goes home.", "I go home."),
        ("Susan does the dishes.", "I do the dishes."),
        ("Susan doesn't know.", "I don't know."),
        ("Susan realizes it is late.", "I realize it is late."),
        # the second verb of a coordinated predicate agrees too
        ("Susan is at the garage and has a spare key.", "I am at the garage and have a spare key."),
        ("On Mondays, Susan arrives at nine and stays until noon.", "On Mondays, I arrive at nine and stay until noon."),
        ("Susan checks the list, then leaves.", "I check the list, then leave."),
        ("Susan nods and smiles.", "I nod and smile."),
        # ... but not a plural noun, another subject's verb, or the verb after a subordinate clause
        ("Susan cleans the tables and locks.", "I clean the tables and locks."),
        ("Susan plugs in the heater, and it sparks and starts to smoke.",
         "I plug in the heater, and it sparks and starts to smoke."),
        ("Dorothy calls in a favour Susan owes, and urges the other way.",
         "Dorothy calls in a favour I owe, and urges the other way."),
        ("Fehim tries the journey while Susan is off with Ethan, and falls on the ice.",
         "Fehim tries the journey while I am off with Ethan, and falls on the ice."),
        ("Zsofia thanks Susan and gets straight on with the day.", "Zsofia thanks me and gets straight on with the day."),
        # a subject in any tense, wherever its clause starts
        ("Early on Tuesday, Susan went to the loading bay.", "Early on Tuesday, I went to the loading bay."),
        ("The box was locked, so Susan waited until the cook arrived.",
         "The box was locked, so I waited until the cook arrived."),
        ("Kamau waited until Susan updated the bookmarks.", "Kamau waited until I updated the bookmarks."),
        ("Kamau asks for the hammer Susan borrowed.", "Kamau asks for the hammer I borrowed."),
        ("It is past the time Susan agreed to meet.", "It is past the time I agreed to meet."),
        ("The bag was set aside and Susan used the cart.", "The bag was set aside and I used the cart."),
        ("The letter from Susan arrived.", "The letter from me arrived."),
        ("Kamau tells Susan stories about the war.", "Kamau tells me stories about the war."),
        # I or me after a conjunction, and the first person last in a pair
        ("Susan and Havse often meet there on Mondays.", "Havse and I often meet there on Mondays."),
        ("Kamau asks Susan and Lena for help.", "Kamau asks Lena and me for help."),
        ("Nothing stays between Susan and Kofi.", "Nothing stays between Kofi and me."),
        ("Lucas needs to see Susan and others look out for each other.",
         "Lucas needs to see me and others look out for each other."),
        ("Lena thanks Susan and Kamau smiles back.", "Lena thanks me and Kamau smiles back."),
        # possessives, reflexives, speech tags, script labels, "a cook named Susan"
        ("That bag is a friend of Susan's.", "That bag is a friend of mine."),
        ("Susan hurt herself on the stairs.", "I hurt myself on the stairs."),
        ("Susan tells Kamau to help himself.", "I tell Kamau to help himself."),
        ('"Yes," said Susan.', '"Yes," I said.'),
        ("Susan: Thanks. I will put it in my diary.", "Me: Thanks. I will put it in my diary."),
        ("A cook named Susan keeps a list of everything.", "I, a cook, keep a list of everything."),
        ("Kamau met a cook named Susan.", "Kamau met me, a cook."),
    ],
)
def test_first_person(text, expected):
    assert to_first_person(text, "Susan") == expected


def test_we_in_a_conversation_between_me_and_one_other():
    text = "Susan met Kamau.\nKamau: Hello.\nSusan: Hi.\nAfter that, they talked about other things for a while."
    assert to_first_person(text, "Susan") == (
        "I met Kamau.\nKamau: Hello.\nMe: Hi.\nAfter that, we talked about other things for a while.")
    story = "Susan stacked the boxes. By the afternoon they were dry. They both went home."
    assert to_first_person(story, "Susan") == "I stacked the boxes. By the afternoon they were dry. They both went home."


@pytest.mark.parametrize(
    "verb, base",
    [("realizes", "realize"), ("freezes", "freeze"), ("buzzes", "buzz"), ("quizzes", "quiz"), ("tries", "try"),
     ("dies", "die"), ("goes", "go"), ("echoes", "echo"), ("tiptoes", "tiptoe"), ("reaches", "reach"),
     ("aches", "ache"), ("fixes", "fix"), ("passes", "pass"), ("uses", "use"), ("focuses", "focus"),
     ("has", "have"), ("is", "am"), ("borrows", "borrow")],
)
def test_base_form(verb, base):
    assert base_form(verb) == base


def test_third_person_verbs_are_known_verbs_not_plural_nouns():
    assert all(map(is_third_person_verb, ["checks", "has", "tries", "stays", "locks", "realises"]))
    assert not any(map(is_third_person_verb, ["tables", "sometimes", "pass", "always", "minutes", "scissors"]))


def test_first_person_through_an_apposition():
    assert to_first_person("In the yard, Brandon, a prefect, has just arrived.", "Brandon") == \
        "In the yard, I, a prefect, have just arrived."
    assert to_first_person("The yard is where Brandon, a prefect, is right now.", "Brandon") == \
        "The yard is where I, a prefect, am right now."
    assert to_first_person("Robin gives Brandon, a prefect, the keys.", "Brandon") == "Robin gives me, a prefect, the keys."
    assert to_first_person("Brandon, a prefect, often comes in at noon.", "Brandon") == \
        "I, a prefect, often come in at noon."


NAMES = ["Omar", "Lena", "Tariq", "Isaac"]
KETTLE = ("Omar fixes the kettle. Omar fills it with water. The kettle boils in a minute. "
          "The handle gets hot, so Omar uses a cloth.")


def test_transforms_compose_and_are_seeded():
    a = apply_transforms(KETTLE, ["first_person", "lived", "social"], random.Random(1), NAMES)
    b = apply_transforms(KETTLE, ["first_person", "lived", "social"], random.Random(1), NAMES)
    assert a == b
    assert a == (
        "Here is what I found out once I was there myself. I fix the kettle. I fill it with water. "
        'Lena wanted to hear about it. I explained, "The kettle boils in a minute. The handle gets hot, so I use '
        'a cloth." "Thanks," said Lena. "That makes sense now."'
    )
    assert apply_transforms(KETTLE, ["first_person", "lived", "social"], random.Random(0), NAMES) == (
        'I fix the kettle. I fill it with water. Later I went over it with Tariq. I explained, "I soon learned '
        'that the kettle boils in a minute." "Really?" Tariq asked. "The handle gets hot, so I use a cloth," '
        "I said. Looking back, I am glad I saw it for myself."
    )


@pytest.mark.parametrize("seed", range(12))
def test_i_never_talk_to_myself(seed):
    out = apply_transforms(KETTLE, ["first_person", "lived", "social"], random.Random(seed), NAMES)
    assert "Omar" not in out


def test_protagonist_is_a_person_not_a_label():
    assert protagonist("Omar fixes the kettle. Omar fills it with water.", []) == "Omar"
    assert protagonist("Lena met Omar. Omar waved.", ["Omar", "Lena"]) == "Lena"
    facts = "Facts.\n- Question: What? Answer: Tea.\n- Question: Who? Answer: Ada.\n- Some people nap. Some people read."
    assert protagonist(facts, []) is None


def test_unknown_transform_rejected():
    with pytest.raises(ValueError, match="unknown transforms"):
        parse_transforms("first_person,telepathy")


HOWTO = ("How to clean the kettle.\n\nThe job takes about ten minutes.\n\n1. Empty the kettle.\n"
         "2. Wipe the kettle with a damp cloth.\n\nWhen everything is done, tell Lena.")
STEPS = ("Then I noticed that ", "I saw that ", "I found that ", "It turned out that ", "I soon learned that ")


def test_lived_frames_the_text_and_keeps_its_structure():
    assert lived(HOWTO, random.Random(0), NAMES) == (
        "How to clean the kettle.\n\nI soon learned that the job takes about ten minutes.\n\n1. Empty the kettle.\n"
        "2. Wipe the kettle with a damp cloth.\n\nWhen everything is done, tell Lena. "
        "Looking back, I am glad I saw it for myself."
    )
    # an opening line before a title is a paragraph of its own
    assert lived(HOWTO, random.Random(1), NAMES) == "Here is what I found out once I was there myself.\n\n" + HOWTO


@pytest.mark.parametrize("seed", range(30))
def test_lived_leads_into_at_most_one_statement(seed):
    text = ("Isaac packs the boxes. Isaac sometimes borrows the van. The van is old. Open the door. "
            "When it rains, the roof leaks. Some boxes get wet. A few minutes later, Lena leaves.")
    out = lived(text, random.Random(seed), ["Isaac", "Lena"])
    used = [s for s in STEPS if s in out]
    assert len(used) <= 1
    if used:
        # a statement that opens with its subject, lowered unless it is a name; never an imperative,
        # a sentence opening with a clause or a time phrase
        following = out.split(used[0], 1)[1]
        assert following.startswith(("Isaac packs", "Isaac sometimes", "the van is old", "some boxes get wet"))
        out = out.replace(used[0] + following[0], following[0].upper())
    assert text in out
    # a text that already holds speech gets no lead-in
    talk = "Isaac packs the boxes. The van is old.\nLena: It is late.\nIsaac: We can go now."
    assert not any(s in lived(talk, random.Random(seed), ["Isaac", "Lena"]) for s in STEPS)


def test_social_quotes_a_short_exchange_and_leaves_the_rest_as_narration():
    out = social(HOWTO, random.Random(2), NAMES)
    assert out == (
        "How to clean the kettle.\n\nI was chatting with Omar about this. "
        'Omar told me, "The job takes about ten minutes."\n\n1. Empty the kettle.\n'
        "2. Wipe the kettle with a damp cloth.\n\nWhen everything is done, tell Lena."
    )


def test_social_never_quotes_speech_a_title_or_a_list():
    talk = ('I was already in the shed when Omar came in.\nOmar asked, "Is it raining?"\n'
            '"It was when I came in," I replied.\nAfter that, we talked about other things.')
    for seed in range(20):
        out = social(talk, random.Random(seed), NAMES)
        assert out.startswith(talk + " ") and out.count('"') == talk.count('"') + out[len(talk):].count('"')
        assert '"' not in out[len(talk):] or out[len(talk):].count('"') % 2 == 0
    facts = "Facts about a clinic.\n- The ward is part of a clinic.\n- A hoist sling is kept at a clinic."
    assert social(facts, random.Random(1), NAMES) == facts + (
        '\n\n"That is the whole of it," I told Lena afterwards.')


def test_social_speech_tags_punctuate_the_quote():
    text = "Isaac packs the boxes. The van is old. Is the road open? The rain was heavy, so the path flooded."
    outs = {social(text, random.Random(seed), ["Lena"]) for seed in range(60)}
    joined = "\n".join(outs)
    # a tag after the quote: the full stop becomes a comma; a question keeps its mark and is asked
    assert '"The van is old," ' in joined
    after_tag = r'\." (?:(?:I|Lena) (?:said|told|explained|pointed out|asked)(?: me| to Lena| Lena)?|said Lena)\.'
    assert not re.search(after_tag, joined)
    assert 'Is the road open?" I asked' in joined or 'Lena asked me, "Is the road open?"' in joined
    # a tag inside a sentence cut at its comma
    assert '"The rain was heavy," I told Lena, "so the path flooded."' in joined or \
        '"The rain was heavy," I said, "so the path flooded."' in joined
    for out in outs:
        assert out.count('"') % 2 == 0
        assert '""' not in out


def test_social_never_quotes_the_lines_lived_added():
    text = lived("Isaac packs the boxes. The van is old. The roof leaks.", random.Random(3), ["Isaac"])
    for seed in range(20):
        out = social(text, random.Random(seed), ["Lena"])
        for line in ("This is something I had to learn for myself.", "It has stayed with me ever since."):
            if line in text:
                assert line in out
