import json

from headcast.cli.doctor import Check, format_report
from headcast.cli.main import main


def test_doctor_healthy_machine(asset_settings, capsys):
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 0, out
    for section in ("[python]", "[packages]", "[assets]", "[weights]", "[renderer]", "[optional]"):
        assert section in out
    assert "ict_facekit_mit/ict_facekit_model.npz: sha256 ok" in out
    assert "one cv2 distribution" in out
    assert "can run" in out or "All checks passed" in out


def test_doctor_without_assets_fails_and_says_what_to_do(tmp_path, capsys):
    code = main(["doctor", "--assets", str(tmp_path / "nonexistent")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL asset folder" in out and "does not exist" in out
    assert "fix: headcast assets fetch" in out
    assert "stop `headcast make`" in out


def test_doctor_json(asset_settings, capsys):
    main(["doctor", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert {r["section"] for r in rows} >= {"python", "packages", "assets", "weights", "renderer", "optional"}
    assert all(r["status"] in ("ok", "warn", "fail", "info") for r in rows)


def test_format_report_marks_and_fixes():
    text = format_report([Check("s", "a", "ok", "fine"), Check("s", "b", "fail", "broken", "do x"),
                          Check("t", "c", "warn", "meh", "do y")])
    assert "  FAIL b: broken\n       fix: do x" in text
    assert "1 problem(s) stop `headcast make`; 1 optional part(s) missing." in text
