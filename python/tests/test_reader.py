"""Tests of python/samebatch_reader.py against real samebatch output of the bundled fixtures."""
import os
import unittest

from helpers import build, temp_out

from samebatch_reader import SamebatchDataset, collate_single, flag_features, rank_slice

COMMON = ["--batch-size", "4", "--world-size", "2", "--small-threshold", "12", "--drop-threshold", "20", "--epochs", "2"]


class RawGlobal(unittest.TestCase):
    def setUp(self):
        self.out = temp_out(self)
        self.manifest = build(self.out, *COMMON, "--provenance")

    def test_len_is_the_manifest_step_count_and_items_are_steps_in_order(self):
        ds = SamebatchDataset(self.out)
        self.assertEqual(len(ds), self.manifest["totals"]["steps"])
        self.assertGreater(len(ds), 0)
        for k in range(len(ds)):
            self.assertEqual(ds[k]["step"], k)
        self.assertEqual(ds[-1]["step"], len(ds) - 1)
        with self.assertRaises(IndexError):
            ds[len(ds)]

    def test_rank_slices_partition_the_global_batch(self):
        whole = SamebatchDataset(self.out)
        ranks = [SamebatchDataset(self.out, rank=r) for r in range(2)]
        for k in range(len(whole)):
            item = whole[k]
            b = item["batch_size"]
            self.assertEqual(len(item["examples"]), 2 * b)
            parts = [ranks[r][k] for r in range(2)]
            self.assertEqual(parts[0]["examples"] + parts[1]["examples"], item["examples"])
            self.assertEqual(parts[1]["provenance"], item["provenance"][b:])
            self.assertTrue(all(len(p["examples"]) == b for p in parts))

    def test_each_step_is_one_group(self):
        ds = SamebatchDataset(self.out)
        members = {g["id"]: set(g["members"]) for g in self.manifest["groups"]}
        for k in range(len(ds)):
            item = ds[k]
            files = {p.rsplit(":", 1)[0] for p in item["provenance"]}
            self.assertLessEqual(files, members[item["group"]])
            self.assertEqual({e.get("type") for e in item["examples"]}, {item["type"]})

    def test_rank_outside_the_world_is_refused(self):
        with self.assertRaises(ValueError):
            SamebatchDataset(self.out, rank=2)


class PerRank(unittest.TestCase):
    def test_per_rank_shards_equal_the_global_slices(self):
        glob = temp_out(self)
        per = temp_out(self) + "-per-rank"
        build(glob, *COMMON, "--shard-max-batches", "50")
        manifest = build(per, *COMMON, "--shard-max-batches", "50", "--per-rank")
        self.assertEqual(manifest["layout"]["ranks"], "per-rank")
        self.assertEqual(sorted({s["rank"] for s in manifest["shards"]}), [0, 1])
        whole = SamebatchDataset(glob)
        with self.assertRaises(ValueError):
            SamebatchDataset(per)  # a rank is required
        for r in range(2):
            ds = SamebatchDataset(per, rank=r)
            self.assertEqual(len(ds), len(whole))
            for k in range(len(ds)):
                mine = ds[k]
                self.assertEqual(mine["rank"], r)
                self.assertEqual(mine["step"], k)
                self.assertEqual(mine["examples"], rank_slice(whole[k], r)["examples"])
        # Same shard boundaries on every rank.
        by_rank = {}
        for s in manifest["shards"]:
            by_rank.setdefault(s["rank"], []).append((s["first_step"], s["batches"]))
        self.assertEqual(by_rank[0], by_rank[1])


class FlagFormat(unittest.TestCase):
    def test_flag_lines_have_the_collator_shape(self):
        out = temp_out(self)
        manifest = build(out, "--batch-size", "4", "--world-size", "2", "--format", "flag", "--train-group-size", "3",
                         inputs=["fixtures/retrieval", "fixtures/classification-no_in_batch_neg"])
        self.assertEqual(manifest["layout"]["format"], "flag")
        ds = SamebatchDataset(out, rank=1)
        loader_items = [collate_single([ds[k]]) for k in range(len(ds))]
        self.assertEqual(len(loader_items), manifest["totals"]["steps"])
        for item in loader_items:
            queries, passages, scores, no_in_batch_neg = flag_features(item)
            g = item["train_group_size"]
            self.assertEqual(len(queries), item["batch_size"])
            self.assertEqual(len(passages), len(queries) * g)
            self.assertIsNone(scores)
            self.assertEqual(no_in_batch_neg, item["group"].startswith("classification-no_in_batch_neg/"))
            if item["type"] == "only_1neg":
                self.assertEqual(g, 2)
            elif item["type"] == "symmetric_class":
                self.assertEqual(g, 3)  # min(4 negatives + 1, --train-group-size 3)
            else:
                self.assertEqual(g, 3)

    def test_knowledge_distillation_keeps_teacher_scores_aligned_with_passages(self):
        out = temp_out(self)
        build(out, "--batch-size", "4", "--format", "flag", "--train-group-size", "3", "--knowledge-distillation",
              inputs=["fixtures/retrieval"])
        ds = SamebatchDataset(out)
        for k in range(len(ds)):
            item = ds[k]
            self.assertEqual(len(item["teacher_scores"]), len(item["passages"]))
            g = item["train_group_size"]
            # The fixtures give positives scores of 90-99 and negatives 60-85.
            for q in range(len(item["queries"])):
                group = item["teacher_scores"][q * g:(q + 1) * g]
                self.assertGreaterEqual(group[0], 90)
                self.assertTrue(all(s <= 85 for s in group[1:]))


if __name__ == "__main__":
    unittest.main()
