"""What a Lambda function's process costs: its AWS requests and its CPU time. Bench only.

On the PYTHONPATH of a function (``bench/bulk_undo.py`` sets it, with
``BENCH_PROBE_DIR``), every process that runs the function counts the AWS requests
botocore sends (each HTTP attempt, retries included, by operation) and reads its own CPU
time (``time.process_time``: every thread of the process, user and system). A daemon
thread writes both to ``<BENCH_PROBE_DIR>/<pid>.json`` every 100 ms when they changed,
so the benchmark reads the totals of every process without stopping it. The counting is
one dictionary update per request; nothing else in the process changes.

Nothing of the product imports it.
"""

import json
import os
import threading
import time

_DIR = os.environ.get("BENCH_PROBE_DIR")

if _DIR:
    import botocore.endpoint

    _counts: dict = {}
    _lock = threading.Lock()
    _original = botocore.endpoint.Endpoint._do_get_response

    def _do_get_response(self, request, operation_model, context):
        with _lock:
            _counts[operation_model.name] = _counts.get(operation_model.name, 0) + 1
        return _original(self, request, operation_model, context)

    botocore.endpoint.Endpoint._do_get_response = _do_get_response

    def _flush() -> None:
        path = os.path.join(_DIR, f"{os.getpid()}.json")
        last = None
        while True:
            with _lock:
                snapshot = {
                    "pid": os.getpid(),
                    "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
                    "requests": dict(_counts),
                }
            snapshot["cpu_seconds"] = round(time.process_time(), 4)
            if snapshot != last:
                tmp = f"{path}.tmp"
                with open(tmp, "w", encoding="utf-8") as handle:
                    json.dump(snapshot, handle)
                os.replace(tmp, path)
                last = snapshot
            time.sleep(0.1)

    threading.Thread(target=_flush, name="bench-probe", daemon=True).start()
