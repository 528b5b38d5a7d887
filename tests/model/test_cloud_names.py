"""Names and tags the clouds accept, refused here with the field when they would not.

Facts: EC2 Image Builder's TagKey pattern is ^(?!aws:)[a-zA-Z0-9\\s_.:/=+\\-@]*$ (botocore's
imagebuilder model); Azure tag names are case-insensitive and forbid <>%&\\?/; Image Builder
substitutes {{ }} and ${ } in what it reads; the Pulumi engine refuses two resources with
one URN ("Duplicate resource URN").
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import botocore
import pytest

from components.plan import UserError, run_program
from tests.flavour_folders import UBUNTU, folder_with, refused
from tests.samples import stack_config as settings


def image_builder_tag_key_pattern() -> str:
    path = next(Path(botocore.__file__).parent.glob("data/imagebuilder/*/service-2.json*"))
    data = json.loads(gzip.open(path).read() if path.suffix == ".gz" else path.read_text())
    return data["shapes"]["TagKey"]["pattern"]


def test_the_tag_key_rule_is_image_builders():
    assert image_builder_tag_key_pattern() == "^(?!aws:)[a-zA-Z0-9\\s_.:/=+\\-@]*$"


@pytest.mark.parametrize("tags,message", [
    ("{Team: a, team: b}", "tag keys 'Team' and 'team' differ only in case; Azure treats them as one"),
    ("{'cost#centre': a}", "tag key 'cost#centre' may hold only letters, digits, spaces and _ . : = + - @"),
    ("{team: '{{ build.id }}'}", "tag 'team' contains '{{' or '${', which Image Builder substitutes as a variable"),
    ("{team: '${aws:region}'}", "tag 'team' contains '{{' or '${', which Image Builder substitutes as a variable"),
])
def test_tags_the_clouds_would_refuse_or_rewrite_are_refused_with_the_field(tmp_path, tags, message):
    found = refused(tmp_path, {"web.yaml": UBUNTU + f"tags: {tags}\n"})
    # The field path names the tag (each bad tag is its own problem).
    assert len(found) == 1 and found[0].startswith("image_flavours/web.yaml: tags.") and message in found[0], found


def test_a_description_image_builder_would_substitute_is_refused(tmp_path):
    head = UBUNTU.replace("description: A web server image", "description: 'Web ${aws:region} image'")
    assert refused(tmp_path, {"web.yaml": head}) == [
        "image_flavours/web.yaml: description: contains '{{' or '${', which Image Builder substitutes as a variable"]


def test_a_flavour_does_not_override_the_stacks_environment_tag_or_the_programs(tmp_path):
    config = settings()
    config["golden-images:tags"] = {"environment": "dev", "owner": "platform"}
    found = refused(tmp_path, {"web.yaml": UBUNTU + "tags: {environment: prod, Owner: x, 'golden-images:flavour': y}\n"},
                    config)
    assert found == [
        "image_flavours/web.yaml: tags.Owner: differs only in case from the stack's tag, and Azure treats them as one "
        "('owner' in Pulumi.dev.yaml golden-images:tags); remove it here",
        "image_flavours/web.yaml: tags.environment: is set by the stack for every resource "
        "('environment' in Pulumi.dev.yaml golden-images:tags); remove it here",
        "image_flavours/web.yaml: tags.golden-images:flavour: the 'golden-images:' tags are the program's (flavour, "
        "version, source commit); choose another key",
    ]


def test_a_flavour_may_still_set_a_stack_tag_that_is_not_reserved(tmp_path):
    from components.model.loader import load_inputs

    config = settings()
    config["golden-images:tags"] = {"owner": "platform"}
    folder = folder_with(tmp_path, {"web.yaml": UBUNTU + "tags: {owner: web-team}\n"})
    assert load_inputs(config, "Pulumi.dev.yaml", folder, tmp_path).flavours[0].flavour.tags == {"owner": "web-team"}


def test_notification_emails_that_would_share_a_resource_are_refused(project):
    config = project.config()
    config["golden-images:aws"] = {**config["golden-images:aws"],
                                   "notification_emails": ["ops.team@example.com", "ops-team@example.com"]}
    with pytest.raises(UserError) as caught:
        project.plan(config=config)
    assert "'ops.team@example.com' and 'ops-team@example.com' differ only in case or punctuation" in str(caught.value)
    assert caught.value.registered == []


def test_the_mock_engine_refuses_a_duplicate_urn_as_the_real_engine_does(tmp_path):
    (tmp_path / "__main__.py").write_text('import pulumi_aws as aws\naws.sns.Topic("same")\naws.sns.Topic("same")\n')
    with pytest.raises(UserError, match=r"^duplicate resource URN urn:pulumi:dev::golden-images::.*aws:sns/topic:Topic::same"):
        run_program("dev", {}, root=tmp_path)
