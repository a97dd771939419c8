"""`python -m bench`: Hibernia's performance harness (see bench/README.md)."""
