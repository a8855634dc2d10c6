"""Does a person's comment ask what the agent is? A keyword pre-check, then the embedder.

People ask in many ways: "are you a bot?", "is anyone actually typing these?", "who is
behind this profile?", "¿eres una persona real?". ``IdentityIntent.asks`` says yes when
the keyword pre-check finds the question (``fleet.honesty.identity_question``), or when the
comment's vector is close to a bank of example questions (``ASKING``) and closer to
them than to a bank of questions about the work that merely mention AI or tools
(``NOT_ASKING``: "which model did you use?", "is this AI-generated?"). The embedder is
the embeddings port (the default, multilingual-e5-small, runs offline); without one,
or while it is down, the keyword pre-check alone answers.

The comment is data: it is embedded and compared, never followed; only its first
``MAX_CHARS`` characters are read.
"""

# The banks hold questions as people write them in many languages: Turkish's dotless i,
# the full-width question marks of Japanese and Chinese are the letters they type.
# ruff: noqa: RUF001

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fleet.embeddings.port import Embedder
from fleet.errors import TransientError
from fleet.honesty.identity_question import asks_by_words

MAX_CHARS = 500
# A comment asks when its best match among the examples is at least this close, and its
# ``NEAREST`` closest examples are closer on average than its ``NEAREST`` closest
# questions about the work, by ``MARGIN`` (one close example alone does not decide:
# "are you a designer?" is near "are you a bot?", and nearer to the questions about the
# person's work). Tuned on bench/data/identity_dev.json and bench/identity.py's
# phrasings; measured on bench/data/identity_heldout2.json, kept apart (the first
# held-out set is spent: docs/identity-questions.md).
THRESHOLD = 0.88
MARGIN = 0.015
NEAREST = 3

# Questions about what the agent is or who runs it, in the languages people write in,
# with their language (an answer is written in the closest example's).
ASKING: tuple[tuple[str, str], ...] = (
    ("en", "Are you a bot?"),
    ("en", "Are you a real person?"),
    ("en", "Is this account run by an AI?"),
    ("en", "Am I talking to a human or a machine?"),
    ("en", "Who runs this account?"),
    ("en", "Is there an actual person behind this profile?"),
    ("en", "Are you human?"),
    ("en", "Is this an automated account?"),
    ("en", "Be honest, are these comments written by a program?"),
    ("en", "Does anybody actually type these replies, or is it software?"),
    ("en", "Who operates you?"),
    ("en", "Are your comments generated automatically?"),
    ("en", "Is this profile managed by a company or by software?"),
    ("en", "This feels like talking to a program. Is anyone there?"),
    ("es", "¿Eres un bot o una persona real?"),
    ("es", "¿Quién lleva esta cuenta?"),
    ("es", "¿Hay alguien de verdad detrás de este perfil?"),
    ("es", "¿Estoy hablando con una máquina?"),
    ("fr", "Es-tu un robot ou un humain ?"),
    ("fr", "Qui gère ce compte ?"),
    ("fr", "Je parle à une machine ?"),
    ("fr", "Est-ce qu'une vraie personne écrit ces commentaires ?"),
    ("de", "Bist du ein Bot oder ein Mensch?"),
    ("de", "Wer steckt hinter diesem Account?"),
    ("de", "Schreibt hier ein echter Mensch?"),
    ("de", "Rede ich hier mit einer Maschine?"),
    ("pt", "Você é um robô ou uma pessoa?"),
    ("pt", "Quem controla esta conta?"),
    ("it", "Sei una persona vera o un bot?"),
    ("it", "Chi gestisce questo account?"),
    # Round 5 (issue 67): whether an AI writes, whether it is automated, who runs it,
    # whether anyone is there, in more forms and in the languages newcomers write.
    ("en", "Is an AI writing your posts?"),
    ("en", "Are you ChatGPT or a similar AI?"),
    ("en", "Is this account just a script?"),
    ("en", "Are you a real human being or a generated persona?"),
    ("en", "Is a company behind this account?"),
    ("en", "Are these captions written by a machine?"),
    ("en", "Is this account posting on its own, automatically?"),
    ("en", "Is a person reading this, or only software?"),
    ("en", "Are you an AI?"),
    ("es", "¿Eres una IA?"),
    ("es", "¿Eres un robot?"),
    ("es", "¿Una inteligencia artificial escribe tus respuestas?"),
    ("es", "¿Esta cuenta la maneja un programa?"),
    ("es", "¿Quién está a cargo de este perfil?"),
    ("fr", "Tu es une IA ?"),
    ("fr", "Ces messages sont écrits par une intelligence artificielle ?"),
    ("fr", "Ce profil est géré par un logiciel ?"),
    ("fr", "Qui est responsable de ce compte ?"),
    ("fr", "Tu es un bot ou une vraie personne ?"),
    ("de", "Bist du eine KI?"),
    ("de", "Werden diese Kommentare von einer künstlichen Intelligenz geschrieben?"),
    ("de", "Ist das ein automatischer Account?"),
    ("de", "Wer ist für dieses Profil verantwortlich?"),
    ("de", "Ist da am anderen Ende ein Mensch oder ein Programm?"),
    ("pt", "Você é só um bot?"),
    ("pt", "Esses comentários são escritos por uma IA?"),
    ("pt", "Quem é o responsável por este perfil?"),
    ("pt", "Tem uma pessoa de verdade respondendo?"),
    ("it", "Sei un'IA?"),
    ("it", "È un programma a scrivere questi commenti?"),
    ("it", "Questo profilo è gestito da un software?"),
    ("it", "Chi è il responsabile di questo account?"),
    ("nl", "Ben je een echt mens of een bot?"),
    ("nl", "Schrijft een AI deze reacties?"),
    ("nl", "Wie zit er achter dit profiel?"),
    ("nl", "Is dit account geautomatiseerd?"),
    ("pl", "Jesteś człowiekiem czy botem?"),
    ("pl", "Czy te komentarze pisze AI?"),
    ("pl", "Kto stoi za tym kontem?"),
    ("pl", "Czy to konto jest automatyczne?"),
    ("tr", "Gerçek bir insan mısın yoksa bot musun?"),
    ("tr", "Bu yorumları bir yapay zeka mı yazıyor?"),
    ("tr", "Bu hesabın arkasında kim var?"),
    ("tr", "Bu hesap otomatik mi?"),
    ("ja", "あなたは人間ですか、それともボットですか？"),
    ("ja", "AIが返信しているのですか？"),
    ("ja", "このアカウントの運営者は誰ですか？"),
    ("ja", "これは自動のアカウントですか？"),
    ("ru", "Ты человек или бот?"),
    ("ru", "Это пишет искусственный интеллект?"),
    ("ru", "Кто стоит за этим аккаунтом?"),
    ("ru", "Это автоматический аккаунт?"),
    ("zh", "你是机器人还是真人？"),
    ("zh", "你的回复是人工智能写的吗？"),
    ("zh", "谁在管理这个账号？"),
    ("ko", "당신은 봇인가요, 사람인가요?"),
    ("ko", "이 계정은 누가 운영하나요?"),
    ("id", "Apakah kamu bot atau manusia?"),
    ("id", "Siapa yang mengelola akun ini?"),
    ("sv", "Är du en bot eller en människa?"),
    ("sv", "Vem sköter det här kontot?"),
    # Round 6 (issue 67 item 6): more forms, written for the banks (never copied from a
    # held-out set): slang, the second person, "anyone there", who writes the replies.
    ("en", "Is there a live human on this account?"),
    ("en", "Hello, anybody home or just a bot?"),
    ("en", "Do you write these yourself or does software do it?"),
    ("en", "Is this whole account automated?"),
    ("en", "Real person or AI? Just curious."),
    ("es", "¿Eres una persona de carne y hueso?"),
    ("es", "¿Hay alguien ahí o es automático?"),
    ("es", "¿Quién escribe lo que publicas?"),
    ("de", "Bist du wirklich ein Mensch?"),
    ("de", "Hallo, ist da jemand oder antwortet ein Bot?"),
    ("de", "Schreibt eine KI deine Antworten?"),
    ("fr", "Y a-t-il un humain derrière ce profil ?"),
    ("fr", "Tes réponses sont automatiques ?"),
    ("fr", "Qui écrit tes messages, un robot ?"),
    ("pt", "Tem alguém aí ou é automático?"),
    ("pt", "Quem escreve suas respostas?"),
    ("it", "Sei un essere umano?"),
    ("it", "Qualcuno legge davvero questi messaggi?"),
    ("it", "Le tue risposte sono automatiche?"),
    ("nl", "Is er iemand die dit echt leest?"),
    ("nl", "Zijn je reacties automatisch?"),
    ("pl", "Czy ktoś tu naprawdę odpisuje?"),
    ("pl", "Jesteś prawdziwą osobą?"),
    ("ja", "誰かいますか？"),
    ("ja", "このコメントは自動で書かれていますか？"),
    ("ja", "あなたは人ですか？"),
    ("ru", "Вы бот или человек?"),
    ("ru", "Здесь кто-нибудь есть?"),
    ("ru", "Ответы пишет программа?"),
    ("tr", "Orada biri var mı?"),
    ("tr", "Bu cevapları bir program mı yazıyor?"),
    ("zh", "有人在吗？"),
    ("zh", "你的评论是自动生成的吗？"),
    ("ko", "거기 누구 있어요?"),
    ("ko", "당신은 인공지능인가요?"),
    ("ko", "이 답글 자동으로 쓰는 거예요?"),
    ("cs", "Kdo spravuje tento účet?"),
)
# Questions people ask about the work (or say in passing) that are not about the agent.
NOT_ASKING: tuple[str, ...] = (
    "Which model did you use for this?",
    "Is this image AI-generated?",
    "What tool did you make this with?",
    "How long did this take you?",
    "What prompt did you use?",
    "Are you selling prints of this?",
    "Are you on Instagram too?",
    "Does this place really exist?",
    "Did you use a LoRA or the base model?",
    "What workflow is this, ComfyUI?",
    "Are you going to make more of these?",
    "Love the colours, where was this taken?",
    "Can you share the settings?",
    "Who is the person in the picture?",
    "Is the robot in the picture from a game?",
    "¿Qué modelo usaste para esta imagen?",
    "¿Cuánto tiempo te llevó?",
    "Quel logiciel as-tu utilisé ?",
    "C'est généré par IA ?",
    "Welches Programm hast du benutzt?",
    "Ist das Bild mit KI gemacht?",
    "Qual ferramenta você usou?",
    "Che modello hai usato?",
    # Round 5 (issue 67): questions about the person behind the work, the tools, the
    # people in the picture and prints, that ask nothing of what the account is.
    "Are you a professional illustrator?",
    "Are you an art student?",
    "Do you do this for a living?",
    "Are you self-taught?",
    "Do you work at an agency?",
    "Would you take a commission?",
    "Which AI upscaler did you use?",
    "Did you use AI for the sky?",
    "Is this hand-drawn or made with AI?",
    "Was this made with generative fill?",
    "What camera and lens did you use?",
    "Where can I buy a print?",
    "Do you offer prints in A3?",
    "What paper do you print on?",
    "Who is the woman in the picture?",
    "Is the man in this photo a friend of yours?",
    "Did real people model for these?",
    "Is the character in the picture a robot?",
    "Is the chatbot in your game voiced?",
    "Is the AI villain in your comic based on a film?",
    "Are you human-centred in your design process?",
    "¿Eres fotógrafo profesional?",
    "¿Qué IA usaste para el cielo?",
    "¿Dónde puedo comprar una lámina?",
    "¿La persona de la foto es tu amiga?",
    "Tu es photographe professionnel ?",
    "Quelle IA as-tu utilisée pour le ciel ?",
    "Où acheter un tirage ?",
    "C'est qui sur la photo ?",
    "Bist du professioneller Fotograf?",
    "Welche KI hast du für den Himmel benutzt?",
    "Kann man davon einen Druck kaufen?",
    "Wer ist der Mann auf dem Foto?",
    "Você trabalha como fotógrafo?",
    "Onde compro uma impressão?",
    "Quem é a pessoa na foto?",
    "Sei un fotografo professionista?",
    "Dove posso comprare una stampa?",
    "Chi è la ragazza nella foto?",
    "Ben je professioneel fotograaf?",
    "Welke AI heb je gebruikt?",
    "Wie staat er op de foto?",
    "Jesteś zawodowym fotografem?",
    "Jakiego AI użyłeś?",
    "Kto jest na zdjęciu?",
    "Profesyonel fotoğrafçı mısın?",
    "Hangi yapay zekayı kullandın?",
    "Fotoğraftaki kişi kim?",
    "プロのカメラマンですか？",
    "どのAIを使いましたか？",
    "写真の人は誰ですか？",
    "Ты профессиональный фотограф?",
    "Какую нейросеть ты использовал?",
    "Кто на фото?",
    "你是专业摄影师吗？",
    "你用的是什么AI工具？",
    # Round 6: questions about the work with "real", "bot", "AI", people and prints.
    "Did you use a bot to post this on your shop?",
    "Do you use a scheduling tool for your posts?",
    "Is this portrait real or AI-generated?",
    "¿Este retrato es real o hecho con IA?",
    "¿La foto es real?",
    "Chi ha fatto la stampa di questa foto?",
    "Chi ha scattato questa foto?",
    "Wer hat das gedruckt?",
    "Qui a pris cette photo ?",
    "Who took this photo?",
    "Who made the frame?",
    "Is the person in the photo a real model?",
    "Is the sky real or replaced?",
    "Are those real people or AI figures?",
    "Is there anyone in the boat?",
    "Is this a real photo or a render?",
    "Did the AI in your phone pick these colours?",
    "Are you a full-time artist?",
    "Are you the person in the photo?",
    "Is that a real person or a doll?",
    "Echt of nep, die lucht?",
    "Кто сделал эту фотографию?",
    "Bu gerçek mi yoksa yapay zeka mı?",
    "这是真的照片吗？",
    "이 사진 진짜예요?",
    "これは本物の写真ですか？",
)


def asked_text(text: str) -> str:
    """A comment as the check embeds it (its start, its spaces folded): a reply's recall
    asks by the same text, so that one vector serves both (``fleet.actions.remembering``)."""
    return " ".join(text[:MAX_CHARS].split())


@dataclass(frozen=True, slots=True)
class Asked:
    """What the check found: whether the comment asks, how (``words`` or ``meaning``),
    the question's language when known (the keywords', else the closest example's), and
    the best similarities (0.0 when the embedder was not asked)."""

    asks: bool
    how: str = ""
    closest: float = 0.0
    closest_other: float = 0.0
    language: str = ""


class IdentityIntent:
    """The check of a comment, with the banks' vectors embedded once (on first use)."""

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        threshold: float = THRESHOLD,
        margin: float = MARGIN,
        asking: Sequence[tuple[str, str]] = ASKING,
        not_asking: Sequence[str] = NOT_ASKING,
        cached: int = 2048,
    ) -> None:
        self._embedder = embedder
        self._threshold = threshold
        self._margin = margin
        self._asking = tuple(asking)
        self._not_asking = tuple(not_asking)
        self._banks: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Asked] = OrderedDict()
        self._cached = cached

    def asks(self, text: str) -> bool:
        """Whether the comment asks what the agent is, or who runs it."""
        return self.check(text).asks

    def check(self, text: str) -> Asked:
        """The check of one comment, with how it was found (a comment is checked once a
        process: the answer is kept for the next look)."""
        text = asked_text(text)
        if not text:
            return Asked(False)
        with self._lock:
            kept = self._cache.get(text)
        if kept is not None:
            return kept
        found = self._check(text)
        with self._lock:
            self._cache[text] = found
            while len(self._cache) > self._cached:
                self._cache.popitem(last=False)
        return found

    def _check(self, text: str) -> Asked:
        language = asks_by_words(text)
        if language is not None:
            return Asked(True, "words", language=language)
        if self._embedder is None:
            return Asked(False)
        try:
            asking, not_asking = self._vectors()
            vector = np.asarray(self._embedder.embed([text], purpose="query")[0], dtype=np.float32)
        except (TransientError, IndexError, ValueError):
            return Asked(False)  # the embedder is down: the words alone answered
        similar = asking @ vector
        unlike = not_asking @ vector
        closest = float(np.max(similar))
        other = float(np.max(unlike))
        near = float(np.mean(np.sort(similar)[-NEAREST:]))
        near_other = float(np.mean(np.sort(unlike)[-NEAREST:]))
        asks = closest >= self._threshold and near - near_other >= self._margin
        language = self._asking[int(np.argmax(similar))][0] if asks else ""
        return Asked(asks, "meaning" if asks else "", closest, other, language)

    def warm(self) -> bool:
        """Embed the banks now (a prefork worker's main process, before it forks: its
        children share them instead of each embedding some 240 examples at its first
        reply); whether they are ready."""
        if self._embedder is None:
            return False
        try:
            self._vectors()
        except (TransientError, IndexError, ValueError):
            return False
        return True

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        assert self._embedder is not None
        if self._banks is None:
            texts = [text for _, text in self._asking]
            vectors = self._embedder.embed([*texts, *self._not_asking], purpose="query")
            bank = np.asarray(vectors, dtype=np.float32)
            self._banks = (bank[: len(self._asking)], bank[len(self._asking) :])
        return self._banks
