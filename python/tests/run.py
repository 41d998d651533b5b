"""Runs the Python tests and ends with one JSON line of counts for .ci/run to add up."""
import json
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
suite = unittest.defaultTestLoader.discover(here)
result = unittest.TextTestRunner(verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
counts = {"python_tests": {"passed": result.testsRun - failed - skipped, "failed": failed, "skipped": skipped}}
print(json.dumps(counts))
# SAMEBATCH_PY_REPORT=FILE: the counts for .ci/run's closing line.
if os.environ.get("SAMEBATCH_PY_REPORT"):
    with open(os.environ["SAMEBATCH_PY_REPORT"], "w", encoding="utf-8") as f:
        json.dump(counts, f)
sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
