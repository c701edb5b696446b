"""Deliveries signed by the providers' own libraries against a running serve (scripts/check-signing).

Usage: check-signing.py BASE_URL TOKEN, with the *_WEBHOOK_SECRETS of that serve in the environment."""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook

base, token = sys.argv[1], sys.argv[2]
failures = []


def post(path, body, headers):
    request = urllib.request.Request(base + path, data=body.encode(), method="POST",
                                     headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def get(path):
    request = urllib.request.Request(base + path, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def expect(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL", what)


def svix_headers(secret, body, msg_id=None):
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    now = datetime.now(tz=timezone.utc)
    signature = SvixWebhook(secret).sign(msg_id, now, body)
    return {"svix-id": msg_id, "svix-timestamp": str(int(now.timestamp())), "svix-signature": signature}


def standard_headers(secret, body, msg_id):
    now = datetime.now(tz=timezone.utc)
    signature = StandardWebhook(secret).sign(msg_id, now, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}


# Flexprice, the sandbox-shaped secret (not strict base64: the libraries skip the `_`).
flex = os.environ["FLEXPRICE_WEBHOOK_SECRETS"]
body = json.dumps({"event_type": "payment.success", "payment": {
    "id": f"pay_{uuid.uuid4().hex[:12]}", "amount": "0.1", "currency": "usd", "payment_status": "SUCCEEDED",
    "destination_type": "CUSTOMER", "destination_id": "cust_sig"}})
status, answer = post("/webhooks/flexprice", body, svix_headers(flex, body))
expect(status == 200 and answer.get("status") == "stored", f"svix-signed flexprice delivery stored: {status} {answer}")
position = answer.get("position")
expect(isinstance(position, int) and position > 0, f"the acknowledgement carries the position: {answer}")

# The same library, a second secret for the test environment (its own route).
flex_test = os.environ["FLEXPRICE_TEST_WEBHOOK_SECRETS"]
status, answer = post("/webhooks/flexprice/test", body, svix_headers(flex_test, body))
expect(status == 200 and answer.get("status") == "stored", f"test-environment delivery (its own event): {status} {answer}")

# Tampered after signing: refused, nothing stored.
headers = svix_headers(flex, body)
status, answer = post("/webhooks/flexprice", body.replace("0.1", "9.1"), headers)
expect(status == 401 and answer.get("code") == "bad_signature", f"tampered body refused: {status} {answer}")

# mintfax with standardwebhooks and an unpadded base64 secret.
fax = os.environ["MINTFAX_WEBHOOK_SECRETS"]
event_id = f"evt_{uuid.uuid4().hex[:22]}"
fax_body = json.dumps({"id": event_id, "type": "balance.topup", "created": int(time.time()),
                       "data": {"object": {"available": 4550, "currency": "USD"}}})
status, answer = post("/webhooks/mintfax", fax_body, standard_headers(fax, fax_body, event_id))
expect(status == 200 and answer.get("status") == "stored", f"standardwebhooks-signed mintfax delivery: {status} {answer}")
status, answer = post("/webhooks/mintfax", fax_body, standard_headers("whsec_" + "QUJD", fax_body, event_id))
expect(status == 401, f"mintfax delivery signed with another secret refused: {status} {answer}")

# Read your own write: the acknowledged position, once projected, shows the payment as "0.10".
if isinstance(position, int):
    status, page = get(f"/v1/payments?provider=flexprice&min_position={position}")
    expect(status == 200 and any(p.get("amount") == "0.10" for p in page.get("data", [])),
           f"read-your-writes at position {position}: {status} {page}")
    status, page = get(f"/v1/payments?min_position={position + 100000}")
    expect(status == 503 and page.get("code") == "position_not_reached", f"a position beyond the log is 503: {status} {page}")

print(f"{len(failures)} failed" if failures else "check-signing.py: all checks passed")
sys.exit(1 if failures else 0)
