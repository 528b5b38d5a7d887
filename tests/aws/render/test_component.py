"""Image Builder components: a step's documents split to fit, named by content."""
from __future__ import annotations

import re

import pytest
import yaml

from components.aws import render
from components.model.assets import Asset
from components.model.flavour import StepUse
from components.model.prepared import prepare_step
from components.model.steps import Step, load_catalogue
from tests.aws.samples import (
    KEY,
    PREFIX,
    RESOURCE_NAME,
    hand_step,
    make_flavour,
    prepared,
    single,
)


class TestComponentDocument:
    def test_a_large_step_is_split_by_phase_in_order(self):
        install = "#!/usr/bin/env bash\n" + "echo installing a large piece of software\n" * 250
        check = "#!/usr/bin/env bash\n" + "test -e /opt/agent/bin/agent-$((1 + 1))\n" * 250
        step = hand_step(script=install, check=check, reboot_after=True)
        specs = render.component_specs(step, prefix=PREFIX, key=KEY)
        docs = [yaml.safe_load(spec.data) for spec in specs]
        assert [[p["name"] for p in doc["phases"]] for doc in docs] == [["build"], ["validate"], ["test"]]
        assert [s["action"] for s in docs[0]["phases"][0]["steps"]] == ["CreateFile", "ExecuteBash", "Reboot"]
        assert docs[0]["phases"][0]["steps"][0]["inputs"][0]["content"] == install
        assert docs[1]["phases"][0]["steps"][0]["inputs"][0]["content"] == check
        assert all(len(spec.data) <= 16000 for spec in specs)
        assert [spec.name.rsplit("-", 1)[0] for spec in specs] == [
            f"{PREFIX}-agent-linux-build", f"{PREFIX}-agent-linux-validate", f"{PREFIX}-agent-linux-test"]
        entries = render.recipe_entries([step], prefix=PREFIX, region="eu-west-1", key=KEY)
        assert [e.component for e in entries] == specs

    def test_small_phases_stay_together(self):
        check = "#!/usr/bin/env bash\n" + "test -e /opt/agent\n" * 400
        specs = render.component_specs(hand_step(check=check), prefix=PREFIX, key=KEY)
        assert [[p["name"] for p in yaml.safe_load(spec.data)["phases"]] for spec in specs] == [
            ["build", "validate"], ["test"]]

    def test_a_document_too_long_with_literal_blocks_is_written_compactly(self):
        # 300 lines twice: over the limit once every line is indented in a literal block.
        check = "#!/usr/bin/env bash\n" + "test -e /opt/agent\n" * 300
        step = hand_step(check=check)
        document = render.component_document(step)
        assert len(render.dump_document(document)) > render.INLINE_DOCUMENT_LIMIT
        (spec,) = render.component_specs(step, prefix=PREFIX, key=KEY)
        assert len(spec.data) <= render.INLINE_DOCUMENT_LIMIT
        assert spec.data == render.dump_document(document, compact=True)
        assert yaml.safe_load(spec.data) == document  # the same document, only spelled differently
        # Small documents keep their scripts readable in the console.
        assert "|" in single(hand_step()).data

    def test_a_phase_over_the_inline_limit_is_refused(self):
        big = hand_step(script="#!/usr/bin/env bash\n" + "echo padding\n" * 2000)
        with pytest.raises(render.RenderError, match=r"step 'agent' \(linux\): its build phase alone .*16000"):
            render.component_specs(big, prefix=PREFIX, key=KEY)



class TestNames:
    def test_component_name_follows_content(self, catalogue):
        first = single(prepared(make_flavour(), catalogue)[0])
        again = single(prepared(make_flavour(name="other", version="9.9.9"), catalogue)[0])
        changed = single(
            prepared(make_flavour(steps=[{"os-updates": {"exclude": ["vim"]}}]), catalogue)[0])
        other_key = single(prepared(make_flavour(), catalogue)[0],
                           key=render.KmsKey(identity="arn:aws:kms:eu-west-1:1:key/x"))
        assert first.name == again.name  # shared by every flavour that uses the same step
        assert first.version == again.version == "1.0.0"
        assert changed.name != first.name and other_key.name != first.name
        assert first.name.startswith(f"{PREFIX}-os-updates-linux-")
        assert RESOURCE_NAME.match(first.name) and len(first.name) <= 128

    def test_long_names_are_cut_to_the_api_limit(self):
        spec = single(hand_step(name="a" * 200))
        assert len(spec.name) == 128 and RESOURCE_NAME.match(spec.name)

def _sample_params(step: Step) -> dict:
    """A value for every parameter the catalogue needs one for; defaults stay as they are."""
    dummies = {"string": "sample", "integer": 1, "boolean": True, "list": ["sample"], "file": "sample\n",
               "name": "sample", "mapping": {"sample": "value"},
               "directory": Asset(path="sample", sha256="ab" * 32, files=1, data=b"")}
    values = {}
    for name, param in step.spec.parameters.items():
        if param.allowed:
            values[name] = param.default if param.default in param.allowed else param.allowed[0]
        elif param.default is None:
            values[name] = "ssm:/sample" if param.secret_reference else dummies[param.type]
    if step.spec.fetch is not None:  # a file in the cloud's own store, as the step's pattern admits
        values[step.spec.fetch.source] = "s3://sample-bucket/sample.bin"
        values[step.spec.fetch.destination] = "/var/tmp/sample.bin"
    return values


def test_every_catalogue_step_renders_for_every_os_it_supports():
    """New catalogue steps need no renderer code: each one becomes a valid, verified document."""
    catalogue = load_catalogue()
    rendered = 0
    for step in catalogue.steps.values():
        if "aws" not in step.spec.clouds:
            continue
        for os in step.spec.os:
            use = StepUse(name=step.name, params=_sample_params(step))
            unit = prepare_step(use, step, os, catalogue)
            phases: list = []
            for spec in render.component_specs(unit, prefix=PREFIX, key=KEY):
                doc = yaml.safe_load(spec.data)
                where = f"{step.name} ({os}) {spec.name}"
                assert len(spec.data) <= 16000, where
                assert RESOURCE_NAME.match(spec.name), where
                assert spec.platform == {"linux": "Linux", "windows": "Windows"}[os], where
                actions = [s["action"] for p in doc["phases"] for s in p["steps"]]
                assert ("ExecutePowerShell" if os == "linux" else "ExecuteBash") not in actions, where
                for item in (i for p in doc["phases"] for s in p["steps"] if s["action"] == "WebDownload"
                             for i in s["inputs"]):
                    assert item["algorithm"] == "SHA256" and re.fullmatch(r"[0-9a-f]{64}", item["checksum"]), where
                phases += [p["name"] for p in doc["phases"]]
            where = f"{step.name} ({os})"
            if step.spec.render == "scripts":
                expected = ["validate", "test"] if step.spec.image_test else ["build", "validate"]
                assert phases[-2:] == expected, where
            elif step.spec.render == "script":
                # The sample gives the team's script a check: proven after the build and on the image.
                assert phases == ["build", "validate", "test"], where
            elif step.spec.render in ("reboot", "pause"):
                # A restart (waiting for its check) or a sleep: all in the build phase, nothing left to prove.
                assert phases == ["build"], where
            else:
                # An AWS-managed component alone: the recipe names AWS's component, nothing of ours runs.
                assert step.spec.render == "aws-managed-component" and phases == [], where
            rendered += 1
    assert rendered >= 2

