"""A rehearsal of a flavour with several script steps says which script each action runs."""
from components.plan import ROOT
from components.rehearse.plan import plan_actions
from components.rehearse.source import load_rehearsal


def test_rhel_9_stig_rehearsal_names_its_script_and_files():
    """image_flavours/rhel-9-stig.yaml: two files and its crypto-and-banner script."""
    rehearsal = load_rehearsal("dev", "rhel-9-stig", ROOT)
    builds = [a for a in plan_actions(rehearsal) if a.phase == "build"]
    named = {a.label for a in builds if a.use_name}
    assert "script crypto-and-banner (build)" in named
    assert {"file chrony-conf (build)", "file corp (build)"} <= named
    assert "/var/tmp/golden-images-steps/script-crypto-and-banner-install.sh" in {a.script_path for a in builds}
    # Steps used once keep their plain label.
    assert "os-updates (build)" in {a.label for a in builds}
