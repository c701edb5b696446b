"""Mutations of valid signed deliveries. Body mutations are signed after mutating (the receiver must
verify them, then store, dedupe or quarantine: 200, or 413 over the size limit); header mutations
keep the body and break the signature headers (401, unless a valid signature is still among them)."""
import base64, json, os, random, time

from deliveries import FAX_KEY, FLEX_KEY, Delivery, any_provider, standard_signature

LIMIT = 1 << 20
NUMBERS = ["1e400", "-1e400", "1" + "0" * 5000, "0." + "0" * 1000 + "1", "123456789012345678901234567890.12345678901234567890",
           "1E+99999999999", "-0", "NaN", "Infinity", "01", "1.", ".5", "0x10", "-", "1e", "4.9999999999999999999999999e-324"]
WRONG = ["123", "[1]", "{}", "null", "true", '"abc"', '"2026-13-45T99:99:99Z"', '""', "[]", "-1"]
INVALID_UTF8 = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80", b"\x00"]
ESCAPES = ["\\u0000", "\\ud800", "\\udfff\\ud800", "\\u00", "\\x41", "\\"]


def replace_value(body, key, value):
    """The body with the first `"key":<value>` given a new value token (kept as bytes, no re-encoding)."""
    marker = b'"' + key.encode() + b'":'
    at = body.find(marker)
    if at < 0:
        return body
    start = at + len(marker)
    depth, i, in_string = 0, start, False
    while i < len(body):
        c = body[i:i + 1]
        if in_string:
            if c == b"\\":
                i += 1
            elif c == b'"':
                in_string = False
                if depth == 0:
                    i += 1
                    break
        elif c == b'"':
            in_string = True
        elif c in (b"{", b"["):
            depth += 1
        elif c in (b"}", b"]"):
            if depth == 0:
                break
            depth -= 1
            if depth == 0:
                i += 1
                break
        elif c == b"," and depth == 0:
            break
        i += 1
    return body[:start] + value + body[i:]


def keys(body):
    try:
        found = []

        def walk(v):
            if isinstance(v, dict):
                for k, x in v.items():
                    found.append(k)
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(json.loads(body))
        return found
    except ValueError:
        return ["id"]


def body_mutations(base, rng):
    """(name, body) pairs."""
    b = base.body
    k = rng.choice(keys(b))
    yield "truncated", b[:rng.randrange(len(b))]
    depth = rng.choice([100, 1000, 10_000, 100_000, 400_000])
    yield f"nested {depth}", replace_value(b, k, b"[" * depth + b"]" * depth)
    yield "unbalanced nesting", b"[" * rng.choice([1000, 500_000])
    yield "nested objects", replace_value(b, k, b'{"a":' * 5000 + b"1" + b"}" * 5000)
    yield "huge number", replace_value(b, rng.choice(["amount", "pages", "created", k]), rng.choice(NUMBERS).encode())
    yield "invalid utf-8", replace_value(b, k, b'"x' + rng.choice(INVALID_UTF8) + b'y"')
    yield "raw invalid utf-8", b[:len(b) // 2] + rng.choice(INVALID_UTF8) + b[len(b) // 2:]
    yield "bad escape", replace_value(b, k, ('"a' + rng.choice(ESCAPES) + 'b"').encode())
    yield "duplicate key", b[:-1] + b',"' + k.encode() + b'":' + rng.choice(WRONG).encode() + b"}"
    yield "duplicate id", b[:1] + b'"id":"first","eventId":"' + os.urandom(4).hex().encode() + b'",' + b[1:]
    yield "wrong type", replace_value(b, k, rng.choice(WRONG).encode())
    yield "string 900 KB", replace_value(b, k, b'"' + b"x" * 900_000 + b'"')
    yield "string 10 MB", replace_value(b, k, b'"' + b"x" * 10_000_000 + b'"')
    yield "many members", b'{' + b",".join(b'"k%d":%d' % (i, i) for i in range(60_000)) + b"}"
    yield "long key", replace_value(b, k, b'{"' + b"k" * 500_000 + b'":1}')
    yield "not json", rng.choice([b"", b"null", b"[]", b'"s"', b"   ", b"\xef\xbb\xbf" + b, b"<xml/>", b"{}", b"0"])
    flipped = bytearray(b)
    for _ in range(rng.randint(1, 10)):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    yield "bytes flipped", bytes(flipped)


def header_mutations(delivery, rng):
    """(name, headers, allowed statuses) triples."""
    good = delivery.headers()
    now = int(time.time())
    sig_name = {"mintcash": "x-signature", "flexprice": "svix-signature", "mintfax": "webhook-signature"}[delivery.provider]
    ts_name = {"flexprice": "svix-timestamp", "mintfax": "webhook-timestamp"}.get(delivery.provider)
    junk_b64 = lambda: "v1," + base64.b64encode(os.urandom(32)).decode()  # noqa: E731
    bad = ["", "v1,", "v1,!!!!", "zz" * 32, "a" * 63, "ab" * 5000, "v2," + good[sig_name][3:], "ü" * 10, "v1,,,,", " ", "v1 " * 100,
           good[sig_name][:-2] + ("AA" if not good[sig_name].endswith("AA") else "BB")]
    yield "bad signature", dict(good, **{sig_name: rng.choice(bad)}), {401}
    yield "no signature", {k: v for k, v in good.items() if k != sig_name}, {401}
    many_wrong = " ".join(junk_b64() if delivery.provider != "mintcash" else os.urandom(32).hex() for _ in range(1000))
    yield "1000 wrong signatures", dict(good, **{sig_name: many_wrong}), {401}
    if delivery.provider != "mintcash":
        # No cap on candidates, like the svix/standardwebhooks libraries: the 80 KiB header limit bounds
        # the work (each token decoded once, one HMAC per secret), so a valid one among many verifies.
        yield "16 signatures, last valid", dict(good, **{sig_name: " ".join(junk_b64() for _ in range(15)) + " " + good[sig_name]}), {200}
        yield "1000 signatures, last valid", dict(good, **{sig_name: " ".join(junk_b64() for _ in range(999)) + " " + good[sig_name]}), {200}
    if ts_name:
        stamp = rng.choice(["abc", "", "-1", "1e10", "99999999999999999999999", str(now - 3600), str(now + 3600), f"{now}.5", f" {now}", "0x10"])
        headers = dict(good, **{ts_name: stamp})
        key = FLEX_KEY if delivery.provider == "flexprice" else FAX_KEY
        headers[sig_name] = standard_signature(key, delivery.msg_id, stamp, delivery.body)  # signed, but the time is wrong
        yield "bad timestamp", headers, {200, 401} if stamp.strip() == str(now) else {401}
        yield "no id", {k: v for k, v in good.items() if k not in ("svix-id", "webhook-id")}, {401}


def cases(count, seed):
    """`count` mutated deliveries: (name, Delivery, headers or None for fresh signing, allowed statuses)."""
    rng = random.Random(seed)
    produced = 0
    while produced < count:
        base = any_provider(rng.randrange(3))
        for name, body in body_mutations(base, rng):
            mutated = Delivery(base.provider, base.marker, body, base.msg_id)
            yield name, mutated, None, {413} if len(body) > LIMIT else {200}
            produced += 1
        for name, headers, allowed in header_mutations(base, rng):
            yield name, base, headers, allowed
            produced += 1
