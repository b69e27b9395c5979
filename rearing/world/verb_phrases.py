"""Source sentences as verb phrases for their agent, the form every renderer embeds.

An option's action follows its agent ("If Priya decides to {action}", "Option A: Priya can {action}")
and a goal follows "wants to", but imported datasets write whole sentences ("Priya tells her friend
the truth."). ``verb_phrase`` turns such a sentence into its predicate in base form ("tell her friend
the truth"); ``goal_phrase`` does the same for an intention ("Priya wants to win." gives "win").

The rules cover how these datasets write: a name or he/she/they/I as subject; a present or past
verb, and the verbs coordinated with it ("tells him and offers to pay" gives "tell him and offer to
pay"); negation ("doesn't return" gives "not return"); will/would and "is going to"; and wrappers
that only say the agent acts ("decides to", "chooses to", "wants to", "goes ahead and"). Verbs take
their base form through ``rearing.corpus.person.base_form``; past tenses through a table of
irregular verbs and spelling rules for ``-ed``. What the rules cannot read (no subject they know, a
modal, a perfect or progressive verb, a second sentence with another subject) returns None, and an
importer puts the text behind ``VERB_PHRASE_FALLBACK``, which is itself a verb phrase.
"""

from __future__ import annotations

import re

from rearing.corpus.person import base_form, looks_like_verb
from rearing.text import lower_first


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


VERB_PHRASE_FALLBACK = "see to it that {clause}"
ETHICS_ACT_FALLBACK = "go ahead and do this"
VERB_PHRASE_SUFFIX = ".verb_phrase"

_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)\s+(?=[A-Z\"'])")
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
_NAME_WORD = re.compile(r"[A-Z][a-z]*(?:[A-Z][a-z]+)*(?:['’][A-Z][a-z]+|-[A-Z]?[a-z]+)?")
_PRONOUNS = {"he": "3sg", "she": "3sg", "they": "plural", "i": "1sg"}
_TITLES = frozenset({"Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Dr", "Dr."})
_NOT_NAMES = _words(
    "a an the this that these those it we you there then when if after before while instead his her "
    "their its my our your some one nobody everyone someone everybody somebody later now so but and as "
    "at in on to once finally meanwhile because since although though yesterday today")
_BE = frozenset({"is", "are", "am", "was", "were", "isn't", "aren't", "wasn't", "weren't"})
_HAVE = frozenset({"has", "have", "had", "hasn't", "haven't", "hadn't"})
_NEGATED = frozenset({"doesn't", "didn't", "don't", "won't", "wouldn't"})
_MODALS = frozenset({"can", "could", "should", "must", "might", "may", "can't", "cannot", "couldn't",
                     "shouldn't", "mustn't"})
_WRAPPERS = frozenset({"decide", "choose", "opt", "elect", "want", "resolve"})
_GOAL_WRAPPER = re.compile(
    r"(?:wants|wanted|want|needs|needed|need|hopes|hoped|hope|plans|planned|plan|intends|intended|intend|"
    r"wishes|wished|wish|aims|aimed|aim|tries|tried|try|has|had|have|would (?:like|love)|"
    r"(?:is|was|are|were|am) (?:trying|hoping|planning|looking|eager|determined|going|about)) to (.+)")
_GOAL_OBJECT = re.compile(r"(?:wants|wanted|want|needs|needed|need) (.+)")
_ADVERBS = _words("also then just still never always instead soon even now only already again later "
                  "first finally suddenly secretly")
_LY_VERBS = _words("apply reply rely supply comply multiply imply ally bully rally tally fly")
_S_WORDS = _words("his hers ours yours theirs us yes plus less unless whereas sometimes afterwards "
                  "nevertheless")
_CONJUNCTIONS = frozenset({"and", "but", "or", "then"})
_SUBORDINATORS = _words("that because when while if who which whom whose although though unless "
                        "whether what where why how until since so")
_CONNECTIVES = frozenset({"then", "later", "afterwards", "afterward", "next", "finally"})
_COMPLEMENT_STARTS = _words(
    "the a an his her their its my your our this that these those some any every each all no nothing "
    "something anything everything everyone someone anyone nobody him them it me us you himself herself "
    "themselves itself to up out off away back down in on over about for with into at from around through "
    "home along by across after before without behind alone outside inside upstairs downstairs")
_SAME_PAST = _words("hit put cut let set shut quit cast cost hurt read spread split bet bid burst shed "
                    "upset")
_PAST = dict(pair.split(":") for pair in _words(
    "ate:eat awoke:awake became:become began:begin bent:bend bit:bite blew:blow bought:buy broke:break "
    "brought:bring built:build came:come caught:catch chose:choose crept:creep dealt:deal did:do "
    "drank:drink drew:draw drove:drive dug:dig fed:feed fell:fall felt:feel fled:flee flew:fly "
    "forgave:forgive forgot:forget fought:fight found:find froze:freeze gave:give got:get grew:grow "
    "had:have heard:hear held:hold hid:hide hung:hang kept:keep knew:know laid:lay led:lead left:leave "
    "lent:lend lost:lose made:make meant:mean met:meet paid:pay ran:run rang:ring rode:ride rose:rise "
    "said:say sang:sing sat:sit saw:see sent:send shook:shake shot:shoot slept:sleep slid:slide "
    "sold:sell sought:seek spent:spend spoke:speak stole:steal stood:stand stuck:stick struck:strike "
    "swam:swim swore:swear swept:sweep swung:swing taught:teach thought:think threw:throw told:tell "
    "took:take tore:tear understood:understand went:go woke:wake won:win wore:wear wrote:write "
    "added:add agreed:agree disagreed:disagree freed:free guaranteed:guarantee owed:owe eyed:eye "
    "sped:speed bled:bleed bred:breed"))
_E_STEMS = _words("invit excit unit recit ignit cit wast tast past hast creat complet delet compet persuad")
_NO_E_STEMS = frozenset({"focus", "bias"})
_DIGRAPHS = _words("ai ea ee oa oo ou oi ie ei au ui ue ay ey oy")


def _core(token: str) -> str:
    """A token's leading word, lower-cased, with a typographic apostrophe made plain."""
    match = _WORD.match(token)
    return match.group(0).lower().replace("’", "'") if match else ""


def _regular_past_base(word: str) -> str | None:
    """The base form of a regular past tense ('grabbed' grab, 'hoped' hope, 'tried' try), or None."""
    if len(word) < 4 or not word.endswith("ed") or word.endswith("eed"):
        return None
    if word.endswith("ied"):
        return word[:-3] + "y" if len(word) > 4 else word[:-1]
    stem = word[:-2]
    if not re.search("[aeiouy]", stem):
        return None
    last, before = stem[-1], stem[-2]
    if stem in _E_STEMS:
        return stem + "e"
    if last == before:
        return stem[:-1] if last in "bdgmnprt" else stem
    if (last in "vcuz" or (last == "s" and stem not in _NO_E_STEMS)
            or stem.endswith(("dg", "rg", "lg", "th", "chang", "rang", "eng"))
            or (last == "l" and before in "bcdfgkptz")):
        return stem + "e"
    single = before in "aeiouy" and stem[-3:-1] not in _DIGRAPHS
    if not single or last not in "bdgklmnprt":
        return stem
    pair = before + last
    if pair in ("er", "el", "en", "it", "et") or (pair in ("on", "op") and len(stem) > 4):
        return stem
    return stem + "e"


def _base_verb(word: str, person: str) -> tuple[str, str] | None:
    """(base form, tense) of a finite verb after a subject of this person, or None if it is not one."""
    if word in _PAST:
        return _PAST[word], "past"
    if word in _SAME_PAST:
        return word, "past"
    past = _regular_past_base(word)
    if past is not None:
        return past, "past"
    if person == "3sg":
        if looks_like_verb(word) and word not in _S_WORDS and word not in _BE and not word.endswith(("us", "is")):
            # base_form covers -s, -es, -ies and has/does/goes; "-zes" keeps its e (realizes).
            return (word[:-1] if word.endswith("zes") and not word.endswith("zzes") else base_form(word)), "present"
        return None
    if word.isalpha() and word not in _NOT_NAMES and word not in _COMPLEMENT_STARTS:
        return word, "present"
    return None


def _is_adverb(word: str) -> bool:
    return word in _ADVERBS or (word.endswith("ly") and len(word) > 4 and word not in _LY_VERBS)


def _verb_group(tokens: list[str], person: str) -> tuple[list[str], int, str] | None:
    """The verb group opening a predicate, in base form: (words, tokens used, tense); tense is
    'present', 'past' or 'be' (whose conjuncts are predicates, not verbs). None if there is none."""
    words: list[str] = []
    i = 0
    while i < len(tokens) and _is_adverb(_core(tokens[i])):
        words.append(tokens[i])
        i += 1
    cores = [_core(t) for t in tokens[i:i + 4]] + ["", "", "", ""]
    word, following = cores[0], cores[1]
    if not word or tokens[i][:1].isupper():
        return None
    if word in _NEGATED or (word in ("does", "did", "do", "will", "would") and following == "not"):
        words.append("not")
        i += 1 + (following == "not")
        tense = "past" if word.startswith("did") else "present"
    elif word in ("will", "would", "shall"):
        i += 1
        tense = "present"
    elif word in _BE:
        negated = word.endswith("n't") or following == "not"
        after = cores[1 + (following == "not"):]
        if after[0] in ("going", "about") and after[1] == "to":
            i += 3 + (following == "not")
            words += ["not"] * negated
            tense = "present"
        elif after[0].endswith("ing"):
            return None
        else:
            i += 1 + (following == "not")
            return [*words, *(["not"] * negated), "be"], i, "be"
    elif word in _HAVE:
        verb = next((c for c in cores[1:] if not _is_adverb(c)), "")
        if _regular_past_base(verb) or verb in _PAST or verb.endswith("en"):
            return None
        words += ["not"] * word.endswith("n't") + ["have"]
        return words, i + 1, "past" if word.startswith("had") else "present"
    elif word in _MODALS:
        return None
    else:
        found = _base_verb(word, person)
        if found is None:
            return None
        base, tense = found
        if base in _WRAPPERS and (following == "to" or (following == "not" and cores[2] == "to")):
            words += ["not"] * (following == "not")
            i += 2 + (following == "not")
        elif base == "go" and following == "ahead" and cores[2] == "and":
            rest = _verb_group(tokens[i + 3:], person)
            return None if rest is None else (words + rest[0], i + 3 + rest[1], rest[2])
        else:
            return [*words, base + tokens[i][len(word):]], i + 1, tense
    return (words, i, tense) if i < len(tokens) else None


def _conjuncts(tokens: list[str], person: str, tense: str) -> list[str]:
    """The rest of a predicate with each verb coordinated with the first one put in base form.

    A verb after "and"/"but"/"or"/"then" or a comma agrees with the subject; inside a clause opened by
    "that", "because"... only one after a comma or "then" does. A plural noun ("cups and plates") is
    told from a verb by what follows it. After a form of "be" only an irregular past or an -s verb
    counts ("was rude and left"), so a passive or adjective stays ("was caught and punished").
    """
    out = list(tokens)
    inside = False
    for j, token in enumerate(tokens[:-1]):
        word = _core(token)
        inside = inside or word in _SUBORDINATORS
        comma = token.endswith(",")
        if word not in _CONJUNCTIONS and not comma:
            continue
        k = j + 1
        strong = word == "then" or (j > 0 and tokens[j - 1].endswith(",")) or comma
        while k < len(tokens) and _is_adverb(_core(tokens[k])):
            strong = strong or _core(tokens[k]) == "then"
            k += 1
        if k >= len(tokens) or (inside and not strong):
            continue
        candidate = _core(tokens[k])
        if tokens[k][:1].isupper():
            continue
        after = _core(tokens[k + 1]) if k + 1 < len(tokens) else ""
        complement = (after in _COMPLEMENT_STARTS or _is_adverb(after)
                      or (k + 1 < len(tokens) and tokens[k + 1][:1].isupper()))
        plural_before = word in ("and", "or") and not comma and _core(tokens[j - 1]).endswith("s") if j else False
        if not (complement or (k + 1 == len(tokens) and not plural_before and not comma)):
            continue
        if candidate in ("doesn't", "didn't") or (candidate in ("does", "did") and after == "not"):
            out[k] = "not"
            if after == "not":
                out[k + 1] = ""
            continue
        found = _base_verb(candidate, person) if candidate not in _BE else ("be", tense)
        # after "is"/"was" only an unmistakable verb is one: "was caught and punished" stays passive
        agrees = found is not None and (found[1] == tense or candidate in _BE or (
            tense == "be" and (candidate in _PAST or found[1] == "present")))
        if agrees and found[0] != candidate:
            out[k] = found[0] + tokens[k][len(candidate):]
    return [t for t in out if t]


def _subjects(tokens: list[str]) -> list[tuple[int, str, str]]:
    """Readings of a sentence's subject: (tokens it takes, its text, its person), shortest first."""
    if not tokens:
        return []
    if tokens[0].lower() in ("he", "she", "they") or tokens[0] == "I":
        return [(1, tokens[0], _PRONOUNS[tokens[0].lower()])]
    start = 1 if tokens[0] in _TITLES else 0
    readings = []
    for n in (start + 1, start + 2):
        names = tokens[start:n]
        if len(names) == n - start and all(_NAME_WORD.fullmatch(w) and w.lower() not in _NOT_NAMES for w in names):
            readings.append((n, " ".join(tokens[:n]), "3sg"))
    return readings


def _predicate(tokens: list[str]) -> tuple[str, list[str]] | None:
    """(subject, predicate words in base form) of one sentence's tokens, or None."""
    for n, subject, person in _subjects(tokens):
        group = _verb_group(tokens[n:], person)
        if group is not None:
            words, used, tense = group
            return subject, words + _conjuncts(tokens[n + used:], person, tense)
    return None


def _sentences(text: str) -> list[str]:
    return _SENTENCE_END.split(" ".join(text.split()))


def is_pronoun(subject: str) -> bool:
    """True for a subject the rules read as a pronoun (he, she, they, I) rather than a name."""
    return subject.lower() in _PRONOUNS


def verb_phrase(text: str) -> tuple[str, str] | None:
    """(subject, verb phrase) of a sentence, or of sentences sharing its subject, or None if the rules
    cannot read it: "Sam doesn't call back." gives ("Sam", "not call back"); "Then" and similar
    words that open a later sentence join it with a comma ("tell him, then leave")."""
    subject, parts = "", []
    for index, sentence in enumerate(_sentences(text)):
        tokens = sentence.rstrip(".!? ").split()
        joiner = ", and "
        if index and tokens and _core(tokens[0]) in _CONNECTIVES:
            joiner = f", {_core(tokens[0])} "
            tokens = tokens[1:]
        found = _predicate(tokens)
        if found is None:
            return None
        if index and found[0] != subject and not (not is_pronoun(subject) and found[0] in ("He", "She")):
            return None
        subject = subject or found[0]
        parts.append((joiner if index else "") + " ".join(found[1]))
    phrase = "".join(parts).rstrip(" ,;:")
    return (subject, phrase) if phrase else None


def goal_phrase(text: str) -> tuple[str, str] | None:
    """(subject, goal as a verb phrase) of an intention: "Ana wants to win." gives ("Ana", "win"),
    "Ana wants her team to win." gives "get her team to win"; otherwise its verb phrase, or None."""
    sentences = _sentences(text)
    tokens = sentences[0].rstrip(".!? ").split()
    for n, subject, _ in _subjects(tokens) if len(sentences) == 1 else []:
        rest = " ".join(tokens[n:])
        match = _GOAL_WRAPPER.fullmatch(rest)
        if match:
            return subject, match.group(1)
        match = _GOAL_OBJECT.fullmatch(rest)
        if match:
            return subject, f"get {match.group(1)}"
    return verb_phrase(text)


def fallback_phrase(text: str) -> str:
    """A text as the clause of VERB_PHRASE_FALLBACK: sentences joined by semicolons, no final stop."""
    clauses = []
    for sentence in _sentences(text):
        sentence = sentence.rstrip(".!? ")
        first = sentence.split(" ", 1)[0]
        lower = first.lower() in _NOT_NAMES or first in ("He", "She", "They")
        clauses.append(sentence[:1].lower() + sentence[1:] if lower else lower_first(sentence))
    return VERB_PHRASE_FALLBACK.format(clause="; ".join(clauses))
