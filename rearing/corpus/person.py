"""Reframe third-person text about one named person into the first person.

The world generator and the general corpus always write their people by name (never a pronoun), so
rules on the words around each mention are enough; arbitrary text goes through the LLM backend
instead. Each mention of the name becomes:

* ``my`` (``My``) when possessive: "Susan's bag" gives "my bag", "a friend of Susan's." gives
  "a friend of mine.";
* ``I`` when it is a subject, that is when a verb follows (present, past, modal or auxiliary, after
  frequency adverbs and any apposition: "Susan, a prefect, often comes in" gives "I, a prefect,
  often come in"), unless a preposition comes before it ("the letter from Susan arrived" keeps
  "me"); where the name does not open a clause, an -s word counts as a verb only when it is a known
  one ("Kamau tells Susan stories" keeps "me"); also a subject coordinated at the start of a clause
  ("Kamau and Susan grow closer" gives "Kamau and I grow closer") and a name that opens a sentence;
* ``Me`` as a script label ("Susan: Thanks." gives "Me: Thanks.");
* ``me`` anywhere else ("Kamau thanks Susan" gives "Kamau thanks me").

The verb of a first-person subject agrees with it ("I has" becomes "I have", "I usually works"
"I usually work"), and so do the verbs coordinated with it in a main clause ("I arrive at nine and
stays until noon" gives "... and stay until noon"), up to a word that starts another clause. Before
the rewrite, a name paired with the subject's goes first ("Susan and Kamau meet" gives "Kamau and I
meet"), "a cook named Susan" becomes "Susan, a cook," ("A cook named Susan keeps a list" gives "I, a
cook, keep a list") and '"Yes," said Susan.' becomes '"Yes," Susan said.'; after it, a reflexive that
follows a first-person subject becomes "myself", and in a conversation between me and one other
person, "they" doing something together becomes "we" ("After that, we talked ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


IRREGULAR = {"is": "am", "has": "have", "does": "do", "goes": "go", "was": "was"}
NEGATED = {"isn't": "am not", "doesn't": "don't", "hasn't": "haven't", "wasn't": "wasn't"}
NOT_VERBS = frozenset(
    {"is", "as", "this", "its", "always", "across", "towards", "perhaps", "besides", "thus", "sometimes",
     "afterwards", "nevertheless", "his", "hers", "yours", "ours", "theirs", "us", "yes", "plus", "less",
     "unless", "whereas", "was", "has", "does", "goes", "upstairs", "downstairs", "indoors", "outdoors",
     "backwards", "forwards", "sideways", "nowadays"}
)
"""Words ending in -s that are never a third-person verb."""
SUBJECT_BEFORE = frozenset({"and", "but", "so", "then", "whatever", "when", "while", "if", "yet", "that"})
SUBORDINATORS = frozenset(
    {"because", "until", "unless", "once", "although", "though", "whether", "where", "wherever", "whenever",
     "how", "why", "what", "who", "as", "since", "before", "after", "than", "or", "nor", "together",
     "now", "later", "soon", "finally", "meanwhile", "instead", "also", "still", "even", "only"}
)
"""Words after which a name followed by a verb is a subject (they may also be prepositions)."""
MODALS = frozenset({"can", "could", "would", "will", "should", "might", "may", "must", "had", "shall",
                    "can't", "cannot", "couldn't", "wouldn't", "won't", "shouldn't", "mustn't", "hadn't",
                    "didn't", "did"})
PREPOSITIONS = frozenset(
    {"for", "at", "to", "with", "of", "about", "on", "from", "by", "like", "near", "around", "without",
     "into", "onto", "towards", "toward", "beside", "behind", "between", "among", "against", "past",
     "through", "under", "over", "upon", "within", "beyond", "except", "besides", "via", "in", "off"}
)
ADVERBS = frozenset(
    {"often", "usually", "sometimes", "always", "never", "also", "still", "just", "rarely", "seldom",
     "already", "really", "then", "now", "soon", "even", "only", "generally", "mostly", "normally",
     "nearly", "almost", "finally", "first", "later", "eventually", "occasionally", "frequently",
     "regularly", "quickly", "slowly", "quietly", "suddenly", "simply", "actually", "certainly",
     "probably", "clearly", "immediately", "gently", "carefully", "barely", "hardly", "once", "again",
     "together", "both", "all", "promptly", "happily", "gladly", "calmly", "plainly", "not"}
)
"""Adverbs that may stand between a subject and its verb ("Susan often checks ...")."""
_LY_NOT_ADVERBS = frozenset({"apply", "reply", "rely", "supply", "comply", "multiply", "imply", "ally",
                             "bully", "rally", "tally", "fly", "family", "early", "only", "holy", "ugly",
                             "belly", "jelly", "july", "italy", "daily", "weekly", "monthly", "lovely",
                             "friendly", "lonely", "likely", "elderly", "silly", "lily", "assembly"})
COMMON_VERBS = _words("""
accept access ache act add admit advise agree allow answer appear apply argue arrange arrive ask
avoid bake balance bear become begin believe belong blame borrow break bring build burn buy call
care carry catch change charge chat check choose clean clear click climb cling close collect come
compare complain complete confide confirm cook cool copy corner correct cost count cover crash cross
cry cut damage dance decide delete deliver demand depend describe destroy dig do drag draw dread dream
dress drink drive drop dry eat email empty end enjoy enter expect explain face fail fall feed feel
fetch fill find finish fit fix flinch fly fold follow forget fret get give glance go grab greet grin
grow grumble guess guide handle hang happen hate head hear help hesitate hide hit hold hope hunt hurry
hurt insist install invite join jump keep kick knock know land laugh lay lead learn leave lend let lie
lift light like listen live load lock log look lose love make manage mean meet mend mention message
mind miss mix move need nod note notice offer open order organise owe own pack paint panic pass pause
pay phone pick pitch place plan plant play point post pour practise prefer prepare press print
promise protect pull push put reach read realise realize receive recommend refuse relax rely remember
remind remove repair repeat reply report rest return ride ring rinse rise roll run rush save say
search see seem sell send sense serve set settle share shout show shut sigh sign sing sit skid sleep
slide slip smile sort sound speak spend split spot spread stack stand stare start stay steer step
stick stop store storm stumble suffer suggest supply suspect sway sweep swerve swing switch tackle
take talk teach tell tend thank think throw tidy topple touch train travel trip try trust tug turn
type understand unlock update upload use visit wait wake walk want warn wash watch wave wear win
wince wipe wish wonder work worry wrap wreck write
admire affect aim announce apologise approach attach attend bend blink blow boil book bother breathe
brush bump celebrate cheer chop collapse concentrate connect consider continue convince corrupt crack
crawl create cycle deal delay deny disappear discover doubt download drift earn edit encourage escape
examine explore fade fasten fetch file flag float fold force frown gather glow grip groan guard hammer
hand hop hug hum ignore imagine improve include inform inspect intend interrupt introduce jog kneel
label lean limp link mark measure melt merge mop mow nail observe occur overlook park peel perform
pin plug polish pop pretend prevent produce provide publish pump queue race raise reassure recall
recognise record reduce refresh reject release remain rename renew rent replace request rescue
respond restock rub ruin scan scatter schedule scrape scratch scroll seal shake shiver shoot shop shrug
sink skip slam smell solve spill spin squeeze stamp stir stretch struggle study submit support
suppose swap swim tap taste tear test text tick tie tip trade transfer translate treat tremble unload
unpack urge vanish wander warm weigh welcome whisper whistle wink wobble yawn yell
""")
"""Common verbs in base form: a word of this list with an -s ending is a verb where a plural noun
could also stand (after an object, after "and")."""
_OE_STEMS = frozenset({"shoe", "toe", "hoe", "canoe", "tiptoe", "woe", "foe", "floe", "oboe", "sloe"})
_SE_BASES = {"focuses": "focus", "biases": "bias", "buses": "bus", "quizzes": "quiz", "aches": "ache",
             "caches": "cache", "niches": "niche"}
COMPLEMENT_STARTS = _words(
    """the a an his her their its my your our this that these those some any every each all no it
    them him me us you up out off away back down in on over about for with into at from around through
    home along by across after before without behind until to what whether how if when so and but
    again there here too well hard straight right now then later"""
)
"""Words that may follow a verb: after "and", a known verb before one of them is a verb."""
REFLEXIVES = re.compile(r"\b(?:himself|herself|themselves|themself)\b")
_CLAUSE_STOPS = frozenset({"who", "which", "that", "when", "while", "because", "if", "so", "until", "where",
                           "whose", "as", "since", "before", "after", "though", "although", "unless",
                           "whether", "what", "once", "but", "yet"})
_COORDINATORS = frozenset({"and", "but", "so", "then", "yet", "or", "nor"})
_NEW_SUBJECTS = _words("it they he she we you there this these those the a an his her their my some "
                       "every each everyone someone nobody no one")
"""Words after 'and' or a comma that start another clause: the coordinated verbs end there."""
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def base_form(verb: str) -> str:
    """A third-person present verb in its base form: 'tries' try, 'realizes' realize, 'has' have."""
    lower = verb.lower()
    if lower in IRREGULAR:
        return IRREGULAR[lower]
    if lower in _SE_BASES:
        return verb[: len(_SE_BASES[lower])]
    if lower.endswith("ies") and len(lower) > 4:
        return verb[:-3] + "y"
    if lower.endswith("oes"):
        return verb[:-1] if lower[:-1] in _OE_STEMS else verb[:-2]
    if lower.endswith("zzes"):
        return verb[:-2]
    if lower.endswith(("sses", "shes", "ches", "xes")):
        return verb[:-2]
    if lower.endswith("s") and not lower.endswith("ss"):
        return verb[:-1]
    return verb


def looks_like_verb(word: str) -> bool:
    lower = word.lower()
    return lower in IRREGULAR or (lower.endswith("s") and not lower.endswith("ss") and lower not in NOT_VERBS)


def is_third_person_verb(word: str) -> bool:
    """Whether ``word`` is the third-person present of a common verb ('checks', 'has', 'tries')."""
    lower = word.lower()
    if lower in ("has", "is", "does", "goes"):
        return True
    return (lower.endswith("s") and not lower.endswith("ss") and lower not in NOT_VERBS
            and base_form(lower) != lower and base_form(lower) in COMMON_VERBS)


_PAST = _words("""
ate awoke became began bent bit blew bought broke brought built came caught chose crept dealt did drank
drew drove dug fed fell felt fled flew forgave forgot fought found froze gave got grew heard held hid
hung kept knew laid led left lent lost made meant met paid ran rang rode rose said sang sat saw sent
shook shot slept slid sold sought spent spoke stole stood stuck struck swam swore swept swung taught
thought threw told took tore understood went woke won wore wrote was were
""")
_NOT_PAST = frozenset({"bed", "shed", "red", "need", "seed", "speed", "feed", "weed", "hundred", "sled",
                       "bled", "fled", "bred", "led", "fed", "wed", "sped", "ted", "tired", "worried",
                       "scared", "bored", "pleased", "surprised", "relieved", "confused", "upset",
                       "interested", "excited", "annoyed", "embarrassed", "stranded", "disappointed",
                       "frustrated", "shocked", "amazed", "exhausted", "ashamed", "determined",
                       "supposed", "aged", "naked", "wicked", "sacred", "beloved"})


_SAME_PAST = _words("hit put cut let set shut quit cost hurt read spread split shed upset")
"""Past tenses spelt like their base form: a past tense only right after a subject that opens a clause."""


def _is_past(lower: str) -> bool:
    if lower in _PAST:
        return True
    if lower.endswith("eed"):
        return lower in ("agreed", "disagreed", "freed", "guaranteed", "refereed")
    return len(lower) >= 4 and lower.endswith("ed") and lower not in _NOT_PAST


def _verb(word: str, strict: bool) -> str | None:
    """What kind of finite verb ``word`` is after a third-person subject: 'present', 'past', 'modal',
    or None. ``strict`` (the name does not open a clause): an -s word must be a known verb."""
    lower = word.lower()
    if lower in MODALS:
        return "modal"
    if lower in IRREGULAR or lower in NEGATED:
        return "present"
    if _is_past(lower) or (lower in _SAME_PAST and not strict):
        return "past"
    if (looks_like_verb(lower) and not lower.endswith(("us", "is", "'s", "’s"))
            and (not strict or base_form(lower) in COMMON_VERBS)):
        return "present"
    return None


def acts_as_subject(word: str) -> bool:
    """Whether ``word``, right after a name that opens a sentence, makes the name its subject
    ("Omar fixes", "Omar went", "Omar can"), not a label ("Question:") or a determiner ("Some people")."""
    return _verb(word, strict=False) is not None


def _is_adverb(lower: str) -> bool:
    return lower in ADVERBS or (lower.endswith("ly") and len(lower) > 4 and lower not in _LY_NOT_ADVERBS)


def _agree(word: str) -> str:
    lower = word.lower()
    if lower in NEGATED:
        return NEGATED[lower]
    return base_form(word)


@dataclass(frozen=True)
class _NamePatterns:
    """The patterns that find one person's name, compiled once per name: a corpus rewrites thousands of
    documents for a few hundred names, and re's own cache (512 patterns) thrashed on them."""

    named: re.Pattern
    pair: re.Pattern
    speech_tag: re.Pattern
    mention: re.Pattern


@lru_cache(maxsize=4096)
def _name_patterns(name: str) -> _NamePatterns:
    escaped = re.escape(name)
    return _NamePatterns(
        named=re.compile(rf"\b([Aa]n?) ((?:[a-z][a-z'-]* ){{0,3}}[a-z][a-z'-]*) (?:named|called) {escaped}\b(?!['’])"
                         r"(?=(\s*[.,;:!?]|\s|$))"),
        pair=re.compile(rf"\b{escaped} and ([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b(?!['’])"),
        speech_tag=re.compile(rf"([\"”]\s+)(said|asked|replied|answered|added|called|shouted|whispered|explained) "
                              rf"{escaped}\b(?!['’])"),
        mention=re.compile(rf"(?<![\w'’-]){escaped}(?![\w-])(['’]s\b)?((?:,\s+(?:a|an|the)\s[^,.;:]{{1,40}},)?)"),
    )


_CLOSES_PAIR = re.compile(r"\s*(?:[.,;:!?]|$|(?:" + "|".join(sorted(PREPOSITIONS)) + r")\b)")


def _named(text: str, name: str) -> str:
    """'A cook named Susan keeps' -> 'Susan, a cook, keeps': the apposition the rewrite reads."""
    pattern = _name_patterns(name).named

    def replace(match: re.Match) -> str:
        after = match.group(3)
        tail = "" if after.strip() and after.strip()[0] in ".,;:!?" else ","
        return f"{name}, {match.group(1).lower()} {match.group(2)}{tail}"

    return pattern.sub(replace, text)


def _pair_first(text: str, name: str) -> str:
    """'Susan and Kamau' -> 'Kamau and Susan' (the first person goes last in a pair of names), where
    the pair opens a clause or ends one (not in 'Lena thanks Susan and Kamau smiles')."""

    def replace(match: re.Match) -> str:
        other = match.group(1)
        if other in ("I", name):
            return match.group(0)
        before = text[:match.start()].rstrip()
        previous = re.findall(r"[A-Za-z']+$", before)
        opens = (not before or before[-1] in ".!?;:,\n\"“" or
                 (previous and previous[0].lower() in SUBJECT_BEFORE | SUBORDINATORS))
        after = text[match.end():]
        closes = _CLOSES_PAIR.match(after)
        return f"{other} and {name}" if opens or closes else match.group(0)

    return _name_patterns(name).pair.sub(replace, text)


def _speech_tag_first(text: str, name: str) -> str:
    """'"Yes," said Susan.' -> '"Yes," Susan said.' (so the tag reads 'I said')."""
    return _name_patterns(name).speech_tag.sub(lambda m: f"{m.group(1)}{name} {m.group(2)}", text)


def _clause_end(text: str, start: int) -> int:
    match = re.compile(r"[.!?;:\n\"“”]").search(text, start)
    return match.start() if match else len(text)


def _agree_coordinated(text: str, start: int) -> str:
    """Base forms for the verbs coordinated with a first-person verb that ends at ``start``.

    Only a word right after 'and'/'or' (or after a comma, in a series), possibly behind adverbs or
    'then', that is the -s form of a known verb and is followed by a complement, a comma or the end of
    the clause; the scan stops at a word that opens another clause ('who', 'when', 'because', ...)."""
    end = _clause_end(text, start)
    words = list(_WORD.finditer(text, start, end))
    edits = []
    for i, match in enumerate(words):
        lower = match.group().lower()
        if lower in _CLAUSE_STOPS:
            break
        conjunction = lower in ("and", "or")
        after_comma = "," in text[words[i - 1].end() if i else start:match.start()]
        if not conjunction and not after_comma:
            continue
        j = i + 1 if conjunction else i
        while j < len(words) and _is_adverb(words[j].group().lower()):
            j += 1
        if j >= len(words):
            break
        verb = words[j]
        if verb.group() in _NEW_SUBJECTS or verb.group()[0].isupper():
            break
        if not is_third_person_verb(verb.group()):
            continue
        last = j + 1 >= len(words)
        following = "" if last else words[j + 1].group().lower()
        gap = "" if last else text[verb.end():words[j + 1].start()]
        plural_before = conjunction and i and words[i - 1].group().lower().endswith("s")
        if (verb.group().lower() in IRREGULAR or following in COMPLEMENT_STARTS or "," in gap
                or (last and not plural_before)):
            edits.append(verb)
    for verb in reversed(edits):
        text = text[:verb.start()] + _agree(verb.group()) + text[verb.end():]
    return text


def _reflexive(text: str, start: int) -> str:
    """'himself'/'herself' within a few words after a first-person verb (no other person between)."""
    end = _clause_end(text, start)
    span = text[start:end]
    match = REFLEXIVES.search(span)
    if not match:
        return text
    between = span[:match.start()]
    if re.search(r"\b(?:[A-Z][a-z]+|the|a|an|his|her|their)\b", between) or len(between.split()) > 4:
        return text
    return text[:start + match.start()] + "myself" + text[start + match.end():]


FREQUENCY = frozenset({"often", "usually", "sometimes", "always", "never", "rarely", "seldom", "also",
                       "still", "just", "really", "already", "normally", "generally", "mostly", "even",
                       "only", "not", "occasionally", "regularly", "frequently"})
"""Adverbs that may stand between a subject name and its verb ("Susan often checks ...")."""
_MENTION_WORDS = re.compile(r"[A-Za-z][A-Za-z'’]*")


def _subject_verb(rest: str, clause_start: bool, apposition: bool) -> tuple[str | None, re.Match | None]:
    """The verb that makes a mention a subject: (kind, its match in ``rest``), or (None, None)."""
    words = list(_MENTION_WORDS.finditer(rest[:160]))
    if not words or rest[:words[0].start()].strip():
        return None, None
    index = 0
    while (index < len(words) - 1 and words[index].group().lower() in FREQUENCY
           and not rest[words[index].end():words[index + 1].start()].strip()):
        index += 1
    word = words[index]
    kind = _verb(word.group(), strict=not clause_start and not apposition)
    return (kind, word) if kind else (None, None)


_CONVERSATION = re.compile(r"(?m)^Me:|[,?!][\"”] I (?:said|replied|answered|added|asked)\b|"
                           r"\bI (?:said|replied|answered|added|asked), [\"“]")
_TOGETHER = re.compile(r"\b[Tt]hey (?:both|talked|chatted|went|walked|headed|laughed|agreed|sat|met|parted|"
                       r"said goodbye|carried on)\b")
_SENTENCE_SPAN = re.compile(r"[^.!?\n]+[.!?]?")


def _we(text: str) -> str:
    """In a conversation between me and one other person, 'they' for the two of us becomes 'we'
    ("After that, they talked about other things" gives "After that, we talked ..."): only in a
    sentence of narration where 'they' does something two people do together."""
    if not _CONVERSATION.search(text):
        return text

    def sentence(match: re.Match) -> str:
        span = match.group()
        if any(q in span for q in "\"“”") or not _TOGETHER.search(span):
            return span
        for pattern, repl in ((r"\bthey\b", "we"), (r"\bThey\b", "We"), (r"\btheir\b", "our"),
                              (r"\bTheir\b", "Our"), (r"\bthemselves\b", "ourselves"), (r"\bthem\b", "us")):
            span = re.sub(pattern, repl, span)
        return span

    return _SENTENCE_SPAN.sub(sentence, text)


def to_first_person(text: str, name: str) -> str:
    """Rewrite mentions of ``name`` as I / me / my, fixing the agreement of the verbs that follow."""
    text = _speech_tag_first(_pair_first(_named(text, name), name), name)
    pattern = _name_patterns(name).mention
    out: list[str] = []
    agree_at: list[tuple[int, bool]] = []
    """Where a first-person verb ends in the output, and whether verbs coordinated with it agree too."""
    position = 0
    for match in pattern.finditer(text):
        start = match.start()
        out.append(text[position:start])
        position = match.end()
        possessive, apposition = match.group(1), match.group(2)
        before = text[:start].rstrip()
        last = before[-1] if before else ""
        sentence_start = (not before or last in ".!?\"“\n"
                          or bool(re.search(r"(?:^|\n)\s*(?:[-*•]|\d+\.)$", before)))
        previous = re.findall(r"[A-Za-z']+$", before)
        previous_word = previous[0].lower() if previous else ""
        rest = text[position:]
        if possessive:
            if previous_word == "of" and re.match(r"\s*(?:[.,;:!?]|$)", rest):
                out.append("mine")
            else:
                out.append("My" if sentence_start else "my")
            out.append(apposition)
            continue
        if not apposition and sentence_start and rest.startswith(":"):
            out.append("Me")
            continue
        clause_start = (sentence_start or last in ",;:—(" or previous_word in SUBJECT_BEFORE
                        or previous_word in SUBORDINATORS)
        after_preposition = previous_word in PREPOSITIONS
        kind, verb = _subject_verb(rest, clause_start, bool(apposition))
        if kind and not after_preposition:
            out.append("I" + apposition)
            if kind == "present":
                out.append(rest[:verb.start()] + _agree(verb.group()))
                position += verb.end()
            main_clause = sentence_start or last in ",;:—(" or previous_word in _COORDINATORS
            agree_at.append((sum(len(piece) for piece in out), kind == "present" and main_clause))
            continue
        first = _MENTION_WORDS.match(rest.lstrip())
        first_word = first.group().lower() if first and not rest[:1].strip() else ""
        if clause_start and not after_preposition and first_word in ("and", "or"):
            out.append("I" + apposition)
            continue
        paired = previous_word in ("and", "or") and re.search(
            r"(?:^|[.!?;:,\n\"“]\s*|\b(?:" + "|".join(sorted(SUBJECT_BEFORE | SUBORDINATORS)) + r")\s+)"
            r"(?:[A-Z][a-z]+|[Tt]he [a-z]+|[Tt]he [a-z]+ [a-z]+) (?:and|or)$",
            before,
        )
        if paired and (first_word in COMMON_VERBS or first_word in MODALS or _is_adverb(first_word)
                       or _verb(first_word, strict=True)):
            out.append("I" + apposition)
            continue
        if sentence_start or last in ";:":
            out.append("I" + apposition)
            continue
        out.append("me" + apposition)
    out.append(text[position:])
    result = "".join(out)
    for at, coordinated in reversed(agree_at):
        result = _reflexive(_agree_coordinated(result, at) if coordinated else result, at)
    return _we(result) if agree_at or "Me:" in result else result
