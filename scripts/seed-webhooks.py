#!/usr/bin/env python3
"""Posts signed webhooks of all three providers to a running billing-events, so the query API has
read models of every kind to answer with (used by scripts/check-api). Usage:
  seed-webhooks.py BASE_URL   with FLEXPRICE_/MINTFAX_/MINTCASH_WEBHOOK_SECRETS in the environment."""
import base64, hashlib, hmac, json, os, sys, time, urllib.request, uuid

base = sys.argv[1].rstrip("/")
secrets = {p: os.environ[f"{p.upper()}_WEBHOOK_SECRETS"].split(",")[0] for p in ("flexprice", "mintfax", "mintcash")}

def post(provider, body, environment=None):
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {"content-type": "application/json"}
    if provider == "mintcash":
        headers["x-signature"] = hmac.new(secrets[provider].encode(), raw, hashlib.sha256).hexdigest()
    else:
        key = base64.b64decode(secrets[provider].removeprefix("whsec_"))
        msg_id = body["id"] if provider == "mintfax" else f"msg_{uuid.uuid4().hex}"
        stamp = str(int(time.time()))
        mac = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()).decode()
        prefix = "svix" if provider == "flexprice" else "webhook"
        headers.update({f"{prefix}-id": msg_id, f"{prefix}-timestamp": stamp, f"{prefix}-signature": f"v1,{mac}"})
    url = f"{base}/webhooks/{provider}" + (f"/{environment}" if environment else "")
    with urllib.request.urlopen(urllib.request.Request(url, data=raw, headers=headers, method="POST")) as response:
        answer = json.load(response)
        if answer.get("status") not in ("stored", "duplicate"):
            sys.exit(f"seed-webhooks: {provider} {body.get('event_type') or body.get('event') or body.get('type')}: {answer}")

for n in range(1, 6):
    customer = {"id": f"cust_{n}", "external_id": f"ext-{n}", "name": f"Customer {n}", "email": f"c{n}@example.com"}
    post("flexprice", {"event_type": "customer.created", "customer": {**customer, "metadata": {"tier": "gold"}, "created_at": "2026-08-01T00:00:00Z", "updated_at": f"2026-08-0{n}T00:00:00Z"}})
    post("flexprice", {"event_type": "subscription.activated", "subscription": {"id": f"subs_{n}", "customer_id": f"cust_{n}", "plan_id": "plan_01", "subscription_status": "active", "currency": "usd", "start_date": "2026-08-01T00:00:00Z", "current_period_start": "2026-08-01T00:00:00Z", "current_period_end": "2026-09-01T00:00:00Z", "cancel_at_period_end": False, "billing_cadence": "RECURRING", "billing_period": "MONTHLY", "billing_period_count": 1, "customer": customer}})
    post("flexprice", {"event_type": "wallet.transaction.created", "transaction": {"id": f"wtxn_{n}", "wallet_id": f"wallet_{n}", "customer_id": f"cust_{n}", "type": "credit", "amount": "100", "credit_amount": "100", "credit_balance_before": "0", "credit_balance_after": "100", "currency": "usd", "transaction_status": "completed", "transaction_reason": "PURCHASED_CREDIT_DIRECT", "created_at": "2026-08-01T10:00:00Z", "updated_at": "2026-08-01T10:00:01Z"}, "wallet": {"id": f"wallet_{n}", "customer_id": f"cust_{n}", "balance": "100", "credit_balance": "100", "currency": "usd", "wallet_status": "active", "wallet_type": "PRE_PAID"}, "customer": customer}, "test" if n == 5 else None)
    post("flexprice", {"event_type": "payment.success", "payment": {"id": f"pay_{n}", "destination_type": "INVOICE", "destination_id": f"inv_{n}", "payment_method_type": "CARD", "amount": f"{n}9.99", "currency": "usd", "payment_status": "SUCCEEDED", "succeeded_at": "2026-08-18T09:30:12.418204Z"}})
    payment = {"id": f"pmt_{n}", "externalId": f"order_{n}", "status": "succeeded", "amount": 49.99, "currency": "USD", "providerTransactionId": f"txn_{n}", "failureCode": None, "failureMessage": None, "amountRefunded": 0, "amountRefundable": 49.99, "customer": {"id": f"mc_cust_{n}", "externalId": f"cust_{n}", "email": f"Buyer{n}@Example.com", "name": "Jane Doe", "phone": None}, "billingAddress": {"line1": "1 Main St", "country": "US"}, "card": {"brand": "visa", "last4": "4242", "expMonth": "03", "expYear": "31", "first6": "424242"}, "updatedAt": "2026-05-22T14:32:08.412Z"}
    post("mintcash", {"eventId": str(uuid.uuid4()), "event": "payment.succeeded", "type": "payment", "apiVersion": "2026-05-01", "environment": "live", "createdAt": "2026-05-22T14:32:08.412Z", "data": payment})
    if n % 2 == 0:
        post("mintcash", {"eventId": str(uuid.uuid4()), "event": "payment.refunded", "type": "payment", "apiVersion": "2026-05-01", "environment": "live", "createdAt": "2026-05-22T16:10:11.000Z", "data": {"id": f"pmt_{n}", "status": "partially_refunded", "amountRefunded": 10, "amountRefundable": 39.99, "refund": {"id": f"rfd_{n}", "externalId": f"refund_{n}", "amount": 10, "currency": "USD", "reason": "customer_request", "status": "succeeded", "createdAt": "2026-05-22T16:09:45.000Z"}}})
    post("mintcash", {"eventId": str(uuid.uuid4()), "event": "subscription.succeeded", "type": "subscription", "apiVersion": "2026-05-01", "environment": "test", "createdAt": "2026-05-22T08:00:00.000Z", "data": {"id": f"sub_{n}", "externalId": f"sub_{n}", "status": "active", "amount": 19.99, "currency": "USD", "billingIntervalDays": 30, "currentPeriodEnd": "2026-06-21T08:00:00.000Z", "customer": {"id": f"mc_cust_{n}", "externalId": f"cust_{n}", "email": f"buyer{n}@example.com", "name": "Jane Doe"}, "lastPayment": {"id": f"pmt_{n}", "status": "succeeded", "amount": 19.99}}})
    post("mintfax", {"id": f"evt_topup{n:016d}", "type": "balance.topup", "created": 1747922400 + n, "data": {"object": {"environment_id": f"env_{n}", "available": 4550 + n, "held": 125, "currency": "USD"}}})
print("seed-webhooks: posted deliveries of flexprice, mintcash and mintfax")
