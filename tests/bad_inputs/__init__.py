"""The bad-input corpus (one folder per case) and the scripts that write it: make_bad_inputs, make_bad_models."""
