"""`make plan` reports a new flavour's shape mistakes and its image-tests folder mistakes in one run."""
from __future__ import annotations

from tests.flavour_folders import planned_refusal

# A new flavour whose fields fail the model (version, an unknown key) and whose image-tests
# name a file where InSpec needs a profile folder, and a goss folder that does not exist.
NEW = """\
name: api
description: An API server image
version: one
colour: blue
os: linux
base_image:
  aws: ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id
  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: latest}
steps:
  - os-updates
  - linux-baseline
  - image-tests: {framework: inspec, tests: tests/ubuntu-2404.sh}
  - image-tests: {framework: goss, tests: tests/does-not-exist}
  - cleanup
"""


def test_shape_and_image_tests_mistakes_show_in_the_same_run(project, capsys):
    project.write_flavour("api.yaml", NEW)
    status, err = planned_refusal(project, capsys)
    assert status == 2, err
    lines = [line.strip() for line in err.splitlines()]
    for expected in (
        "image_flavours/api.yaml: version:",
        "image_flavours/api.yaml: colour:",
        "image_flavours/api.yaml: steps[2].image-tests.tests: 'tests/ubuntu-2404.sh' must be a folder holding "
        "inspec.yml at its top with framework: inspec",
        "image_flavours/api.yaml: steps[3].image-tests.tests: no file or folder 'tests/does-not-exist' in image_flavours/",
    ):
        assert any(line.startswith(expected) for line in lines), (expected, err)
    assert "Traceback" not in err
