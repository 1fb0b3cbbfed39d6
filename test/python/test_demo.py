"""`make demo` runs mcusparse.demo: it must succeed and say what it did."""
from mcusparse import demo


def test_demo_runs_and_compiler_matches_golden(capsys):
    assert demo.main(["--rows", "32", "--cols", "64"]) == 0
    out = capsys.readouterr().out
    for fmt in ("dense", "csr", "dcsr", "nm:1:8", "nm:1:16", "gs:16"):
        assert f"\n{fmt} " in out
    assert "produced the golden bytes" in out
