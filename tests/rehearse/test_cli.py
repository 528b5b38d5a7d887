"""The command's clean errors: one line, no traceback."""
from components.rehearse import __main__ as cli
from components.rehearse import engines


def test_a_windows_flavour_is_refused(capsys):
    assert cli.main(["--flavour", "windows-2022-core-dotnet", "--stack", "dev"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "only Linux flavours can be rehearsed" in err


def test_no_engine_and_no_root_says_what_to_install(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(engines.shutil, "which", lambda name: None)  # no docker, podman, debootstrap
    monkeypatch.setattr(engines.os, "geteuid", lambda: 1000)
    assert cli.main(["--flavour", "ubuntu-2404", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("rehearse: no engine to rehearse on: install docker or podman, or run as root with debootstrap "
                   "(apt-get install debootstrap)")


def test_no_engine_as_root_without_debootstrap(capsys, monkeypatch, tmp_path):
    real = engines.shutil.which
    monkeypatch.setattr(engines.shutil, "which", lambda name: None if name in ("docker", "podman", "debootstrap") else real(name))
    monkeypatch.setattr(engines.os, "geteuid", lambda: 0)
    assert cli.main(["--flavour", "ubuntu-2404", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "rehearse: no engine to rehearse on: install docker or podman, or debootstrap (apt-get install debootstrap)")


def test_an_unknown_skip_is_refused(capsys):
    assert cli.main(["--flavour", "ubuntu-2404", "--skip", "nope"]) == 2
    assert "--skip nope: not a step of ubuntu-2404" in capsys.readouterr().err


def test_the_apt_mirror_is_the_machines_own(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n")
    assert engines.apt_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list.d" / "debian.sources").unlink()
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://other.example/debian bookworm main\n")
    assert engines.apt_mirror(tmp_path) == "http://other.example/debian"


def test_a_ca_bundle_that_is_not_a_pem_file_is_refused_in_one_line(capsys, tmp_path):
    junk = tmp_path / "ca.pem"
    junk.write_bytes(b"\x00\x01 not a certificate")
    for path, why in ((junk, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"), (tmp_path, "not a regular file"),
                      (tmp_path / "missing.pem", "not a regular file")):
        assert cli.main(["--flavour", "ubuntu-2404", "--ca-bundle", str(path), "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"rehearse: --ca-bundle {path}: {why}"
