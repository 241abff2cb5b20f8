"""Routes around the two APIs: ``GET /v1/models`` and the answer to a path or
method neither API has.

OpenAI clients list models before they chat (``client.models.list()``); the
assistant is one model. Every other path under ``/api/`` or ``/v1/`` used to
fall through to the chat mounted at ``/``, which answered FastAPI's
``{"detail": "Not Found"}``; a bot reading our documented ``{"error": …}``
shape could not read it. Here an unknown path is 404 and a known path asked
with another method is 405 (with ``Allow``), both in the API's error shape.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from .access import error_response
from .api_schema import OpenAIError, error_responses
from .openai_compat import MODEL

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class ModelCard(BaseModel):
    id: str
    object: str = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: str = "list"
    data: list[ModelCard]


def add_model_routes(api: FastAPI) -> None:
    """``GET /v1/models`` and ``GET /v1/models/{id}``: the assistant's one model."""
    card = ModelCard(id=MODEL, created=int(time.time()), owned_by="article-assistant")

    @api.get("/v1/models", response_model=ModelList, responses=error_responses(OpenAIError, 401))
    async def models() -> ModelList:
        """The models this server answers with (one: the article assistant)."""
        return ModelList(data=[card])

    @api.get(
        "/v1/models/{model_id}",
        response_model=ModelCard,
        responses=error_responses(OpenAIError, 401, 404),
    )
    async def model(model_id: str, request: Request) -> Any:
        """One model, by its id."""
        if model_id != MODEL:
            return error_response(
                request.url.path, 404, f"No model '{model_id}'; this server has '{MODEL}'."
            )
        return card


def add_fallbacks(api: FastAPI) -> None:
    """404 / 405 in the API's error shape for ``/api/…`` and ``/v1/…`` paths no
    route answers (registered last: the real routes match first)."""
    routes = [r for r in api.routes if isinstance(r, APIRoute)]

    async def nothing_here(request: Request) -> JSONResponse:
        path = request.url.path
        allowed = sorted({m for r in routes if r.path_regex.match(path) for m in r.methods})
        if allowed:
            return error_response(
                path,
                405,
                f"{request.method} is not allowed on {path}; use {', '.join(allowed)}.",
                {"Allow": ", ".join(allowed)},
            )
        return error_response(path, 404, f"No endpoint at {path}; the API is described at /docs.")

    for prefix in ("/api", "/v1"):
        for path in (prefix, prefix + "/{rest:path}"):  # /api itself too
            api.add_api_route(path, nothing_here, methods=_METHODS, include_in_schema=False)
