"""Where a guard-per-step `log` spends its time on a MongoDB server.

Sends, with pymongo alone, the commands a yamlett series flush sends: the
update of one bucket document (`$push` of one point onto its three arrays,
conditional on the bucket's count, upserted), the run's update (conditional
on the writer stamp), or both in one client `bulkWrite`, and prints the
mean milliseconds per step over each 250 steps. A cost that grows with the
bucket's fill and drops when a new bucket starts is the server rewriting the
bucket; a flat one is the round trip.

    target/test-server-venv/bin/python benches/compare/tools/bucket_probe.py \
        mongodb://127.0.0.1:PORT/ run-only bucket-only bulk
"""

import datetime
import sys
import time

from pymongo import MongoClient, UpdateOne

STEPS = 2000
BUCKET_POINTS = 1000


def bucket_update(i, now):
    bucket = i // BUCKET_POINTS
    filt = {"_id": {"run": "r", "key": "loss", "bucket": bucket}, "count": i % BUCKET_POINTS}
    update = {
        "$setOnInsert": {"run": "r", "key": "loss", "bucket": bucket, "first": {"step": i}},
        "$set": {"last": {"step": i}, "min": {"step": i}, "max": {"step": i}},
        "$inc": {"count": 1},
        "$push": {
            "steps": {"$each": [i]},
            "values": {"$each": [0.5]},
            "times": {"$each": [now]},
        },
    }
    return filt, update


def run_update(i):
    filt = {"_id": "r", "_yamlett.writers.w": {"$not": {"$gte": i + 1}}}
    update = {"$set": {"metrics.loss": {"count": i + 1, "last": 0.5}, "_yamlett.writers.w": i + 1}}
    return filt, update


def main():
    client = MongoClient(sys.argv[1])
    db = client["bucket_probe"]
    runs, buckets = db["runs"], db["_yamlett_series.runs"]
    now = datetime.datetime.now(datetime.timezone.utc)
    for mode in sys.argv[2:]:
        runs.drop()
        buckets.drop()
        marks, start = [], time.perf_counter()
        for i in range(STEPS):
            if mode == "run-only":
                runs.update_one(*run_update(i), upsert=True)
            elif mode == "bucket-only":
                buckets.update_one(*bucket_update(i, now), upsert=True)
            elif mode == "bulk":
                client.bulk_write(
                    [
                        UpdateOne(*run_update(i), upsert=True, namespace=runs.full_name),
                        UpdateOne(*bucket_update(i, now), upsert=True, namespace=buckets.full_name),
                    ],
                    ordered=False,
                )
            else:
                sys.exit(f"unknown mode {mode!r}: run-only, bucket-only or bulk")
            if i % 250 == 249:
                marks.append(round((time.perf_counter() - start) * 1000 / 250, 1))
                start = time.perf_counter()
        print(f"{mode}: ms per step, each 250 steps: {marks}", flush=True)
    client.drop_database("bucket_probe")


if __name__ == "__main__":
    main()
