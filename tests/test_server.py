"""The HTTP server (chat + JSON API), started for real on a loopback port."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from assistant.errors import AssistantError
from assistant.serve.running import RunningAssistant
from assistant.serve.server import create_server
from assistant.settings import Settings
from tests.conftest import serve_with
from tests.servers import peer, running


@pytest.fixture(scope="module")
def base_url(assistant, tmp_path_factory):
    yield from serve_with(assistant, tmp_path_factory)


def test_ask_returns_the_cli_json(base_url, assistant):
    r = httpx.post(f"{base_url}/api/ask", json={"question": "微信小店的GMV增长了多少？"})
    assert r.status_code == 200
    data = r.json()
    assert data["refused"] is False and "1.92倍" in data["answer"]
    cli = assistant.ask("微信小店的GMV增长了多少？").to_dict()  # what `ask --json` prints
    assert data.keys() == cli.keys() and data["answer"] == cli["answer"]
    assert data["citations"][0].keys() == cli["citations"][0].keys()
    assert set(data["timings_ms"]) >= {"retrieve", "answer", "total"}


def test_help_desk_wording_through_the_api_and_v1(base_url):
    """Issue 12: the same understanding behind every edge."""
    ask = httpx.post(f"{base_url}/api/ask", json={"question": "小店今年卖得咋样"}).json()
    assert not ask["refused"] and "1.92" in ask["answer"]
    assert ask["evidence"]["answerable"] >= ask["evidence"]["threshold"]
    hello = httpx.post(f"{base_url}/api/ask", json={"question": "你好"}).json()
    assert hello["evidence"]["intent"] == "greeting" and hello["citations"] == []
    v1 = httpx.post(
        f"{base_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "视屏号推荐算法看什么指标"}]},
    ).json()
    assert "完播率" in v1["choices"][0]["message"]["content"]


def test_ask_with_history_resolves_the_follow_up(base_url):
    for history in (
        ["微信小店的GMV增长了多少？"],
        [
            {"role": "user", "content": "微信小店的GMV增长了多少？"},
            {"role": "assistant", "content": "…"},
        ],
    ):
        r = httpx.post(
            f"{base_url}/api/ask", json={"question": "那订单数量呢？", "history": history}
        )
        assert r.status_code == 200 and "2.25倍" in r.json()["answer"]


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"question": "  "}, "Please type a question"),
        ({"question": "长" * 2001}, "limit is 2,000"),
        ({"history": []}, "question"),
        ({"question": 42}, "question"),
    ],
)
def test_bad_requests_get_422_with_a_message(base_url, body, expected):
    r = httpx.post(f"{base_url}/api/ask", json=body)
    assert r.status_code == 422 and expected in r.json()["error"]


def test_malformed_json_is_422_not_500(base_url):
    r = httpx.post(
        f"{base_url}/api/ask",
        content=b'{"question": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and "error" in r.json() and "Traceback" not in r.text


def test_health(base_url):
    data = httpx.get(f"{base_url}/api/health").json()
    assert data["status"] == "ok" and data["embedder"] == "usem3-512"
    assert data["articles"] == 1 and data["chunks"] > 10


def test_the_chat_is_served_at_the_root(base_url):
    page = httpx.get(f"{base_url}/", follow_redirects=True)
    assert page.status_code == 200 and "gradio" in page.text.lower()
    loader = httpx.get(f"{base_url}/gradio.js")
    assert loader.status_code == 200 and "javascript" in loader.headers["content-type"]
    # the page's own styles (readable quotes in the dark theme) come with it
    assert ".dark mark" in (httpx.get(f"{base_url}/config").json().get("css") or "")


def test_the_openapi_document_is_valid_and_describes_real_responses(base_url):
    """Each real response, errors included, matches the schema /docs shows for it."""
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate

    spec = httpx.get(f"{base_url}/openapi.json").json()
    validate(spec)
    assert set(spec["paths"]) == {
        "/api/ask",
        "/api/health",
        "/v1/chat/completions",
        "/v1/models",
        "/v1/models/{model_id}",
    }
    gmv = {"question": "微信小店的GMV增长了多少？"}
    chat = {"messages": [{"role": "user", "content": gmv["question"]}]}
    calls = [
        ("post", "/api/ask", gmv, 200),
        ("post", "/api/ask", {"question": ""}, 422),
        ("get", "/api/health", None, 200),
        ("post", "/v1/chat/completions", chat, 200),
        ("post", "/v1/chat/completions", {"messages": []}, 422),
        ("get", "/v1/models", None, 200),
        ("get", "/v1/models/article-assistant", None, 200),
        ("get", "/v1/models/gpt-4", None, 404),
    ]
    for method, path, body, status in calls:
        r = httpx.request(method, f"{base_url}{path}", json=body)
        assert r.status_code == status, (path, r.text)
        route = "/v1/models/{model_id}" if path.startswith("/v1/models/") else path
        documented = spec["paths"][route][method]["responses"][str(status)]
        schema = documented["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = [e.message for e in validator.iter_errors(r.json())]
        assert not errors, (path, status, errors)


def test_without_an_index_the_api_says_how_to_build_it(tmp_path):
    settings = Settings(index_dir=tmp_path / "none", data_dir=tmp_path / "d")
    for url in running(create_server(settings)):
        health = httpx.get(f"{url}/api/health")
        ask = httpx.post(f"{url}/api/ask", json={"question": "GMV?"})
        assert health.status_code == ask.status_code == 503
        assert "assistant index" in health.json()["error"]


WIKI = "http://wiki.example:8090"
TOKEN = "s3cret-token-value"


@pytest.fixture(scope="module")
def guarded(assistant, tmp_path_factory):
    """A server with tokens, an allowed wiki origin and a small rate limit."""
    tokens_file = tmp_path_factory.mktemp("t") / "tokens"
    tokens_file.write_text("# team bots\nfile-token\n", encoding="utf-8")
    yield from serve_with(
        assistant,
        tmp_path_factory,
        api_tokens=[SecretStr(TOKEN)],
        api_tokens_file=tokens_file,
        allowed_origins=[WIKI],
        rate_limit_per_minute=6,
        max_body_bytes=2_000,
        max_history_messages=3,
    )


def _ask(url, token=None, via: int = 1, **body):
    """POST /api/ask from 127.0.0.<via> (its own rate-limit budget)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with peer(via) as client:
        return client.post(
            f"{url}/api/ask", json=body or {"question": "GMV增长了多少？"}, headers=headers
        )


def test_tokens_are_required_when_configured(guarded, caplog):
    assert _ask(guarded, via=2).status_code == 401
    wrong = _ask(guarded, "nope", via=2)
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert "API token" in wrong.json()["error"] and TOKEN not in wrong.text
    assert _ask(guarded, TOKEN, via=2).status_code == 200
    assert _ask(guarded, "file-token", via=2).status_code == 200
    with peer(2) as client:
        assert client.get(f"{guarded}/api/health").status_code == 401
    assert TOKEN not in caplog.text


def test_limits_on_body_and_history(guarded):
    assert _ask(guarded, TOKEN, via=3, question="长" * 1500).status_code == 413
    history = ["a", "b", "c", "d"]
    r = _ask(guarded, TOKEN, via=3, question="那订单数量呢？", history=history)
    assert r.status_code == 422 and "History" in r.json()["error"]


def test_framing_and_cors_only_for_the_allowed_origin(guarded):
    page = httpx.get(f"{guarded}/", follow_redirects=True)
    assert page.headers["content-security-policy"] == f"frame-ancestors 'self' {WIKI}"
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    ok = httpx.options(f"{guarded}/api/ask", headers={"Origin": WIKI, **preflight})
    assert ok.headers.get("access-control-allow-origin") == WIKI
    bad = httpx.options(
        f"{guarded}/api/ask", headers={"Origin": "http://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in bad.headers


def test_rate_limit_answers_429_with_retry_after(guarded):
    with peer(4, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        codes = [client.get(f"{guarded}/api/health").status_code for _ in range(8)]
        assert codes[:6] == [200] * 6 and codes[6:] == [429, 429]
        r = client.get(f"{guarded}/api/health")
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert "Too many" in r.json()["error"]
    assert _ask(guarded, TOKEN, via=5).status_code == 200  # another client is still served


def test_wrong_tokens_are_throttled_too(guarded):
    codes = [_ask(guarded, f"guess-{i}", via=6).status_code for i in range(8)]
    assert codes == [401] * 6 + [429] * 2


def test_forwarded_for_headers_are_not_believed_by_default(guarded):
    with peer(7, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        codes = [
            client.get(f"{guarded}/api/health", headers={"X-Forwarded-For": f"10.0.0.{i}"})
            for i in range(8)
        ]
    assert [r.status_code for r in codes][-2:] == [429, 429]


def test_openai_chat_completions_with_the_openai_client(base_url):
    from openai import OpenAI

    client = OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(
        model="article-assistant",
        messages=[
            {"role": "user", "content": "微信小店的GMV增长了多少？"},
            {"role": "assistant", "content": "…"},
            {"role": "user", "content": "那订单数量呢？"},
        ],
    )
    text = reply.choices[0].message.content
    assert "2.25倍" in text and "[1]" in text and "来源:" in text  # citations in the text
    assert reply.model_extra["citations"][0]["n"] == 1  # and as data

    chunks = list(
        client.chat.completions.create(
            model="article-assistant",
            stream=True,
            messages=[{"role": "user", "content": "How much did GMV grow?"}],
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "1.92" in streamed and "Sources:" in streamed and len(chunks) > 3
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"]


def test_openai_errors_have_the_openai_shape(base_url, guarded):
    r = httpx.post(
        f"{base_url}/v1/chat/completions", json={"messages": [{"role": "system", "content": "hi"}]}
    )
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_request_error"
    r = httpx.post(f"{base_url}/v1/chat/completions", json={"messages": []})
    assert r.status_code == 422 and "message" in r.json()["error"]
    with peer(8) as client:
        r = client.post(
            f"{guarded}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "GMV?"}]},
        )
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"


def test_the_chat_asks_for_a_login_when_users_are_set(with_login):
    with httpx.Client(base_url=with_login) as anonymous:
        refused = anonymous.get("/config")
        assert refused.status_code == 401 and "components" not in refused.text
        assert "请登录" in refused.json()["detail"]["auth_message"]
        assert anonymous.get("/gradio_api/info").status_code == 401
        bad = anonymous.post("/login", data={"username": "ana", "password": "pa55"})
        assert bad.status_code == 400
    for user, password in [("ana", "pa55:word"), ("bo", "second-pass")]:
        with httpx.Client(base_url=with_login) as person:
            assert person.post("/login", data={"username": user, "password": password}).is_success
            assert person.get("/config").json()["components"]
            assert person.get("/gradio_api/info").is_success


def test_password_guessing_is_rate_limited(with_login):
    codes = [
        httpx.post(f"{with_login}/login", data={"username": "ana", "password": f"guess{i}"})
        for i in range(8)
    ]
    assert [r.status_code for r in codes][-1] == 429
    assert {r.status_code for r in codes} <= {400, 429}


def test_a_malformed_login_setting_is_a_message(assistant):
    settings = assistant.settings.model_copy(update={"ui_users": [SecretStr("no-colon")]})
    with pytest.raises(AssistantError, match="name:password") as caught:
        create_server(settings, RunningAssistant(settings, assistant))
    assert "no-colon" not in str(caught.value)


def test_the_openai_client_lists_the_assistants_model(base_url):
    from openai import OpenAI

    client = OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    models = client.models.list()
    assert [m.id for m in models.data] == ["article-assistant"]
    assert models.data[0].object == "model" and models.data[0].owned_by
    assert client.models.retrieve("article-assistant").id == "article-assistant"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/nothing-here", 404),
        ("GET", "/api", 404),
        ("POST", "/v1", 404),
        ("POST", "/api/ask/extra", 404),
        ("GET", "/api/ask", 405),
        ("DELETE", "/api/health", 405),
        ("GET", "/v1/nothing-here", 404),
        ("GET", "/v1/models/another-model", 404),
        ("GET", "/v1/chat/completions", 405),
        ("DELETE", "/v1/models", 405),
    ],
)
def test_unknown_routes_and_wrong_methods_answer_in_the_error_shape(base_url, method, path, status):
    r = httpx.request(method, f"{base_url}{path}")
    assert r.status_code == status
    error = r.json()["error"]
    if path.startswith("/v1"):  # OpenAI's shape
        assert error["code"] == status and error["type"] == "invalid_request_error"
        error = error["message"]
    assert isinstance(error, str) and error and set(r.json()) == {"error"}
    if status == 405:
        assert r.headers["allow"]


def test_v1_can_leave_the_sources_out_of_the_text_and_counts_usage(base_url):
    from openai import OpenAI

    client = OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    question = [{"role": "user", "content": "微信小店的GMV增长了多少？"}]
    full = client.chat.completions.create(model="article-assistant", messages=question)
    bare = client.chat.completions.create(
        model="article-assistant", messages=question, extra_body={"sources_in_text": False}
    )
    text, full_text = bare.choices[0].message.content, full.choices[0].message.content
    assert "1.92" in text and "[1]" in text and "来源" not in text
    assert full_text.startswith(text) and "来源:" in full_text
    assert bare.model_extra["citations"] == full.model_extra["citations"]  # data stays
    # usage: real counts (微信小店 / 的 / GMV / 增长 / 了 / 多少), the bare reply shorter
    assert full.usage.prompt_tokens == bare.usage.prompt_tokens == 6
    assert 0 < bare.usage.completion_tokens < full.usage.completion_tokens
    assert full.usage.total_tokens == full.usage.prompt_tokens + full.usage.completion_tokens

    chunks = client.chat.completions.create(
        model="article-assistant",
        messages=question,
        stream=True,
        extra_body={"sources_in_text": False},
    )
    chunks = list(chunks)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "1.92" in streamed and "来源" not in streamed and chunks[-1].model_extra["citations"]


def test_a_body_that_is_not_json_is_named_so(base_url):
    r = httpx.post(
        f"{base_url}/api/ask", content=b"not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json() == {"error": 'The request body is not valid JSON; send e.g. {"question": "…"}.'}
