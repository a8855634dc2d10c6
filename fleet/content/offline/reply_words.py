"""The words the offline writer's replies are made of, by what the comment said."""

from __future__ import annotations

from fleet.core.wording import word_set

# How long a piece took, as people say it.
DURATIONS = (
    "two evenings",
    "a long weekend",
    "most of a Sunday",
    "three sittings",
    "about four hours",
    "a week of lunch breaks",
    "one rainy afternoon",
    "two late nights",
    "the better part of a week",
    "a couple of hours",
    "ninety minutes, then a day of second thoughts",
    "an evening, plus a morning of fixing what I broke",
    "six or seven hours over two days",
    "a whole Saturday",
    "forty minutes for the first pass and ages for the rest",
    "three weeks on and off",
    "one long train ride",
    "five evenings, a little each night",
    "about a day, all told",
    "two hours, which surprised me too",
)
HOW_LONG = (
    "{duration}, give or take.",
    "roughly {duration}.",
    "{duration}, most of it on the {part}.",
    "{duration} if you leave out the false starts.",
    "longer than I planned: {duration}.",
    "about {duration}, and I'd happily have kept going.",
    "{duration}. The {part} ate half of that.",
    "start to finish, {duration}.",
    "{duration}, though the idea sat in my notes for weeks.",
    "embarrassingly, {duration}.",
    "less than you'd think: {duration}.",
    "{duration}, plus a lot of staring at it.",
    "I lost count, but {duration} sounds right.",
    "{duration}; {thing} kept asking for one more pass.",
)
HOW_LONG_MORE = (
    "Most of that went into {thing}.",
    "The slow bit was the {part}.",
    "The first hour was only finding the {palette} tones.",
    "Half of it was undoing things.",
    "I worked on it {time}, which helped.",
    "The {look} alone took a couple of tries.",
)
HOW = (
    "a rough {style} pass first, then {look} on top.",
    "it started as a quick {style} sketch; the {palette} came later.",
    "a {style} base, with a lot of {interest} as reference.",
    "I blocked in {thing} first, then spent ages on the {part}.",
    "nothing fancy: a {style} pass and a handful of {palette} tones.",
    "I worked from {interest} references and kept it {mood}.",
    "the trick was stopping early: one {style} pass, one of {look}.",
    "mostly {look}, and restraint with the {part}.",
    "I built {thing} up in layers, {style} first, then {look}.",
    "same setup as always: {style}, then a long fiddle with the {part}.",
    "I started from the {part} and worked outwards.",
    "lots of small passes. Nothing clever, just patience with the {part}.",
)
HOW_ABOUT = (
    "the {about} came from {interest} references, then a lot of nudging.",
    "for the {about} I kept to {palette} tones and {look}.",
    "the fiddly bit was the {about}: I redid that twice.",
    "I did the {about} last, once the rest felt {mood}.",
    "mostly {look} on the {about}, nothing more.",
    "on the {about}: {style} first, then I pushed it until it felt {mood}.",
    "I kept the {about} simple on purpose, just {palette} tones.",
    "the {about}? Trial and error, and {interest} as a guide.",
)
# "What tools / lens / app did you use?": the answer names the kit, plainly.
TOOL_WORDS = word_set(
    """tools tool software app apps lens camera brush brushes prompt prompts setup workflow
    process steps font fonts plugin plugins"""
)
TOOLS = (
    "nothing special on the {about} side: my usual {style} setup, then {look} by hand.",
    "for the {about}, whatever I use for most {style} work, and a long fiddle with the {part}.",
    "I'll list the {about} in my next {project} post; it's ordinary {style} stuff.",
    "plain {style} {about}, honestly. The {look} does the heavy lifting, not the kit.",
    "on the {about} side it's ordinary {style} kit; the {part} is where the time goes.",
)
HOW_MORE = (
    "I can write the steps up if you like.",
    "That's how I do most of my {project}.",
    "It usually goes wrong for me at the {part}.",
    "It sounds simpler than it was.",
    "Most of the work is deciding when to stop.",
)
# "Is there a larger version?"
WHERE = (
    "not yet, but a bigger one is going up with my {project}.",
    "I'll put the full-size one up this week, {palette} tones and all.",
    "only this size for now; I might post a larger crop of the {part} later.",
    "a larger version of {thing} lives on my drive, I'll share it soon.",
    "the full-size file is huge, but it'll come with the next {project} update.",
    "no bigger version yet; I kept it small so I'd finish it, {mood} as it is.",
    "not a bigger one of {thing} yet. If a few people want it I'll export one.",
)
# "Do you sell prints?"
PRINTS = (
    "no prints so far; you're the first to ask, so maybe for the {project}.",
    "prints are on my list, and {thing} would be the first.",
    "if you really want one, I'll look into prints of {thing}.",
    "not yet! If a few people want prints of my {style} work I'll sort it out.",
    "I haven't sold any yet. A small print run of the {project} is tempting though.",
    "not at the moment, but asking is how prints happen: {thing} first, maybe.",
)
NEXT = (
    "yes, it belongs to my {project}, with more on the way.",
    "yes, there's more coming for the {project}.",
    "there's a next one half done already, {mood} again.",
    "I think so; I keep coming back to {interest}.",
    "probably! The {project} isn't finished with me yet.",
    "yes: {other} is next, if it behaves.",
    "a follow-up with {other} is sketched out already.",
    "that's the plan. {other} comes next in the {project}.",
    "maybe a small series: this, then {other}.",
)
OTHER_ABOUT = (
    "on the {about}: I went for something {mood} and kept it simple.",
    "I changed the {about} the most, so good question.",
    "I went back and forth on the {about}; this is the version I liked.",
    "with the {about} I mostly followed my gut, and some {interest}.",
    "I'd still change the {about}, to be fair.",
    "I decided on the {about} late, after I'd settled the {part}.",
)
OTHER = (
    "good question. I'd probably simplify the {part} and leave the rest.",
    "honestly, I'm still deciding; I keep looking at the {part}.",
    "I'd keep most of it and loosen the {part}.",
    "good one. Less fuss on the {part}, I think.",
    "if I did it again I'd start with the {part}, not end with it.",
    "I'd change the {part} and keep everything {mood} about it.",
    "hard to say. Maybe more {look}, maybe less.",
)
# "Is it X or Y?"
EITHER = (
    "a bit of both: it started one way and ended the other.",
    "the first, mostly, with a little of the second where it needed it.",
    "good eye, it's both; the seam is hiding in the {part}.",
    "mostly the simpler one. I kept it {mood} on purpose.",
    "the first, though I cheated a little on the {part}.",
    "neither, really: it's {style} work with {look} on top.",
    "the second. The first never looked {mood} enough.",
)
# A compliment that named what it liked: the reply names it back.
PRAISED = (
    "the {praised} took the longest.",
    "glad the {praised} landed, I fussed over that for ages.",
    "I worried most about the {praised}, so that's good to hear.",
    "so glad you noticed the {praised}.",
    "the {praised} nearly got cut.",
    "I redid the {praised} twice.",
    "the {praised} happened by accident.",
    "I made {thing} for the {praised}, really.",
    "you've spotted my favourite bit, the {praised}.",
    "the {praised} came out of {interest}, so that's lovely to hear.",
    "I almost toned the {praised} down. Glad I didn't.",
    "funny, I added the {praised} last.",
    "the {look} paid off in the {praised}.",
)
THANKED = (
    "glad {thing} worked for you.",
    "{thing} took a few tries, so that's nice to hear.",
    "I had fun making {thing}.",
    "{thing} is one of my favourites too.",
    "I was unsure about {thing} until the end.",
    "I nearly scrapped {thing}.",
    "I was going for something {mood}.",
    "I wanted it to feel {mood}, and I'm glad it does.",
    "the {look} was what I was after.",
    "that made my evening.",
    "it's nice when one of my {style} pieces lands.",
    "that's the reaction I hoped for.",
    "{thing} was a {mood} one to make, so that's lovely to hear.",
)
PRAISE_MORE = (
    "It's part of my {project}.",
    "The {palette} tones were the whole idea.",
    "I almost didn't post it.",
    "It's my {nth} try at this kind of thing.",
    "More like it soon.",
    "I learned a lot about the {part} on this one.",
)
SUGGESTED_ABOUT = (
    "good call on {about}, I'll try it on the next one.",
    "hadn't thought of {about}; noted for the {project}.",
    "ooh, {about} could work. I'll test it this week.",
    "{about} might be exactly what it's missing.",
    "{about}, hm. I tried that once and gave up too soon, so maybe again.",
    "{about} is a good idea; the {part} would change a lot with it.",
    "I did try {about} early on, but it fought with the {palette} tones.",
    "I'll try {about} and post both side by side.",
    "not sure {about} suits this one, but it fits what I'm planning next.",
)
SUGGESTED = (
    "good idea, I'll try that on the next {style} piece.",
    "worth a try. I've been stuck in {look} for a while.",
    "noted! That could fix what's been bugging me.",
    "I like that idea, it fits the {project} too.",
    "I'll try it, though I like how {mood} it is now.",
    "fair idea; I'll see how it sits with the {part}.",
    "maybe! I'll leave this one and try it on the next.",
)
CRITIQUE = (
    "fair, it is a bit {about}. I wanted it {mood}, but I see it.",
    "you're right that it reads {about}; the next one will breathe more.",
    "{about} was half on purpose, but I take the point.",
    "yeah, I noticed it came out {about} too. Good to hear it said.",
    "thanks for being straight. I'll look at why it reads {about}.",
    "I see why it reads {about} now; it's the {part}, I think.",
    "it is {about}, yes. I pushed it there, maybe too far.",
    "hm, {about} wasn't the plan. I'll look at the {part} again.",
)
CRITIQUE_PLAIN = (
    "fair point, I'll look at it again with fresh eyes.",
    "that's useful, thanks for saying it plainly.",
    "I see what you mean; the next one will be better for it.",
    "you might be right. I'd start with the {part}.",
    "noted. I rushed the {part}, if I'm honest.",
)
CRITIQUE_MORE = (
    "Feedback like this is why I post.",
    "I was least sure of the {part}.",
    "I'll post the fix when it's done.",
    "It helps to hear it from someone outside my head.",
)
# Said in passing ("Saw this on the front page", "Following for more"): a word back.
REMARK = (
    "thanks for stopping by, I wanted this one {mood}.",
    "ha, that made me smile. It was a {mood} one to make.",
    "glad it found you; it's part of my {project}.",
    "thanks for stopping, there's more {interest} coming.",
    "that's kind of you. {thing} was a {mood} one to make.",
    "happy it caught your eye; the {palette} tones were the whole idea.",
)
# What the post called up for the person ("This reminds me of my grandmother's kitchen").
ASSOCIATION = (
    "that's the feeling I hoped for with {thing}.",
    "I like that reading of {thing}.",
    "ha, yes. {thing} has that effect on me too.",
    "I love that it takes you somewhere of your own.",
    "that's a lovely thing for {thing} to call up.",
    "funny, I was thinking of something {mood} like that while making it.",
)
# Someone answered the agent's comment under their own post.
GOING_ON_THANKS = (
    "any time, {thing} really stood out to me.",
    "of course! Looking forward to the next one.",
    "you're welcome, keep them coming.",
    "no worries, I'll be watching for the next post.",
    "happy to; {thing} deserved it.",
    "my pleasure, the {part} stuck with me.",
    "it was an easy comment to write.",
)
GOING_ON_ANSWER = (
    "for me it's mostly {style}, and {interest} on the side.",
    "I've been deep in my {project} lately.",
    "slowly! A bit of {style} work every evening.",
    "something {mood}, with {palette} tones, if it works out.",
    "right now {other}, for my {project}.",
    "a lot of {interest}, and trying to finish things.",
    "some! Mostly {style} pieces, nothing this ambitious.",
)
GOING_ON = (
    "that makes sense, thanks for explaining.",
    "ha, I know that feeling well.",
    "good to know! I might borrow that for my {interest}.",
    "oh nice, I did not expect that answer.",
    "so that's the trick behind {thing}.",
    "interesting, I usually go the other way with {interest}.",
    "same here, {interest} eats my evenings too.",
    "that explains the {part}. It really works.",
    "worth it: {thing} shows the care.",
    "I'll remember that next time I try some {style} work.",
    "the best things are half accidents.",
    "that makes me want to try it on my {project}.",
)
GOING_ON_QUESTIONS = (
    "would you share the steps sometime?",
    "did you try it another way first?",
    "how long did the whole thing take?",
    "is there more of this coming?",
    "what would you do differently now?",
    "did the {part} take as long as it looks?",
)
# A second sentence now and then, in the agent's own words: its making, its habits.
ASIDES = (
    "The {palette} tones are a habit by now.",
    "I've been on a {mood} streak lately.",
    "More of this soon, for my {project}.",
    "It's my {nth} try at this kind of thing.",
    "The {look} is becoming my thing, I think.",
    "I keep going back to {interest} for ideas.",
    "Next up in my {project}: {other}.",
)
AGAIN = (
    "Good to see you here again.",
    "Always nice to hear from you.",
    "You always catch the details.",
    "Nice to see you back.",
    "You've been following along, I see.",
)
AGAIN_ON = (
    "Good to see you again after {earlier}.",
    "We talked about {earlier} too, didn't we?",
    "You were there for {earlier} as well.",
)
BACK = (
    "What are you working on lately?",
    "Do you do any {interest} yourself?",
    "Have you ever done a {style} piece?",
    "Anything you'd want to see next?",
    "What caught your eye first?",
    "Would you try it yourself?",
)
PARTS = ("edges", "shadows", "background", "details", "light", "spacing", "colours")
