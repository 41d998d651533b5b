"""Read a samebatch output directory as a map-style dataset: item k is global step k.

Dependency-free (standard library only). Works with both layouts (one global line per step, or
per-rank shards) and both formats (raw records, or FlagEmbedding's collator input):

    from torch.utils.data import DataLoader
    from samebatch_reader import SamebatchDataset, collate_single

    ds = SamebatchDataset("shards", rank=rank)            # rank of this process
    loader = DataLoader(ds, batch_size=1, num_workers=0, shuffle=False, collate_fn=collate_single)
    for step in loader:                                    # one dict per training step
        ...

Each item is the step's line as a dict. With `rank` given, it holds only that rank's slice:
`examples` (raw format), or `queries`, `passages` and `teacher_scores` (flag format). Steps must
be read in order (shuffle=False): the order *is* the shuffle, and every rank reads the same steps.
"""

import bisect
import json
import os

__all__ = ["SamebatchDataset", "collate_single", "flag_features"]


class SamebatchDataset:
    """A samebatch output directory as a map-style dataset of steps.

    out_dir: the directory holding manifest.json.
    rank: this process's rank, or None for whole global batches. Required for per-rank output.
    """

    def __init__(self, out_dir, rank=None):
        self._files = {}
        with open(os.path.join(out_dir, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        if manifest.get("tool") != "samebatch":
            raise ValueError(f"{out_dir}: manifest.json is not a samebatch manifest")
        self.out_dir = out_dir
        self.manifest = manifest
        layout = manifest["layout"]
        self.format = layout["format"]
        self.per_rank = layout["ranks"] == "per-rank"
        self.world_size = manifest["totals"]["world_size"]
        self.steps = manifest["totals"]["steps"]
        if rank is not None and not 0 <= rank < self.world_size:
            raise ValueError(f"rank {rank} is outside world size {self.world_size}")
        if self.per_rank and rank is None:
            raise ValueError(f"{out_dir}: per-rank output: give the rank to read")
        self.rank = rank
        shards = [s for s in manifest["shards"] if not self.per_rank or s.get("rank") == rank]
        self._shards = sorted(shards, key=lambda s: s["first_step"])
        self._firsts = [s["first_step"] for s in self._shards]
        self._offsets = [self._line_offsets(s) for s in self._shards]
        counted = sum(len(o) for o in self._offsets)
        if counted != self.steps:
            raise ValueError(f"{out_dir}: shards hold {counted} lines, the manifest says {self.steps} steps")

    def _line_offsets(self, shard):
        offsets = []
        pos = 0
        with open(os.path.join(self.out_dir, shard["file"]), "rb") as f:
            for line in f:
                offsets.append(pos)
                pos += len(line)
        if len(offsets) != shard["batches"]:
            raise ValueError(f"{shard['file']}: {len(offsets)} lines, the manifest says {shard['batches']}")
        return offsets

    def __len__(self):
        return self.steps

    def _line(self, step):
        i = bisect.bisect_right(self._firsts, step) - 1
        shard = self._shards[i]
        f = self._files.get(i)
        if f is None:
            f = self._files[i] = open(os.path.join(self.out_dir, shard["file"]), "rb")
        f.seek(self._offsets[i][step - shard["first_step"]])
        return json.loads(f.readline())

    def __getitem__(self, step):
        if step < 0:
            step += self.steps
        if not 0 <= step < self.steps:
            raise IndexError(step)
        item = self._line(step)
        if self.rank is None or self.per_rank:
            return item
        return rank_slice(item, self.rank)

    def close(self):
        for f in getattr(self, "_files", {}).values():
            f.close()
        self._files = {}

    def __del__(self):
        self.close()


def rank_slice(item, rank):
    """One rank's part of a global-batch line: the contiguous slice [rank*b, (rank+1)*b)."""
    b = item["batch_size"]
    out = dict(item, rank=rank)
    if "examples" in item:
        out["examples"] = item["examples"][rank * b:(rank + 1) * b]
        if "provenance" in item:
            out["provenance"] = item["provenance"][rank * b:(rank + 1) * b]
        return out
    g = item["train_group_size"]
    out["queries"] = item["queries"][rank * b:(rank + 1) * b]
    out["passages"] = item["passages"][rank * b * g:(rank + 1) * b * g]
    if item["teacher_scores"] is not None:
        out["teacher_scores"] = item["teacher_scores"][rank * b * g:(rank + 1) * b * g]
    if "provenance" in item:
        out["provenance"] = item["provenance"][rank * b:(rank + 1) * b]
    return out


def collate_single(batch):
    """collate_fn for DataLoader(batch_size=1): the step itself, not a list of one."""
    if len(batch) != 1:
        raise ValueError("samebatch steps are whole batches: use DataLoader(batch_size=1)")
    return batch[0]


def flag_features(item):
    """A flag-format step as FlagEmbedding's same-dataset collator takes it:
    (queries, passages, teacher_scores, no_in_batch_neg_flag)."""
    if "queries" not in item:
        raise ValueError("this step is in the raw format (records in 'examples'): build with --format flag for queries and passages")
    return item["queries"], item["passages"], item["teacher_scores"], item["no_in_batch_neg"]
