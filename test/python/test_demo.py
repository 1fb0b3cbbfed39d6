"""`make demo` runs mcusparse.demo: it must succeed and print the comparison."""
from mcusparse import demo


def test_demo_compares_dense_and_sparse_on_the_bundled_model(capsys):
    assert demo.main(["--samples", "2"]) == 0
    out = capsys.readouterr().out
    for row in ("flash bytes", "peak SRAM bytes", "instructions", "weight bytes read",
                "modeled cycles, 4 wait states", "differing output elements",
                "top-1 agreement with reference", "accuracy (labels)"):
        assert row in out
    assert "0/20" in out          # bit-exact against LiteRT: 0 of 2 x 10 outputs differ
    # ... the ratio against dense layers that read each weight once ...
    assert "... dense layers reading weights once" in out
    # ... then the sparse build's profile: one row per operator.
    assert "Where the auto build's time goes" in out
    assert "| 4 FULLY_CONNECTED | csr:8 |" in out
