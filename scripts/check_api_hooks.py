"""Schemathesis hooks of scripts/check-api.

min_position is read-your-writes: a position the database does not have yet is waited for and
then answered 503 position_not_reached (README, Query API). Generated integers run far beyond the
seeded log, so each would wait the full timeout and end in a 5xx that not_a_server_error rightly
flags. Positions above the last seeded one are lowered to it (CHECK_API_LAST_POSITION); any other
value, valid or not (0, negative, text), reaches the server as generated. The Swift tests cover a
position beyond the log.
"""
import os

import schemathesis

LAST_POSITION = int(os.environ["CHECK_API_LAST_POSITION"])


@schemathesis.hook
def before_call(context, case, kwargs):
    value = (case.query or {}).get("min_position")
    if isinstance(value, bool):
        return
    if isinstance(value, int) and value > LAST_POSITION:
        case.query["min_position"] = LAST_POSITION
    elif isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > LAST_POSITION:
        case.query["min_position"] = str(LAST_POSITION)  # the coverage phase sends numbers as text
