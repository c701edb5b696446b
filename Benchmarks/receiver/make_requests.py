#!/usr/bin/env python3
"""Writes N pre-signed webhook deliveries with unique ids, one per line, for requests.lua.

Line format (tab-separated): path, header lines joined by \\x1f, body.
Providers rotate: MintCash payment, Flexprice payment (Svix), mintfax fax (Standard Webhooks).
Usage: make_requests.py N OUT  (secrets from the same variables the service reads)
"""
import base64, hashlib, hmac, os, sys, time, uuid

count, out = int(sys.argv[1]), sys.argv[2]
flex_key = base64.b64decode(os.environ["FLEXPRICE_WEBHOOK_SECRETS"].split(",")[0].strip()[len("whsec_"):])
fax_key = base64.b64decode(os.environ["MINTFAX_WEBHOOK_SECRETS"].split(",")[0].strip()[len("whsec_"):])
cash_key = os.environ["MINTCASH_WEBHOOK_SECRETS"].split(",")[0].strip().encode()
now = str(int(time.time()))

def standard(key, msg_id, body):
    mac = hmac.new(key, f"{msg_id}.{now}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()

with open(out, "w") as f:
    for i in range(count):
        unique = uuid.uuid4().hex
        kind = i % 3
        if kind == 0:
            body = ('{"eventId":"%s","event":"payment.succeeded","type":"payment","apiVersion":"2026-05-01","environment":"live",'
                    '"createdAt":"2026-05-22T14:32:08.412Z","data":{"id":"pmt_%s","externalId":"order_%d","status":"succeeded",'
                    '"amount":49.99,"currency":"USD","providerTransactionId":"txn_%s","failureCode":null,"failureMessage":null,'
                    '"amountRefunded":0,"amountRefundable":49.99,"customer":{"id":"cust_%d","externalId":"c_%d","email":"buyer%d@example.com",'
                    '"name":"Jane Doe","phone":null},"billingAddress":null,"card":{"brand":"visa","last4":"4242","expMonth":"03","expYear":"31"},'
                    '"createdAt":"2026-05-22T14:31:50.001Z","updatedAt":"2026-05-22T14:32:08.412Z"}}') % (
                        uuid.UUID(unique), unique, i, unique[:12], i % 5000, i % 5000, i % 5000)
            body = body.encode()
            headers = ["x-signature: " + hmac.new(cash_key, body, hashlib.sha256).hexdigest()]
            path = "/webhooks/mintcash"
        elif kind == 1:
            body = ('{"event_type":"payment.success","payment":{"id":"pay_%s","destination_type":"CUSTOMER","destination_id":"cust_%d",'
                    '"payment_method_type":"CARD","amount":"%d.%02d","currency":"usd","payment_status":"SUCCEEDED",'
                    '"succeeded_at":"2026-08-18T09:30:12.418204Z"}}') % (unique, i % 5000, i % 1000, i % 100)
            body = body.encode()
            msg_id = "msg_" + unique
            headers = ["svix-id: " + msg_id, "svix-timestamp: " + now, "svix-signature: " + standard(flex_key, msg_id, body)]
            path = "/webhooks/flexprice"
        else:
            evt = "evt_" + unique[:22]
            body = ('{"id":"%s","type":"fax.delivered","created":%s,"data":{"object":{"id":"fax_%s","to":"+15551234567","pages":3,'
                    '"attempts":[],"tags":{},"created_at":"2026-05-22T14:00:00Z","updated_at":"2026-05-22T14:01:00Z"}}}') % (evt, now, unique)
            body = body.encode()
            headers = ["webhook-id: " + evt, "webhook-timestamp: " + now, "webhook-signature: " + standard(fax_key, evt, body)]
            path = "/webhooks/mintfax"
        f.write(path + "\t" + "\x1f".join(headers) + "\t" + body.decode() + "\n")
