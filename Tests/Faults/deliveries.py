"""Signed webhook deliveries of the three providers, each naming a unique entity (its "marker", the
log's entity_provider_id), so the log can be counted per delivered event."""
import base64, hashlib, hmac, json, time, uuid

from harness import SECRETS

FLEX_KEY = base64.b64decode(SECRETS["FLEXPRICE_WEBHOOK_SECRETS"][len("whsec_"):])
FAX_KEY = base64.b64decode(SECRETS["MINTFAX_WEBHOOK_SECRETS"][len("whsec_"):])
CASH_KEY = SECRETS["MINTCASH_WEBHOOK_SECRETS"].encode()


def standard_signature(key, msg_id, timestamp, body):
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Delivery:
    """One webhook as a provider sends it: signed afresh at each send (timestamps must be recent)."""

    def __init__(self, provider, marker, body, msg_id=None):
        self.provider, self.marker, self.body, self.msg_id = provider, marker, body, msg_id
        self.path = f"/webhooks/{provider}"

    def headers(self, now=None):
        now = str(int(now if now is not None else time.time()))
        if self.provider == "mintcash":
            return {"content-type": "application/json", "x-signature": hmac.new(CASH_KEY, self.body, hashlib.sha256).hexdigest()}
        if self.provider == "flexprice":
            return {"content-type": "application/json", "svix-id": self.msg_id, "svix-timestamp": now,
                    "svix-signature": standard_signature(FLEX_KEY, self.msg_id, now, self.body)}
        return {"content-type": "application/json", "webhook-id": self.msg_id, "webhook-timestamp": now,
                "webhook-signature": standard_signature(FAX_KEY, self.msg_id, now, self.body)}

    def resent_by_flexprice(self):
        """Flexprice may send one event again under a new svix-id: the same body must meet the same row."""
        return Delivery(self.provider, self.marker, self.body, "msg_" + uuid.uuid4().hex)


def mintcash_payment(payment_id=None, status="succeeded", event="payment.succeeded", updated="2026-05-22T14:32:08.412Z",
                     customer="cust_1", amount="49.99", event_id=None):
    payment_id = payment_id or "pmt_" + uuid.uuid4().hex
    body = {
        "eventId": event_id or str(uuid.uuid4()), "event": event, "type": "payment", "apiVersion": "2026-05-01",
        "environment": "live", "createdAt": updated,
        "data": {"id": payment_id, "externalId": "order_" + payment_id[-8:], "status": status, "amount": "__AMOUNT__",
                 "currency": "USD", "providerTransactionId": "txn_" + payment_id[-12:], "failureCode": None, "failureMessage": None,
                 "amountRefunded": 0, "amountRefundable": "__AMOUNT__",
                 "customer": {"id": customer, "externalId": "c_" + customer, "email": f"{customer}@example.com", "name": "Jane Doe", "phone": None},
                 "billingAddress": None, "card": {"brand": "visa", "last4": "4242", "expMonth": "03", "expYear": "31"},
                 "createdAt": "2026-05-22T14:31:50.001Z", "updatedAt": updated}}
    # The amount is a JSON number token written exactly (never through a float).
    text = json.dumps(body, separators=(",", ":")).replace('"__AMOUNT__"', amount)
    return Delivery("mintcash", payment_id, text.encode())


def flexprice_payment(amount="12.50"):
    marker = "pay_" + uuid.uuid4().hex
    body = ('{"event_type":"payment.success","payment":{"id":"%s","destination_type":"CUSTOMER","destination_id":"cust_flex",'
            '"payment_method_type":"CARD","amount":"%s","currency":"usd","payment_status":"SUCCEEDED",'
            '"succeeded_at":"2026-08-18T09:30:12.418204Z","updated_at":"2026-08-18T09:30:12.418204Z"}}') % (marker, amount)
    return Delivery("flexprice", marker, body.encode(), "msg_" + uuid.uuid4().hex)


def mintfax_fax():
    marker = "fax_" + uuid.uuid4().hex
    evt = "evt_" + uuid.uuid4().hex[:22]
    body = ('{"id":"%s","type":"fax.delivered","created":%d,"data":{"object":{"id":"%s","to":"+15551234567","pages":3,'
            '"attempts":[],"tags":{},"created_at":"2026-05-22T14:00:00Z","updated_at":"2026-05-22T14:01:00Z"}}}') % (evt, int(time.time()), marker)
    return Delivery("mintfax", marker, body.encode(), evt)


def any_provider(index):
    """The three providers in turn."""
    return (mintcash_payment, flexprice_payment, mintfax_fax)[index % 3]()
