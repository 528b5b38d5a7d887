"""The guardrails' secret scan (GI-SECRET-001): every document, script, customizer and tag.

The scanner is the model's (components/model/secrets.py: detect-secrets, the same one the
flavour checks and the test gate run); this module decides what of a resource's wire inputs
it reads, and how: scripts line by line with checksums and secret references masked, and
single values (tags, parameters, URIs) with their keys, minus references and commit ids.

detect-secrets costs about two milliseconds per line, and a pipeline repeats the same
wrapper and step scripts in every flavour and cloud: findings are remembered in a
ScanCache, per line and per value, keyed by a digest so that a runner can keep them between
runs (`make plan` does, in build/cache/secret-scan.json). The caller creates the cache and
hands it to the rules in their Context; nothing is remembered in this module.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from .inputs import (
    COMMANDS,
    COMPONENT,
    IMAGE_PIPELINE,
    IMAGE_RECIPE,
    IMAGE_TEMPLATE,
    IMAGEBUILDER_WORKFLOW,
    LOGIC_WORKFLOW,
    SSM_DOCUMENT,
    items_of,
    strings_of,
    value_at,
)

ADVICE = ("never bake a secret into an image or its pipeline: reference it (ssm:/, Secrets Manager, Key Vault) "
          "and read it at boot")

_SHA256 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
_REFERENCE = re.compile(
    r"(?:arn:aws[a-z-]*:(?:secretsmanager|ssm):|ssm:/|secretsmanager:|https://[a-z0-9-]{3,24}\.vault\.azure\.net/secrets/)"
    r"[^\s\"'`,;()\[\]{}]+"
)
_COMMIT_KEY = re.compile(r"commit|revision|sha", re.IGNORECASE)
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
# A 64-hex value is exempt only in a field declared as a checksum (the model scans every other).
_CHECKSUM_KEY = re.compile(r"checksum|sha256", re.IGNORECASE)
_CHECKSUM = re.compile(r"^[0-9a-fA-F]{64}$")
_LINE_BREAKS = str.maketrans("", "", "\r\n\t")
# A step parameter's value as the renderers put it at the top of a script: `export GI_PARAM_X='v'`
# (bash) or `$env:GI_PARAM_X = 'v'` (PowerShell).
_ASSIGNMENT = re.compile(r"(?P<head>(?:export |\$env:)(?P<name>GI_PARAM_[A-Z0-9_]+)\s*=\s*')(?P<value>[^'\n]*)'")
_BASE64_BLOB = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")


def scanner_version() -> str:
    """What secret findings depend on besides the text (the model's scanner says)."""
    from components.model.secrets import scanner_version as model_scanner_version

    return model_scanner_version()


class ScanCache:
    """What one run of the guardrails has found out about secrets, and may keep for the next.

    `lines` and `entries` map a digest of a scanned line or (key, value) to its detectors; they
    are what `save` writes and `load` reads back. The rest remembers pure derivations (masked
    texts, decoded blobs, parsed documents) for this cache's life only.
    """

    def __init__(self, lines: Optional[dict] = None, entries: Optional[dict] = None):
        from components.model.secrets import SecretCache

        self.lines: dict = dict(lines or {})
        self.entries: dict = dict(entries or {})
        # The model's scans of flavour values and embedded files, shared with the flavour checks.
        self.model = SecretCache()
        self._scanner: Optional[str] = None
        self._masked: dict = {}
        self._decoded: dict = {}
        self._unpacked: dict = {}
        self._documents: dict = {}
        self._not_secret: Optional[dict] = None

    @property
    def scanner(self) -> str:
        if self._scanner is None:
            self._scanner = scanner_version()
        return self._scanner

    @classmethod
    def load(cls, path: Path) -> "ScanCache":
        """The findings a previous run saved at `path`, unless the scanner has changed since (then none).

        The file also holds the model's scans of flavour values and embedded files; those go back
        to the model's scanner (components/model/secrets.py keeps them itself).
        """
        cache = cls()
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return cache
        if not isinstance(data, dict) or data.get("scanner") != cache.scanner:
            return cache
        for kind in ("lines", "entries"):
            if isinstance(data.get(kind), dict):
                getattr(cache, kind).update(data[kind])
        if isinstance(data.get("texts"), dict):
            cache.model.found.update(data["texts"])
        return cache

    def save(self, path: Path) -> None:
        """Write the findings (with the model scanner's) for the next run to load."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"scanner": self.scanner, "lines": self.lines, "entries": self.entries, "texts": self.model.found}
        path.write_text(json.dumps(data, sort_keys=True) + "\n")

    # Findings ----------------------------------------------------------------------------------

    def scan_lines(self, lines: list, suffix: str) -> list:
        """Detectors that fire on each line, judged line by line; unseen lines are scanned in one batch.

        Indentation never makes a secret, and the same script sits at different depths in an
        AWSTOE document and an Azure customizer, so lines are judged stripped.
        """
        from components.model.secrets import scan_text

        memory = self.lines
        keyed = [(line.strip(), _digest(suffix, line.strip())) for line in lines]
        unseen = list(dict.fromkeys((line, key) for line, key in keyed if line and key not in memory))
        if unseen:
            found: dict = {}
            for number, kind in scan_text("\n".join(line for line, _ in unseen) + "\n", suffix=suffix):
                found.setdefault(unseen[number - 1][1], set()).add(kind)
            for _, key in unseen:
                memory[key] = sorted(found.get(key, ()))
        return [tuple(memory[key]) if line else () for line, key in keyed]

    def scan_text(self, text: str) -> list:
        """(line number, detector) for a script or document, checksums and secret references masked."""
        lines = self.masked(text).splitlines()
        return [(number, kind) for number, kinds in enumerate(self.scan_lines(lines, ".txt"), start=1) for kind in kinds]

    def scan_entries(self, entries: list) -> dict:
        """location -> detectors for (location, key, value) entries, each judged on its own."""
        from components.model.secrets import find_secret_values
        from components.model.steps import is_secret_reference

        judged = [
            (loc, key, value)
            for loc, key, value in entries
            if not is_secret_reference(value) and not (_COMMIT_KEY.search(key) and _COMMIT.match(value))
            and not (_CHECKSUM_KEY.search(key) and _CHECKSUM.match(value))
        ]
        memory = self.entries
        keyed = [(loc, key, value, _digest(key, value)) for loc, key, value in judged]
        unseen = list(dict.fromkeys((key, value, digest) for _, key, value, digest in keyed if digest not in memory))
        if unseen:
            found = find_secret_values([(str(i), key, value) for i, (key, value, _) in enumerate(unseen)])
            for i, (_, _, digest) in enumerate(unseen):
                memory[digest] = sorted(set(found.get(str(i), ())))
        return {loc: tuple(memory[digest]) for loc, _, _, digest in keyed if memory[digest]}

    # Derivations remembered for the cache's life -------------------------------------------

    def masked(self, text: str) -> str:
        """Checksums are high-entropy by design and references name secrets without holding them."""
        if text not in self._masked:
            from components.model.steps import is_secret_reference

            masked = _SHA256.sub("sha256-checksum", text)
            masked = _ASSIGNMENT.sub(self._mask_not_secret, masked)
            self._masked[text] = _REFERENCE.sub(
                lambda m: "${secret-reference}" if is_secret_reference(m.group(0)) else m.group(0), masked
            )
        return self._masked[text]

    def _mask_not_secret(self, match: re.Match) -> str:
        if self._not_secret is None:
            self._not_secret = not_secret_parameters()
        value = match.group("value")
        if value and any(p.fullmatch(value) for p in self._not_secret.get(match.group("name"), ())):
            return f"{match.group('head')}not-secret-value'"
        return match.group(0)

    def decoded_text(self, blob: str) -> Optional[str]:
        """The text a base64 blob encodes, if it is text (an embedded script); None for anything else."""
        if blob not in self._decoded:
            self._decoded[blob] = _decoded_text(blob)
        return self._decoded[blob]

    def unpacked(self, label: str, text: str, suffix: str) -> tuple:
        """A script with the scripts it carries base64-encoded scanned as scripts, not as high-entropy blobs."""
        key = (label, text, suffix)
        if key not in self._unpacked:
            embedded = []

            def replace(match: re.Match) -> str:
                decoded = self.decoded_text(match.group(0))
                if decoded is None:
                    return match.group(0)
                embedded.append((f"{label} embedded script {len(embedded) + 1}", decoded, suffix))
                return "embedded-script"

            self._unpacked[key] = ((label, _BASE64_BLOB.sub(replace, text), suffix), *embedded)
        return self._unpacked[key]

    def document_entries(self, label: str, text: str) -> tuple:
        """A YAML or JSON document's one-line values with their keys, so `password: x` is judged by its key."""
        key = (label, text)
        if key not in self._documents:
            self._documents[key] = _document_entries(label, text)
        return self._documents[key]


def not_secret_parameters() -> dict:
    """GI_PARAM_* name -> patterns of the step parameters the catalogue declares `not_secret`.

    Such a value looks random by design (git_commit: a 40-hex commit id) and its pattern admits
    nothing else, so the flavour checks already spare it; the script it is rendered into is
    spared it too. Any other parameter's value is scanned as before.
    """
    from components.model.prepared import env_name
    from components.model.steps import load_catalogue

    patterns: dict = {}
    for step in load_catalogue().steps.values():
        for key, parameter in step.spec.parameters.items():
            if parameter.not_secret and parameter.pattern:
                patterns.setdefault(env_name("param", key), []).append(re.compile(parameter.pattern))
    return patterns


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _decoded_text(blob: str) -> Optional[str]:
    """The text of a base64 blob the product encoded: a script as UTF-8 (Linux runners, the AWSTOE
    documents' encoded scripts, with or without a BOM) or as UTF-16LE (PowerShell's -EncodedCommand)."""
    try:
        data = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    for encoding in ("utf-8", "utf-16-le"):
        try:
            text = data.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
        if text and text.translate(_LINE_BREAKS).isprintable():
            return text
    return None


def _document_entries(label: str, text: str) -> tuple:
    import yaml

    try:
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return ()
    entries: list = []

    def walk(value: Any, path: str, key: str) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k), str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", key)
        elif isinstance(value, str) and value.strip() and "\n" not in value.strip():
            entries.append((f"{label} {path}", key or "value", value))

    walk(document, "", "")
    return tuple(entries)


# What of a resource is scanned ---------------------------------------------------------------


def _tag_entries(value: Any, path: str = "") -> list:
    """(location, key, value) for every tag of every tag map in an input (tags, amiTags, resourceTags...)."""
    entries = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if (key == "tags" or key.endswith("Tags")) and isinstance(item, Mapping):
                entries += [(f"{where}.{k}", str(k), v) for k, v in item.items() if isinstance(v, str)]
                entries += _tag_entries({k: v for k, v in item.items() if not isinstance(v, str)}, where)
            else:
                entries += _tag_entries(item, where)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            entries += _tag_entries(item, f"{path}[{i}]")
    return entries


def _parameter_entries(items: Any, path: str) -> list:
    """Name/value parameter lists (recipe component parameters, pipeline workflow parameters)."""
    entries = []
    for i, item in enumerate(items_of(items)):
        values = value_at(item, "value")
        values = strings_of(values)
        name = value_at(item, "name") if isinstance(value_at(item, "name"), str) else "value"
        entries += [(f"{path}[{i}] ({name})", name, v) for v in values]
    return entries


def _script_suffix(kind: Any) -> str:
    return ".ps1" if isinstance(kind, str) and kind.lower() == "powershell" else ".sh"


def _texts(resource_type: str, inputs: Mapping) -> list:
    """(location, text, file suffix) for every document and script a resource carries."""
    texts = []
    if resource_type in (COMPONENT, IMAGEBUILDER_WORKFLOW) and isinstance(inputs.get("data"), str):
        texts.append(("data", inputs["data"], ".yaml"))
    elif resource_type == IMAGE_RECIPE and isinstance(inputs.get("userDataBase64"), str):
        try:
            decoded = base64.b64decode(inputs["userDataBase64"], validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded = inputs["userDataBase64"]
        texts.append(("userDataBase64", decoded, ".ps1" if "<powershell>" in decoded.lower() else ".sh"))
    elif resource_type == SSM_DOCUMENT and isinstance(inputs.get("content"), str):
        texts.append(("content", inputs["content"], ".json" if inputs.get("documentFormat") in (None, "JSON") else ".yaml"))
    elif resource_type == IMAGE_TEMPLATE:
        for section, items in (("customize", inputs.get("customize")),
                               ("validate.inVMValidations", value_at(inputs, "validate", "inVMValidations"))):
            for i, item in enumerate(items_of(items)):
                inline = strings_of(value_at(item, "inline"))
                if inline:
                    name = value_at(item, "name")
                    label = f"{section}[{i}]" + (f" ({name})" if isinstance(name, str) else "")
                    texts.append((label, "\n".join(inline), _script_suffix(value_at(item, "type"))))
    elif resource_type == LOGIC_WORKFLOW:
        for key in ("definition", "parameters"):
            value = inputs.get(key)
            if isinstance(value, (Mapping, list)):
                texts.append((key, json.dumps(value, indent=1, sort_keys=True, default=str), ".json"))
    elif resource_type in COMMANDS:
        for key in ("create", "update", "delete"):
            if isinstance(inputs.get(key), str):
                texts.append((key, inputs[key], ".sh"))
    return texts


def _entries(resource_type: str, inputs: Mapping) -> list:
    """(location, key, value) for every single value that could hold a secret: tags, parameters, URIs."""
    entries = _tag_entries(inputs)
    if resource_type == IMAGE_RECIPE:
        for i, component in enumerate(items_of(inputs.get("components"))):
            entries += _parameter_entries(value_at(component, "parameters"), f"components[{i}].parameters")
    elif resource_type == IMAGE_PIPELINE:
        for i, workflow in enumerate(items_of(inputs.get("workflows"))):
            entries += _parameter_entries(value_at(workflow, "parameters"), f"workflows[{i}].parameters")
    elif resource_type == IMAGE_TEMPLATE:
        for section, items in (("customize", inputs.get("customize")),
                               ("validate.inVMValidations", value_at(inputs, "validate", "inVMValidations"))):
            for i, item in enumerate(items_of(items)):
                for key in ("scriptUri", "sourceUri"):
                    if isinstance(value_at(item, key), str):
                        entries.append((f"{section}[{i}].{key}", key, item[key]))
    elif resource_type in COMMANDS:
        environment = inputs.get("environment")
        if isinstance(environment, Mapping):
            entries += [(f"environment.{k}", str(k), v) for k, v in environment.items() if isinstance(v, str)]
    return entries


def scan_inputs(resource_type: str, inputs: Mapping, cache: ScanCache) -> tuple:
    """(texts scanned line by line as (label, text), entries judged one by one) of one resource."""
    texts, entries = [], []
    for label, text, suffix in _texts(resource_type, inputs):
        parts = cache.unpacked(label, text, suffix)
        texts += [(part, content) for part, content, _ in parts]
        if suffix in (".yaml", ".json"):
            # A value that is a whole script the product encoded (an AWSTOE CreateFile of a script
            # holding `{{`) is scanned as that script, line by line above, not as a blob of entropy.
            entries += [(loc, key, value) for loc, key, value in cache.document_entries(label, text)
                        if not (_BASE64_BLOB.fullmatch(value.strip()) and cache.decoded_text(value.strip()))]
    entries += _entries(resource_type, inputs)
    return texts, [(loc, key, value) for loc, key, value in entries if value]


def prime(resources: Sequence[Any], cache: ScanCache) -> None:
    """Scan every line and value of many resources in two batches, so per-resource checks hit the cache."""
    lines, entries = [], []
    for res in resources:
        texts, found = scan_inputs(res.type, res.inputs, cache)
        lines += [line for _, text in texts for line in cache.masked(text).splitlines()]
        entries += found
    cache.scan_lines(lines, ".txt")
    cache.scan_entries(entries)


def findings(resource_type: str, inputs: Mapping, cache: ScanCache) -> list:
    """One message per secret-looking line or value of a resource."""
    problems = []
    texts, entries = scan_inputs(resource_type, inputs, cache)
    for label, text in texts:
        for line, kind in cache.scan_text(text):
            problems.append(f"{label} line {line} looks like a secret ({kind}); {ADVICE}")
    for location, kinds in sorted(cache.scan_entries(entries).items()):
        problems.append(f"{location} looks like a secret ({', '.join(kinds)}); {ADVICE}")
    return problems
