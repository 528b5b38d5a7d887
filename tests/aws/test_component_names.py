"""Image Builder component names of a flavour's several script, file and artifact steps: each
says which use it renders, keeps its content hash and is a name CreateComponent takes."""
from __future__ import annotations

import re

import yaml

from components.aws.render.component import component_specs
from tests.aws.samples import RESOURCE_NAME
from tests.contract import aws_api
from tests.contract.aws_samples import COMPONENT, VALID
from tests.samples import NAMED_STEPS_FILES, NAMED_STEPS_FLAVOUR, NAMED_STEPS_STACK, ubuntu_flavour
from tests.steps.flavour_file import KEY, build

PREFIX = "golden-images-dev"


def web_build(tmp_path):
    return build(tmp_path, NAMED_STEPS_FLAVOUR, NAMED_STEPS_FILES, **NAMED_STEPS_STACK)


def _specs(b):
    return [(step, spec) for step in b.steps_on("aws") for spec in component_specs(step, prefix=PREFIX, key=KEY)]


def test_each_component_names_its_use_and_keeps_its_content_hash(tmp_path):
    names = [spec.name for _, spec in _specs(web_build(tmp_path))]
    readable = [re.sub(r"-[0-9a-f]{10}$", "", name) for name in names]
    assert readable == [
        f"{PREFIX}-os-updates-linux",  # a step used once: no use name
        f"{PREFIX}-script-crypto-and-banner-linux",
        f"{PREFIX}-script-inline-2-linux",
        f"{PREFIX}-script-nginx-tuning-linux",
        f"{PREFIX}-file-chrony-conf-linux",
        f"{PREFIX}-file-corp-linux",
        f"{PREFIX}-artifact-agent-2-1-0-tar-gz-linux",
    ]
    # Every name still ends in its content hash: components are immutable, new content is a new name.
    assert all(re.search(r"-[0-9a-f]{10}$", name) for name in names)
    assert len(set(names)) == len(names)


def test_names_are_names_create_component_takes(tmp_path):
    """botocore's CreateComponent `name` is a ResourceName (pattern, at most 128 characters), and
    Image Builder treats names differing only in case, spaces or underscores as one: ours differ
    by more than that."""
    specs = [spec for _, spec in _specs(web_build(tmp_path))]
    for spec in specs:
        assert RESOURCE_NAME.match(spec.name) and len(spec.name) <= 128, spec.name
        inputs = {**VALID[COMPONENT], "name": spec.name, "data": spec.data, "description": spec.description,
                  "platform": spec.platform, "version": spec.version}
        assert aws_api.check(COMPONENT, inputs) == [], spec.name
    normalised = {re.sub(r"[\s_]", "", s.name.lower()) for s in specs}
    assert len(normalised) == len(specs)


def test_the_longest_name_a_stack_can_have_fits(tmp_path):
    """A 16-character stack slug, a 32-character use name and a split Windows component's phases."""
    b = build(tmp_path, ubuntu_flavour() + """\
  - artifact: {name: %s, source: "s3://contoso-build/a.tgz", destination: /tmp/a.tgz}
""" % ("a" * 32))
    (step,) = b.steps_on("aws")
    (spec,) = component_specs(step, prefix="golden-images-" + "s" * 16, key=KEY)
    assert spec.name.startswith("golden-images-" + "s" * 16 + "-artifact-" + "a" * 32 + "-linux-")
    assert RESOURCE_NAME.match(spec.name) and len(spec.name) <= 128


def test_the_description_names_the_use_and_the_document_does_not_change_with_it(tmp_path):
    """Renaming a use renames its component (and its description says which use it is), but
    what the build instance runs is the same document."""
    def script(name: str):
        b = build(tmp_path / name, ubuntu_flavour() + f"  - script: {{name: {name}, inline: 'echo hi'}}\n")
        (step,) = b.steps_on("aws")
        (spec,) = component_specs(step, prefix=PREFIX, key=KEY)
        return spec
    banner, motd = script("banner"), script("motd")
    assert banner.description == "script 'banner' for linux, rendered from the golden-images step catalogue"
    assert yaml.safe_load(banner.data) == yaml.safe_load(motd.data)
    assert banner.name != motd.name and "-script-motd-linux-" in motd.name
