import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "bin", "samebatch.js")
sys.path.insert(0, os.path.join(REPO, "python"))

FIXTURE_ARGS = [
    "fixtures/retrieval",
    "fixtures/sts/sts.jsonl",
    "fixtures/classification-no_in_batch_neg",
    "fixtures/clustering-no_in_batch_neg",
]


def build(out, *options, inputs=FIXTURE_ARGS):
    """Runs samebatch build from the repository root; raises with its stderr on failure."""
    r = subprocess.run(["node", BIN, "build", *inputs, "--out", out, "--log-level", "warn", *options],
                       cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"samebatch build failed ({r.returncode}):\n{r.stderr}")
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def temp_out(test):
    d = tempfile.TemporaryDirectory(prefix="samebatch-py-")
    test.addCleanup(d.cleanup)
    return os.path.join(d.name, "out")
