"""Contract checker for AWSTOE component documents (the `data` of an Image Builder component).

What is checked, and where each rule comes from:

* Size: inline `data` is 1..16,000 characters (botocore: InlineComponentData).
* The document parses as YAML; top level has `schemaVersion: 1.0` and `phases`,
  and may have `name`, `description`, `parameters`, `constants`.
* Phases: only `build`, `validate` and `test` (Image Builder's phases for AMI
  pipelines; `container-host-test` is for container recipes, which this project
  does not build), each at most once, each with a non-empty `steps` list.
* Steps: `name` and `action` are required; names are unique within their phase
  and match STEP_NAME. AWSTOE's component-document guide requires unique names
  per phase but publishes no character pattern; the pattern used is the one the
  same service publishes for workflow step names (botocore WorkflowStepName),
  which also keeps names usable in chaining expressions `{{ phase.step.… }}`.
  Optional step fields: timeoutSeconds (-1 or >= 1), onFailure
  (Abort | Continue | Ignore), maxAttempts (>= 1), if, loop.
* `action` is one of AWSTOE's action modules (ACTION_MODULES) and `inputs` has
  the module's shape (MODULE_INPUTS): a mapping or a list of mappings, the
  module's required keys, no keys the module does not document.
* Platform: ExecuteBash and the Linux-only file modules are not used in a
  Windows component; ExecutePowerShell, SetRegistry and MSI modules are not used
  in a Linux component.
* Project policy: every WebDownload carries `checksum` and `algorithm: SHA256`
  (AWSTOE verifies only when both are given) with a literal 64-hex digest.

Pure library: standard library and PyYAML only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

import yaml

MAX_DATA = 16000
PHASES = ("build", "validate", "test")
STEP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{1,99}\Z")  # botocore WorkflowStepName, see module doc
ON_FAILURE = ("Abort", "Continue", "Ignore")
TOP_LEVEL = {"name", "description", "schemaVersion", "phases", "parameters", "constants"}
STEP_KEYS = {"name", "action", "timeoutSeconds", "onFailure", "maxAttempts", "inputs", "if", "loop"}
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}\Z")


@dataclass(frozen=True)
class Inputs:
    """The documented shape of one action module's `inputs`.

    form:     "mapping", "list" (of mappings), "optional-mapping" or "any".
    required: keys every mapping must have.
    optional: further documented keys; None means the keys are not checked.
    one_of:   exactly one of these keys must be given.
    """

    form: str
    required: frozenset = frozenset()
    optional: Optional[frozenset] = frozenset()
    one_of: tuple = ()


def _m(form: str, required: str = "", optional: Optional[str] = "", one_of: str = "") -> Inputs:
    return Inputs(form, frozenset(required.split()), None if optional is None else frozenset(optional.split()),
                  tuple(one_of.split()))


MODULE_INPUTS: dict[str, Inputs] = {
    # General execution
    "ExecuteBash": _m("mapping", one_of="commands file"),
    "ExecutePowerShell": _m("mapping", one_of="commands file"),
    "ExecuteBinary": _m("mapping", "path", "arguments"),
    "ExecuteDocument": _m("mapping", "document", "phases parameters"),
    "Assert": _m("any", optional=None),
    # Software and system
    "InstallMSI": _m("mapping", optional=None),
    "UninstallMSI": _m("mapping", optional=None),
    "UpdateOS": _m("optional-mapping", "", "include exclude"),
    "Reboot": _m("optional-mapping", "", "delaySeconds"),
    "SetRegistry": _m("list", "path name value type"),
    # Download and upload
    "S3Download": _m("list", "source destination", "expectedBucketOwner overwrite"),
    "S3Upload": _m("list", "source destination", "recurse expectedBucketOwner"),
    "WebDownload": _m("list", "source destination", "overwrite checksum algorithm ignoreCertificateErrors"),
    # File system
    "AppendFile": _m("list", "path", "content encoding"),
    "CopyFile": _m("list", "source destination", "overwrite"),
    "CopyFolder": _m("list", "source destination", "overwrite"),
    "CreateFile": _m("list", "path", "content encoding owner group permissions overwrite"),
    "CreateFolder": _m("list", "path", "owner group permissions overwrite"),
    "CreateSymlink": _m("list", "path target", "force"),
    "DeleteFile": _m("list", "path"),
    "DeleteFolder": _m("list", "path", "force"),
    "ListFiles": _m("list", "path", "fileNamePattern recursive"),
    "MoveFile": _m("list", "source destination", "overwrite"),
    "MoveFolder": _m("list", "source destination", "overwrite"),
    "ReadFile": _m("list", "path", "encoding printFileContent"),
    "SetFileEncoding": _m("list", "path", "encoding"),
    "SetFileOwner": _m("list", "path owner", "group"),
    "SetFolderOwner": _m("list", "path owner", "group recursive"),
    "SetFilePermissions": _m("list", "path permissions"),
    "SetFolderPermissions": _m("list", "path permissions", "recursive"),
}
ACTION_MODULES = frozenset(MODULE_INPUTS)

# Modules that only work on one platform family (AWSTOE documentation).
LINUX_ONLY = frozenset({"ExecuteBash", "CreateSymlink", "SetFileOwner", "SetFolderOwner",
                        "SetFilePermissions", "SetFolderPermissions"})
WINDOWS_ONLY = frozenset({"ExecutePowerShell", "SetRegistry", "InstallMSI", "UninstallMSI"})


def parse(data: str) -> Any:
    return yaml.safe_load(data)


def check_document(data: Any, platform: Optional[str] = None) -> list:
    """Every problem with one component document, one line each with its path."""
    if not isinstance(data, str):
        return [f"data: expected the document as a string, got {type(data).__name__}"]
    errors: list[str] = []
    if not 1 <= len(data) <= MAX_DATA:
        errors.append(f"data: {len(data)} characters, AWSTOE inline documents take 1..{MAX_DATA}")
    try:
        doc = parse(data)
    except yaml.YAMLError as err:
        return errors + [f"data: not YAML: {err}"]
    if not isinstance(doc, dict):
        return errors + ["data: the document must be a mapping"]
    for key in doc:
        if key not in TOP_LEVEL:
            errors.append(f"{key}: unknown top-level key (known: {', '.join(sorted(TOP_LEVEL))})")
    version = doc.get("schemaVersion")
    if str(version) != "1.0" or isinstance(version, bool):
        errors.append(f"schemaVersion: must be 1.0, got {version!r}")
    phases = doc.get("phases")
    if not isinstance(phases, list) or not phases:
        return errors + ["phases: must be a non-empty list"]
    seen_phases: set = set()
    for p, phase in enumerate(phases):
        where = f"phases[{p}]"
        if not isinstance(phase, dict):
            errors.append(f"{where}: must be a mapping with name and steps")
            continue
        extra = set(phase) - {"name", "steps"}
        if extra:
            errors.append(f"{where}: unknown keys {sorted(extra)}")
        name = phase.get("name")
        if name not in PHASES:
            errors.append(f"{where}.name: {name!r} is not one of {', '.join(PHASES)}")
        elif name in seen_phases:
            errors.append(f"{where}.name: phase {name!r} appears twice")
        seen_phases.add(name)
        where = f"phases[{name if name in PHASES else p}]"
        steps = phase.get("steps")
        if not isinstance(steps, list) or not steps:
            errors.append(f"{where}.steps: must be a non-empty list")
            continue
        seen_steps: set = set()
        for s, step in enumerate(steps):
            errors.extend(_check_step(step, f"{where}.steps[{s}]", seen_steps, platform))
    return errors


def _check_step(step: Any, where: str, seen: set, platform: Optional[str]) -> list:
    if not isinstance(step, dict):
        return [f"{where}: must be a mapping"]
    errors = []
    for key in step:
        if key not in STEP_KEYS:
            errors.append(f"{where}.{key}: unknown step key (known: {', '.join(sorted(STEP_KEYS))})")
    name = step.get("name")
    if not isinstance(name, str) or not name:
        errors.append(f"{where}.name: required")
    else:
        if not STEP_NAME.match(name):
            errors.append(f"{where}.name: {name!r} does not match {STEP_NAME.pattern}")
        if name in seen:
            errors.append(f"{where}.name: {name!r} is used twice in this phase")
        seen.add(name)
        where = f"{where}({name})"
    action = step.get("action")
    if action is None:
        errors.append(f"{where}.action: required")
    elif action not in ACTION_MODULES:
        errors.append(f"{where}.action: {action!r} is not an AWSTOE action module")
    timeout = step.get("timeoutSeconds")
    if timeout is not None and (not _is_int(timeout) or (timeout != -1 and timeout < 1)):
        errors.append(f"{where}.timeoutSeconds: {timeout!r} must be -1 or a positive integer")
    on_failure = step.get("onFailure")
    if on_failure is not None and on_failure not in ON_FAILURE:
        errors.append(f"{where}.onFailure: {on_failure!r} is not one of {', '.join(ON_FAILURE)}")
    attempts = step.get("maxAttempts")
    if attempts is not None and (not _is_int(attempts) or attempts < 1):
        errors.append(f"{where}.maxAttempts: {attempts!r} must be a positive integer")
    if action in ACTION_MODULES:
        errors.extend(_check_inputs(action, step.get("inputs"), f"{where}.inputs"))
        errors.extend(_check_platform(action, platform, f"{where}.action"))
    return errors


def _check_inputs(action: str, inputs: Any, where: str) -> list:
    spec = MODULE_INPUTS[action]
    if spec.form == "any":
        return []
    if spec.form == "optional-mapping" and inputs is None:
        return []
    if spec.form in ("mapping", "optional-mapping"):
        if not isinstance(inputs, dict):
            return [f"{where}: {action} takes a mapping, got {_kind(inputs)}"]
        return _check_mapping(action, spec, inputs, where)
    if not isinstance(inputs, list) or not inputs:
        return [f"{where}: {action} takes a non-empty list of mappings, got {_kind(inputs)}"]
    errors = []
    for i, item in enumerate(inputs):
        if not isinstance(item, dict):
            errors.append(f"{where}[{i}]: must be a mapping, got {_kind(item)}")
            continue
        errors.extend(_check_mapping(action, spec, item, f"{where}[{i}]"))
    return errors


def _check_mapping(action: str, spec: Inputs, item: dict, where: str) -> list:
    errors = []
    for key in sorted(spec.required):
        if item.get(key) in (None, ""):
            errors.append(f"{where}.{key}: required by {action}")
    if spec.one_of:
        given = [k for k in spec.one_of if item.get(k) not in (None, "", [])]
        if len(given) != 1:
            errors.append(f"{where}: {action} takes exactly one of {', '.join(spec.one_of)}, "
                          f"got {', '.join(given) or 'none'}")
    if spec.optional is not None:
        known = spec.required | spec.optional | set(spec.one_of)
        for key in item:
            if key not in known:
                errors.append(f"{where}.{key}: not a {action} input (known: {', '.join(sorted(known))})")
    commands = item.get("commands")
    if "commands" in item and not (isinstance(commands, list) and commands
                                   and all(isinstance(c, str) and c.strip() for c in commands)):
        errors.append(f"{where}.commands: must be a non-empty list of non-empty strings")
    if action == "ExecuteBinary" and "arguments" in item and not (
            isinstance(item["arguments"], list) and all(isinstance(a, str) for a in item["arguments"])):
        errors.append(f"{where}.arguments: must be a list of strings")
    if action == "UpdateOS":
        for key in ("include", "exclude"):
            if key in item and not (isinstance(item[key], list) and all(isinstance(x, str) for x in item[key])):
                errors.append(f"{where}.{key}: must be a list of strings")
    if action == "Reboot" and "delaySeconds" in item and not (_is_int(item["delaySeconds"])
                                                            and item["delaySeconds"] >= 0):
        errors.append(f"{where}.delaySeconds: must be a non-negative integer")
    if action == "S3Download" and isinstance(item.get("source"), str) and not item["source"].startswith("s3://"):
        errors.append(f"{where}.source: {item['source']!r} is not an s3:// URI")
    if action == "WebDownload":
        errors.extend(_check_web_download(item, where))
    return errors


def _check_web_download(item: dict, where: str) -> list:
    errors = []
    source = item.get("source")
    if isinstance(source, str) and not re.match(r"^https?://[^\s/]+", source):
        errors.append(f"{where}.source: {source!r} is not an http(s) URL")
    checksum, algorithm = item.get("checksum"), item.get("algorithm")
    if checksum is None or algorithm is None:
        errors.append(f"{where}: WebDownload without checksum and algorithm is not verified "
                      "(project policy: checksum + algorithm SHA256)")
        return errors
    if algorithm != "SHA256":
        errors.append(f"{where}.algorithm: {algorithm!r}; project policy is SHA256")
    if not (isinstance(checksum, str) and SHA256_HEX.match(checksum)):
        errors.append(f"{where}.checksum: {checksum!r} is not a literal 64-hex SHA-256 digest")
    if item.get("ignoreCertificateErrors") is True:
        errors.append(f"{where}.ignoreCertificateErrors: must not be enabled")
    return errors


def _check_platform(action: str, platform: Optional[str], where: str) -> list:
    if platform == "Windows" and action in LINUX_ONLY:
        return [f"{where}: {action} does not run on Windows"]
    if platform in ("Linux", "macOS") and action in WINDOWS_ONLY:
        return [f"{where}: {action} does not run on {platform}"]
    return []


def web_downloads(data: str) -> list:
    """Every WebDownload input item of a document (for policy assertions)."""
    try:
        doc = parse(data)
    except yaml.YAMLError:
        return []
    found: list = []
    phases = doc.get("phases") if isinstance(doc, dict) else None
    for phase in phases if isinstance(phases, list) else []:
        steps = phase.get("steps") if isinstance(phase, dict) else None
        for step in steps if isinstance(steps, list) else []:
            if isinstance(step, dict) and step.get("action") == "WebDownload":
                inputs = step.get("inputs")
                found.extend(i for i in (inputs if isinstance(inputs, list) else []) if isinstance(i, dict))
    return found


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}.get(type(value),
                                                                                       type(value).__name__)
