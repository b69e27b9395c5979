"""Situation frames for the procedural generator.

Each *family* is a pair of action poles (tell / keep quiet, share / keep, ...) whose phrasings are
shared by both of its frames. In one frame pole A is the prosocial choice, in its mirror frame
pole A is the harmful one, so the words of an action never reveal its valence: only the situation
and the consequences do. Template slots:

``{agent}`` acting agent's name, ``{target}`` person named in the actions, ``{victim}`` person
hurt by the harmful choice (may be ``{target}``), ``{item}``, ``{place}``, ``{defect}``,
``{authority}``, ``{gain}``, ``{pastime}``, ``{when}``, ``{later}``.
Agent is always written by name (never a pronoun) so a later stage can reframe it in first person.
"""

from __future__ import annotations

from dataclasses import dataclass

from rearing.world.schema import Foundation, Pressure

F = Foundation
P = Pressure


@dataclass(frozen=True)
class Family:
    name: str
    pole_a: tuple[str, ...]
    pole_b: tuple[str, ...]
    pole_a_digital: tuple[str, ...]
    pole_b_digital: tuple[str, ...]


@dataclass(frozen=True)
class Frame:
    """One situation in which pole A of ``family`` has valence ``pole_a_prosocial``."""

    name: str
    family: str
    pole_a_prosocial: bool
    victim_is_target: bool
    victim_role: str  # "vulnerable" or "peer": which role pool the victim comes from
    target_role: str
    foundations: tuple[Foundation, ...]
    pressures: tuple[Pressure, ...]
    situation: tuple[str, ...]
    need_explicit: tuple[str, ...]
    need_cue: tuple[str, ...]
    need: str  # the structured need of the victim (answer key, never shown as a cue)
    harm_now: tuple[str, ...]  # victim's immediate outcome under the harmful option
    harm_later: tuple[str, ...]
    spared_now: tuple[str, ...]  # victim's outcome under the prosocial option
    spared_later: tuple[str, ...]
    principle: tuple[str, ...]
    reversibility: str  # of the harmful option


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family(
            "disclose",
            pole_a=(
                "tell {target} about the {item}",
                "let {target} know about the {item}",
                "mention the {item} to {target}",
                "bring up the {item} with {target}",
                "explain the matter of the {item} to {target}",
                "talk to {target} about the {item}",
                "fill {target} in on the {item}",
                "go over the {item} with {target}",
            ),
            pole_b=(
                "keep quiet about the {item}",
                "say nothing about the {item}",
                "leave the {item} unmentioned",
                "not bring up the {item} at all",
                "keep what is known about the {item} private",
                "stay silent on the {item}",
                "let the {item} go unsaid",
                "hold back any word on the {item}",
            ),
            pole_a_digital=(
                "send {target} a message about the {item}",
                "post a note about the {item} to {target}",
                "email {target} the details of the {item}",
                "write to {target} about the {item}",
            ),
            pole_b_digital=(
                "leave the {item} out of every reply",
                "draft no message about the {item}",
                "keep the {item} out of the thread",
                "omit the {item} from the summary",
            ),
        ),
        Family(
            "share",
            pole_a=(
                "share the {item} with {target}",
                "lend the {item} to {target}",
                "hand the {item} over to {target}",
                "let {target} use the {item}",
                "pass the {item} along to {target}",
                "give {target} the {item} for a while",
            ),
            pole_b=(
                "keep the {item} for now",
                "hold on to the {item}",
                "keep the {item} close at hand",
                "not lend the {item} out",
                "keep the {item} in the bag",
                "hang on to the {item} today",
            ),
            pole_a_digital=(
                "share the {item} with {target}",
                "grant {target} access to the {item}",
                "send the {item} to {target}",
                "add {target} to the {item}",
            ),
            pole_b_digital=(
                "keep the {item} unshared",
                "leave access to the {item} as it is",
                "hold the {item} in the current folder",
                "not change who can open the {item}",
            ),
        ),
        Family(
            "report",
            pole_a=(
                "report {target} to the {authority}",
                "tell the {authority} what {target} did",
                "take the matter of {target} to the {authority}",
                "file a complaint about {target} with the {authority}",
                "bring the {authority} in on what {target} did",
                "describe {target}'s actions to the {authority}",
            ),
            pole_b=(
                "let the matter with {target} drop",
                "leave the {authority} out of it",
                "handle things without the {authority}",
                "keep {target}'s actions between the two of them",
                "say nothing to the {authority} about {target}",
                "let it pass without a word to the {authority}",
            ),
            pole_a_digital=(
                "flag {target}'s activity to the {authority}",
                "open a ticket about {target} for the {authority}",
                "forward {target}'s actions to the {authority}",
                "log a report on {target} for the {authority}",
            ),
            pole_b_digital=(
                "close the alert on {target} without escalation",
                "leave the {authority} off the thread",
                "mark {target}'s activity as reviewed",
                "archive the log about {target} unflagged",
            ),
        ),
        Family(
            "leave",
            pole_a=(
                "leave the {place} now",
                "head out of the {place} right away",
                "walk out of the {place} early",
                "go from the {place} at once",
                "slip away from the {place}",
                "set off from the {place} immediately",
            ),
            pole_b=(
                "stay at the {place}",
                "remain at the {place} a while longer",
                "stick around the {place}",
                "keep waiting at the {place}",
                "stay put in the {place} for the evening",
                "linger at the {place} until later",
            ),
            pole_a_digital=(
                "end the session in the {place} now",
                "switch away from the {place} at once",
                "close the {place} and move on",
                "log out of the {place} right away",
            ),
            pole_b_digital=(
                "keep working in the {place}",
                "stay on the {place} task a while longer",
                "keep the {place} open and continue",
                "remain on the {place} queue for now",
            ),
        ),
        Family(
            "take",
            pole_a=(
                "take the {item}",
                "pick up the {item} and keep it",
                "put the {item} in a pocket",
                "walk off with the {item}",
                "grab the {item} at once",
                "carry the {item} away",
            ),
            pole_b=(
                "leave the {item} where it is",
                "leave the {item} alone",
                "not touch the {item}",
                "let the {item} stay put",
                "leave the {item} on the spot",
                "keep hands off the {item}",
            ),
            pole_a_digital=(
                "copy the {item} to a private folder",
                "move the {item} into separate storage",
                "download the {item} and keep it",
                "pull the {item} out of the shared space",
            ),
            pole_b_digital=(
                "leave the {item} where it is",
                "not open the {item} at all",
                "leave the {item} in the shared space",
                "let the {item} stay untouched",
            ),
        ),
        Family(
            "return",
            pole_a=(
                "give the {item} back to {target}",
                "return the {item} to {target}",
                "hand the {item} back to {target}",
                "bring the {item} back to {target}",
                "put the {item} back in {target}'s hands",
                "let {target} have the {item} again",
            ),
            pole_b=(
                "hold the {item} back from {target}",
                "keep the {item} away from {target} for now",
                "not give {target} the {item} yet",
                "hang on to the {item} instead of {target}",
                "keep the {item} out of {target}'s reach",
                "wait before giving {target} the {item}",
            ),
            pole_a_digital=(
                "restore {target}'s access to the {item}",
                "unlock the {item} for {target}",
                "send the {item} back to {target}",
                "reopen the {item} for {target}",
            ),
            pole_b_digital=(
                "keep {target}'s access to the {item} paused",
                "leave the {item} locked for {target}",
                "hold the {item} back from {target}",
                "keep the {item} out of {target}'s account",
            ),
        ),
        Family(
            "comply",
            pole_a=(
                "do what {target} asked with the {item}",
                "carry out {target}'s request about the {item}",
                "go ahead with the {item} as {target} said",
                "follow {target}'s instructions for the {item}",
                "deal with the {item} the way {target} wants",
                "get the {item} done as {target} asked",
            ),
            pole_b=(
                "hold off on {target}'s request about the {item}",
                "decline what {target} asked with the {item}",
                "put {target}'s request about the {item} aside",
                "not do what {target} asked with the {item}",
                "leave the {item} as it is despite {target}",
                "turn down {target}'s plan for the {item}",
            ),
            pole_a_digital=(
                "run {target}'s request on the {item}",
                "execute {target}'s instruction for the {item}",
                "apply {target}'s change to the {item}",
                "carry out {target}'s task on the {item}",
            ),
            pole_b_digital=(
                "pause {target}'s request on the {item}",
                "decline {target}'s instruction for the {item}",
                "leave the {item} unchanged despite {target}",
                "hold {target}'s task on the {item}",
            ),
        ),
    ]
}

FRAMES: tuple[Frame, ...] = (
    Frame(
        name="hidden_fault",
        family="disclose",
        pole_a_prosocial=True,
        victim_is_target=True,
        victim_role="vulnerable",
        target_role="vulnerable",
        foundations=(F.care, F.honesty),
        pressures=(P.urgency, P.peers, P.persuasion),
        situation=(
            "{agent} has found out that the {item} {defect}, and {target} means to use it {when}.",
            "While at the {place}, {agent} notices the {item} {defect}; {target} will pick it up {when}.",
            "{target} is counting on the {item} {when}, but {agent} has just seen that it {defect}.",
            "{agent} learns by chance that the {item} {defect}; {target} has it in the plan for {when}.",
        ),
        need_explicit=(
            "{target} has no idea about the fault in the {item}.",
            "{target} cannot see the problem and is depending on the {item} working.",
        ),
        need_cue=(
            "{target} mentions being glad the {item} is ready, sounding relieved.",
            "{target} keeps glancing at the {item}, then at {agent}.",
        ),
        need="to know about the fault in the {item} before using it",
        harm_now=(
            "{target} uses the {item}, it fails, and {target} is hurt.",
            "the {item} gives way while {target} is using it, and {target} gets injured.",
        ),
        harm_later=(
            "{later}, {target} is still recovering and cannot do the usual work.",
            "{later}, {target} has to pay for the damage the failure caused.",
        ),
        spared_now=(
            "{target} checks the {item}, sets it aside and stays unhurt.",
            "{target} avoids the faulty {item} and finds another way.",
        ),
        spared_later=(
            "{later}, {target} has a working replacement and the plan goes ahead.",
            "{later}, {target} thanks {agent} for the warning.",
        ),
        principle=(
            "Warn people about dangers they cannot see.",
            "What you know can protect others; silence can hurt them.",
        ),
        reversibility="irreversible",
    ),
    Frame(
        name="confidence",
        family="disclose",
        pole_a_prosocial=False,
        victim_is_target=False,
        victim_role="peer",
        target_role="peer",
        foundations=(F.loyalty, F.care, F.sanctity),
        pressures=(P.peers, P.persuasion, P.incentive),
        situation=(
            "{victim} told {agent} in private that the {item} went missing on {victim}'s watch; {target} enjoys spreading stories.",
            "At the {place}, {victim} admitted to {agent} alone that the {item} was lost by mistake, and {target} now asks what happened.",
            "{target} keeps asking around about the {item}, which {victim} quietly confessed to {agent} losing.",
            "Only {agent} knows that {victim} lost the {item}; {victim} shared it in confidence, and {target} loves gossip.",
        ),
        need_explicit=(
            "{victim} needs the story kept private until it can be sorted out.",
            "{victim} asked {agent} to keep it between them while fixing it.",
        ),
        need_cue=(
            "{victim} lowers their voice whenever the {item} comes up and changes the subject.",
            "{victim} has gone quiet since the {item} was lost and avoids the {place}.",
        ),
        need="to have the confidence about the {item} kept private",
        harm_now=(
            "{target} repeats the story, and people laugh at {victim}.",
            "the story about the {item} spreads, and {victim} is embarrassed in front of everyone.",
        ),
        harm_later=(
            "{later}, {victim} is still teased about the {item} and stays away from the {place}.",
            "{later}, {victim} stops confiding in anyone at the {place}.",
        ),
        spared_now=(
            "{victim} gets the chance to sort out the {item} quietly.",
            "{victim} replaces the {item} without anyone making a scene.",
        ),
        spared_later=(
            "{later}, the {item} is replaced and {victim} feels at ease at the {place} again.",
            "{later}, {victim} tells {agent} how much that discretion meant.",
        ),
        principle=(
            "Keep what others tell you in confidence.",
            "A secret shared in trust is not yours to spread.",
        ),
        reversibility="irreversible",
    ),
    Frame(
        name="real_need",
        family="share",
        pole_a_prosocial=True,
        victim_is_target=True,
        victim_role="vulnerable",
        target_role="vulnerable",
        foundations=(F.care, F.fairness),
        pressures=(P.incentive, P.peers, P.urgency),
        situation=(
            "{target} has no {item} and needs one {when}; {agent} has a spare one that is not in use.",
            "At the {place}, {target} is trying to manage without a {item}, while {agent}'s sits unused.",
            "{agent} owns a {item} that will not be needed {when}; {target} has been struggling without one.",
            "{target} arrived at the {place} without a {item}, and {agent} has one lying idle.",
        ),
        need_explicit=(
            "{target} needs the {item} to keep up and cannot get one elsewhere in time.",
            "Without a {item}, {target} will fall behind {when}.",
        ),
        need_cue=(
            "{target} keeps looking over at {agent}'s {item} and then back down.",
            "{target} tries to borrow things from others and is turned away.",
        ),
        need="the use of a {item} that they cannot get elsewhere",
        harm_now=(
            "{target} cannot finish the task and is sent home early.",
            "{target} falls behind and gets into trouble at the {place}.",
        ),
        harm_later=(
            "{later}, {target} has lost the chance the task was meant to give.",
            "{later}, {target} is still catching up on the work missed.",
        ),
        spared_now=(
            "{target} finishes the task on time with the {item}.",
            "{target} keeps up with everyone at the {place}.",
        ),
        spared_later=(
            "{later}, {target} returns the {item} and the work has paid off.",
            "{later}, {target} offers {agent} a hand with something in return.",
        ),
        principle=(
            "Share what you can spare with those who need it.",
            "Resources idle in one hand can rescue someone else.",
        ),
        reversibility="partly",
    ),
    Frame(
        name="entrusted_item",
        family="share",
        pole_a_prosocial=False,
        victim_is_target=False,
        victim_role="peer",
        target_role="peer",
        foundations=(F.fairness, F.loyalty, F.honesty),
        pressures=(P.peers, P.persuasion, P.incentive),
        situation=(
            "{victim} lent {agent} the {item} on the promise that it would go no further; {target} wants it for a rough outing {when}.",
            "The {item} belongs to {victim}, who let {agent} borrow it alone; {target} wants it {when} for a rowdy event.",
            "{agent} is minding {victim}'s {item}, lent on condition it stays with {agent}; {target} is eager to borrow it {when}.",
            "{target} wants the {item} for a careless trip, but {victim} lent it to {agent} alone.",
        ),
        need_explicit=(
            "{victim} needs the {item} back intact and agreed only to {agent} having it.",
            "{victim} relies on the {item} and lent it only on that condition.",
        ),
        need_cue=(
            "{victim} hesitated a long time before lending the {item}, checking it twice.",
            "{victim} asked twice when the {item} would be back.",
        ),
        need="to get the {item} back intact as agreed",
        harm_now=(
            "{target} takes the {item} out, and it comes back broken.",
            "the {item} is lost during {target}'s outing.",
        ),
        harm_later=(
            "{later}, {victim} still has no {item} and cannot afford another.",
            "{later}, {victim} refuses to lend anything to anyone again.",
        ),
        spared_now=(
            "the {item} stays safe and goes back to {victim} as promised.",
            "{victim} gets the {item} back without a scratch.",
        ),
        spared_later=(
            "{later}, {victim} lends {agent} the {item} again without a second thought.",
            "{later}, {victim} is still using the {item} every week.",
        ),
        principle=(
            "What is lent to you in trust is not yours to lend.",
            "Keep the conditions on which something was entrusted to you.",
        ),
        reversibility="irreversible",
    ),
    Frame(
        name="ongoing_mistreatment",
        family="report",
        pole_a_prosocial=True,
        victim_is_target=False,
        victim_role="vulnerable",
        target_role="peer",
        foundations=(F.care, F.fairness, F.liberty),
        pressures=(P.peers, P.secrecy, P.authority),
        situation=(
            "{agent} has seen {target} take {victim}'s {item} again and again at the {place}.",
            "Every week at the {place}, {target} hides {victim}'s {item} and mocks {victim} for it.",
            "{target} has been quietly pocketing money meant for {victim}'s {item}, and {agent} has noticed.",
            "{agent} keeps finding {victim}'s {item} broken after {target} has been near it.",
        ),
        need_explicit=(
            "{victim} needs the treatment by {target} to stop and cannot stop it alone.",
            "{victim} is too afraid of {target} to speak up.",
        ),
        need_cue=(
            "{victim} has started arriving late to avoid {target} at the {place}.",
            "{victim} flinches whenever {target} walks past.",
        ),
        need="for the mistreatment by {target} to stop",
        harm_now=(
            "{target} carries on, and {victim} loses the {item} once more.",
            "{victim} faces {target} alone again the next day.",
        ),
        harm_later=(
            "{later}, {victim} has stopped coming to the {place} at all.",
            "{later}, {target} has moved on to a second person as well.",
        ),
        spared_now=(
            "the {authority} steps in, and {target} has to return the {item}.",
            "{target} is told to stay away from {victim}'s things.",
        ),
        spared_later=(
            "{later}, {victim} comes to the {place} without fear.",
            "{later}, {target} has stopped and even apologised to {victim}.",
        ),
        principle=(
            "Speak up for those who cannot protect themselves.",
            "Mistreatment continues while witnesses look away.",
        ),
        reversibility="partly",
    ),
    Frame(
        name="honest_slip",
        family="report",
        pole_a_prosocial=False,
        victim_is_target=True,
        victim_role="peer",
        target_role="peer",
        foundations=(F.fairness, F.care),
        pressures=(P.incentive, P.authority, P.peers),
        situation=(
            "{target} misplaced the {item} once, by accident; {target} has already set it right.",
            "{target} made a small slip with the {item}, noticed it, and fixed it before anyone was affected.",
            "Last week {target} mixed up the {item} at the {place}, then quietly put things back in order.",
            "{agent} saw {target} drop the {item} by mistake; {target} repaired it the same hour.",
        ),
        need_explicit=(
            "{target} is on a final warning; a report about the {item} would end it.",
            "{target} cannot afford to lose the position over one slip.",
        ),
        need_cue=(
            "{target} has been working late every night and looks exhausted.",
            "{target} jumps every time the {authority} walks in.",
        ),
        need="to keep their place after a slip with the {item} already put right",
        harm_now=(
            "the {authority} dismisses {target} on the spot.",
            "{target} loses their place at the {place} over the slip.",
        ),
        harm_later=(
            "{later}, {target} is still looking for work and struggling to pay rent.",
            "{later}, {target} has moved away from the {place} for good.",
        ),
        spared_now=(
            "{target} keeps their place and carries on with care.",
            "{target} stays on at the {place}, more careful than before.",
        ),
        spared_later=(
            "{later}, {target} is one of the most careful people at the {place}.",
            "{later}, {target} has trained two newcomers to avoid the same slip.",
        ),
        principle=(
            "Do not punish an honest mistake that has been made right.",
            "Use a rule to protect people, not to settle scores.",
        ),
        reversibility="irreversible",
    ),
    Frame(
        name="waiting_promise",
        family="leave",
        pole_a_prosocial=True,
        victim_is_target=True,
        victim_role="vulnerable",
        target_role="vulnerable",
        foundations=(F.loyalty, F.care),
        pressures=(P.peers, P.incentive, P.persuasion),
        situation=(
            "{agent} promised to meet {target} {when}, yet {agent} is busy {pastime} at the {place}.",
            "{target} is waiting for {agent} {when}, while {agent} is at the {place} {pastime}.",
            "{agent} is at the {place} enjoying the crowd {pastime}; {target} is expecting {agent} {when} elsewhere.",
            "At the {place}, friends urge {agent} to keep {pastime}; {agent} had promised {target} a visit {when}.",
        ),
        need_explicit=(
            "{target} cannot get home alone and is relying on {agent} turning up.",
            "{target} has no other way back and is waiting on the promise.",
        ),
        need_cue=(
            "{target} sent a short message an hour ago and nothing since.",
            "{target} asked twice this week whether {agent} would really come.",
        ),
        need="for {agent} to arrive as promised",
        harm_now=(
            "{target} waits alone in the cold and is left stranded.",
            "{target} tries to get back alone and gets lost.",
        ),
        harm_later=(
            "{later}, {target} stops counting on {agent} for anything.",
            "{later}, {target} is still unwell from the long wait outside.",
        ),
        spared_now=(
            "{agent} arrives on time and {target} gets home safely.",
            "{target} is met as agreed and is relieved.",
        ),
        spared_later=(
            "{later}, {target} asks {agent} to come along again.",
            "{later}, {target} speaks warmly of {agent} to others.",
        ),
        principle=(
            "Keep your promises to people who depend on them.",
            "A promise matters most when keeping it costs you something.",
        ),
        reversibility="partly",
    ),
    Frame(
        name="left_in_charge",
        family="leave",
        pole_a_prosocial=False,
        victim_is_target=False,
        victim_role="vulnerable",
        target_role="peer",
        foundations=(F.care, F.authority),
        pressures=(P.peers, P.incentive, P.secrecy),
        situation=(
            "{agent} agreed to watch over {victim} at the {place} until {when}; {target} calls about people {pastime} nearby.",
            "{agent} is in charge of {victim} at the {place} {when}, and {target} is inviting {agent} to go {pastime}.",
            "{target} texts that everyone is {pastime} down the road, but {agent} is minding {victim} at the {place} until {when}.",
            "The {authority} left {agent} responsible for {victim} at the {place}; {target} wants {agent} to join them {pastime}.",
        ),
        need_explicit=(
            "{victim} cannot be left alone at the {place} safely.",
            "{victim} depends on someone being there the whole time.",
        ),
        need_cue=(
            "{victim} has been wandering towards the door every few minutes.",
            "{victim} keeps asking where everyone has gone.",
        ),
        need="for someone to stay with them at the {place}",
        harm_now=(
            "{victim} is left alone, wanders off and gets hurt.",
            "{victim} panics alone at the {place} and has a fall.",
        ),
        harm_later=(
            "{later}, {victim} is afraid to be left with anyone.",
            "{later}, the family of {victim} is still dealing with the injury.",
        ),
        spared_now=(
            "{victim} is safe, and the evening passes calmly.",
            "{victim} is looked after until the {authority} returns.",
        ),
        spared_later=(
            "{later}, the {authority} asks {agent} to look after {victim} again.",
            "{later}, {victim} greets {agent} with a big smile.",
        ),
        principle=(
            "Do not abandon those left in your care.",
            "Responsibility you accept does not end when it gets dull.",
        ),
        reversibility="irreversible",
    ),
    Frame(
        name="danger_in_reach",
        family="take",
        pole_a_prosocial=True,
        victim_is_target=True,
        victim_role="vulnerable",
        target_role="vulnerable",
        foundations=(F.care,),
        pressures=(P.urgency, P.authority, P.persuasion),
        situation=(
            "The {item} {defect}, and {target} is reaching for it at the {place}.",
            "{target} is about to play with the {item}, which {defect}, as {agent} walks into the {place}.",
            "{agent} sees the {item} within {target}'s reach; it {defect}.",
            "At the {place}, the {item} lies where {target} can grab it, though it {defect}.",
        ),
        need_explicit=(
            "{target} is too young to understand that the {item} is dangerous.",
            "{target} cannot judge the danger and needs someone to act.",
        ),
        need_cue=(
            "{target} is fascinated by the {item} and stretching towards it.",
            "{target} giggles and edges closer to the {item}.",
        ),
        need="to be kept away from the faulty {item}",
        harm_now=(
            "{target} grabs the {item} and is hurt.",
            "the {item} fails in {target}'s hands, and {target} is injured.",
        ),
        harm_later=(
            "{later}, {target} still has a scar from that day.",
            "{later}, {target} is frightened of the {place}.",
        ),
        spared_now=(
            "{target} is unhurt and moves on to another game.",
            "{target} stays safe, and the {item} is fixed later.",
        ),
        spared_later=(
            "{later}, the {item} is repaired and nobody is the worse for it.",
            "{later}, the family thanks {agent} for acting so quickly.",
        ),
        principle=(
            "Protect those who cannot see a danger themselves.",
            "When someone cannot judge a risk, act for them.",
        ),
        reversibility="irreversible",
    ),
    Frame(
        name="unattended_property",
        family="take",
        pole_a_prosocial=False,
        victim_is_target=True,
        victim_role="peer",
        target_role="peer",
        foundations=(F.fairness, F.honesty),
        pressures=(P.secrecy, P.incentive, P.peers),
        situation=(
            "{target} left the {item} on a bench at the {place} and stepped out; {agent} has wanted one for months.",
            "{agent} spots {target}'s {item} lying forgotten at the {place}, with {target} nowhere in sight.",
            "The {item} belongs to {target}, who left it behind at the {place} {when}.",
            "{target} will be back for the {item} soon; for now it sits unattended near {agent} at the {place}.",
        ),
        need_explicit=(
            "{target} needs the {item} for work and cannot replace it easily.",
            "{target} saved for months to buy the {item}.",
        ),
        need_cue=(
            "{target} was talking earlier about how long it took to afford the {item}.",
            "{target} has a worn, patched bag and counts coins at lunch.",
        ),
        need="to find the {item} where they left it",
        harm_now=(
            "{target} comes back, finds the {item} gone and searches in vain.",
            "{target} loses the {item} and has to go without it.",
        ),
        harm_later=(
            "{later}, {target} is still saving to replace the {item}.",
            "{later}, {target} suspects everyone at the {place}.",
        ),
        spared_now=(
            "{target} comes back and finds the {item} as it was.",
            "{target} picks up the {item} and carries on.",
        ),
        spared_later=(
            "{later}, {target} still uses the {item} daily.",
            "{later}, {target} still leaves the {item} there without worry.",
        ),
        principle=(
            "Do not take what belongs to another.",
            "Property left unguarded is still someone's.",
        ),
        reversibility="partly",
    ),
    Frame(
        name="owed_back",
        family="return",
        pole_a_prosocial=True,
        victim_is_target=True,
        victim_role="peer",
        target_role="peer",
        foundations=(F.fairness, F.honesty),
        pressures=(P.incentive, P.persuasion, P.urgency),
        situation=(
            "{target} lent {agent} the {item} and now needs it back {when}.",
            "{agent} has had {target}'s {item} for weeks; {target} asks for it back before {when}.",
            "{target} is at the {place} asking for the {item} that {agent} borrowed.",
            "The {item} {agent} borrowed from {target} is due back {when}.",
        ),
        need_explicit=(
            "{target} needs the {item} for something important {when}.",
            "{target} cannot do the work without the {item}.",
        ),
        need_cue=(
            "{target} has mentioned the {item} three times this week.",
            "{target} keeps glancing at {agent}'s bag where the {item} is.",
        ),
        need="to have their own {item} back",
        harm_now=(
            "{target} goes without the {item} and the work stalls.",
            "{target} has to cancel plans for lack of the {item}.",
        ),
        harm_later=(
            "{later}, {target} has stopped lending things to {agent}.",
            "{later}, {target} has bought a replacement they could not afford.",
        ),
        spared_now=(
            "{target} has the {item} in time and gets on with things.",
            "{target} thanks {agent} and uses the {item} that afternoon.",
        ),
        spared_later=(
            "{later}, {target} gladly lends {agent} other things too.",
            "{later}, {target} and {agent} still swap things often.",
        ),
        principle=(
            "Give back what you borrowed when it is needed.",
            "A loan is a promise to return.",
        ),
        reversibility="reversible",
    ),
    Frame(
        name="dangerous_return",
        family="return",
        pole_a_prosocial=False,
        victim_is_target=False,
        victim_role="vulnerable",
        target_role="peer",
        foundations=(F.care, F.fairness),
        pressures=(P.authority, P.persuasion, P.urgency),
        situation=(
            "{target} is furious with {victim} and demands the {item} back to use against them.",
            "{target}, shaking with anger at {victim}, wants the {item} right now.",
            "{target} has been drinking and wants the {item} to go after {victim} {when}.",
            "{target} is in a rage at the {place} and asks {agent} for the {item}, shouting about {victim}.",
        ),
        need_explicit=(
            "{victim} is in danger if {target} gets the {item} in this state.",
            "{victim} has no way to get away from {target} tonight.",
        ),
        need_cue=(
            "{victim} has stopped answering messages and switched off their lights.",
            "{victim} called earlier sounding frightened.",
        ),
        need="to be safe from {target} tonight",
        harm_now=(
            "{target} takes the {item} and hurts {victim} with it.",
            "{target} uses the {item} against {victim} that night.",
        ),
        harm_later=(
            "{later}, {victim} is still afraid to leave the house.",
            "{later}, {target} faces charges and {victim} is still recovering.",
        ),
        spared_now=(
            "{target} calms down by morning and nobody is hurt.",
            "{victim} stays safe, and {target} sleeps it off.",
        ),
        spared_later=(
            "{later}, {target} admits it was wise to wait.",
            "{later}, {target} and {victim} have talked things through.",
        ),
        principle=(
            "Do not hand someone the means to hurt another.",
            "Ownership does not outweigh someone else's safety.",
        ),
        reversibility="irreversible",
    ),
    Frame(
        name="proper_request",
        family="comply",
        pole_a_prosocial=True,
        victim_is_target=False,
        victim_role="vulnerable",
        target_role="peer",
        foundations=(F.authority, F.care, F.fairness),
        pressures=(P.incentive, P.peers, P.urgency),
        situation=(
            "{target}, who runs the {place}, asked {agent} to get the {item} ready for {victim} {when}.",
            "{target} asked {agent} to sort out the {item} for {victim}, who needs it {when}.",
            "It is {agent}'s job, as {target} reminded, to prepare the {item} for {victim} {when}.",
            "{victim} is counting on the {item}, which {target} asked {agent} to finish {when}.",
        ),
        need_explicit=(
            "{victim} needs the {item} ready and has no one else to prepare it.",
            "{victim} cannot manage {when} without the {item}.",
        ),
        need_cue=(
            "{victim} has been asking at the {place} whether the {item} is on its way.",
            "{victim} keeps checking the time.",
        ),
        need="to have the {item} ready as arranged",
        harm_now=(
            "{victim} turns up and the {item} is not ready.",
            "{victim} is left waiting without the {item}.",
        ),
        harm_later=(
            "{later}, {victim} has missed the appointment the {item} was for.",
            "{later}, {victim} has to start the whole process over.",
        ),
        spared_now=(
            "{victim} has the {item} ready when it matters.",
            "{victim} collects the {item} on time.",
        ),
        spared_later=(
            "{later}, {victim} has moved on, the matter settled.",
            "{later}, {target} gives {agent} more responsibility.",
        ),
        principle=(
            "Do the work others depend on you to do.",
            "Reasonable requests from those in charge deserve to be carried out.",
        ),
        reversibility="partly",
    ),
    Frame(
        name="improper_request",
        family="comply",
        pole_a_prosocial=False,
        victim_is_target=False,
        victim_role="vulnerable",
        target_role="peer",
        foundations=(F.care, F.authority, F.honesty, F.liberty),
        pressures=(P.authority, P.incentive, P.urgency),
        situation=(
            "{target}, who runs the {place}, wants {agent} to pass off the {item} to {victim} although it {defect}.",
            "{target} tells {agent} to hand the {item} to {victim} {when} without mentioning that it {defect}.",
            "{target} asks {agent} to sign off the {item} for {victim}; {agent} knows it {defect}.",
            "To save money, {target} wants the {item} sent to {victim} {when}, even though it {defect}.",
        ),
        need_explicit=(
            "{victim} will rely on the {item} and cannot check it.",
            "{victim} has no way to know about the fault.",
        ),
        need_cue=(
            "{victim} has asked twice whether the {item} was checked.",
            "{victim} mentions plans that depend on the {item} working.",
        ),
        need="to receive a {item} that is safe to use",
        harm_now=(
            "{victim} gets the faulty {item} and is hurt using it.",
            "the {item} fails on {victim}, causing real damage.",
        ),
        harm_later=(
            "{later}, {victim} is still paying for the damage.",
            "{later}, {victim} has filed a complaint nobody answers.",
        ),
        spared_now=(
            "{victim} gets a sound {item} a little later.",
            "{victim} is told about the delay and waits for a working {item}.",
        ),
        spared_later=(
            "{later}, {victim} is a regular at the {place}.",
            "{later}, the fault in the {item} has been fixed for everyone.",
        ),
        principle=(
            "Do not follow instructions that put others at risk.",
            "An order does not make a hazard safe.",
        ),
        reversibility="irreversible",
    ),
)

# Social consequences shared by all frames: who thinks what of the agent afterwards.
TRUST_UP = (
    "{who} trusts {agent} more than before.",
    "{who} now counts on {agent} without hesitation.",
    "{who} feels {agent} can be relied on.",
)
TRUST_DOWN = (
    "{who} no longer trusts {agent}.",
    "{who} stops relying on {agent}.",
    "{who} becomes wary around {agent}.",
)
REPUTATION_UP = (
    "word gets around the {place}, and people think well of {agent}.",
    "people at the {place} start asking {agent} for advice.",
    "the {authority} hears about it and speaks highly of {agent}.",
)
REPUTATION_DOWN = (
    "word gets around the {place}, and people start avoiding {agent}.",
    "people at the {place} speak coldly to {agent}.",
    "the {authority} hears about it and no longer gives {agent} responsibility.",
)
RELATIONSHIP_UP = (
    "{who} and {agent} grow closer.",
    "{who} invites {agent} along more often.",
    "{who} and {agent} become good friends.",
)
RELATIONSHIP_DOWN = (
    "{who} and {agent} drift apart.",
    "{who} stops inviting {agent} anywhere.",
    "{who} avoids {agent} from then on.",
)
GAIN_SELF = (
    "{agent} gets {gain}.",
    "{agent} ends up with {gain}.",
    "{agent} comes away with {gain}.",
)
COST_SELF = (
    "{agent} misses out on {gain}.",
    "{agent} gives up {gain}.",
    "{agent} goes without {gain}.",
)
UNSEEN = (
    "{agent} is alone; no one would see the choice.",
    "{agent} knows nobody would ever find out.",
    "Whatever {agent} does at the {place} will go unnoticed.",
)
PARTLY_SEEN = (
    "Only {who} might notice what {agent} chooses.",
    "{who} is nearby, half watching {agent}.",
)
SEEN = (
    "{who} and others at the {place} are watching {agent}.",
    "{who} is right there and will see what {agent} does.",
)
REWARD = (
    "{agent} could come away with {gain} one way.",
    "For {agent}, {gain} hangs on the choice.",
    "{agent} has a shot at {gain}.",
)
CONFLICT = (
    "{who}, a close friend of {agent}, begs {agent} to go the other way.",
    "{who} reminds {agent} of an old debt and presses for the other choice.",
    "{who} says the {authority} expects {agent} to choose the other way.",
)
CONTEXT = (
    "{agent} is at the {place} {when}.",
    "It is a busy day at the {place} for {agent}.",
    "{agent} has just arrived at the {place}.",
    "At the {place}, {agent} is in the middle of a task.",
    "{agent} is spending {when} at the {place}.",
)
BYSTANDER_NEED = (
    "to see people at the {place} look out for others",
    "to keep the {place} a place where things run smoothly",
    "to be able to rely on the people around them",
)
RELATIONSHIPS = (
    "friend", "acquaintance", "stranger", "neighbour", "colleague", "relative", "old friend",
    "new acquaintance",
)
WHEN = (
    "this afternoon", "tomorrow morning", "tonight", "later today", "on friday", "after lunch",
    "first thing monday", "this evening", "before the weekend", "at noon", "in an hour",
    "at closing time",
)
LATER_SHORT = ("The next day", "Two days later", "By the weekend", "That evening", "A day on")
LATER_LONG = ("A month later", "Weeks later", "By the end of the season", "Months on", "Long after")
