"""End to end: samebatch shards → SamebatchDataset → torch DataLoader(batch_size=1, num_workers=0)
→ a tiny contrastive model trained for a few epochs. Every step must be one group, the step count
must equal the manifest's, and the loss must go down.

Needs PyTorch (Debian's python3-torch, installed by .ci/run). Without it the test is skipped,
except under CI, where a missing torch is a failure.
"""
import math
import os
import unittest
import zlib

from helpers import build, temp_out

from samebatch_reader import SamebatchDataset, collate_single

try:
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

BUCKETS = 1 << 14
EPOCHS = 6


def token_ids(text):
    return [zlib.crc32(w.encode("utf-8")) % BUCKETS for w in text.lower().replace(".", " ").split()] or [0]


class Encoder(torch.nn.Module if torch else object):
    """Hashed-token bag of words: mean of learned token vectors, L2-normalised."""

    def __init__(self, dim=32):
        super().__init__()
        self.bag = torch.nn.EmbeddingBag(BUCKETS, dim, mode="mean")

    def forward(self, texts):
        ids, offsets = [], []
        for t in texts:
            offsets.append(len(ids))
            ids.extend(token_ids(t))
        out = self.bag(torch.tensor(ids), torch.tensor(offsets))
        return F.normalize(out, dim=-1)


def info_nce(q, p, group_size, no_in_batch_neg, temperature=0.05):
    """Each query against its own group (positive first, then its negatives), plus every other
    query's passages as in-batch negatives unless the step says not to use them."""
    n = q.shape[0]
    if no_in_batch_neg:
        scores = torch.einsum("nd,ngd->ng", q, p.view(n, group_size, -1)) / temperature
        target = torch.zeros(n, dtype=torch.long)
    else:
        scores = q @ p.T / temperature
        target = torch.arange(n) * group_size
    return F.cross_entropy(scores, target)


@unittest.skipIf(torch is None and not os.environ.get("CI"), "PyTorch is not installed (Debian: python3-torch)")
class TrainThroughDataLoader(unittest.TestCase):
    def test_a_tiny_model_trains_on_samebatch_steps(self):
        self.assertIsNotNone(torch, "PyTorch is required under CI (.ci/run installs python3-torch)")
        torch.manual_seed(0)
        out = temp_out(self)
        manifest = build(out, "--batch-size", "8", "--world-size", "2", "--small-threshold", "12", "--drop-threshold", "20",
                         "--epochs", str(EPOCHS), "--format", "flag", "--train-group-size", "3", "--provenance")
        members = {g["id"]: set(g["members"]) for g in manifest["groups"]}
        steps_per_epoch = manifest["totals"]["steps_per_epoch"]

        model = Encoder()
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        epoch_losses = [[] for _ in range(EPOCHS)]
        seen = 0
        for rank in (0,):
            ds = SamebatchDataset(out, rank=rank)
            loader = DataLoader(ds, batch_size=1, num_workers=0, shuffle=False, collate_fn=collate_single)
            for step in loader:
                seen += 1
                files = {p.rsplit(":", 1)[0] for p in step["provenance"]}
                self.assertLessEqual(files, members[step["group"]], f"step {step['step']} mixes groups")
                g = step["train_group_size"]
                self.assertEqual(len(step["passages"]), len(step["queries"]) * g)
                loss = info_nce(model(step["queries"]), model(step["passages"]), g, step["no_in_batch_neg"])
                opt.zero_grad()
                loss.backward()
                opt.step()
                self.assertTrue(math.isfinite(loss.item()))
                epoch_losses[step["epoch"]].append(loss.item())
        self.assertEqual(seen, manifest["totals"]["steps"])
        self.assertTrue(all(len(l) == steps_per_epoch for l in epoch_losses))
        first, last = (sum(l) / len(l) for l in (epoch_losses[0], epoch_losses[-1]))
        print(f"\nmean InfoNCE loss: epoch 0 {first:.3f} → epoch {EPOCHS - 1} {last:.3f} over {seen} steps")
        self.assertLess(last, first * 0.7, "the loss did not go down")


if __name__ == "__main__":
    unittest.main()
