"""Decrypts an encrypted Aegis vault or 2FAS export with Python's `cryptography` package.

An implementation independent of ours (OpenSSL's scrypt, PBKDF2 and AES-GCM), written from the
formats' documentation (Aegis docs/vault.md; 2FAS schema v4). Usage:

    python decrypt_export.py aegis|2fas FILE     (password in AUTHENTICATOR_TEST_PASSWORD)

Prints JSON: for Aegis the decrypted `db`; for 2FAS {"services": [...], "reference": "..."}.
"""

import base64
import json
import os
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


def aegis(vault, password):
    header = vault["header"]
    master_key = None
    for slot in header["slots"]:
        if slot["type"] != 1:
            continue
        derived = Scrypt(salt=bytes.fromhex(slot["salt"]), length=32, n=slot["n"], r=slot["r"], p=slot["p"]).derive(password)
        params = slot["key_params"]
        master_key = AESGCM(derived).decrypt(
            bytes.fromhex(params["nonce"]), bytes.fromhex(slot["key"]) + bytes.fromhex(params["tag"]), None
        )
        break
    if master_key is None:
        sys.exit("no password slot")
    params = header["params"]
    db = base64.b64decode(vault["db"], validate=True)
    plain = AESGCM(master_key).decrypt(bytes.fromhex(params["nonce"]), db + bytes.fromhex(params["tag"]), None)
    return json.loads(plain)


def twofas_field(field, password):
    data, salt, iv = (base64.b64decode(part, validate=True) for part in field.split(":"))
    key = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=10000).derive(password)
    return AESGCM(key).decrypt(iv, data, None)


def twofas(export, password):
    services = json.loads(twofas_field(export["servicesEncrypted"], password))
    reference = twofas_field(export["reference"], password).decode()
    return {"services": services, "reference": reference, "salt_bytes": len(base64.b64decode(export["servicesEncrypted"].split(":")[1]))}


def main():
    kind, path = sys.argv[1], sys.argv[2]
    password = os.environ["AUTHENTICATOR_TEST_PASSWORD"].encode()
    with open(path, "rb") as f:
        document = json.load(f)
    result = aegis(document, password) if kind == "aegis" else twofas(document, password)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
