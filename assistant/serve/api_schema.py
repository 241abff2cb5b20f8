"""The JSON shapes of the HTTP API, as pydantic models.

FastAPI validates requests with them and serialises responses through them,
so the OpenAPI document at ``/docs`` describes what the server really sends
(tests check real responses against it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..ingest.text import Script


class Message(BaseModel):
    role: str = Field(description="'user' or 'assistant'; only user turns are used.")
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The question, in Chinese or English.")
    history: list[str | Message] = Field(
        default_factory=list, description="Earlier questions or chat messages, oldest first."
    )


class CitationOut(BaseModel):
    n: int = Field(description="The number the answer cites as [n].")
    doc_id: str
    title: str
    section: str
    text: str = Field(description="The whole passage, as in the article.")
    score: float
    cited: bool = Field(description="True if the answer quotes this passage.")
    quotes: list[str] = Field(description="The passage's sentences the answer quotes.")


class Removed(BaseModel):
    text: str
    reason: str


class Evidence(BaseModel):
    answerable: float | None = Field(
        None, description="The answerability model's probability that the passages answer."
    )
    threshold: float | None = Field(None, description="Answered when at least this.")
    features: dict[str, float] = Field(default_factory=dict, description="The model's inputs.")
    drivers: dict[str, float] = Field(
        default_factory=dict, description="Each input's part of the log-odds, largest first."
    )
    missing: list[str] = Field(
        default_factory=list, description="The question's content words no passage holds."
    )
    intent: str | None = Field(
        None, description="'greeting', 'thanks', 'capabilities' or 'about' when not a search."
    )
    similarity: float | None = Field(
        None, description="Cosine of the message and the nearest example of its intent."
    )
    example: str | None = Field(None, description="That example.")


class AskResponse(BaseModel):
    """What ``assistant ask --json`` prints."""

    question: str
    answer: str = Field(description="The answer, with [n] after each quoted claim.")
    refused: bool = Field(description="True when the articles do not answer the question.")
    citations: list[CitationOut]
    script: Script = Field(description="The asker's script; the answer is written in it.")
    standalone_question: str = Field(description="The question with its follow-up resolved.")
    evidence: Evidence = Field(
        description="What the decision to answer or refuse was made on (empty for chit-chat)."
    )
    timings_ms: dict[str, float]
    mode: str = Field(description="'extractive' (quoted) or 'llm' (model-written, checked).")
    checked: int = Field(description="Model sentences checked against their passages.")
    unsupported: int = Field(description="Model sentences removed: not backed by a passage.")
    removed: list[Removed] = Field(description="The removed sentences and why.")
    notice: str = Field(description="Shown above the answer (model unavailable, removals).")
    model_error: str | None = Field(description="Why the model could not answer, if it failed.")


class Health(BaseModel):
    status: str = Field(description="'ok' (503 with an error otherwise).")
    version: str
    embedder: str
    articles: int
    chunks: int
    updated_at: str | None = Field(description="When the index was last written (UTC, ISO).")
    store: str = Field(description="'local' (embedded Chroma) or 'chroma server'.")
    answers: str = Field(description="'extractive' (quoted) or 'llm' (model-written, checked).")


class Error(BaseModel):
    error: str = Field(description="What went wrong, for a person to read.")


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    code: int


class OpenAIError(BaseModel):
    error: OpenAIErrorDetail


def error_responses(model: type[BaseModel], *codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the errors an endpoint can answer with."""
    meaning = {
        401: "Missing or wrong API token (only when tokens are configured).",
        404: "No such model.",
        413: "Request body too large.",
        422: "Bad body, malformed JSON, empty or over-long question, or too much history.",
        429: "Rate limit; see the Retry-After header.",
        503: "No usable index (build it with `assistant index`).",
    }
    return {code: {"model": model, "description": meaning[code]} for code in codes}
