"""Test doubles: botocore Stubber clients, an azure-core transport with canned responses, a fake clock."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any, Callable, Optional

import botocore.session
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._http_response_impl import HttpResponseImpl
from azure.core.utils import CaseInsensitiveDict
from botocore.stub import Stubber
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent.parent
ACCOUNT = "123456789012"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


class Clock:
    """time.monotonic and time.sleep stand-ins: sleeping advances the clock, instantly."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class StubbedAws:
    """AwsClients stand-in: one stubbed botocore client per (service, region); each response is
    validated by Stubber against the botocore service model."""

    def __init__(self):
        self.session = botocore.session.get_session()
        self.clients: dict = {}
        self.stubbers: dict = {}

    def stub(self, service: str, region: str) -> Stubber:
        key = (service, region)
        if key not in self.clients:
            client = self.session.create_client(service, region_name=region, aws_access_key_id="AKIDTEST",
                                                aws_secret_access_key="secret")
            stubber = Stubber(client)
            stubber.activate()
            self.clients[key], self.stubbers[key] = client, stubber
        return self.stubbers[key]

    def __call__(self, service: str, region: str) -> Any:
        self.stub(service, region)
        return self.clients[(service, region)]

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def captured(terminal: bool = False, width: int = 160) -> Console:
    return Console(file=io.StringIO(), force_terminal=terminal, width=width, highlight=False, color_system=None)


def text(console: Console) -> str:
    return console.file.getvalue()


# ----------------------------------------------------------------------------- Azure


class FakeCredential:
    def __init__(self, error: Optional[Exception] = None):
        self.error = error

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        if self.error is not None:
            raise self.error
        return AccessToken("token", 4_102_444_800)


class _Canned(HttpResponseImpl):
    def __init__(self, request, status: int, body: bytes, headers: dict):
        headers = CaseInsensitiveDict(headers)
        super().__init__(request=request, internal_response=None, status_code=status, reason="canned",
                         content_type=headers.get("Content-Type"), headers=headers,
                         stream_download_generator=lambda pipeline, response, **kwargs: iter([body]))
        self._content = body
        self._is_closed = True
        self._is_stream_consumed = True

    def iter_bytes(self, **kwargs):
        yield self._content

    def iter_raw(self, **kwargs):
        yield self._content


class Transport(HttpTransport):
    """Routes (method, URL regex) to canned responses, in order; the last one for a route repeats."""

    def __init__(self):
        self.routes: list = []
        self.requests: list = []

    def add(self, method: str, pattern: str, *responses, model: Any = None) -> "Transport":
        """model: the SDK model class (or page_of(...)) the SDK deserializes a 2xx body with; each
        canned JSON body is checked to lose no key in that model, so a misspelt field fails here
        instead of being dropped silently by the deserializer."""
        for status, body, _ in responses:
            if isinstance(body, (dict, list)):
                problems = error_shape_problems(body) if status >= 400 else \
                    azure_model_problems(model, body) if model is not None else []
                assert not problems, f"{method} {pattern}: canned body does not fit the model: {problems}"
        self.routes.append((method, re.compile(pattern), list(responses)))
        return self

    def send(self, request, **kwargs):
        self.requests.append((request.method, request.url))
        for method, pattern, responses in self.routes:
            if method == request.method and pattern.search(request.url):
                status, body, headers = responses.pop(0) if len(responses) > 1 else responses[0]
                if isinstance(body, (dict, list)):
                    body, headers = json.dumps(body).encode(), {"Content-Type": "application/json", **headers}
                elif isinstance(body, str):
                    body = body.encode()
                elif body is None:
                    body = b""
                return _Canned(request, status, body, headers)
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def open(self):
        pass

    def close(self):
        pass

    def __exit__(self, *args):
        pass


def ok(body: Any, status: int = 200, headers: Optional[dict] = None) -> tuple:
    return (status, body, headers or {})


def azure_error(status: int, code: str, message: str) -> tuple:
    return (status, {"error": {"code": code, "message": message}}, {})


class page_of:
    """A list response ({"value": [...], "nextLink": ...}) whose items are `item`: the paged
    operations of azure-mgmt-compute deserialize items directly, with no list model class."""

    def __init__(self, item: Any):
        self.item = item


def azure_model_problems(model: Any, body: Any, path: str = "") -> list:
    """Keys of a canned body that the SDK model does not know (they would be dropped or ignored)."""
    if isinstance(model, page_of):
        problems = [f"{path}.{key}: not in the model" for key in body if key not in ("value", "nextLink")]
        for index, item in enumerate(body.get("value", [])):
            problems.extend(azure_model_problems(model.item, item, f"{path}.value[{index}]"))
        return problems
    if hasattr(model, "deserialize"):  # msrest-style models (azure-mgmt-imagebuilder)
        return _dropped(body, model.deserialize(body).serialize(keep_readonly=True), path)
    return _unknown(model(body), path)  # typespec model_base models (azure-mgmt-compute >= 34)


def _dropped(canned: Any, kept: Any, path: str) -> list:
    problems = []
    if isinstance(canned, dict) and isinstance(kept, dict):
        for key, value in canned.items():
            if key not in kept:
                problems.append(f"{path}.{key}: not in the model")
            else:
                problems.extend(_dropped(value, kept[key], f"{path}.{key}"))
    elif isinstance(canned, list) and isinstance(kept, list):
        for index, (value, other) in enumerate(zip(canned, kept)):
            problems.extend(_dropped(value, other, f"{path}[{index}]"))
    return problems


def _unknown(value: Any, path: str) -> list:
    fields = getattr(type(value), "_attr_to_rest_field", None)
    if fields is not None:  # a model: raw keys are kept as they came, so compare them with its fields
        by_rest_name = {field._rest_name: attr for attr, field in fields.items()}
        problems = []
        for key in value.keys():
            if key not in by_rest_name:
                problems.append(f"{path}.{key}: not in the model")
            else:
                problems.extend(_unknown(getattr(value, by_rest_name[key]), f"{path}.{key}"))
        return problems
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _unknown(item, f"{path}[{index}]")]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _unknown(item, f"{path}[{key}]")]
    return []


def error_shape_problems(body: Any) -> list:
    """ARM error bodies: {"error": {"code": ..., "message": ...}} (details, target optional)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(body) != {"error"}:
        return [f"not an ARM error body: {body!r}"]
    return [f".error.{key}: missing" for key in ("code", "message") if not isinstance(error.get(key), str)] + \
        [f".error.{key}: not in the ARM error shape" for key in error
         if key not in ("code", "message", "target", "details", "additionalInfo")]


def azure_clients_for(transport: Transport, credential: Any = None) -> Callable[[str], Any]:
    from components.daytwo.azure import AzureClients

    made: dict = {}

    def factory(subscription: Optional[str]) -> Any:
        if "clients" not in made:
            made["clients"] = AzureClients(SUBSCRIPTION, credential=credential or FakeCredential(),
                                           transport=transport, retry_total=0)
        return made["clients"]
    return factory


# ----------------------------------------------------------------------------- model check


def model_problems(shape, value, path: str = "") -> list:
    """What Stubber does not check in a canned response: unknown members, enums, patterns, lengths."""
    problems = []
    kind = shape.type_name
    if kind == "structure":
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}: not in the model")
            else:
                problems.extend(model_problems(shape.members[key], item, f"{path}.{key}"))
    elif kind == "list":
        for index, item in enumerate(value):
            problems.extend(model_problems(shape.member, item, f"{path}[{index}]"))
    elif kind == "map":
        for key, item in value.items():
            problems.extend(model_problems(shape.key, key, f"{path}<key>"))
            problems.extend(model_problems(shape.value, item, f"{path}[{key}]"))
    elif kind == "string":
        meta = shape.metadata
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in {shape.enum}")
        if "pattern" in meta and not re.search(meta["pattern"], value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
        if len(value) < meta.get("min", 0) or len(value) > meta.get("max", 1 << 30):
            problems.append(f"{path}: length {len(value)} outside the model's limits")
    return problems


def respond(stubber: Stubber, operation: str, response: dict, expected: Optional[dict] = None) -> None:
    """add_response after checking the response more strictly than Stubber does."""
    model = stubber.client.meta.service_model.operation_model(
        stubber.client.meta.method_to_api_mapping[operation])
    problems = model_problems(model.output_shape, response)
    assert not problems, problems
    stubber.add_response(operation, response, expected)
