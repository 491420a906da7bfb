"""Writes an Ente Auth encrypted export with libsodium (PyNaCl), independent of our code.

Ente documents the format (docs/docs/auth/migration/export.md in ente-io/ente): JSON with
`version` 1, `kdfParams` {memLimit (bytes), opsLimit, salt}, `encryptedData` and
`encryptionNonce`, all binary fields in standard base64. The key is libsodium's crypto_pwhash
(Argon2id v1.3) of the password; the data is one final message of
crypto_secretstream_xchacha20poly1305 whose header is the nonce. Usage:

    python ente_export.py MEM_LIMIT_BYTES OPS_LIMIT [TAG] < plain.txt > export.json

The password comes from AUTHENTICATOR_TEST_PASSWORD (never the command line). TAG is the
secretstream tag of the message: "final" (what Ente writes, the default) or "message".
"""

import base64
import json
import os
import sys

import nacl.bindings as sodium
import nacl.pwhash
import nacl.utils


def main():
    mem_limit, ops_limit = int(sys.argv[1]), int(sys.argv[2])
    tag = {
        "final": sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL,
        "message": sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    }[sys.argv[3] if len(sys.argv) > 3 else "final"]
    password = os.environ["AUTHENTICATOR_TEST_PASSWORD"].encode()
    plain = sys.stdin.buffer.read()
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    key = nacl.pwhash.argon2id.kdf(32, password, salt, opslimit=ops_limit, memlimit=mem_limit)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    sealed = sodium.crypto_secretstream_xchacha20poly1305_push(state, plain, None, tag)
    b64 = lambda b: base64.b64encode(b).decode()
    json.dump(
        {
            "version": 1,
            "kdfParams": {"memLimit": mem_limit, "opsLimit": ops_limit, "salt": b64(salt)},
            "encryptedData": b64(sealed),
            "encryptionNonce": b64(header),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
