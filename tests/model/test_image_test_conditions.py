"""image-tests refusals at load time that used to wait for the build: a goss folder without its
goss.yaml, and InSpec on a base image whose distribution the pinned Cinc Auditor .deb cannot run on."""
from __future__ import annotations

from tests.flavour_folders import UBUNTU, refused

# What goss runs: `goss --gossfile goss.yaml validate` reads ./goss.yaml by default (goss manual);
# the step runs a folder's top-level goss.yaml or the file given (components/steps/image-tests/run.sh).
GOSS = "  - image-tests: {framework: goss, tests: tests/app}\n"
RHEL = """\
name: rhel
description: A RHEL image
version: 1.0.0
os: linux
base_image:
  aws: arn:aws:imagebuilder:eu-west-1:aws:image/red-hat-enterprise-linux-9-x86/x.x.x
clouds: [aws]
steps:
  - os-updates
  - image-tests: {framework: inspec, tests: tests/profile}
"""
PROFILE = {"tests/profile/inspec.yml": "name: profile\n", "tests/profile/controls/ssh.rb": "describe file('/etc') do\nend\n"}


def test_a_goss_folder_without_goss_yaml_is_refused_with_file_and_field(tmp_path):
    problems = refused(tmp_path, {"web.yaml": UBUNTU + GOSS, "tests/app/other.yaml": "file: {}\n"})
    assert problems == [
        "image_flavours/web.yaml: steps[1].image-tests.tests: the folder 'tests/app' holds no goss.yaml at its top, "
        "which framework: goss runs; add it, or give the gossfile itself (e.g. tests/app/goss.yaml)"
    ]


def test_a_goss_folder_with_goss_yaml_or_a_gossfile_itself_loads(tmp_path):
    from components.model.loader import load_inputs
    from tests.flavour_folders import folder_with
    from tests.samples import stack_config

    folder = folder_with(tmp_path, {
        "web.yaml": UBUNTU + GOSS + "  - image-tests: {framework: goss, tests: tests/single.yaml}\n",
        "tests/app/goss.yaml": "file: {}\n", "tests/single.yaml": "file: {}\n"})
    inputs = load_inputs(stack_config(), "Pulumi.dev.yaml", folder, tmp_path)
    assert [f.flavour.name for f in inputs.flavours] == ["web"]


def test_inspec_on_rhel_is_refused_with_the_reason(tmp_path):
    problems = refused(tmp_path, {"rhel.yaml": RHEL, **PROFILE})
    assert problems == [
        "image_flavours/rhel.yaml: steps[1].image-tests.framework: framework: inspec does not run on RHEL 9 "
        "(base_image.aws): the pinned Cinc Auditor is the Ubuntu .deb, which run.sh unpacks with dpkg-deb "
        "(Debian and Ubuntu images only); use a shell suite or goss (framework: shell or goss)"
    ]


def test_inspec_on_amazon_linux_2023_is_refused_and_on_ubuntu_it_loads(tmp_path):
    al2023 = RHEL.replace("arn:aws:imagebuilder:eu-west-1:aws:image/red-hat-enterprise-linux-9-x86/x.x.x",
                          "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
    problems = refused(tmp_path, {"rhel.yaml": al2023, **PROFILE})
    assert len(problems) == 1 and "does not run on Amazon Linux 2023 (base_image.aws)" in problems[0]

    from components.model.loader import load_inputs
    from tests.flavour_folders import folder_with
    from tests.samples import stack_config

    ubuntu = tmp_path / "ok"
    folder = folder_with(ubuntu, {"web.yaml": UBUNTU + "  - image-tests: {framework: inspec, tests: tests/profile}\n",
                                  **PROFILE})
    assert load_inputs(stack_config(), "Pulumi.dev.yaml", folder, ubuntu).flavours
