"""The restore-test validation function: a restored table's content against its source's."""
