"""Lineage tags: valid on both clouds, round-trip through read_lineage."""
import re

import botocore.session
import pytest

from components.model.lineage import BASE_FLAVOUR, BUILT_FROM, FLAVOUR, SOURCE_COMMIT, VERSION, lineage_tags, read_lineage
from components.model.tags import check_tags

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def imagebuilder_shape(name):
    return botocore.session.get_session().get_service_model("imagebuilder").shape_for(name)


def test_marketplace_flavour_tags():
    tags = lineage_tags("ubuntu-2404", "1.2.3", COMMIT,
                        "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id")
    assert tags == {
        "golden-images:flavour": "ubuntu-2404",
        "golden-images:version": "1.2.3",
        "golden-images:source-commit": COMMIT,
        "golden-images:built-from":
            "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
    }


def test_layer_names_its_base_flavour():
    tags = lineage_tags("web", "2.0.0", None, "flavour:golden-images-dev-base-0123456789", base_flavour="base")
    assert tags[BASE_FLAVOUR] == "base"
    assert SOURCE_COMMIT not in tags  # no guess when CI did not say


def test_keys_and_values_fit_both_clouds():
    tags = lineage_tags("web", "2.0.0", COMMIT, "MicrosoftWindowsServer:WindowsServer:2022-datacenter-core-g2:latest",
                        base_flavour="base")
    key = imagebuilder_shape("TagKey").metadata
    value = imagebuilder_shape("TagValue").metadata
    for k, v in tags.items():
        assert key["min"] <= len(k) <= key["max"] and re.match(key["pattern"], k)
        assert len(v) <= value["max"]
    check_tags(tags)  # the project's own rule for both clouds (Azure forbidden characters, reserved prefixes)
    assert set(tags) == {FLAVOUR, VERSION, SOURCE_COMMIT, BUILT_FROM, BASE_FLAVOUR}


@pytest.mark.parametrize("commit", ["main", "xyz1234", "0123456"[:6]])
def test_a_commit_must_be_a_commit(commit):
    with pytest.raises(ValueError, match="not a git commit"):
        lineage_tags("web", "1.0.0", commit, "ssm:/x")


def test_overlong_or_empty_values_are_refused():
    with pytest.raises(ValueError, match="at most 256"):
        lineage_tags("web", "1.0.0", None, "x" * 257)
    with pytest.raises(ValueError, match="needs a value"):
        lineage_tags("web", "1.0.0", None, "")


def test_read_lineage_round_trip_and_missing_tags():
    tags = lineage_tags("web", "1.0.0", COMMIT, "ssm:/x", base_flavour="base")
    assert read_lineage({**tags, "owner": "me"}) == {
        "flavour": "web", "version": "1.0.0", "source-commit": COMMIT, "built-from": "ssm:/x", "base-flavour": "base"}
    assert read_lineage(None)["built-from"] is None
