"""Readable names of a flavour's several script, file and artifact steps: the `name:` a team
gives a use, the one derived when it gives none, and the refusals of names that collide or
that the clouds' APIs cannot take, all through the loader as `make plan` loads a folder."""
from __future__ import annotations

from tests.flavour_folders import WINDOWS, refused
from tests.samples import NAMED_STEPS_FILES, NAMED_STEPS_FLAVOUR, NAMED_STEPS_STACK, ubuntu_flavour
from tests.steps.flavour_file import build


def _web(tmp_path):
    return build(tmp_path, NAMED_STEPS_FLAVOUR, NAMED_STEPS_FILES, **NAMED_STEPS_STACK)


def test_each_use_is_named_after_what_it_does_or_its_own_name(tmp_path):
    steps = _web(tmp_path).steps_on("aws")
    named = [(s.name, s.label) for s in steps]
    assert named == [
        ("os-updates", ""),  # a step used once takes no name
        ("script", "crypto-and-banner"),  # the script file's stem
        ("script", "inline-2"),  # an inline script: its index in steps, as error messages count it
        ("script", "nginx-tuning"),  # the team's own name wins over the file's stem
        ("file", "chrony-conf"),  # the destination's last segment, slugified
        ("file", "corp"),
        ("artifact", "agent-2-1-0-tar-gz"),
    ]


def test_the_name_never_reaches_the_script(tmp_path):
    """It names cloud objects only: no GI_PARAM_NAME in any script's environment, and the
    script's own text is the file's."""
    for step in _web(tmp_path).steps_on("azure"):
        assert "GI_PARAM_NAME" not in step.environment, step.label
        assert "name" not in step.params, step.label
        assert "nginx-tuning" not in (step.script or ""), step.label


def test_a_name_given_twice_is_refused_at_the_later_use(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + """\
  - os-updates
  - script: {name: banner, inline: "echo one > /etc/issue"}
  - script: {inline: "echo two"}
  - script: {name: banner, inline: "echo three > /etc/motd"}
"""})
    assert problems == ["image_flavours/web.yaml: steps[3].script.name: 'banner' is also the name of steps[1] "
                        "(both script steps of one build); set a different name: on one of them"]


def test_two_derived_names_that_collide_are_refused_with_where_the_name_came_from(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + """\
  - file: {source: files/app.conf, destination: /etc/app/config}
  - file: {source: files/agent.conf, destination: /opt/agent/config}
""", "files/app.conf": "a=1\n", "files/agent.conf": "b=2\n"})
    assert problems == ["image_flavours/web.yaml: steps[1].file.name: 'config' (derived from destination) is also "
                        "the name of steps[0] (both file steps of one build); set a different name: on one of them"]


def test_a_script_and_a_file_may_share_a_name(tmp_path):
    """Component and customizer names carry the step as well, so only one step's uses must differ."""
    b = build(tmp_path, ubuntu_flavour() + """\
  - script: {file: scripts/banner.sh}
  - file: {source: files/banner, destination: /etc/banner}
""", {"scripts/banner.sh": "echo hi\n", "files/banner": "Authorised use only\n"})
    assert [(s.name, s.label) for s in b.steps_on("aws")] == [("script", "banner"), ("file", "banner")]


def test_uses_that_never_share_a_build_may_share_a_name(tmp_path):
    """One artefact fetched from each cloud's own store lands at the same destination: the uses
    run on different clouds, so their equal names never meet."""
    b = build(tmp_path, WINDOWS + """\
  - artifact: {source: "s3://contoso-build/app/app.msi", destination: 'C:\\golden-images\\downloads\\app.msi'}
    options: {only_on: aws}
  - artifact:
      source: https://contosoartefacts.blob.core.windows.net/build/app/app.msi
      destination: 'C:\\golden-images\\downloads\\app.msi'
    when: {cloud: azure}
""")
    assert [s.label for s in b.steps_on("aws")] == ["app-msi"]
    assert [s.label for s in b.steps_on("azure")] == ["app-msi"]


def test_a_name_the_apis_cannot_take_is_refused_naming_the_field_with_a_fix(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + """\
  - script: {name: Banner Text, inline: "echo hi"}
  - script: {name: "x", inline: "echo ok"}
  - script: {name: "-banner", inline: "echo hi"}
  - file: {name: corp_ca, source: files/ca.pem, destination: /etc/pki/ca.pem}
  - artifact: {name: 7, source: "s3://contoso-build/a.tgz", destination: /tmp/a.tgz}
""", "files/ca.pem": "pem\n"})
    rule = ("1-32 lower-case letters, digits and hyphens, starting and ending with a letter or digit")
    assert problems == [
        f"image_flavours/web.yaml: steps[0].script.name: 'Banner Text' is not a step name: {rule} (e.g. 'banner-text')",
        f"image_flavours/web.yaml: steps[2].script.name: '-banner' is not a step name: {rule} (e.g. 'banner')",
        f"image_flavours/web.yaml: steps[3].file.name: 'corp_ca' is not a step name: {rule} (e.g. 'corp-ca')",
        "image_flavours/web.yaml: steps[4].artifact.name: must be a string, got the number 7; quote it in YAML "
        "(\"7\"): unquoted, digits become a number and leading zeros are lost",
    ]


def test_a_name_longer_than_32_characters_is_refused_and_a_long_derived_one_is_cut(tmp_path):
    long_name = "a" * 33
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + f"  - script: {{name: {long_name}, inline: 'echo'}}\n"})
    assert len(problems) == 1 and problems[0].startswith(f"image_flavours/web.yaml: steps[0].script.name: '{long_name}' "
                                                         "is not a step name")
    b = build(tmp_path / "cut", ubuntu_flavour() + """\
  - script: {file: scripts/Configure_Corporate.Proxy-And-Certificate-Trust.sh}
""", {"scripts/Configure_Corporate.Proxy-And-Certificate-Trust.sh": "echo hi\n"})
    (step,) = b.steps_on("aws")
    assert step.label == "configure-corporate-proxy-and-cer"[:32].rstrip("-")
    assert len(step.label) <= 32


def test_a_name_collision_is_reported_with_the_files_other_problems(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + """\
  - script: {inline: "echo one", name: site}
  - script: {inline: "echo two", name: site}
  - linux-packages: {packages: [nginx], pakages: [curl]}
"""})
    assert sorted(p.split(": ")[1] for p in problems) == ["steps[1].script.name", "steps[2].linux-packages.pakages"]
