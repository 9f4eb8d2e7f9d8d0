int plughost_test_pch_anchor() { return 0; }
