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
print(json.dumps({"python_tests": {"passed": result.testsRun - failed - skipped, "failed": failed, "skipped": skipped}}))
sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
