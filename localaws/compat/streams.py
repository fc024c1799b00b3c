"""DynamoDB Streams: keep a table's stream across an emulator restart.

AWS keeps stream records for 24 hours whatever happens to the service. ministack
persists each event source mapping's read position but not the stream records it
points into, so after a restart the position lies beyond an empty stream and the
trigger delivers nothing until the stream grows past the old offset. This patch saves
the stream records and their trim counters with the rest of the DynamoDB state.
"""

from __future__ import annotations

import copy
from typing import Any

_RECORDS_KEY = "localaws_stream_records"
_TRIMMED_KEY = "localaws_stream_trimmed"


def install() -> None:
    from ministack.services import dynamodb as ddb

    if getattr(ddb.get_state, "_localaws_patched", False):
        return
    original_get_state = ddb.get_state
    original_load = ddb.load_persisted_state

    def get_state() -> dict[str, Any]:
        # Called by ministack at shutdown, after the server stopped taking requests.
        state = original_get_state()
        state[_RECORDS_KEY] = copy.deepcopy(ddb._stream_records)
        state[_TRIMMED_KEY] = copy.deepcopy(ddb._stream_trimmed)
        return state

    def load_persisted_state(data: dict[str, Any]) -> Any:
        result = original_load(data)
        if data:
            ddb._stream_records.update(data.get(_RECORDS_KEY, {}))
            ddb._stream_trimmed.update(data.get(_TRIMMED_KEY, {}))
        return result

    get_state._localaws_patched = True
    ddb.get_state = get_state
    ddb.load_persisted_state = load_persisted_state
